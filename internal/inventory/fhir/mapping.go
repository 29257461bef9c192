package fhir

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat/fieldvalue"
)

// fieldError is a value problem at a FHIR element path.
type fieldError struct {
	path, value, reason string
}

func (e *fieldError) Error() string { return e.path + ": " + e.reason }

func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// conceptMentions reports whether a CodeableConcept's text, or a coding's
// code or display, contains any of words (lower case).
func conceptMentions(c *CodeableConcept, words ...string) bool {
	if c == nil {
		return false
	}
	texts := []string{c.Text}
	for _, cd := range c.Coding {
		texts = append(texts, cd.Code, cd.Display)
	}
	for _, t := range texts {
		t = lower(t)
		for _, w := range words {
			if t != "" && strings.Contains(t, w) {
				return true
			}
		}
	}
	return false
}

func conceptText(c *CodeableConcept) string {
	if c == nil {
		return ""
	}
	if t := strings.TrimSpace(c.Text); t != "" {
		return t
	}
	for _, cd := range c.Coding {
		if t := strings.TrimSpace(cd.Display); t != "" {
			return t
		}
	}
	for _, cd := range c.Coding {
		if t := strings.TrimSpace(cd.Code); t != "" {
			return t
		}
	}
	return ""
}

func isAssetIdentifier(id Identifier) bool {
	if strings.Contains(lower(id.System), "asset") {
		return true
	}
	return conceptMentions(id.Type, "asset")
}

func isSerialIdentifier(id Identifier) bool {
	if id.Type == nil {
		return false
	}
	for _, c := range id.Type.Coding {
		if c.Code == "SNO" {
			return true
		}
	}
	return conceptMentions(id.Type, "serial")
}

func isMACIdentifier(id Identifier) bool {
	sys := lower(id.System)
	if strings.Contains(sys, "eui-48") || strings.Contains(sys, "mac-address") || strings.Contains(sys, "macaddress") {
		return true
	}
	if id.Type == nil {
		return false
	}
	for _, c := range id.Type.Coding {
		switch strings.ToUpper(c.Code) {
		case "MAC", "ETHMAC", "BTMAC", "WIFIMAC", "EUI48":
			return true
		}
	}
	return conceptMentions(id.Type, "mac address", "mac-address")
}

// toInventory maps a FHIR Device to an inventory device. base is the
// element path of the resource ("Device", "entry[3].resource").
func toInventory(f *Device, base string) (*inventory.Device, error) {
	d := &inventory.Device{}
	set := func(path, field, v string) error {
		if err := fieldvalue.Set(d, field, v); err != nil {
			return &fieldError{path: path, value: v, reason: err.Error()}
		}
		return nil
	}
	// Identifiers: asset tag, serial (SNO), MAC.
	for i, id := range f.Identifier {
		p := fmt.Sprintf("%s.identifier[%d].value", base, i)
		switch {
		case isAssetIdentifier(id):
			if d.AssetID == "" {
				if err := set(p, "asset_id", id.Value); err != nil {
					return nil, err
				}
			}
		case isSerialIdentifier(id):
			if err := set(p, "serial", id.Value); err != nil {
				return nil, err
			}
		case isMACIdentifier(id):
			if err := set(p, "mac", id.Value); err != nil {
				return nil, err
			}
		}
	}
	if strings.TrimSpace(f.SerialNumber) != "" {
		d.Serial = "" // serialNumber wins over an SNO identifier
		if err := set(base+".serialNumber", "serial", f.SerialNumber); err != nil {
			return nil, err
		}
	}
	for i, u := range f.UDICarrier {
		if d.UDIDI == "" {
			if err := set(fmt.Sprintf("%s.udiCarrier[%d].deviceIdentifier", base, i), "udi_di", u.DeviceIdentifier); err != nil {
				return nil, err
			}
		}
		if hrf := strings.TrimSpace(u.CarrierHRF); hrf != "" {
			if d.UDIDI == "" {
				if di, ok := fieldvalue.GS1AI(hrf, "01"); ok {
					d.UDIDI = di
				}
			}
			if d.Serial == "" {
				if sn, ok := fieldvalue.GS1AI(hrf, "21"); ok {
					d.Serial = sn
				}
			}
		}
	}
	if err := set(base+".manufacturer", "vendor", f.Manufacturer); err != nil {
		return nil, err
	}
	d.Model = model(f)
	if err := set(base+".type", "device_type", conceptText(f.Type)); err != nil {
		return nil, err
	}
	if i := versionIndex(f.Version); i >= 0 {
		if err := set(fmt.Sprintf("%s.version[%d].value", base, i), "version", f.Version[i].Value); err != nil {
			return nil, err
		}
	}
	if f.Location != nil {
		if err := set(base+".location.display", "location", f.Location.Display); err != nil {
			return nil, err
		}
	}
	if f.Owner != nil {
		if err := set(base+".owner.display", "department", f.Owner.Display); err != nil {
			return nil, err
		}
	}
	for i, e := range f.Extension {
		field, ok := extField(e.URL)
		if !ok {
			continue
		}
		vp, v, ok := extValue(e)
		if !ok {
			continue
		}
		p := fmt.Sprintf("%s.extension[%d].%s", base, i, vp)
		if field == "department" {
			d.Department = "" // the extension wins over owner.display
		}
		if err := set(p, field, v); err != nil {
			return nil, err
		}
	}
	// Device.url: "a network address on which the device may be contacted
	// directly": an IP address becomes an IP, a host name the host name,
	// unless the extensions gave them.
	if u := strings.TrimSpace(f.URL); u != "" {
		host := ""
		if pu, err := url.Parse(u); err == nil && pu.Host != "" {
			host = pu.Hostname()
		} else if !strings.ContainsAny(u, "/ ?#@") {
			host = u
		}
		if a, err := netip.ParseAddr(host); err == nil {
			if len(d.IPs) == 0 {
				d.IPs = []string{a.Unmap().String()}
			}
		} else if host != "" && d.Hostname == "" {
			d.Hostname = host
		}
	}
	if err := fieldvalue.CheckIdentity(d); err != nil {
		return nil, &fieldError{path: base, reason: err.Error()}
	}
	return d, nil
}

func model(f *Device) string {
	pick := func(t string) string {
		for _, n := range f.DeviceName {
			if n.Type == t && strings.TrimSpace(n.Name) != "" {
				return strings.TrimSpace(n.Name)
			}
		}
		return ""
	}
	if m := pick("model-name"); m != "" {
		return m
	}
	if m := strings.TrimSpace(f.ModelNumber); m != "" {
		return m
	}
	for _, t := range []string{"user-friendly-name", "manufacturer-name", "udi-label-name"} {
		if m := pick(t); m != "" {
			return m
		}
	}
	return ""
}

// versionIndex picks the software or firmware version, else the first.
func versionIndex(vs []DeviceVersion) int {
	first := -1
	for i, v := range vs {
		if strings.TrimSpace(v.Value) == "" {
			continue
		}
		if first < 0 {
			first = i
		}
		if conceptMentions(v.Type, "software", "firmware") {
			return i
		}
	}
	return first
}

var extFields = map[string]string{
	"site": "site", "department": "department", "criticality": "criticality",
	"patient-connected": "patient_connected", "phi": "phi", "zone": "zone", "os": "os",
	"end-of-support": "end_of_support", "end-of-life": "end_of_life", "mac": "mac", "ip": "ip",
	"hostname": "hostname",
}

func extField(u string) (string, bool) {
	name, ok := strings.CutPrefix(u, ExtensionBase)
	if !ok {
		return "", false
	}
	f, ok := extFields[name]
	return f, ok
}

// extValue returns the element name and text of an extension's value.
func extValue(e Extension) (string, string, bool) {
	switch {
	case e.ValueString != nil:
		return "valueString", *e.ValueString, true
	case e.ValueCode != nil:
		return "valueCode", *e.ValueCode, true
	case e.ValueBoolean != nil:
		return "valueBoolean", strconv.FormatBool(*e.ValueBoolean), true
	case e.ValueDate != nil:
		return "valueDate", *e.ValueDate, true
	case e.ValueDateTime != nil:
		return "valueDateTime", *e.ValueDateTime, true
	case e.ValueURI != nil:
		return "valueUri", *e.ValueURI, true
	case e.ValueCodeableConcept != nil:
		return "valueCodeableConcept", conceptText(e.ValueCodeableConcept), true
	}
	return "", "", false
}

// fromInventory maps an inventory device to a FHIR Device using standard
// elements where R4 has them and MedWarden extensions elsewhere.
func fromInventory(d *inventory.Device) *Device {
	f := &Device{ResourceType: "Device"}
	if d.ID > 0 {
		f.ID = strconv.FormatInt(d.ID, 10)
	}
	str := func(url, v string) {
		if v != "" {
			s := v
			f.Extension = append(f.Extension, Extension{URL: url, ValueString: &s})
		}
	}
	str(ExtSite, d.Site)
	if d.Criticality != "" {
		c := string(d.Criticality)
		f.Extension = append(f.Extension, Extension{URL: ExtCriticality, ValueCode: &c})
	}
	if d.PatientConnected != nil {
		b := *d.PatientConnected
		f.Extension = append(f.Extension, Extension{URL: ExtPatientConnected, ValueBoolean: &b})
	}
	if d.PHI != nil {
		b := *d.PHI
		f.Extension = append(f.Extension, Extension{URL: ExtPHI, ValueBoolean: &b})
	}
	str(ExtZone, d.Zone)
	str(ExtOS, d.OS)
	if d.EndOfSupport != nil {
		s := d.EndOfSupport.String()
		f.Extension = append(f.Extension, Extension{URL: ExtEndOfSupport, ValueDate: &s})
	}
	if d.EndOfLife != nil {
		s := d.EndOfLife.String()
		f.Extension = append(f.Extension, Extension{URL: ExtEndOfLife, ValueDate: &s})
	}
	for _, m := range d.MACs {
		str(ExtMAC, m)
	}
	for _, a := range d.IPs {
		str(ExtIP, a)
	}
	str(ExtHostname, d.Hostname)
	if d.AssetID != "" {
		f.Identifier = append(f.Identifier, Identifier{
			Use:    "usual",
			Type:   &CodeableConcept{Text: "Asset tag"},
			System: AssetTagSystem,
			Value:  d.AssetID,
		})
	}
	if d.UDIDI != "" {
		u := UDICarrier{DeviceIdentifier: d.UDIDI}
		if isGTIN(d.UDIDI) {
			u.Issuer = "http://hl7.org/fhir/NamingSystem/gs1-di"
		}
		f.UDICarrier = []UDICarrier{u}
	}
	f.Manufacturer = d.Vendor
	f.SerialNumber = d.Serial
	if d.Model != "" {
		f.DeviceName = []DeviceName{{Name: d.Model, Type: "model-name"}}
	}
	if d.DeviceType != "" {
		f.Type = &CodeableConcept{Text: d.DeviceType}
	}
	if d.Version != "" {
		f.Version = []DeviceVersion{{Type: &CodeableConcept{Text: "software"}, Value: d.Version}}
	}
	if d.Department != "" {
		f.Owner = &Reference{Display: d.Department}
	}
	if d.Location != "" {
		f.Location = &Reference{Display: d.Location}
	}
	return f
}

func isGTIN(s string) bool {
	if len(s) != 14 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
