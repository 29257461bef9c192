package csvfile

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
)

// Header lists the canonical CSV columns, in order; ExtraHeader the
// optional canonical columns the writer appends.
var (
	Header = []string{
		"asset_id", "vendor", "model", "version", "serial", "mac", "ip", "hostname", "site",
		"location", "department", "device_type", "criticality", "patient_connected", "phi", "os",
		"end_of_support",
	}
	ExtraHeader = []string{"udi_di", "zone", "end_of_life"}
)

// Aliases maps each canonical field to the other column names accepted for
// it, best first. Column names are compared after lower-casing and dropping
// spaces and punctuation, so "Serial Number", "serial_number" and
// "SERIAL-NUMBER" are the same name. When a file has several columns for
// one field, the one listed first here wins and the others are ignored with
// a warning, except for location, where building, floor, unit and room
// columns are joined ("Main, 3, ICU, 312").
var Aliases = map[string][]string{
	"asset_id": {"Asset Tag", "Asset ID", "Asset Number", "Asset No", "Asset", "Equipment ID",
		"Equipment Number", "Equipment No", "Control Number", "Control No", "Inventory Number",
		"Inventory ID", "Tag Number", "Tag", "Property Tag", "Biomed Tag", "CMMS ID"},
	"vendor": {"Manufacturer", "Make", "Manufacturer Name", "Vendor Name", "Mfr", "Mfg", "Brand"},
	"model":  {"Model Number", "Model No", "Model Name", "Device Model"},
	"version": {"Firmware", "Firmware Version", "Software Version", "SW Version", "FW Version",
		"Software Revision", "Software", "SW", "FW", "Software Release"},
	"serial":   {"Serial Number", "Serial No", "S/N", "SN", "Serial #"},
	"mac":      {"MAC Address", "MAC Addresses", "MACs", "MAC", "Hardware Address", "Ethernet Address"},
	"ip":       {"IP Address", "IP Addresses", "IPs", "IPv4 Address", "IPv4", "IPv6 Address", "IPv6"},
	"hostname": {"Host Name", "Host", "DNS Name", "FQDN", "Computer Name", "Network Name", "NetBIOS Name"},
	"site":     {"Facility", "Campus", "Hospital", "Site Name", "Facility Name"},
	"location": {"Location Name", "Building", "Floor", "Unit", "Ward", "Room", "Room Number", "Area"},
	"department": {"Cost Center", "Cost Centre", "Owner", "Owning Department", "Department Name",
		"Dept", "Responsible Department"},
	"device_type": {"Device Category", "Equipment Type", "Type", "Device Class", "Equipment Class",
		"Category", "Asset Type", "Modality", "Equipment Category"},
	"criticality":       {"Risk Class", "Clinical Risk", "Clinical Criticality", "Risk Level", "Risk", "Risk Category"},
	"patient_connected": {"Patient Connected", "Patient Connection", "Connects to Patient", "Patient Contact"},
	"phi":               {"ePHI", "PHI", "Stores PHI", "Contains PHI", "Contains ePHI"},
	"os":                {"Operating System", "OS Version", "Operating System Version"},
	"end_of_support": {"End of Support", "EOS", "Vendor Support End", "End of Support Date", "EOS Date",
		"Support End", "Support End Date", "End of Vendor Support"},
	"udi_di":      {"UDI", "UDI-DI", "GTIN", "Device Identifier", "UDI Device Identifier"},
	"zone":        {"VLAN", "Network Zone", "VLAN ID", "Network Segment", "Segment"},
	"end_of_life": {"End of Life", "EOL", "End of Life Date", "EOL Date", "Retirement Date"},
}

// NormalizeHeader is the comparison key of a column name: lower case,
// letters and digits only.
func NormalizeHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

type alias struct {
	field string
	rank  int // 0 for the canonical name
}

// aliasIndex maps normalised column names to fields. It is built on first
// use and read-only afterwards.
var aliasIndex = sync.OnceValue(buildAliasIndex)

func buildAliasIndex() map[string]alias {
	m := make(map[string]alias, 200)
	for _, f := range append(append([]string(nil), Header...), ExtraHeader...) {
		m[NormalizeHeader(f)] = alias{field: f}
	}
	for f, names := range Aliases {
		for i, n := range names {
			k := NormalizeHeader(n)
			if _, ok := m[k]; !ok {
				m[k] = alias{field: f, rank: i + 1}
			}
		}
	}
	return m
}

// columnMap decides which column feeds which field.
type columnMap struct {
	fields   []string // per column: canonical field or "" when ignored
	warnings []string
}

func mapHeader(header []string) (columnMap, error) {
	idx := aliasIndex()
	cm := columnMap{fields: make([]string, len(header))}
	seen := make(map[string]int, len(header)) // normalised name -> column
	best := make(map[string]int)              // field -> column
	for i, h := range header {
		k := NormalizeHeader(h)
		if k == "" {
			if strings.TrimSpace(h) != "" {
				cm.warnings = append(cm.warnings, fmt.Sprintf("column %d %q has no letters or digits; ignored", i+1, h))
			}
			continue
		}
		if j, dup := seen[k]; dup {
			return cm, fmt.Errorf("duplicate column %q: columns %d and %d have the same name", h, j+1, i+1)
		}
		seen[k] = i
		a, ok := idx[k]
		if !ok {
			cm.warnings = append(cm.warnings, fmt.Sprintf("column %d %q is not a MedWarden field; ignored", i+1, h))
			continue
		}
		if a.field == "location" {
			cm.fields[i] = "location"
			continue
		}
		if j, ok := best[a.field]; ok {
			other := idx[NormalizeHeader(header[j])]
			keep, drop := j, i
			if a.rank < other.rank {
				keep, drop = i, j
			}
			cm.fields[drop] = ""
			cm.fields[keep] = a.field
			best[a.field] = keep
			cm.warnings = append(cm.warnings, fmt.Sprintf("columns %q and %q both mean %s; using %q, ignoring %q",
				header[j], h, a.field, header[keep], header[drop]))
			continue
		}
		best[a.field] = i
		cm.fields[i] = a.field
	}
	if _, ok := best["asset_id"]; !ok {
		_, s := best["serial"]
		_, m := best["mac"]
		_, u := best["udi_di"]
		if !s && !m && !u {
			return cm, fmt.Errorf("header has no identity column: need asset_id (or %q, %q…) or one of serial, mac, udi_di (or %q, %q, %q); found %q",
				"Asset Tag", "Equipment ID", "Serial Number", "MAC Address", "UDI", strings.Join(header, ","))
		}
	}
	return cm, nil
}
