package sqldb

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
)

// deviceColumns in table order, without id.
var deviceColumns = []string{
	"asset_id", "vendor", "model", "device_type", "version", "serial", "udi_di", "macs", "ips",
	"hostname", "site", "location", "department", "criticality", "criticality_rank",
	"patient_connected", "phi", "zone", "os", "end_of_support", "end_of_life", "first_seen",
	"last_seen", "provenance", "observed", "revision", "created_at", "updated_at",
}

// DeviceColumns returns the column names in insert order, with "id" first.
func DeviceColumns() []string { return append([]string{"id"}, deviceColumns...) }

var selectDevice = "SELECT id, " + strings.Join(deviceColumns, ", ") + " FROM devices"

// timeLayout writes device times (created_at, updated_at, first_seen,
// last_seen) in UTC with fixed-width nanoseconds, so that text order is
// time order: lists sort and page on updated_at as text. RFC 3339 with
// trailing zeros trimmed (the layout before migration 0015) put
// "…:05Z" after "…:05.5Z". Reading accepts both (time.RFC3339Nano).
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// joinAddrs stores addresses as ";a;b;" so "contains ;x;" finds any one.
func joinAddrs(a []string) string {
	if len(a) == 0 {
		return ""
	}
	return ";" + strings.Join(a, ";") + ";"
}

func splitAddrs(s string) []string {
	s = strings.Trim(s, ";")
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

func nullBool(b *bool) sql.NullBool {
	if b == nil {
		return sql.NullBool{}
	}
	return sql.NullBool{Bool: *b, Valid: true}
}

func dateText(d *inventory.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func timeText(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// DeviceArgs returns the values of DeviceColumns() for d, id first.
func DeviceArgs(d *inventory.Device) ([]any, error) {
	prov, err := encodeProvenance(d)
	if err != nil {
		return nil, fmt.Errorf("device %q provenance: %w", d.AssetID, err)
	}
	obs := []byte("{}") // most devices: no observed values
	if len(d.Observed) > 0 {
		if obs, err = json.Marshal(d.Observed); err != nil {
			return nil, fmt.Errorf("device %q observed values: %w", d.AssetID, err)
		}
	}
	var asset any // NULL when empty so UNIQUE allows many devices without a tag
	if d.AssetID != "" {
		asset = d.AssetID
	}
	return []any{
		d.ID, asset, d.Vendor, d.Model, d.DeviceType, d.Version, d.Serial, d.UDIDI,
		joinAddrs(d.MACs), joinAddrs(d.IPs), d.Hostname, d.Site, d.Location, d.Department,
		string(d.Criticality), d.Criticality.Rank(), nullBool(d.PatientConnected), nullBool(d.PHI),
		d.Zone, d.OS, dateText(d.EndOfSupport), dateText(d.EndOfLife), timeText(d.FirstSeen),
		timeText(d.LastSeen), string(prov), string(obs), d.Revision,
		stampText(&createdText, d.CreatedAt), stampText(&updatedText, d.UpdatedAt),
	}, nil
}

// DeviceRows returns DeviceArgs of each device (the rows a RowInserter takes).
func DeviceRows(ds []*inventory.Device) ([][]any, error) {
	rows := make([][]any, len(ds))
	for i, d := range ds {
		a, err := DeviceArgs(d)
		if err != nil {
			return nil, err
		}
		rows[i] = a
	}
	return rows, nil
}

// createdText and updatedText remember the last created_at and updated_at
// written: an import stamps every device of a batch alike, and formatting
// them was 6 % of a bulk insert's CPU.
var createdText, updatedText atomic.Pointer[formattedTime]

type formattedTime struct {
	t    time.Time
	text string
}

// stampText formats t as stored (timeLayout, UTC), reusing the text last
// remembered in c when it is the same instant.
func stampText(c *atomic.Pointer[formattedTime], t time.Time) string {
	if f := c.Load(); f != nil && f.t.Equal(t) {
		return f.text
	}
	f := &formattedTime{t: t, text: t.UTC().Format(timeLayout)}
	c.Store(f)
	return f.text
}

// Provenance is stored compactly: most devices have every field from one
// import, so the most common provenance is written once under "*" and
// applies to every non-empty field without its own entry; non-empty fields
// that have no provenance at all are listed under "none". Decoding gives back
// exactly the map that was encoded.
type storedProvenance struct {
	Default *inventory.Provenance           `json:"*,omitempty"`
	None    []string                        `json:"none,omitempty"`
	Fields  map[string]inventory.Provenance `json:"f,omitempty"`
}

func encodeProvenance(d *inventory.Device) ([]byte, error) {
	if len(d.Provenance) == 0 {
		return []byte("{}"), nil
	}
	if b, ok := uniformProvenance(d); ok {
		return b, nil
	}
	count := map[inventory.Provenance]int{}
	var best inventory.Provenance
	for _, p := range d.Provenance {
		count[p]++
		if count[p] > count[best] {
			best = p
		}
	}
	sp := storedProvenance{}
	if count[best] > 1 {
		sp.Default = &best
	}
	for _, f := range inventory.Fields {
		p, ok := d.Provenance[f]
		switch {
		case ok && sp.Default != nil && p == best && d.Get(f) != "":
		case ok:
			if sp.Fields == nil {
				sp.Fields = map[string]inventory.Provenance{}
			}
			sp.Fields[f] = p
		case sp.Default != nil && d.Get(f) != "":
			sp.None = append(sp.None, f)
		}
	}
	for f, p := range d.Provenance { // names outside inventory.Fields
		if !slices.Contains(inventory.Fields, f) {
			if sp.Fields == nil {
				sp.Fields = map[string]inventory.Provenance{}
			}
			sp.Fields[f] = p
		}
	}
	return json.Marshal(sp)
}

// uniformProvenance is the fast path for the common case (every field from
// one import): all entries equal and every non-empty field has one.
func uniformProvenance(d *inventory.Device) ([]byte, bool) {
	if len(d.Provenance) < 2 {
		return nil, false
	}
	// Every key a non-empty field and as many keys as non-empty fields:
	// then the keys are exactly the non-empty fields (one iteration of
	// the map instead of a lookup per field).
	var first inventory.Provenance
	n := 0
	for f, p := range d.Provenance {
		if !d.Has(f) {
			return nil, false // an empty field, or a name outside inventory.Fields
		}
		if n == 0 {
			first = p
		} else if p != first {
			return nil, false
		}
		n++
	}
	filled := 0
	for _, f := range inventory.Fields {
		if d.Has(f) {
			filled++
		}
	}
	if filled != n {
		return nil, false // a non-empty field without an entry
	}
	provCache.Lock()
	defer provCache.Unlock()
	if provCache.json == nil || provCache.p != first {
		b, err := json.Marshal(storedProvenance{Default: &first})
		if err != nil {
			return nil, false
		}
		provCache.p, provCache.json = first, b
	}
	return provCache.json, true
}

// provCache remembers the last uniform provenance encoded: an import writes
// the same one for every device.
var provCache struct {
	sync.Mutex
	p    inventory.Provenance
	json []byte
}

func decodeProvenance(d *inventory.Device, s string) error {
	if s == "" || s == "{}" {
		return nil
	}
	sp, err := parseStoredProvenance(s)
	if err != nil {
		return err
	}
	d.Provenance = make(map[string]inventory.Provenance, len(inventory.Fields))
	for f, p := range sp.Fields {
		d.Provenance[f] = p
	}
	if sp.Default != nil {
		for _, f := range inventory.Fields {
			if _, ok := d.Provenance[f]; ok || d.Get(f) == "" || slices.Contains(sp.None, f) {
				continue
			}
			d.Provenance[f] = *sp.Default
		}
	}
	if len(d.Provenance) == 0 {
		d.Provenance = nil
	}
	return nil
}

// provDecodeCache holds parsed stored provenance by its JSON text: an
// import writes the same text for every device, so a 50-device page holds
// one or a few distinct texts, and parsing each row's cost a quarter of the
// page's CPU (docs/benchmarks/inventory.md, session 3 late). The values
// are shared and never modified.
var provDecodeCache struct {
	sync.Mutex
	m map[string]*storedProvenance
}

// provDecodeCacheSize bounds provDecodeCache: when full it starts over.
const provDecodeCacheSize = 256

func parseStoredProvenance(s string) (*storedProvenance, error) {
	provDecodeCache.Lock()
	sp, ok := provDecodeCache.m[s]
	provDecodeCache.Unlock()
	if ok {
		return sp, nil
	}
	sp = new(storedProvenance)
	if err := json.Unmarshal([]byte(s), sp); err != nil {
		return nil, err
	}
	provDecodeCache.Lock()
	if provDecodeCache.m == nil || len(provDecodeCache.m) >= provDecodeCacheSize {
		provDecodeCache.m = make(map[string]*storedProvenance, provDecodeCacheSize)
	}
	provDecodeCache.m[s] = sp
	provDecodeCache.Unlock()
	return sp, nil
}

// scanDevice reads one row of selectDevice.
func scanDevice(r Row) (*inventory.Device, error) {
	var (
		d                                 inventory.Device
		asset                             sql.NullString
		macs, ips, crit, eos, eol, fs, ls string
		prov, obs, created, updated       string
		rank                              int
		pc, phi                           sql.NullBool
	)
	err := r.Scan(&d.ID, &asset, &d.Vendor, &d.Model, &d.DeviceType, &d.Version, &d.Serial, &d.UDIDI,
		&macs, &ips, &d.Hostname, &d.Site, &d.Location, &d.Department, &crit, &rank, &pc, &phi,
		&d.Zone, &d.OS, &eos, &eol, &fs, &ls, &prov, &obs, &d.Revision, &created, &updated)
	if err != nil {
		return nil, err
	}
	d.AssetID = asset.String
	d.MACs, d.IPs = splitAddrs(macs), splitAddrs(ips)
	d.Criticality = inventory.Criticality(crit)
	if pc.Valid {
		d.PatientConnected = &pc.Bool
	}
	if phi.Valid {
		d.PHI = &phi.Bool
	}
	if d.EndOfSupport, err = parseDate(eos); err != nil {
		return nil, fmt.Errorf("device %d end_of_support: %w", d.ID, err)
	}
	if d.EndOfLife, err = parseDate(eol); err != nil {
		return nil, fmt.Errorf("device %d end_of_life: %w", d.ID, err)
	}
	d.FirstSeen, d.LastSeen = parseTime(fs), parseTime(ls)
	if c := parseTime(created); c != nil {
		d.CreatedAt = *c
	}
	if u := parseTime(updated); u != nil {
		d.UpdatedAt = *u
	}
	if err := decodeProvenance(&d, prov); err != nil {
		return nil, fmt.Errorf("device %d provenance: %w", d.ID, err)
	}
	if obs != "" && obs != "{}" {
		if err := json.Unmarshal([]byte(obs), &d.Observed); err != nil {
			return nil, fmt.Errorf("device %d observed values: %w", d.ID, err)
		}
	}
	return &d, nil
}

func parseDate(s string) (*inventory.Date, error) {
	if s == "" {
		return nil, nil
	}
	d, err := inventory.ParseDate(s)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func parseTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	return &t
}
