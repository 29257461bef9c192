package sqldb

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
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

const timeLayout = time.RFC3339Nano

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
	prov, err := json.Marshal(orEmpty(d.Provenance))
	if err != nil {
		return nil, fmt.Errorf("device %q provenance: %w", d.AssetID, err)
	}
	obs, err := json.Marshal(orEmptyObs(d.Observed))
	if err != nil {
		return nil, fmt.Errorf("device %q observed values: %w", d.AssetID, err)
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
		d.CreatedAt.UTC().Format(timeLayout), d.UpdatedAt.UTC().Format(timeLayout),
	}, nil
}

func orEmpty(m map[string]inventory.Provenance) map[string]inventory.Provenance {
	if m == nil {
		return map[string]inventory.Provenance{}
	}
	return m
}

func orEmptyObs(m map[string]inventory.Observation) map[string]inventory.Observation {
	if m == nil {
		return map[string]inventory.Observation{}
	}
	return m
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
	if prov != "" && prov != "{}" {
		if err := json.Unmarshal([]byte(prov), &d.Provenance); err != nil {
			return nil, fmt.Errorf("device %d provenance: %w", d.ID, err)
		}
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
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return nil
	}
	return &t
}
