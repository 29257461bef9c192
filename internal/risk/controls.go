package risk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
)

// ErrInvalidControls is wrapped by every ParseControls content error.
var ErrInvalidControls = errors.New("invalid controls file")

// MaxControlsSize bounds the size of a controls file.
const MaxControlsSize = 16 << 20

// Controls is the site's compensating-controls file: which controls apply to
// which devices, extra or overridden control weights, and how zone names map
// onto exposure levels.
//
//	{
//	  "weights":      {"segmented": 6, "nac_quarantine": 4},
//	  "zone_exposure": {"VLAN 20 Biomed": "clinical", "Vendor DMZ": "internet"},
//	  "zones":        {"VLAN 20 Biomed": ["segmented", "monitored"]},
//	  "device_types": {"Infusion Pump": ["allow_listing"]},
//	  "devices":      {"BME-000101": ["disabled_services"]}
//	}
//
// Zone and device type keys match case-insensitively; asset ids exactly.
type Controls struct {
	Weights      map[string]float64  `json:"weights,omitempty"`
	ZoneExposure map[string]string   `json:"zone_exposure,omitempty"`
	Zones        map[string][]string `json:"zones,omitempty"`
	DeviceTypes  map[string][]string `json:"device_types,omitempty"`
	Devices      map[string][]string `json:"devices,omitempty"`

	zoneExp map[string]Exposure
	zones   map[string][]string
	types   map[string][]string
}

// ParseControls reads a controls file. Every control id must be a default
// control (DefaultControlWeights) or be given a weight in "weights";
// errors name the file and the JSON pointer of the bad member.
func ParseControls(r io.Reader, name string) (*Controls, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxControlsSize+1))
	if err != nil {
		return nil, fmt.Errorf("controls %s: %w", name, err)
	}
	if len(data) > MaxControlsSize {
		return nil, fmt.Errorf("controls %s: %w: larger than %d bytes", name, ErrInvalidControls, MaxControlsSize)
	}
	var c Controls
	if err := decodeStrict(data, &c); err != nil {
		return nil, fmt.Errorf("controls %s: %w: %s", name, ErrInvalidControls, err)
	}
	if err := c.init(); err != nil {
		return nil, fmt.Errorf("controls %s: %w: %s", name, ErrInvalidControls, err)
	}
	return &c, nil
}

// decodeStrict decodes one JSON value, rejecting unknown fields and
// trailing data, with line numbers in syntax errors.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("line %d: %v", lineOf(data, se.Offset), err)
		case errors.As(err, &te):
			return fmt.Errorf("line %d: /%s: %s is not a %s", lineOf(data, te.Offset), strings.ReplaceAll(te.Field, ".", "/"), te.Value, te.Type)
		case errors.Is(err, io.EOF):
			return errors.New("empty document")
		}
		return err
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(data[off:])) > 0 {
		return fmt.Errorf("line %d: data after the JSON object", lineOf(data, off))
	}
	return nil
}

func lineOf(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// pointerEscape escapes a JSON pointer token (RFC 6901).
func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func (c *Controls) init() error {
	def := DefaultControlWeights()
	for _, id := range sortedKeys(c.Weights) {
		w := c.Weights[id]
		if !validControlID(id) {
			return fmt.Errorf("/weights/%s: control id must be lower-case letters, digits and _", pointerEscape(id))
		}
		if w < 0 || w > 25 || math.IsNaN(w) {
			return fmt.Errorf("/weights/%s: weight %v is not in [0,25]", pointerEscape(id), w)
		}
	}
	known := func(id string) bool {
		_, ok := def[id]
		_, ok2 := c.Weights[id]
		return ok || ok2
	}
	check := func(section string, m map[string][]string) (map[string][]string, error) {
		out := make(map[string][]string, len(m))
		for _, k := range sortedKeys(m) {
			if strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("/%s: empty key", section)
			}
			for i, id := range m[k] {
				if !known(id) {
					return nil, fmt.Errorf("/%s/%s/%d: unknown control %q (known: %s; add it to \"weights\")", section, pointerEscape(k), i, id, strings.Join(sortedKeys(def), ", "))
				}
			}
			key := strings.ToLower(strings.TrimSpace(k))
			out[key] = append(out[key], m[k]...)
		}
		return out, nil
	}
	var err error
	if c.zones, err = check("zones", c.Zones); err != nil {
		return err
	}
	if c.types, err = check("device_types", c.DeviceTypes); err != nil {
		return err
	}
	if _, err = check("devices", c.Devices); err != nil {
		return err
	}
	c.zoneExp = make(map[string]Exposure, len(c.ZoneExposure))
	for _, z := range sortedKeys(c.ZoneExposure) {
		e, err := ExposureFromText(c.ZoneExposure[z])
		if err != nil {
			return fmt.Errorf("/zone_exposure/%s: %v", pointerEscape(z), err)
		}
		c.zoneExp[strings.ToLower(strings.TrimSpace(z))] = e
	}
	return nil
}

func validControlID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_') {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// For returns the controls of a device: the union of its zone's, its device
// type's and its own, sorted and without duplicates. A nil Controls has none.
func (c *Controls) For(assetID, zone, deviceType string) []string {
	if c == nil {
		return nil
	}
	var out []string
	out = append(out, c.zones[strings.ToLower(strings.TrimSpace(zone))]...)
	out = append(out, c.types[strings.ToLower(strings.TrimSpace(deviceType))]...)
	out = append(out, c.Devices[assetID]...)
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Exposure returns the exposure of a zone: the file's zone_exposure entry
// when there is one, else ParseExposure(zone).
func (c *Controls) Exposure(zone string) Exposure {
	if c != nil {
		if e, ok := c.zoneExp[strings.ToLower(strings.TrimSpace(zone))]; ok {
			return e
		}
	}
	return ParseExposure(zone)
}

// Apply adds the file's weights to a model (overriding defaults of the same id).
func (c *Controls) Apply(m *Model) {
	if c == nil || len(c.Weights) == 0 {
		return
	}
	w := make(map[string]float64, len(m.ControlWeights)+len(c.Weights))
	for k, v := range m.ControlWeights {
		w[k] = v
	}
	for k, v := range c.Weights {
		w[k] = v
	}
	m.ControlWeights = w
}
