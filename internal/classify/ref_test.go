package classify

// The classification as it was before it sorted the evidence by device
// (bcf5ebb): a map of evidence per device. Kept here, unchanged but for
// the names, as the reference the sorted one is compared with.

import (
	"maps"
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

type refAcc struct {
	mac      string
	ips      map[netip.Addr]bool
	foreign  map[netip.Addr]bool // addresses routed through this MAC
	evidence map[[2]string]*Evidence
	order    []*Evidence // evidence in the order it was added
	routes   int
	key      netip.Addr // the address an IP-only device is collected under (none for MAC devices)
}

func (c *Classifier) refClassify(in Input, own bool) []Device {
	byMAC := map[string]*refAcc{}
	byIP := map[netip.Addr]*refAcc{}
	get := func(mac string, ip netip.Addr) *refAcc {
		if mac != "" {
			d := byMAC[mac]
			if d == nil {
				d = &refAcc{mac: mac, ips: map[netip.Addr]bool{}, evidence: map[[2]string]*Evidence{}}
				byMAC[mac] = d
			}
			return d
		}
		d := byIP[ip]
		if d == nil {
			d = &refAcc{ips: map[netip.Addr]bool{ip: true}, evidence: map[[2]string]*Evidence{}}
			byIP[ip] = d
		}
		return d
	}
	// IP attachment: all traffic addresses of a MAC unless it routes.
	traffic := map[string][]netip.Addr{}
	arp := map[string][]netip.Addr{}
	for _, b := range in.Bindings {
		if !b.IP.IsValid() || !usableMAC(b.MAC) && b.MAC != "" {
			continue
		}
		if b.MAC == "" {
			if isLocal(b.IP) {
				get("", b.IP)
			}
			continue
		}
		if b.ARP {
			arp[b.MAC] = append(arp[b.MAC], b.IP)
		} else {
			traffic[b.MAC] = append(traffic[b.MAC], b.IP)
		}
	}
	for mac, ips := range traffic {
		d := get(mac, netip.Addr{})
		var local []netip.Addr
		for _, ip := range ips {
			if isLocal(ip) {
				local = append(local, ip)
			}
		}
		switch {
		case len(ips) > c.opt.MaxIPsPerMAC:
			// A router: keep only its own link-local addresses.
			d.routes = len(ips)
			d.foreign = make(map[netip.Addr]bool, len(ips))
			for _, ip := range ips {
				if ip.Is6() && ip.IsLinkLocalUnicast() {
					d.ips[ip] = true
				} else {
					d.foreign[ip] = true
				}
			}
		case len(local) > 0 && len(local) < len(ips):
			// Site addresses plus public ones: the public ones are routed
			// through this MAC (a gateway), not its own.
			d.routes = len(ips) - len(local)
			d.foreign = make(map[netip.Addr]bool, d.routes)
			for _, ip := range ips {
				if isLocal(ip) {
					d.ips[ip] = true
				} else {
					d.foreign[ip] = true
				}
			}
		default:
			for _, ip := range ips {
				d.ips[ip] = true
			}
		}
	}
	for mac, ips := range arp {
		d := get(mac, netip.Addr{})
		for _, ip := range ips {
			d.ips[ip] = true
		}
	}
	for i, e := range in.Evidence {
		if e.MAC != "" && !usableMAC(e.MAC) {
			e.MAC = ""
		}
		if e.MAC == "" && !e.IP.IsValid() {
			continue
		}
		d := get(e.MAC, e.IP)
		if e.MAC != "" && e.IP.IsValid() && d.foreign[e.IP] {
			d = get("", e.IP) // said by a host behind a gateway, not by the gateway
		}
		if e.MAC != "" && e.IP.IsValid() && !e.IP.IsUnspecified() && d.routes == 0 {
			d.ips[e.IP] = true
		}
		if e.Field == "dhcp.assigned_ip" {
			if ip, err := netip.ParseAddr(e.Value); err == nil {
				d.ips[ip] = true
			}
		}
		k := [2]string{e.Field, e.Value}
		if x := d.evidence[k]; x != nil {
			mergeEvidence(x, &e)
			continue
		}
		var ev *Evidence
		if own {
			// The record's own storage: no allocation per record.
			in.Evidence[i] = e
			ev = &in.Evidence[i]
		} else {
			ev = new(Evidence)
			*ev = e
		}
		d.evidence[k] = ev
		d.order = append(d.order, ev)
	}
	// Merge IP-only devices into the MAC device that owns the address. When
	// several MACs claimed an address (re-assigned leases, spoofing), the
	// lowest MAC owns it, so the result does not depend on map order.
	owner := map[netip.Addr]*refAcc{}
	for _, mac := range slices.Sorted(maps.Keys(byMAC)) {
		d := byMAC[mac]
		for ip := range d.ips {
			if _, taken := owner[ip]; !taken {
				owner[ip] = d
			}
		}
	}
	// The same field=value seen by several of them (or by the owner)
	// becomes one record (mergeEvidence: the same whatever the order).
	var accs []*refAcc
	for ip, d := range byIP {
		if o := owner[ip]; o != nil {
			for _, e := range d.order {
				k := [2]string{e.Field, e.Value}
				if x := o.evidence[k]; x != nil {
					mergeEvidence(x, e)
				} else {
					o.evidence[k] = e
					o.order = append(o.order, e)
				}
			}
			continue
		}
		d.key = ip
		accs = append(accs, d)
	}
	for _, d := range byMAC {
		accs = append(accs, d)
	}
	// Each accumulator is dropped once its device is built, so the
	// evidence is not held twice over a large capture.
	byMAC, byIP, owner = nil, nil, nil
	out := make([]Device, 0, len(accs))
	keys := make([]netip.Addr, 0, len(accs))
	memo := ruleMemo{}
	classes := classMemo{}
	for i, d := range accs {
		out = append(out, c.refDevice(d, memo, classes))
		keys = append(keys, d.key)
		accs[i] = nil
	}
	return sortDevices(out, keys)
}

func (c *Classifier) refDevice(d *refAcc, memo ruleMemo, classes classMemo) Device {
	dev := Device{MAC: d.mac}
	// Sized up front (nil when empty, as appending leaves them).
	if len(d.ips) > 0 {
		dev.IPs = make([]netip.Addr, 0, len(d.ips))
	}
	if len(d.evidence) > 0 {
		dev.Evidence = make([]Evidence, 0, len(d.evidence))
	}
	for ip := range d.ips {
		dev.IPs = append(dev.IPs, ip)
	}
	slices.SortFunc(dev.IPs, func(a, b netip.Addr) int { return a.Compare(b) })
	for _, e := range d.order {
		// In the order added: the evidence of a device arrives mostly
		// sorted (the sensor sorts its observations), which the sort below
		// then finds cheap.
		dev.Evidence = append(dev.Evidence, *e)
	}
	slices.SortFunc(dev.Evidence, func(a, b Evidence) int {
		// Short-circuit, not cmp.Or (which evaluates both comparisons).
		if c := strings.Compare(a.Field, b.Field); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	// Pseudo-observations that rules can match on too.
	facts := make([][2]string, 0, len(dev.Evidence)+2)
	for _, e := range dev.Evidence {
		// Only fields some rule reads can change the classification (and
		// leaving the others out lets devices share one, see classes).
		if len(c.rules.byField[e.Field]) > 0 {
			facts = append(facts, [2]string{e.Field, e.Value})
		}
	}
	org := ""
	if c.oui != nil && d.mac != "" {
		org = c.oui.Lookup(d.mac)
	}
	if org != "" {
		facts = append(facts, [2]string{"oui.vendor", org})
	}
	if d.routes > 0 {
		facts = append(facts, [2]string{"sensor.routes_for", strconv.Itoa(d.routes)})
	}
	// Devices with the same facts get the same classification: it is
	// made once per distinct set of facts (classes) and copied.
	key, keyOK := classKey(facts, org != "")
	cl, ok := classes[key]
	if !ok || !keyOK {
		cl = c.classifyFacts(facts, org, memo)
		if keyOK && len(classes) < maxClassMemo {
			classes[key] = cl
		}
	}
	dev.Vendor, dev.Model, dev.Type, dev.OS = cl.vendor, cl.model, cl.typ, cl.os
	dev.Confidence = cl.confidence
	dev.Software = slices.Clone(cl.software)
	if cl.attributes != nil {
		dev.Attributes = make([]Attribute, len(cl.attributes))
		for i, a := range cl.attributes {
			a.Rules, a.Evidence = slices.Clone(a.Rules), slices.Clone(a.Evidence)
			dev.Attributes[i] = a
		}
	}
	dev.Hostname = hostname(dev.Evidence)
	return dev
}

// TestClassifyMatchesReference compares the classification with the
// reference (the map-per-device one it replaced) on random inputs built
// to hit what the grouping has to get right: routers and gateways (their
// foreign addresses' records go to IP-only devices), IP-only devices
// merged into the MAC owning their address (the lowest MAC of several),
// unusable MACs, dhcp.assigned_ip, MAC-less local bindings, the same
// field=value from several senders, records without MAC or address.
func TestClassifyMatchesReference(t *testing.T) {
	t.Parallel()
	oui, err := DefaultOUI()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	c := New(oui, rules, Options{MaxIPsPerMAC: 4})
	macs := []string{"", "00:09:fb:11:22:33", "00:1b:21:01:02:03", "00:00:0c:07:ac:01", "01:00:5e:00:00:fb",
		"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "08:00:37:aa:bb:cc", "zz", "00:50:56:00:00:01"}
	ips := []string{"", "10.0.0.1", "10.0.0.2", "10.0.0.3", "192.168.1.9", "93.184.216.34", "8.8.8.8", "0.0.0.0",
		"fe80::1", "2001:db8::5", "100.64.1.1", "::", "10.0.0.4", "172.16.0.7"}
	fields := []string{"dhcp.hostname", "dhcp.vendor_class", "dhcp.assigned_ip", "http.user_agent", "mdns.name",
		"snmp.sysdescr", "http.server", "dhcp.client_fqdn", "tls.sni"}
	values := []string{"", "MX450-ICU3", "udhcp 1.31.1", "MSFT 5.0", "10.0.0.3", "10.0.0.9", "printer.local",
		"Linux 5.4", "Microsoft NCSI", "fe80::1", "android-1234", "x._http._tcp.local"}
	addr := func(s string) netip.Addr {
		if s == "" {
			return netip.Addr{}
		}
		return netip.MustParseAddr(s)
	}
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(6, 7))
	for run := range 400 {
		var in Input
		for range rng.IntN(40) {
			in.Bindings = append(in.Bindings, Binding{MAC: macs[rng.IntN(len(macs))], IP: addr(ips[rng.IntN(len(ips))]), ARP: rng.IntN(3) == 0})
		}
		for range rng.IntN(120) {
			f := fields[rng.IntN(len(fields))]
			proto, _, _ := strings.Cut(f, ".")
			first := base.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
			in.Evidence = append(in.Evidence, Evidence{MAC: macs[rng.IntN(len(macs))], IP: addr(ips[rng.IntN(len(ips))]), Protocol: proto,
				Field: f, Value: values[rng.IntN(len(values))], FirstSeen: first, LastSeen: first.Add(time.Duration(rng.IntN(5000)) * time.Millisecond),
				Count: uint64(1 + rng.IntN(9))})
		}
		want := c.refClassify(Input{Evidence: slices.Clone(in.Evidence), Bindings: in.Bindings}, false)
		got := c.Classify(in)
		if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Fatalf("run %d: Classify differs from the reference (-want +got):\n%s", run, diff)
		}
		got = c.ClassifyOwned(Input{Evidence: slices.Clone(in.Evidence), Bindings: in.Bindings})
		if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Fatalf("run %d: ClassifyOwned differs from the reference (-want +got):\n%s", run, diff)
		}
	}
}
