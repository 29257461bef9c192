// Package inventory holds the device model of MedWarden: what a hospital
// owns (intended values from registers and people) and what sensors saw
// (observed values), each field with its provenance. It has no I/O; parsers
// for CSV, JSON and FHIR live in subpackages and return values.
package inventory

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Criticality is the clinical criticality of a device, from most to least
// safety-relevant.
type Criticality string

// The clinical criticality levels, in descending order of patient impact.
const (
	LifeSustaining  Criticality = "life-sustaining"
	LifeSupporting  Criticality = "life-supporting"
	Therapeutic     Criticality = "therapeutic"
	Diagnostic      Criticality = "diagnostic"
	NonClinical     Criticality = "non-clinical"
	CriticalityNone Criticality = ""
)

// Criticalities lists the valid levels, most critical first.
var Criticalities = []Criticality{LifeSustaining, LifeSupporting, Therapeutic, Diagnostic, NonClinical}

// Rank orders criticality: 5 for life-sustaining down to 1 for non-clinical, 0 when unknown.
func (c Criticality) Rank() int {
	i := slices.Index(Criticalities, c)
	if i < 0 {
		return 0
	}
	return len(Criticalities) - i
}

// ParseCriticality accepts the canonical names and common spellings
// ("Life Sustaining", "life_supporting", "non clinical", "none"→non-clinical).
func ParseCriticality(s string) (Criticality, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.NewReplacer("_", "-", " ", "-").Replace(n)
	switch n {
	case "":
		return CriticalityNone, nil
	case "life-sustaining", "lifesustaining", "life-critical":
		return LifeSustaining, nil
	case "life-supporting", "lifesupporting":
		return LifeSupporting, nil
	case "therapeutic":
		return Therapeutic, nil
	case "diagnostic", "diagnostics":
		return Diagnostic, nil
	case "non-clinical", "nonclinical", "none", "not-clinical":
		return NonClinical, nil
	}
	return "", fmt.Errorf("unknown criticality %q (want one of life-sustaining, life-supporting, therapeutic, diagnostic, non-clinical)", s)
}

// Device is one device in the inventory. Fields hold the intended value (from
// an import or a person). Observed values from sensors are kept apart in
// Observed and never overwrite these; Conflicts lists where they differ.
type Device struct {
	ID      int64  `json:"id,omitempty"` // store key; 0 before the first save
	AssetID string `json:"asset_id"`     // the hospital's asset tag, unique when set

	Vendor           string      `json:"vendor,omitempty"` // manufacturer
	Model            string      `json:"model,omitempty"`
	DeviceType       string      `json:"device_type,omitempty"`
	Version          string      `json:"version,omitempty"` // software/firmware version
	Serial           string      `json:"serial,omitempty"`
	UDIDI            string      `json:"udi_di,omitempty"` // UDI device identifier (GS1 GTIN, HIBCC, ICCBBA)
	MACs             []string    `json:"macs,omitempty"`   // normalised aa:bb:cc:dd:ee:ff
	IPs              []string    `json:"ips,omitempty"`    // canonical text form
	Hostname         string      `json:"hostname,omitempty"`
	Site             string      `json:"site,omitempty"`
	Location         string      `json:"location,omitempty"`   // building/floor/unit
	Department       string      `json:"department,omitempty"` // department or owner
	Criticality      Criticality `json:"criticality,omitempty"`
	PatientConnected *bool       `json:"patient_connected,omitempty"`
	PHI              *bool       `json:"phi,omitempty"`  // stores or transmits PHI
	Zone             string      `json:"zone,omitempty"` // network zone or VLAN
	OS               string      `json:"os,omitempty"`
	EndOfSupport     *Date       `json:"end_of_support,omitempty"`
	EndOfLife        *Date       `json:"end_of_life,omitempty"`
	FirstSeen        *time.Time  `json:"first_seen,omitempty"`
	LastSeen         *time.Time  `json:"last_seen,omitempty"`

	// Provenance says, per field name (the CSV column names, e.g. "version"),
	// where the intended value came from.
	Provenance map[string]Provenance `json:"provenance,omitempty"`
	// Observed holds values seen by sensors, per field name. They never
	// replace intended values; see Conflicts.
	Observed map[string]Observation `json:"observed,omitempty"`

	// Revision increases on every write; the API's ETag.
	Revision  int64     `json:"revision,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// SourceKind says how a value reached the inventory.
type SourceKind string

// Where values come from.
const (
	SourceImported SourceKind = "imported" // a file import (CMMS export, FHIR…)
	SourceObserved SourceKind = "observed" // a sensor saw it on the wire
	SourceEdited   SourceKind = "edited"   // a person changed it in the UI, API or CLI
)

// Provenance records where one field's value came from.
type Provenance struct {
	Kind   SourceKind `json:"kind"`
	Source string     `json:"source"` // file name, sensor id, user name
	At     time.Time  `json:"at"`
}

// Observation is a value a sensor saw for a field.
type Observation struct {
	Value      string    `json:"value"`
	Source     string    `json:"source"` // sensor id or capture file
	At         time.Time `json:"at"`
	Confidence float64   `json:"confidence,omitempty"`
}

// Conflict is a field whose observed value differs from the intended one.
type Conflict struct {
	Field    string      `json:"field"`
	Intended string      `json:"intended"`
	Observed Observation `json:"observed"`
}

// Date is a calendar date (no time of day), JSON "2006-01-02".
type Date struct{ time.Time }

// DateLayout is the canonical date format.
const DateLayout = "2006-01-02"

// NewDate returns the date at UTC midnight.
func NewDate(y int, m time.Month, d int) Date { return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)} }

// ParseDate parses 2006-01-02 (also accepting 2006/01/02 and 2006-01 as the
// first day of the month).
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	for _, l := range []string{DateLayout, "2006/01/02", "2006-1-2", "2006-01"} {
		if t, err := time.Parse(l, s); err == nil {
			return Date{t}, nil
		}
	}
	return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
}

func (d Date) String() string {
	y, m, day := d.Date()
	if y < 0 || y > 9999 {
		return d.Format(DateLayout)
	}
	// DateLayout by hand: Format parses the layout on every call, and an
	// import formats an end-of-support date per device.
	b := [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-', byte('0' + day/10), byte('0' + day%10)}
	return string(b[:])
}

// MarshalJSON writes "2006-01-02".
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON reads "2006-01-02".
func (d *Date) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// NormalizeMAC returns aa:bb:cc:dd:ee:ff for the usual spellings
// (AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff, aabbccddeeff) or an error.
func NormalizeMAC(s string) (string, error) {
	var hex []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			hex = append(hex, c)
		case c >= 'A' && c <= 'F':
			hex = append(hex, c+'a'-'A')
		case c == ':' || c == '-' || c == '.' || c == ' ':
		default:
			return "", fmt.Errorf("MAC address %q has invalid character %q", s, c)
		}
	}
	if len(hex) != 12 {
		return "", fmt.Errorf("MAC address %q does not have 12 hex digits", s)
	}
	out := make([]byte, 0, 17)
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hex[i], hex[i+1])
	}
	return string(out), nil
}

// NormalizeIP returns the canonical text of an IPv4 or IPv6 address.
func NormalizeIP(s string) (string, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("IP address %q is not valid", s)
	}
	return a.Unmap().String(), nil
}

// Fields is the canonical list of device field names, in CSV column order
// first, then the extra fields of the model.
var Fields = []string{
	"asset_id", "vendor", "model", "version", "serial", "mac", "ip", "hostname", "site",
	"location", "department", "device_type", "criticality", "patient_connected", "phi", "os",
	"end_of_support", "udi_di", "zone", "end_of_life",
}

// Get returns the text value of a field (the names of Fields) for
// filtering, provenance and conflict display.
func (d *Device) Get(field string) string {
	switch field {
	case "asset_id":
		return d.AssetID
	case "vendor":
		return d.Vendor
	case "model":
		return d.Model
	case "version":
		return d.Version
	case "serial":
		return d.Serial
	case "mac":
		return strings.Join(d.MACs, ";")
	case "ip":
		return strings.Join(d.IPs, ";")
	case "hostname":
		return d.Hostname
	case "site":
		return d.Site
	case "location":
		return d.Location
	case "department":
		return d.Department
	case "device_type":
		return d.DeviceType
	case "criticality":
		return string(d.Criticality)
	case "patient_connected":
		return boolText(d.PatientConnected)
	case "phi":
		return boolText(d.PHI)
	case "os":
		return d.OS
	case "end_of_support":
		return dateText(d.EndOfSupport)
	case "end_of_life":
		return dateText(d.EndOfLife)
	case "udi_di":
		return d.UDIDI
	case "zone":
		return d.Zone
	}
	return ""
}

// Has reports whether a field (one of Fields) has a value: Get(field) != ""
// without building the text.
func (d *Device) Has(field string) bool {
	switch field {
	case "mac":
		return len(d.MACs) > 1 || len(d.MACs) == 1 && d.MACs[0] != ""
	case "ip":
		return len(d.IPs) > 1 || len(d.IPs) == 1 && d.IPs[0] != ""
	case "patient_connected":
		return d.PatientConnected != nil
	case "phi":
		return d.PHI != nil
	case "end_of_support":
		return d.EndOfSupport != nil
	case "end_of_life":
		return d.EndOfLife != nil
	}
	return d.Get(field) != ""
}

func boolText(b *bool) string {
	if b == nil {
		return ""
	}
	if *b {
		return "true"
	}
	return "false"
}

func dateText(d *Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// Conflicts lists fields whose observed value differs from a non-empty
// intended value, sorted by field name.
func (d *Device) Conflicts() []Conflict {
	var out []Conflict
	for f, o := range d.Observed {
		intended := d.Get(f)
		if intended == "" || sameValue(f, intended, o.Value) {
			continue
		}
		out = append(out, Conflict{Field: f, Intended: intended, Observed: o})
	}
	slices.SortFunc(out, func(a, b Conflict) int { return strings.Compare(a.Field, b.Field) })
	return out
}

func sameValue(field, intended, observed string) bool {
	switch field {
	case "mac", "ip":
		// an observed address is consistent if it is one of the intended ones
		return slices.Contains(strings.Split(intended, ";"), observed)
	}
	return strings.EqualFold(strings.TrimSpace(intended), strings.TrimSpace(observed))
}
