package simulate

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Kinds are the device kinds the simulator can drive (HostSpec.Kind):
// patient monitors (HL7 ORU over MLLP), CT, MR and ultrasound modalities
// (DICOM C-STORE), point-of-care analysers (POCT1-A), lab analysers
// (ASTM) and workstations (DNS, TLS, HTTP, SMB). Every kind also does DHCP
// and NTP.
var Kinds = []string{"monitor", "ct", "mr", "us", "poct", "astm", "ws"}

// HostSpec is a device to simulate instead of a generated one
// (Config.Hosts): its kind and identity as an inventory holds it. Empty
// fields take the kind's catalogue defaults.
type HostSpec struct {
	Kind     string // one of Kinds
	Vendor   string
	Model    string
	MAC      string // aa:bb:cc:dd:ee:ff
	IP       string // IPv4
	Software string // firmware/software version it reports (POCT1-A, ASTM)
	Serial   string
	Hostname string
}

func (h *HostSpec) validate(i int) error {
	if !slices.Contains(Kinds, h.Kind) {
		return fmt.Errorf("hosts[%d]: kind %q: want one of %s: %w", i, h.Kind, strings.Join(Kinds, ", "), ErrConfig)
	}
	if a, err := netip.ParseAddr(h.IP); err != nil || !a.Is4() {
		return fmt.Errorf("hosts[%d]: ip %q: want an IPv4 address: %w", i, h.IP, ErrConfig)
	}
	if _, err := parseMAC(h.MAC); err != nil {
		return fmt.Errorf("hosts[%d]: mac %q: %v: %w", i, h.MAC, err, ErrConfig)
	}
	return nil
}

func parseMAC(s string) ([6]byte, error) {
	var m [6]byte
	if n, err := fmt.Sscanf(s, "%02x:%02x:%02x:%02x:%02x:%02x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]); err != nil || n != 6 || len(s) != 17 {
		return m, fmt.Errorf("want aa:bb:cc:dd:ee:ff")
	}
	return m, nil
}

// model is the catalogue entry of the spec's kind with its identity.
func (h *HostSpec) model() model {
	m := catalogFor(h.Kind)
	if h.Vendor != "" && h.Vendor != m.vendor {
		m.vendor = h.Vendor
		if h.Kind == "monitor" {
			// The HL7 sending application names the product line; another
			// maker's device must not claim the catalogue's.
			m.app = strings.Fields(h.Vendor)[0] + " Gateway"
		}
	}
	if h.Model != "" {
		m.model = h.Model
	}
	if h.Software != "" {
		m.software = h.Software
	}
	return m
}

// apply gives a built host the spec's addresses and identity.
func (h *HostSpec) apply(host *Host) {
	host.mac, _ = parseMAC(h.MAC)
	host.MAC = h.MAC
	if h.Serial != "" {
		host.Serial = h.Serial
	}
	if h.Hostname != "" {
		host.Hostname = h.Hostname
	}
}
