package classify

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestOUILookup(t *testing.T) {
	t.Parallel()
	o, err := DefaultOUI()
	if err != nil {
		t.Fatal(err)
	}
	if o.Len() < 40000 || o.Date() == "" {
		t.Fatalf("embedded registry: %d entries, date %q", o.Len(), o.Date())
	}
	tests := []struct{ mac, want string }{
		{"00:1b:21:01:02:03", "Intel Corporate"},            // MA-L
		{"00-09-FB-AA-BB-CC", "Philips Patient Monitoring"}, // separators, case
		{"0009fbaabbcc", "Philips Patient Monitoring"},
		{"20:85:93:b0:00:01", "IOG Products LLC"}, // MA-M inside an IEEE RA block
		{"70:b3:d5:f2:f0:01", "TELEPLATFORMS"},    // MA-S
		{"70:b3:d5:ff:ff:f1", ""},                 // MA-S marked "Private": no vendor, and not "IEEE Registration Authority"
		{"02:00:de:ad:be:ef", ""},                 // locally administered
		{"01:00:5e:00:00:fb", ""},                 // multicast
		{"zz", ""},
	}
	for _, tt := range tests {
		if got := o.Lookup(tt.mac); got != tt.want {
			t.Errorf("Lookup(%s) = %q, want %q", tt.mac, got, tt.want)
		}
	}
}

func TestParseOUIErrors(t *testing.T) {
	t.Parallel()
	if _, err := ParseOUI(strings.NewReader("#ieee-data 2022-08-27\n001B21\tIntel\nXYZ\n"), "t.tsv"); err == nil || !strings.Contains(err.Error(), "t.tsv line 3") {
		t.Errorf("ParseOUI error = %v, want one naming t.tsv line 3", err)
	}
}

func TestRulesAddErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"unknown_key", `{"rules":[{"id":"a","field":"f","match":"x","set":{"os":"y"},"confidence":0.5,"colour":1}]}`, "unknown field"},
		{"bad_regexp", `{"rules":[{"id":"a","field":"f","match":"(","set":{"os":"y"},"confidence":0.5}]}`, "/rules/0 (id \"a\"): invalid rule: 'match'"},
		{"bad_attribute", `{"rules":[{"id":"a","field":"f","match":"x","set":{"colour":"y"},"confidence":0.5}]}`, "'set' key \"colour\""},
		{"confidence_range", `{"rules":[{"id":"a","field":"f","match":"x","set":{"os":"y"},"confidence":1.5}]}`, "'confidence' must be in (0, 1]"},
		{"missing_id", `{"rules":[{"field":"f","match":"x","set":{"os":"y"},"confidence":0.5}]}`, "'id' is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Rules{byField: map[string][]*Rule{}}
			err := r.Add(strings.NewReader(tt.in), "user.json")
			if err == nil || !errors.Is(err, ErrInvalidRule) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "user.json") {
				t.Errorf("Add(%s) error = %v, want ErrInvalidRule mentioning %q", tt.name, err, tt.want)
			}
		})
	}
	r, err := DefaultRules()
	if err != nil {
		t.Fatalf("embedded rules: %v", err)
	}
	// Every embedded file is loaded, not only default.json.
	if len(r.byField["dhcp.vendor_class"]) == 0 || len(r.byField["hl7.sending_application"]) == 0 {
		t.Errorf("embedded rules miss default.json or medical/medical.json (%d rules)", r.Len())
	}
}

var t0 = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

func ev(mac, ip, field, value string) Evidence {
	e := Evidence{MAC: mac, Field: field, Value: value, FirstSeen: t0, LastSeen: t0, Count: 1}
	if ip != "" {
		e.IP = netip.MustParseAddr(ip)
	}
	return e
}

func TestClassify(t *testing.T) {
	t.Parallel()
	oui, err := DefaultOUI()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	user := `{"rules":[{"id":"ward-monitor-name","field":"dhcp.hostname","match":"^MX(\\d{3})-","set":{"model":"IntelliVue MX$1"},"confidence":0.9}]}`
	if err := rules.Add(strings.NewReader(user), "site.json"); err != nil {
		t.Fatal(err)
	}
	c := New(oui, rules, Options{})
	gw := "00:00:0c:07:ac:01"
	var in Input
	in.Evidence = []Evidence{
		ev("00:09:fb:11:22:33", "", "dhcp.hostname", "MX450-ICU3"),
		ev("00:09:fb:11:22:33", "", "dhcp.vendor_class", "udhcp 1.31.1"),
		ev("00:09:fb:11:22:33", "10.20.0.15", "dhcp.assigned_ip", "10.20.0.15"),
		ev("00:1b:21:01:02:03", "10.20.0.40", "dhcp.vendor_class", "MSFT 5.0"),
		ev("00:1b:21:01:02:03", "10.20.0.40", "http.user_agent", "Microsoft NCSI"),
		ev("00:1b:21:01:02:03", "10.20.0.40", "dhcp.hostname", "DESKTOP-4F7TQ2B"),
		ev(gw, "93.184.216.34", "http.server", "ECS (dcb/7F83)"), // a web server behind the gateway
	}
	in.Bindings = []Binding{
		{MAC: "00:1b:21:01:02:03", IP: netip.MustParseAddr("10.20.0.40")},
		{MAC: gw, IP: netip.MustParseAddr("10.20.0.1"), ARP: true},
		{MAC: gw, IP: netip.MustParseAddr("10.20.0.1")},
		{MAC: gw, IP: netip.MustParseAddr("93.184.216.34")},
	}
	got := c.Classify(in)
	type summary struct {
		MAC, IPs, Hostname, Vendor, Model, Type, OS string
		Confidence                                  float64
		Software                                    []string
	}
	var sums []summary
	for _, d := range got {
		var ips []string
		for _, ip := range d.IPs {
			ips = append(ips, ip.String())
		}
		sums = append(sums, summary{d.MAC, strings.Join(ips, ","), d.Hostname, d.Vendor, d.Model, d.Type, d.OS, d.Confidence, d.Software})
	}
	want := []summary{
		{"", "93.184.216.34", "", "", "", "", "", 0, nil},
		{gw, "10.20.0.1", "", "Cisco", "", "router", "", 0.5, nil}, // the oui-cisco rule renames the registry entry
		{"00:09:fb:11:22:33", "10.20.0.15", "MX450-ICU3", "Philips", "IntelliVue MX450", "patient-monitor", "Linux", 0.9,
			[]string{"BusyBox udhcpc 1.31.1", `DHCP client "udhcp 1.31.1"`}},
		{"00:1b:21:01:02:03", "10.20.0.40", "DESKTOP-4F7TQ2B", "Intel Corporate", "", "workstation", "Windows", 0.98, []string{`DHCP client "MSFT 5.0"`}},
	}
	if diff := cmp.Diff(want, sums, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Classify (-want +got):\n%s", diff)
	}
	// The Windows OS has three independent rules: 1-(1-0.8)(1-0.7)(1-0.6) = 0.976.
	for _, d := range got {
		for _, a := range d.Attributes {
			if a.Name == AttrOS && a.Value == "Windows" {
				if diff := cmp.Diff([]string{"dhcp-host-desktop", "dhcp-vc-msft", "ua-microsoft-ncsi"}, a.Rules); diff != "" {
					t.Errorf("Windows evidence rules (-want +got):\n%s", diff)
				}
			}
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	oui, _ := DefaultOUI()
	rules, _ := DefaultRules()
	c := New(oui, rules, Options{})
	var in Input
	for i := range 1000 {
		mac := "00:09:fb:11:" + string("0123456789abcdef"[i>>4&15]) + string("0123456789abcdef"[i&15]) + ":33"
		in.Evidence = append(in.Evidence,
			ev(mac, "", "dhcp.hostname", "MX450-ICU3"),
			ev(mac, "", "dhcp.vendor_class", "MSFT 5.0"),
			ev(mac, "", "http.user_agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0"))
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(in)
	}
}

// TestSharedFactsClassifiedAlike: devices whose facts are the same share
// one classification (classMemo); each must still get exactly what it
// gets when classified alone, and copies that do not share memory.
func TestSharedFactsClassifiedAlike(t *testing.T) {
	t.Parallel()
	oui, err := DefaultOUI()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	c := New(oui, rules, Options{})
	var in Input
	hosts := []string{"MX450-ICU3", "DESKTOP-4F7TQ2B", "MX450-ICU3\x01x", "DESKX", "MX450-ICU3-ABCD"}
	for i := range 64 {
		mac := fmt.Sprintf("00:%s:%02x:11:22:33", []string{"09:fb", "1b:21", "00:0c", "02:00"}[i%4], i)
		in.Evidence = append(in.Evidence, ev(mac, "", "dhcp.hostname", hosts[i%len(hosts)]))
		if i%3 == 0 {
			in.Evidence = append(in.Evidence, ev(mac, "", "dhcp.vendor_class", "MSFT 5.0"))
		}
		if i%5 == 0 {
			in.Evidence = append(in.Evidence, ev(mac, "", "dhcp.vendor_class\x01x", ""))
		}
		in.Bindings = append(in.Bindings, Binding{MAC: mac, IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})})
	}
	got := c.Classify(in)
	if len(got) != 64 {
		t.Fatalf("%d devices, want 64", len(got))
	}
	owned := Input{Evidence: slices.Clone(in.Evidence), Bindings: slices.Clone(in.Bindings)}
	if diff := cmp.Diff(got, c.ClassifyOwned(owned), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("ClassifyOwned differs from Classify (-Classify +ClassifyOwned):\n%s", diff)
	}
	for _, d := range got {
		var alone Input
		for _, e := range in.Evidence {
			if e.MAC == d.MAC {
				alone.Evidence = append(alone.Evidence, e)
			}
		}
		for _, b := range in.Bindings {
			if b.MAC == d.MAC {
				alone.Bindings = append(alone.Bindings, b)
			}
		}
		want := c.Classify(alone)
		if diff := cmp.Diff(want, []Device{d}, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("%s in a crowd differs from alone (-alone +crowd):\n%s", d.MAC, diff)
		}
	}
	// No two devices share attribute memory.
	seen := map[*string]string{}
	for _, d := range got {
		for _, a := range d.Attributes {
			for _, p := range [][]string{a.Rules, a.Evidence, d.Software} {
				if len(p) > 0 {
					if other, ok := seen[&p[0]]; ok && other != d.MAC {
						t.Fatalf("%s and %s share a slice of %s", d.MAC, other, a.Name)
					}
					seen[&p[0]] = d.MAC
				}
			}
		}
	}
}

// TestSortDevices: the key sort with in-place moves orders devices as a
// sort of the devices themselves does, for any starting order.
func TestSortDevices(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for n := range 60 {
		var devs []Device
		for i := range n {
			d := Device{Hostname: strconv.Itoa(i)}
			if i%3 != 0 {
				d.MAC = fmt.Sprintf("00:00:00:00:%02x:%02x", i/7, i)
			}
			if i%4 != 0 {
				d.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(i % 5), byte(i)})}
			}
			devs = append(devs, d)
		}
		rng.Shuffle(len(devs), func(i, j int) { devs[i], devs[j] = devs[j], devs[i] })
		want := slices.Clone(devs)
		slices.SortFunc(want, func(a, b Device) int {
			if c := strings.Compare(a.MAC, b.MAC); c != 0 {
				return c
			}
			return firstAddr(a.IPs).Compare(firstAddr(b.IPs))
		})
		got := sortDevices(devs, make([]netip.Addr, len(devs)))
		for i := range want {
			if got[i].Hostname != want[i].Hostname {
				t.Fatalf("n=%d: position %d holds device %s, want %s", n, i, got[i].Hostname, want[i].Hostname)
			}
		}
	}
}

// TestMergeIsDeterministic: IP-only devices whose addresses a MAC device
// owns merge into it; when several of them (and the MAC device itself)
// carry the same field=value, the merged record has the earliest first
// time, the latest last time and the sum of the counts, and the whole
// classification is the same whatever the order of the input and of
// the maps that collect it (before, the first record merged won, in map
// order, and the counts were not added). An IP-only device holding a
// lower address from DHCP than another's is ordered the same way each
// time too.
func TestMergeIsDeterministic(t *testing.T) {
	t.Parallel()
	c := New(nil, nil, Options{})
	const mac = "00:1b:21:01:02:03"
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var in Input
	for i := range 12 {
		ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(10 + i)})
		in.Bindings = append(in.Bindings, Binding{MAC: mac, IP: ip, ARP: true})
		in.Evidence = append(in.Evidence, Evidence{IP: ip, Protocol: "http", Field: "http.user_agent", Value: "Probe/1.0",
			FirstSeen: base.Add(time.Duration(12-i) * time.Second), LastSeen: base.Add(time.Duration(20+i) * time.Second), Count: uint64(i + 1)})
	}
	in.Evidence = append(in.Evidence, Evidence{MAC: mac, IP: netip.MustParseAddr("10.0.0.10"), Protocol: "http", Field: "http.user_agent",
		Value: "Probe/1.0", FirstSeen: base.Add(5 * time.Second), LastSeen: base.Add(6 * time.Second), Count: 100})
	// Two IP-only devices with the same first address (one holds a lower
	// one from DHCP), told apart by the address they were seen from.
	a, b := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("192.0.2.9")
	in.Evidence = append(in.Evidence,
		Evidence{IP: b, Protocol: "dhcp", Field: "dhcp.assigned_ip", Value: a.String(), FirstSeen: base, LastSeen: base, Count: 1},
		Evidence{IP: a, Protocol: "dhcp", Field: "dhcp.hostname", Value: "alpha", FirstSeen: base, LastSeen: base, Count: 1},
		Evidence{IP: b, Protocol: "dhcp", Field: "dhcp.hostname", Value: "bravo", FirstSeen: base, LastSeen: base, Count: 1})

	want := c.Classify(in)
	if len(want) != 3 {
		t.Fatalf("%d devices, want 3: %+v", len(want), want)
	}
	var merged *Evidence
	for i := range want[2].Evidence {
		if e := &want[2].Evidence[i]; e.Field == "http.user_agent" {
			merged = e
		}
	}
	if want[2].MAC != mac || merged == nil {
		t.Fatalf("the MAC device or its http.user_agent is missing: %+v", want)
	}
	if merged.Count != 100+78 || !merged.FirstSeen.Equal(base.Add(time.Second)) || !merged.LastSeen.Equal(base.Add(31*time.Second)) {
		t.Errorf("merged record: count %d, first %v, last %v; want 178, %v, %v", merged.Count, merged.FirstSeen, merged.LastSeen,
			base.Add(time.Second), base.Add(31*time.Second))
	}
	if want[0].Hostname != "alpha" || want[1].Hostname != "bravo" {
		t.Errorf("IP-only devices in order %q, %q; want alpha, bravo", want[0].Hostname, want[1].Hostname)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for run := range 30 {
		x := Input{Evidence: slices.Clone(in.Evidence), Bindings: slices.Clone(in.Bindings)}
		rng.Shuffle(len(x.Evidence), func(i, j int) { x.Evidence[i], x.Evidence[j] = x.Evidence[j], x.Evidence[i] })
		rng.Shuffle(len(x.Bindings), func(i, j int) { x.Bindings[i], x.Bindings[j] = x.Bindings[j], x.Bindings[i] })
		got := c.Classify(x)
		if run%2 == 1 {
			got = c.ClassifyOwned(x)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Fatalf("run %d: classification differs (-first +this run):\n%s", run, diff)
		}
	}
}
