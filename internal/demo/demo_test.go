package demo

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/csvfile"
)

var testNow = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)

func testConfig() Config {
	c := DefaultConfig()
	c.Now = testNow
	return c
}

// fleetHash generates the fleet and hashes its JSON encoding.
func fleetHash(t testing.TB, cfg Config) [32]byte {
	t.Helper()
	h := sha256.New()
	enc := json.NewEncoder(h)
	if err := Generate(cfg, func(d *inventory.Device) error { return enc.Encode(d) }); err != nil {
		t.Fatalf("Generate(%+v): %v", cfg, err)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	a, b := fleetHash(t, cfg), fleetHash(t, cfg)
	if a != b {
		t.Errorf("same config gave different fleets: %x != %x", a, b)
	}
	other := cfg
	other.Seed = 2
	if c := fleetHash(t, other); c == a {
		t.Errorf("seeds 1 and 2 gave the same fleet %x", a)
	}
	if diff := cmp.Diff(Sites(cfg), Sites(cfg), cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("Sites differs between calls (-first +second):\n%s", diff)
	}
	later := cfg
	later.Now = cfg.Now.Add(24 * time.Hour)
	if c := fleetHash(t, later); c == a {
		t.Errorf("a different Now gave the same fleet %x", a)
	}
}

// fleetStats collects what the realism tests check.
type fleetStats struct {
	n, vulnerable, pastEOS, infusion int
	byType                           map[string]int
	byVendor                         map[string]int
	bySite                           map[string]int
}

func collect(t *testing.T, cfg Config, check func(*inventory.Device)) fleetStats {
	t.Helper()
	cat, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	s := fleetStats{byType: map[string]int{}, byVendor: map[string]int{}, bySite: map[string]int{}}
	err = Generate(cfg, func(d *inventory.Device) error {
		s.n++
		s.byType[d.DeviceType]++
		s.byVendor[d.Vendor]++
		s.bySite[d.Site]++
		if len(cat.KnownAffected(d.Vendor, d.Model, d.Version)) > 0 {
			s.vulnerable++
		}
		if d.EndOfSupport != nil && d.EndOfSupport.Before(cfg.Now) {
			s.pastEOS++
		}
		if strings.Contains(d.DeviceType, "pump") {
			s.infusion++
		}
		check(d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func share(part, total int) float64 { return float64(part) / float64(total) }

func TestDefaultFleetRealistic(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cat, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	sites := Sites(cfg)
	siteByCode := map[string]Site{}
	for _, s := range sites {
		siteByCode[s.Code] = s
	}
	assets, macs, ips, hosts, serials := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	fail := func(d *inventory.Device, format string, a ...any) {
		t.Helper()
		t.Errorf("device %s (%s %s): %s", d.AssetID, d.Vendor, d.Model, fmt.Sprintf(format, a...))
	}
	st := collect(t, cfg, func(d *inventory.Device) {
		if assets[d.AssetID] {
			fail(d, "asset id repeated")
		}
		assets[d.AssetID] = true
		vs := inventory.VendorKey(d.Vendor) + "|" + d.Serial
		if serials[vs] {
			fail(d, "serial %q repeated for the vendor", d.Serial)
		}
		serials[vs] = true
		site, ok := siteByCode[d.Site]
		if !ok {
			fail(d, "site %q is not in Sites()", d.Site)
		}
		if !strings.HasPrefix(d.AssetID, d.Site+"-") {
			fail(d, "asset id does not start with the site code")
		}
		if len(d.MACs) != 1 {
			fail(d, "has %d MACs", len(d.MACs))
		}
		for _, m := range d.MACs {
			if n, err := inventory.NormalizeMAC(m); err != nil || n != m {
				fail(d, "MAC %q not canonical (%q, %v)", m, n, err)
			}
			if macs[m] {
				fail(d, "MAC %s repeated", m)
			}
			macs[m] = true
		}
		typ, ok := cat.Type(d.DeviceType)
		if !ok {
			fail(d, "unknown device type %q", d.DeviceType)
			return
		}
		if typ.Network == "ip" && len(d.IPs) != 1 {
			fail(d, "IP device has %d IPs", len(d.IPs))
		}
		for _, ip := range d.IPs {
			if n, err := inventory.NormalizeIP(ip); err != nil || n != ip {
				fail(d, "IP %q not canonical (%q, %v)", ip, n, err)
			}
			if ips[ip] {
				fail(d, "IP %s repeated", ip)
			}
			ips[ip] = true
			if !inZone(site, d.Zone, ip) {
				fail(d, "IP %s is not in a subnet of zone %s at %s", ip, d.Zone, d.Site)
			}
		}
		if typ.Network == "ip" {
			if d.Hostname == "" || hosts[d.Hostname] {
				fail(d, "hostname %q empty or repeated", d.Hostname)
			}
			hosts[d.Hostname] = true
		}
		if c, err := inventory.ParseCriticality(string(d.Criticality)); err != nil || c.Rank() == 0 {
			fail(d, "criticality %q invalid", d.Criticality)
		}
		if typ.Class == "BIOMED" && !validGTIN14(d.UDIDI) {
			fail(d, "UDI-DI %q is not a GTIN-14 with a valid check digit", d.UDIDI)
		}
		if d.PatientConnected == nil || d.PHI == nil || d.Location == "" || d.Department == "" || d.Zone == "" || d.OS == "" || d.Version == "" || d.Serial == "" {
			fail(d, "missing attributes: %+v", d)
		}
		if d.FirstSeen == nil || d.LastSeen == nil || d.LastSeen.Before(*d.FirstSeen) || d.LastSeen.After(cfg.Now) {
			fail(d, "first/last seen %v/%v inconsistent with now %v", d.FirstSeen, d.LastSeen, cfg.Now)
		}
		if d.EndOfLife != nil && (d.EndOfSupport == nil || d.EndOfLife.Before(d.EndOfSupport.Time)) {
			fail(d, "end of life %v before end of support %v", d.EndOfLife, d.EndOfSupport)
		}
	})
	if st.n != cfg.Devices {
		t.Errorf("generated %d devices, want %d", st.n, cfg.Devices)
	}
	if len(st.byType) < 30 {
		t.Errorf("%d device types present, want at least 30", len(st.byType))
	}
	if len(st.byType) != len(cat.Types) {
		t.Errorf("%d of %d catalog types present at default size", len(st.byType), len(cat.Types))
	}
	if len(sites) != 3 || len(st.bySite) != 3 {
		t.Errorf("sites: Sites() has %d, devices use %d; want 3", len(sites), len(st.bySite))
	}
	for _, s := range sites {
		if st.bySite[s.Code] != s.Devices {
			t.Errorf("site %s: Sites says %d devices, Generate made %d", s.Code, s.Devices, st.bySite[s.Code])
		}
	}
	checks := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"known-vulnerable share", share(st.vulnerable, st.n), 0.10, 0.25},
		{"past end-of-support share", share(st.pastEOS, st.n), 0.06, 0.15},
		{"infusion pump share", share(st.infusion, st.n), 0.15, 0.20},
	}
	for _, c := range checks {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s = %.3f, want between %.2f and %.2f", c.name, c.got, c.min, c.max)
		}
	}
	for _, v := range []string{"Baxter", "Becton, Dickinson and Company (BD)", "B. Braun Melsungen AG", "Philips", "General Electric (GE)", "Dräger", "Fresenius Kabi", "Medtronic", "Siemens Healthineers", "Hillrom", "Smiths Medical"} {
		if st.byVendor[v] == 0 {
			t.Errorf("no device from vendor %q", v)
		}
	}
}

func inZone(s Site, zone, ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, v := range s.VLANs {
		if v.Zone != zone {
			continue
		}
		for _, p := range v.Subnets {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

func validGTIN14(s string) bool {
	if len(s) != 14 || strings.Trim(s, "0123456789") != "" {
		return false
	}
	return int(s[13]-'0') == GTINCheckDigit(s[:13])
}

func TestGTINCheckDigit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"ean13_known", "400638133393", 1},         // EAN-13 4006381333931
		{"upca_known", "03600029145", 2},           // UPC-A 036000291452
		{"gtin14_gs1_example", "1061414100041", 5}, // GS1 example prefix
		{"all_zero", "0000000000000", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GTINCheckDigit(tt.in); got != tt.want {
				t.Errorf("GTINCheckDigit(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
	if g := GTIN("0614141", 123); !validGTIN14(g) || !strings.HasPrefix(g, "00614141"+"00123") {
		t.Errorf("GTIN(0614141, 123) = %q", g)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := testConfig()
	tests := []struct {
		name      string
		edit      func(*Config)
		wantField string
	}{
		{"default", func(*Config) {}, ""},
		{"auto_sites", func(c *Config) { c.Sites = 0 }, ""},
		{"zero_devices", func(c *Config) { c.Devices = 0 }, "devices"},
		{"too_many_devices", func(c *Config) { c.Devices = MaxDevices + 1 }, "devices"},
		{"negative_sites", func(c *Config) { c.Sites = -1 }, "sites"},
		{"too_many_sites", func(c *Config) { c.Sites = MaxSites + 1 }, "sites"},
		{"more_sites_than_devices", func(c *Config) { c.Devices, c.Sites = 2, 3 }, "sites"},
		{"zero_now", func(c *Config) { c.Now = time.Time{} }, "now"},
		{"absurd_now", func(c *Config) { c.Now = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC) }, "now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			var ce *ConfigError
			switch {
			case tt.wantField == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantField != "" && (!errors.As(err, &ce) || ce.Field != tt.wantField || !errors.Is(err, ErrInvalidConfig)):
				t.Errorf("Validate() = %v, want a ConfigError on field %q", err, tt.wantField)
			}
			if tt.wantField != "" {
				if err := Generate(c, func(*inventory.Device) error { return nil }); err == nil {
					t.Errorf("Generate accepted an invalid config")
				}
				if s := Sites(c); s != nil {
					t.Errorf("Sites accepted an invalid config")
				}
			}
		})
	}
}

func TestSiteCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		devices, sites, want int
	}{
		{2500, 3, 3}, {2500, 0, 3}, {100, 0, 1}, {1_000_000, 0, 300}, {80_000, 0, 100}, {10, 7, 7},
	}
	for _, tt := range tests {
		c := Config{Devices: tt.devices, Sites: tt.sites}
		if got := c.SiteCount(); got != tt.want {
			t.Errorf("Config{Devices: %d, Sites: %d}.SiteCount() = %d, want %d", tt.devices, tt.sites, got, tt.want)
		}
	}
}

func TestGenerateStopsOnCallbackError(t *testing.T) {
	t.Parallel()
	stop := errors.New("disk full")
	n := 0
	err := Generate(testConfig(), func(*inventory.Device) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Errorf("Generate returned %v after %d devices, want the callback error after 10", err, n)
	}
}

func TestSmallFleets(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{{Seed: 3, Devices: 1, Sites: 1}, {Seed: 4, Devices: 7, Sites: 7}, {Seed: 5, Devices: 40, Sites: 0}} {
		c.Now = testNow
		n, sites := 0, map[string]bool{}
		if err := Generate(c, func(d *inventory.Device) error { n++; sites[d.Site] = true; return nil }); err != nil || n != c.Devices {
			t.Errorf("Generate(%+v): %d devices, %v", c, n, err)
		}
		if len(sites) != c.SiteCount() {
			t.Errorf("Generate(%+v): devices at %d sites, want every one of %d sites used", c, len(sites), c.SiteCount())
		}
	}
}

func TestSitesAddressPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       Config
		wantSites int
		wantFirst string // first subnet of the first site's first VLAN
	}{
		{"default_standard_plan", Config{Seed: 1, Devices: 2500, Sites: 3, Now: testNow}, 3, "10.1.110.0/24"},
		{"large_plan_many_sites", Config{Seed: 1, Devices: 300_000, Sites: 0, Now: testNow}, 300, "10.0.1.0/24"},
		{"large_plan_big_site", Config{Seed: 1, Devices: 60_000, Sites: 1, Now: testNow}, 1, "10.0.1.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sites := Sites(tt.cfg)
			if len(sites) != tt.wantSites {
				t.Fatalf("Sites() gave %d sites, want %d", len(sites), tt.wantSites)
			}
			if got := sites[0].VLANs[0].Subnets[0].String(); got != tt.wantFirst {
				t.Errorf("first subnet = %s, want %s", got, tt.wantFirst)
			}
			seen := map[netip.Prefix]string{}
			codes := map[string]bool{}
			total := 0
			for _, s := range sites {
				total += s.Devices
				if codes[s.Code] {
					t.Errorf("site code %s repeated", s.Code)
				}
				codes[s.Code] = true
				if len(s.Buildings) == 0 || len(s.Units) == 0 || s.Name == "" || s.Address == "" {
					t.Errorf("site %s lacks layout: %+v", s.Code, s)
				}
				for _, v := range s.VLANs {
					if len(v.Subnets)*hostsPerSubnet < v.Devices {
						t.Errorf("site %s VLAN %d: %d subnets for %d devices", s.Code, v.ID, len(v.Subnets), v.Devices)
					}
					for _, p := range v.Subnets {
						if other, dup := seen[p]; dup {
							t.Errorf("subnet %s used by %s and %s/%d", p, other, s.Code, v.ID)
						}
						seen[p] = s.Code + "/" + v.Zone
					}
				}
			}
			if total != tt.cfg.Devices {
				t.Errorf("site devices sum to %d, want %d", total, tt.cfg.Devices)
			}
		})
	}
}

func TestSitesDefaultLayout(t *testing.T) {
	t.Parallel()
	sites := Sites(testConfig())
	if len(sites) != 3 {
		t.Fatalf("Sites(default) gave %d sites, want 3", len(sites))
	}
	type brief struct {
		Code, Name string
		Devices    int
		Buildings  int
		VLANs      []int
	}
	var got []brief
	for _, s := range sites {
		b := brief{Code: s.Code, Name: s.Name, Devices: s.Devices, Buildings: len(s.Buildings)}
		for _, v := range s.VLANs {
			b.VLANs = append(b.VLANs, v.ID)
		}
		got = append(got, b)
	}
	vlans := []int{110, 120, 130, 140, 150, 160, 170, 200, 210, 220, 230, 240, 300}
	want := []brief{
		{Code: "NBR", Name: "Northbridge University Medical Centre", Devices: got[0].Devices, Buildings: 6, VLANs: vlans},
		{Code: "WMR", Name: got[1].Name, Devices: got[1].Devices, Buildings: 3, VLANs: vlans},
		{Code: "ASV", Name: got[2].Name, Devices: got[2].Devices, Buildings: 3, VLANs: vlans},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sites(default) (-want +got):\n%s", diff)
	}
	if got[0].Devices < 1000 || got[1].Devices >= 1000 {
		t.Errorf("flagship site has %d devices and second %d; want the flagship large (≥1000) and the others small", got[0].Devices, got[1].Devices)
	}
}

// TestMillionUnique checks identifier uniqueness at benchmark scale.
func TestMillionUnique(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 1,000,000 devices; skipped with -short")
	}
	cfg := Config{Seed: 7, Devices: 1_000_000, Now: testNow}
	assets := make(map[uint64]struct{}, cfg.Devices)
	serials := make(map[uint64]struct{}, cfg.Devices)
	macs := make(map[uint64]struct{}, cfg.Devices)
	ips := make(map[uint32]struct{}, cfg.Devices)
	hosts := make(map[uint64]struct{}, cfg.Devices)
	sum := func(s ...string) uint64 {
		h := fnv.New64a()
		for _, x := range s {
			h.Write([]byte(x))
			h.Write([]byte{0})
		}
		return h.Sum64()
	}
	dups := map[string]int{}
	sites := map[string]bool{}
	n := 0
	err := Generate(cfg, func(d *inventory.Device) error {
		n++
		sites[d.Site] = true
		add := func(kind string, m map[uint64]struct{}, k uint64) {
			if _, ok := m[k]; ok {
				dups[kind]++
			}
			m[k] = struct{}{}
		}
		add("asset id", assets, sum(d.AssetID))
		add("serial", serials, sum(inventory.VendorKey(d.Vendor), d.Serial))
		if d.Hostname != "" {
			add("hostname", hosts, sum(d.Hostname))
		}
		for _, m := range d.MACs {
			var v uint64
			for _, c := range strings.ReplaceAll(m, ":", "") {
				v = v<<4 | uint64(strings.IndexRune("0123456789abcdef", c))
			}
			add("MAC", macs, v)
		}
		for _, ip := range d.IPs {
			a := netip.MustParseAddr(ip).As4()
			k := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
			if _, ok := ips[k]; ok {
				dups["IP"]++
			}
			ips[k] = struct{}{}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != cfg.Devices || len(sites) != MaxAutoSites {
		t.Errorf("got %d devices over %d sites, want %d over %d", n, len(sites), cfg.Devices, MaxAutoSites)
	}
	if diff := cmp.Diff(map[string]int{}, dups); diff != "" {
		t.Errorf("repeated identifiers at 1,000,000 devices (-want +got):\n%s", diff)
	}
}

// TestFleetImportsCleanly writes the default fleet as canonical CSV, reads
// it back with the CSV importer's decoder and feeds it to the identity
// index: every record must decode without error to the same field values,
// and every device must be a new identity (no asset tag, UDI+serial,
// vendor+serial or MAC shared with an earlier device).
func TestFleetImportsCleanly(t *testing.T) {
	t.Parallel()
	var (
		buf  bytes.Buffer
		want []*inventory.Device
	)
	w := csvfile.NewWriter(&buf)
	err := Generate(testConfig(), func(d *inventory.Device) error {
		want = append(want, d)
		return w.Write(d)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	dec, err := csvfile.NewDecoder(&buf, "fleet.csv")
	if err != nil {
		t.Fatal(err)
	}
	if warn := dec.Warnings(); len(warn) > 0 {
		t.Errorf("decoder warnings: %q", warn)
	}
	idx := inventory.NewIndex()
	for i := 0; ; i++ {
		got, err := dec.Next()
		if err == io.EOF {
			if i != len(want) {
				t.Errorf("decoded %d devices, generated %d", i, len(want))
			}
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
		if i >= len(want) {
			t.Fatalf("decoded more devices than generated")
		}
		for _, f := range inventory.Fields {
			if g, w := got.Get(f), want[i].Get(f); g != w {
				t.Errorf("device %s field %s: imported %q, generated %q", want[i].AssetID, f, g, w)
			}
		}
		id, rule, err := idx.Match(got)
		if err != nil || id != 0 {
			t.Errorf("device %s: identity index says %d by %q (%v), want a new device", got.AssetID, id, rule, err)
		}
		idx.Add(int64(i+1), got)
	}
}

func TestEveryDepartmentHasUnits(t *testing.T) {
	t.Parallel()
	for _, devices := range []int{largeSiteDevices - 1, largeSiteDevices} {
		sp := sitePlan{Site: Site{Devices: devices}}
		sp.buildLayout()
		for d, units := range sp.unitsByDept {
			if len(units) == 0 {
				t.Errorf("site of %d devices: department %s has no unit", devices, departments[d].Name)
			}
		}
	}
}
