package demo

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/medwarden/medwarden/internal/inventory"
)

//go:embed data/catalog.json
var catalogJSON []byte

// Catalog is the embedded reference data of the demo hospital: network
// zones, device types with their clinical attributes, and per type the
// vendor product lines with the firmware versions a fleet carries. Product
// lines named in CISA medical advisories (ICSMA) keep the advisory's exact
// vendor and product naming and record, per version, which advisories cover
// it: that is the ground truth of the demo's known-vulnerable devices.
type Catalog struct {
	// GTINCompanyPrefix is the GS1 company prefix used to build UDI-DIs.
	// 0614141 is the prefix GS1 uses in its own documentation examples; it
	// identifies no real manufacturer.
	GTINCompanyPrefix string `json:"gtin_company_prefix"`
	// OUIs maps an IEEE MA-L assignment (six upper-case hex digits) to the
	// organisation name registered for it (checked against the IEEE
	// registry, see data/PROVENANCE.md).
	OUIs  map[string]string `json:"ouis"`
	Zones []Zone            `json:"zones"`
	Types []DeviceType      `json:"types"`
}

// Zone is a network zone with its VLAN. In the standard address plan the
// zone's subnets are 10.<site>.<Octet+i>.0/24 for i < Span.
type Zone struct {
	Name        string `json:"name"`
	VLAN        int    `json:"vlan"`
	Octet       int    `json:"octet"`
	Span        int    `json:"span"`
	Description string `json:"description"`
}

// DeviceType is one kind of device with its share of the fleet and its
// clinical attributes.
type DeviceType struct {
	Key              string                `json:"key"`  // device_type value, e.g. "infusion-pump"
	Name             string                `json:"name"` // human name
	Class            string                `json:"class"`
	Host             string                `json:"host"` // hostname type code
	Zone             string                `json:"zone"`
	Weight           float64               `json:"weight"` // devices per 1,000
	MinPerSite       int                   `json:"min_per_site,omitempty"`
	Criticality      inventory.Criticality `json:"criticality"`
	PatientConnected bool                  `json:"patient_connected"`
	PHI              bool                  `json:"phi"`
	Network          string                `json:"network"` // "ip" (MAC and IP) or "mac" (MAC only: Wi-Fi tags)
	Spot             string                `json:"spot"`    // "bed", "room" or "" : the last part of the location
	Anywhere         bool                  `json:"anywhere,omitempty"`
	Departments      map[string]float64    `json:"departments"`
	Lines            []ProductLine         `json:"lines"`
	Rationale        string                `json:"rationale,omitempty"` // why this criticality
}

// ProductLine is a vendor model and the versions installed in the fleet.
type ProductLine struct {
	Vendor     string        `json:"vendor"`
	Model      string        `json:"model"`
	Weight     float64       `json:"weight"`
	OS         string        `json:"os"`
	OUIs       []string      `json:"oui,omitempty"` // empty: locally administered MACs
	Serial     string        `json:"serial"`        // pattern: # digit, @ letter, ? digit or letter, others literal
	Age        [2]float64    `json:"age"`           // years since installation, min and max
	EOSMonths  *int          `json:"eos_months,omitempty"`
	EOLMonths  *int          `json:"eol_months,omitempty"`
	Advisories []AdvisoryRef `json:"advisories,omitempty"`
	Versions   []Version     `json:"versions"`
	Note       string        `json:"note,omitempty"`
}

// AdvisoryRef names the advisory that covers a product line, with the
// product and affected-version text exactly as the advisory has them.
type AdvisoryRef struct {
	ID       string `json:"id"`       // tracking id, e.g. ICSMA-20-170-04
	Vendor   string `json:"vendor"`   // vendor branch name in the advisory
	Product  string `json:"product"`  // product name in the advisory
	Affected string `json:"affected"` // affected version or range text in the advisory
	Source   string `json:"source"`   // where it was read (path under the shared data set)
}

// Version is one firmware or software version with its share of the line.
type Version struct {
	Version    string   `json:"v"`
	Weight     float64  `json:"w"`
	AffectedBy []string `json:"affected_by,omitempty"` // advisory ids whose affected range contains this version
}

var (
	// ErrCatalog reports invalid embedded catalog data.
	ErrCatalog = errors.New("invalid demo catalog")

	loadCatalog = sync.OnceValues(func() (*Catalog, error) { return ParseCatalog(catalogJSON, "data/catalog.json") })
)

// LoadCatalog returns the embedded catalog, parsed once. Callers must not
// modify it.
func LoadCatalog() (*Catalog, error) { return loadCatalog() }

// ParseCatalog decodes and validates catalog JSON (strict: unknown fields
// are refused). name is used in errors.
func ParseCatalog(b []byte, name string) (*Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrCatalog, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &c, nil
}

// Validate checks the catalog's internal consistency; errors name the JSON
// pointer of the offending value.
func (c *Catalog) Validate() error {
	bad := func(ptr, format string, a ...any) error {
		return fmt.Errorf("%w: '%s' %s", ErrCatalog, ptr, fmt.Sprintf(format, a...))
	}
	if len(c.GTINCompanyPrefix) != 7 || strings.Trim(c.GTINCompanyPrefix, "0123456789") != "" {
		return bad("/gtin_company_prefix", "must be 7 digits")
	}
	for oui, org := range c.OUIs {
		if len(oui) != 6 || strings.Trim(oui, "0123456789ABCDEF") != "" {
			return bad("/ouis/"+oui, "is not six upper-case hex digits")
		}
		if org == "" {
			return bad("/ouis/"+oui, "has no organisation")
		}
	}
	if len(c.Zones) == 0 {
		return bad("/zones", "is empty")
	}
	zones := map[string]bool{}
	octets := make([]bool, 256)
	for i, z := range c.Zones {
		p := fmt.Sprintf("/zones/%d", i)
		if z.Name == "" || zones[z.Name] {
			return bad(p+"/name", "is empty or repeated (%q)", z.Name)
		}
		zones[z.Name] = true
		if z.VLAN < 1 || z.VLAN > 4094 {
			return bad(p+"/vlan", "%d is not a VLAN id", z.VLAN)
		}
		if z.Span < 1 || z.Octet < 1 || z.Octet+z.Span > 256 {
			return bad(p+"/octet", "%d..%d does not fit an address octet", z.Octet, z.Octet+z.Span-1)
		}
		for o := z.Octet; o < z.Octet+z.Span; o++ {
			if octets[o] {
				return bad(p+"/octet", "third octet %d overlaps another zone", o)
			}
			octets[o] = true
		}
	}
	if len(c.Types) == 0 {
		return bad("/types", "is empty")
	}
	keys, hosts := map[string]bool{}, map[string]bool{}
	for i, t := range c.Types {
		p := fmt.Sprintf("/types/%d", i)
		if t.Key == "" || keys[t.Key] {
			return bad(p+"/key", "is empty or repeated (%q)", t.Key)
		}
		keys[t.Key] = true
		if t.Name == "" || t.Host == "" || hosts[t.Host] {
			return bad(p+"/host", "name or host code is empty or host code repeated (%q)", t.Host)
		}
		hosts[t.Host] = true
		if !slices.Contains(classes, t.Class) {
			return bad(p+"/class", "%q is not one of %v", t.Class, classes)
		}
		if !zones[t.Zone] {
			return bad(p+"/zone", "%q is not a zone", t.Zone)
		}
		if t.Weight <= 0 || t.MinPerSite < 0 {
			return bad(p+"/weight", "must be positive")
		}
		if t.Criticality.Rank() == 0 {
			return bad(p+"/criticality", "%q is not a criticality", t.Criticality)
		}
		if t.Network != "ip" && t.Network != "mac" {
			return bad(p+"/network", "%q is not ip or mac", t.Network)
		}
		if t.Spot != "" && t.Spot != "bed" && t.Spot != "room" {
			return bad(p+"/spot", "%q is not bed, room or empty", t.Spot)
		}
		if len(t.Departments) == 0 {
			return bad(p+"/departments", "is empty")
		}
		for d, w := range t.Departments {
			if departmentIndex(d) < 0 || w <= 0 {
				return bad(p+"/departments/"+d, "is not a known department with a positive weight")
			}
		}
		if len(t.Lines) == 0 {
			return bad(p+"/lines", "is empty")
		}
		for j, l := range t.Lines {
			if err := c.validateLine(l, fmt.Sprintf("%s/lines/%d", p, j), bad); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Catalog) validateLine(l ProductLine, p string, bad func(ptr, format string, a ...any) error) error {
	if l.Vendor == "" || l.Model == "" {
		return bad(p, "has no vendor or model")
	}
	if l.Weight <= 0 {
		return bad(p+"/weight", "must be positive")
	}
	for k, o := range l.OUIs {
		if _, ok := c.OUIs[o]; !ok {
			return bad(fmt.Sprintf("%s/oui/%d", p, k), "%q is not in /ouis", o)
		}
	}
	if c := serialCapacity(l.Serial); c < 1e6 || c > 1e15 {
		return bad(p+"/serial", "%q must have between a million and 10^15 values", l.Serial)
	}
	if l.Age[0] < 0 || l.Age[1] < l.Age[0] || l.Age[1] > 30 {
		return bad(p+"/age", "%v is not a [min, max] range of years", l.Age)
	}
	if l.EOLMonths != nil && (l.EOSMonths == nil || *l.EOLMonths < *l.EOSMonths) {
		return bad(p+"/eol_months", "is set without eos_months or before it")
	}
	ids := map[string]bool{}
	for k, a := range l.Advisories {
		ap := fmt.Sprintf("%s/advisories/%d", p, k)
		if !strings.HasPrefix(a.ID, "ICSMA-") || a.Vendor == "" || a.Product == "" || a.Affected == "" || a.Source == "" {
			return bad(ap, "needs an ICSMA id, vendor, product, affected text and source")
		}
		ids[a.ID] = true
	}
	if len(l.Versions) == 0 {
		return bad(p+"/versions", "is empty")
	}
	seen, used := map[string]bool{}, map[string]bool{}
	for k, v := range l.Versions {
		vp := fmt.Sprintf("%s/versions/%d", p, k)
		if v.Version == "" || seen[v.Version] || v.Weight <= 0 {
			return bad(vp, "has an empty or repeated version or no weight")
		}
		seen[v.Version] = true
		for _, id := range v.AffectedBy {
			if !ids[id] {
				return bad(vp+"/affected_by", "%q is not one of the line's advisories", id)
			}
			used[id] = true
		}
	}
	for k, a := range l.Advisories {
		if !used[a.ID] {
			return bad(fmt.Sprintf("%s/advisories/%d", p, k), "%s covers none of the line's versions", a.ID)
		}
	}
	return nil
}

// Type returns the device type with the given key.
func (c *Catalog) Type(key string) (*DeviceType, bool) {
	for i := range c.Types {
		if c.Types[i].Key == key {
			return &c.Types[i], true
		}
	}
	return nil, false
}

// KnownAffected returns the advisory tracking ids that the catalog records
// as covering a device's vendor, model and version (the demo's ground
// truth), or nil. Vendor and model must be the catalog's exact strings.
func (c *Catalog) KnownAffected(vendor, model, version string) []string {
	for i := range c.Types {
		for j := range c.Types[i].Lines {
			l := &c.Types[i].Lines[j]
			if l.Vendor != vendor || l.Model != model {
				continue
			}
			for _, v := range l.Versions {
				if v.Version == version {
					return v.AffectedBy
				}
			}
		}
	}
	return nil
}

// Advisory returns the line's reference to the advisory with the given id.
func (l *ProductLine) Advisory(id string) (AdvisoryRef, bool) {
	for _, a := range l.Advisories {
		if a.ID == id {
			return a, true
		}
	}
	return AdvisoryRef{}, false
}

// asset classes: the middle part of asset ids.
var classes = []string{"BIOMED", "IT", "FAC"}

// serialCapacity is the number of distinct serials a pattern can express.
func serialCapacity(p string) float64 {
	n := 1.0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '#':
			n *= 10
		case '@':
			n *= 26
		case '?':
			n *= 36
		}
	}
	if n == 1 {
		return 0
	}
	return n
}
