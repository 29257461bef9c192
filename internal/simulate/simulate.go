// Package simulate writes a realistic capture of a hospital network with
// its ground truth: patient monitors sending HL7 ORU to an interface
// engine over MLLP, an EHR sending ADT and ORM, modalities storing images
// on a PACS over DICOM, point-of-care analysers speaking POCT1-A to their
// data manager, lab analysers sending ASTM results to the LIS, and
// ordinary hosts using DHCP, DNS, NTP, TLS, HTTP and SMB; optionally with
// labelled attacks. Everything is encoded per the protocols'
// specifications on Ethernet/IPv4/TCP (handshake, sequence numbers, MSS
// segmentation, teardown) and UDP with correct checksums. The output is
// deterministic for a seed. The package is pure: it writes to an
// io.Writer.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"
)

// Attack kinds.
const (
	AttackPortScan     = "portscan"
	AttackSMBLateral   = "smb-lateral"
	AttackDICOMUnknown = "dicom-unknown-peer"
	AttackExfiltration = "exfiltration"
	AttackInternet     = "internet"
	AttackNewProtocol  = "new-protocol"
)

// Attacks lists every attack kind.
var Attacks = []string{AttackPortScan, AttackSMBLateral, AttackDICOMUnknown, AttackExfiltration, AttackInternet, AttackNewProtocol}

// ErrConfig is wrapped by configuration errors.
var ErrConfig = errors.New("invalid simulation config")

// Config says what to simulate.
type Config struct {
	Devices int       // clinical and ordinary devices besides the servers (1–5000)
	Minutes int       // capture length (1–1440)
	Seed    uint64    // same seed, same bytes
	Attacks []string  // kinds from Attacks
	Start   time.Time // capture start; zero means 2026-01-05T08:00:00Z
	// Hosts, when set, are the simulated devices (besides the servers)
	// instead of Devices generated ones: e.g. an inventory's devices, so the
	// capture shows their MACs, IPs and versions. Devices is then ignored.
	Hosts []HostSpec
	// LargeStudies, when > 0, makes every CT and MR modality also send a
	// full-resolution study of that many 512×512 images (512 KiB each) every
	// 10 minutes, starting 1 minute in: a few large DICOM transfers among
	// the many small flows (benchmarks of large-flow throughput). 0–2000.
	LargeStudies int
	// TLSBytes is the encrypted application data each workstation sends in
	// each of its TLS sessions (0: handshake only, 0–100,000,000); it sets
	// how much of the capture is ordinary IT traffic rather than HL7/DICOM.
	TLSBytes int
}

// Validate checks the config and names the field at fault.
func (c *Config) Validate() error {
	switch {
	case len(c.Hosts) == 0 && (c.Devices < 1 || c.Devices > 5000), len(c.Hosts) > 5000:
		return fmt.Errorf("devices %d: want 1 to 5000: %w", c.Devices, ErrConfig)
	case c.Minutes < 1 || c.Minutes > 1440:
		return fmt.Errorf("minutes %d: want 1 to 1440: %w", c.Minutes, ErrConfig)
	case c.TLSBytes < 0 || c.TLSBytes > 100_000_000:
		return fmt.Errorf("TLS bytes %d: want 0 to 100000000: %w", c.TLSBytes, ErrConfig)
	case c.LargeStudies < 0 || c.LargeStudies > 2000:
		return fmt.Errorf("large studies %d: want 0 to 2000 images: %w", c.LargeStudies, ErrConfig)
	}
	for _, a := range c.Attacks {
		if !slices.Contains(Attacks, a) {
			return fmt.Errorf("attacks: unknown kind %q (known: %s): %w", a, strings.Join(Attacks, ", "), ErrConfig)
		}
	}
	for i := range c.Hosts {
		if err := c.Hosts[i].validate(i); err != nil {
			return err
		}
	}
	return nil
}

// Host is one simulated device and its ground truth.
type Host struct {
	Name     string `json:"name"`
	MAC      string `json:"mac"`
	IP       string `json:"ip"`
	Vendor   string `json:"vendor"`
	Model    string `json:"model"`
	Type     string `json:"type"`
	Serial   string `json:"serial,omitempty"`
	Software string `json:"software,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	External bool   `json:"external,omitempty"`
	// Protocol identities.
	App      string `json:"hl7_application,omitempty"`
	Facility string `json:"hl7_facility,omitempty"`
	EUI64    string `json:"equipment_id,omitempty"`
	AE       string `json:"dicom_ae,omitempty"`
	Modality string `json:"dicom_modality,omitempty"`
	Unit     string `json:"-"`
	Bed      string `json:"-"`

	mac  [6]byte
	addr netip.Addr
	kind string
}

// Observation is a field a dissector is expected to report for a device.
type Observation struct {
	MAC   string `json:"mac"`
	IP    string `json:"ip"`
	Field string `json:"field"`
	Value string `json:"value"`
}

// Edge is a conversation between two devices.
type Edge struct {
	Client   string `json:"client"`
	Server   string `json:"server"`
	Port     uint16 `json:"port"`
	Protocol string `json:"protocol"`
}

// Attack is one injected, labelled attack.
type Attack struct {
	Kind        string    `json:"kind"`
	Source      string    `json:"source"`
	Targets     []string  `json:"targets"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Description string    `json:"description"`
}

// Truth is the ground truth written beside the capture.
type Truth struct {
	Seed         uint64        `json:"seed"`
	Start        time.Time     `json:"start"`
	End          time.Time     `json:"end"`
	Packets      int64         `json:"packets"`
	Bytes        int64         `json:"bytes"`
	Devices      []*Host       `json:"devices"`
	Observations []Observation `json:"expected_observations"`
	Edges        []Edge        `json:"edges"`
	Attacks      []Attack      `json:"attacks"`
}

type patient struct{ mrn, first, last, dob, sex string }

type model struct {
	kind, vendor, model, typ, oui, software, app string
	modality, sop                                string
}

var catalog = []model{
	{kind: "monitor", vendor: "Philips", model: "IntelliVue MX450", typ: "patient-monitor", oui: "00:09:fb", software: "M.00.03", app: "IntelliVue"},
	{kind: "monitor", vendor: "Mindray", model: "BeneVision N12", typ: "patient-monitor", oui: "00:0f:14", software: "04.10.00", app: "BeneVision"},
	{kind: "monitor", vendor: "Drägerwerk", model: "Infinity M540", typ: "patient-monitor", oui: "00:30:e6", software: "VG8.1", app: "Infinity Gateway"},
	{kind: "ct", vendor: "GE HealthCare", model: "Revolution CT", typ: "ct-scanner", oui: "00:1b:67", software: "REV_CT_7.2", modality: "CT", sop: "1.2.840.10008.5.1.4.1.1.2", app: "1.2.840.113619.6.336"},
	{kind: "mr", vendor: "Siemens Healthineers", model: "MAGNETOM Vida", typ: "mri-scanner", oui: "00:01:e3", software: "syngo MR XA50", modality: "MR", sop: "1.2.840.10008.5.1.4.1.1.4", app: "1.3.12.2.1107.5.2.50"},
	{kind: "us", vendor: "Philips", model: "EPIQ 7", typ: "ultrasound", oui: "00:09:5c", software: "9.0.3", modality: "US", sop: "1.2.840.10008.5.1.4.1.1.6.1", app: "1.3.46.670589.14.1.9"},
	{kind: "poct", vendor: "Radiometer Medical ApS", model: "ABL90 FLEX PLUS", typ: "point-of-care-analyser", oui: "00:50:c2", software: "3.5 MR2"},
	{kind: "poct", vendor: "Abbott Diagnostics", model: "i-STAT Alinity", typ: "point-of-care-analyser", oui: "00:13:dd", software: "JAMS 146"},
	{kind: "astm", vendor: "Roche Diagnostics", model: "cobas c 311", typ: "lab-analyser", oui: "00:0e:2f", software: "2.1.3"},
	{kind: "astm", vendor: "Siemens Healthineers", model: "Atellica CH 930", typ: "lab-analyser", oui: "00:18:65", software: "1.27.2"},
	{kind: "ws", vendor: "Dell", model: "OptiPlex 7010", typ: "workstation", oui: "00:06:5b", software: "Windows 11 Enterprise 23H2"},
	{kind: "ws", vendor: "HP", model: "EliteDesk 800 G9", typ: "workstation", oui: "00:01:e6", software: "Windows 10 Enterprise 22H2"},
}

var firstNames = []string{"ANNA", "BEN", "CLARA", "DAVID", "EMMA", "FELIX", "GRACE", "HUGO", "IRIS", "JONAS"}
var lastNames = []string{"MUELLER", "SMITH", "GARCIA", "NGUYEN", "ROSSI", "DUBOIS", "KOWALSKI", "OKAFOR", "TANAKA", "SILVA"}

type sim struct {
	cfg    Config
	rng    *rand.Rand
	w      *writer
	truth  *Truth
	router *Host
	ie     *Host // interface engine
	ehr    *Host
	pacs   *Host
	lis    *Host
	poctDM *Host // POCT data manager
	files  *Host // file server
	web    *Host // intranet web server
	cloud  *Host // internet service
	hosts  []*Host
	events []event
	edges  map[Edge]bool
	obs    map[Observation]bool
	port   uint16
	// Caches: pixel buffers and certificates are the same for the same key.
	pixelCache map[[3]int][]byte
	certs      map[string][]byte
}

type event struct {
	t  time.Time
	fn func(t time.Time)
}

// Generate writes the capture to w and returns its ground truth. ctx is
// checked between events.
func Generate(ctx context.Context, w io.Writer, cfg Config) (*Truth, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	}
	s := &sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), w: newWriter(w),
		truth: &Truth{Seed: cfg.Seed, Start: cfg.Start, End: cfg.Start.Add(time.Duration(cfg.Minutes) * time.Minute)},
		edges: map[Edge]bool{}, obs: map[Observation]bool{}, port: 49152,
		pixelCache: map[[3]int][]byte{}, certs: map[string][]byte{}}
	s.build()
	if err := s.schedule(); err != nil {
		return nil, err
	}
	sort.SliceStable(s.events, func(i, j int) bool { return s.events[i].t.Before(s.events[j].t) })
	last := cfg.Start
	for i, e := range s.events {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		t := e.t
		if t.Before(last) {
			t = last
		}
		e.fn(t)
		if s.w.err != nil {
			return nil, fmt.Errorf("write capture: %w", s.w.err)
		}
		last = t.Add(50 * time.Millisecond) // sessions are written whole; keep time monotonic
	}
	if err := s.w.flush(); err != nil {
		return nil, fmt.Errorf("write capture: %w", err)
	}
	s.truth.Packets, s.truth.Bytes = s.w.pkts, s.w.bytes
	s.truth.Devices = s.hosts
	for e := range s.edges {
		s.truth.Edges = append(s.truth.Edges, e)
	}
	sort.Slice(s.truth.Edges, func(i, j int) bool {
		a, b := s.truth.Edges[i], s.truth.Edges[j]
		return fmt.Sprint(a.Client, a.Server, a.Port, a.Protocol) < fmt.Sprint(b.Client, b.Server, b.Port, b.Protocol)
	})
	for o := range s.obs {
		s.truth.Observations = append(s.truth.Observations, o)
	}
	sort.Slice(s.truth.Observations, func(i, j int) bool {
		a, b := s.truth.Observations[i], s.truth.Observations[j]
		return a.IP+a.Field+a.Value < b.IP+b.Field+b.Value
	})
	return s.truth, nil
}

func (s *sim) newHost(name, vendor, modelName, typ, oui string, ip netip.Addr) *Host {
	h := &Host{Name: name, Vendor: vendor, Model: modelName, Type: typ, addr: ip, IP: ip.String()}
	var m [6]byte
	fmt.Sscanf(oui, "%x:%x:%x", &m[0], &m[1], &m[2])
	a := ip.As4()
	m[3], m[4], m[5] = a[1], a[2], a[3]
	h.mac = m
	h.MAC = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	s.hosts = append(s.hosts, h)
	return h
}

func (s *sim) build() {
	ip := func(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }
	s.router = s.newHost("core-router", "Cisco", "Catalyst 9300", "router", "00:00:0c", ip(10, 10, 0, 1))
	s.router.Software = "DHCP, DNS, NTP"
	s.ie = s.newHost("interface-engine", "NextGen", "Mirth Connect", "interface-engine", "00:06:5b", ip(10, 10, 0, 5))
	s.ie.App = "MW_IE"
	s.ehr = s.newHost("ehr", "Epic", "Epic Bridges", "ehr", "00:06:5b", ip(10, 10, 0, 6))
	s.pacs = s.newHost("pacs", "dcm4che", "dcm4chee-arc 5.31", "pacs", "00:06:5b", ip(10, 10, 0, 20))
	s.pacs.AE = "PACS_MAIN"
	s.lis = s.newHost("lis", "Orchard", "Harvest LIS", "lis", "00:06:5b", ip(10, 10, 0, 30))
	s.poctDM = s.newHost("poct-dm", "Radiometer Medical ApS", "AQURE", "poct-data-manager", "00:06:5b", ip(10, 10, 0, 31))
	s.files = s.newHost("fileserver", "Dell", "PowerEdge R750", "server", "00:06:5b", ip(10, 10, 0, 40))
	s.web = s.newHost("intranet", "Dell", "PowerEdge R650", "server", "00:06:5b", ip(10, 10, 0, 41))
	s.web.Hostname = "intranet.hospital.example"
	s.cloud = s.newHost("vendor-cloud", "", "", "internet-service", "00:00:0c", ip(203, 0, 113, 10))
	s.cloud.External, s.cloud.mac, s.cloud.MAC = true, s.router.mac, s.router.MAC
	s.cloud.Hostname = "telemetry.vendor.example"
	counts := map[string]int{}
	n := s.cfg.Devices
	if len(s.cfg.Hosts) > 0 {
		n = len(s.cfg.Hosts)
	}
	for i := 0; i < n; i++ {
		var spec *HostSpec
		m := catalog[s.pick(i)]
		if len(s.cfg.Hosts) > 0 {
			spec = &s.cfg.Hosts[i]
			m = spec.model()
		}
		counts[m.kind]++
		n := counts[m.kind]
		addr := ip(10, 10, byte(1+i/250), byte(10+i%250))
		if spec != nil {
			addr = netip.MustParseAddr(spec.IP)
		}
		h := s.newHost(fmt.Sprintf("%s-%d", m.kind, n), m.vendor, m.model, m.typ, m.oui, addr)
		h.kind, h.Software = m.kind, m.software
		h.Serial = fmt.Sprintf("%s%06d", strings.ToUpper(m.kind[:2]), 100000+s.rng.IntN(900000))
		h.Hostname = strings.ToLower(strings.ReplaceAll(fmt.Sprintf("%s-%s-%d", strings.Fields(m.vendor)[0], m.kind, n), "ä", "ae"))
		if spec != nil {
			spec.apply(h)
		}
		switch m.kind {
		case "monitor":
			h.App, h.Facility = m.app, "ICU"
			h.EUI64 = fmt.Sprintf("%02X%02X%02XFFFE%02X%02X%02X", h.mac[0], h.mac[1], h.mac[2], h.mac[3], h.mac[4], h.mac[5])
			h.Unit, h.Bed = "ICU", fmt.Sprintf("BED%02d", n)
			s.expect(h, "hl7.sending_application", h.App)
			s.expect(h, "hl7.udi", h.EUI64)
			s.expect(h, "hl7.message_type", "ORU^R01")
		case "ct", "mr", "us":
			h.AE = fmt.Sprintf("%s_%s%d", strings.ToUpper(m.kind), "ROOM", n)
			h.Modality = m.modality
			h.App = m.app
			s.expect(h, "dicom.calling_ae", h.AE)
			s.expect(h, "dicom.modality", m.modality)
			s.expect(h, "dicom.implementation_class_uid", m.app)
		case "poct":
			s.expect(h, "poct1.serial", h.Serial)
			s.expect(h, "poct1.model", h.Model)
		case "astm":
			s.expect(h, "astm.sender_name", h.Model)
			s.expect(h, "astm.version", h.Software)
		}
		s.expect(h, "dhcp.hostname", h.Hostname)
	}
	s.expect(s.pacs, "dicom.called_ae", s.pacs.AE)
	s.expect(s.ie, "hl7.receiving_application", "MW_IE")
}

// pick spreads device kinds: the first devices cover every kind, then the
// mix is monitors 35 %, workstations 25 %, modalities 15 %, analysers 25 %.
func (s *sim) pick(i int) int {
	if i < len(catalog) {
		return []int{0, 3, 6, 8, 10, 1, 4, 7, 9, 11, 2, 5}[i]
	}
	r := s.rng.IntN(100)
	switch {
	case r < 35:
		return s.rng.IntN(3)
	case r < 60:
		return 10 + s.rng.IntN(2)
	case r < 75:
		return 3 + s.rng.IntN(3)
	case r < 88:
		return 6 + s.rng.IntN(2)
	}
	return 8 + s.rng.IntN(2)
}

func (s *sim) expect(h *Host, field, value string) {
	s.obs[Observation{MAC: h.MAC, IP: h.IP, Field: field, Value: value}] = true
}

func (s *sim) edge(c, sv *Host, port uint16, proto string) {
	s.edges[Edge{Client: c.IP, Server: sv.IP, Port: port, Protocol: proto}] = true
}

func (s *sim) at(t time.Time, fn func(time.Time)) { s.events = append(s.events, event{t, fn}) }

func (s *sim) jitter(d time.Duration) time.Duration {
	return time.Duration(s.rng.Int64N(int64(d)))
}

func (s *sim) ephemeral() uint16 {
	s.port++
	if s.port == 0 {
		s.port = 49152
	}
	return s.port
}

func (s *sim) patient() patient {
	return patient{
		mrn:   fmt.Sprintf("MRN%07d", s.rng.IntN(10000000)),
		first: firstNames[s.rng.IntN(len(firstNames))],
		last:  lastNames[s.rng.IntN(len(lastNames))],
		dob:   fmt.Sprintf("19%02d%02d%02d", 30+s.rng.IntN(70), 1+s.rng.IntN(12), 1+s.rng.IntN(28)),
		sex:   []string{"F", "M"}[s.rng.IntN(2)],
	}
}
