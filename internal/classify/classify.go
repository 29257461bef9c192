// Package classify turns what a sensor observed into devices: it groups
// observations by MAC address (else IP address), looks the MAC up in the
// IEEE registry and applies fingerprint rules (data files users can extend)
// to infer vendor, model, type, operating system and software, each with a
// confidence and the evidence behind it.
//
// Confidences of independent pieces of evidence for the same value are
// combined as a noisy-OR, 1 − Π(1 − cᵢ): two rules at 0.6 give 0.84. Each
// rule counts once per device however often it matched. A rule on the
// derived field oui.vendor that sets the vendor renames the registry's
// organisation (and replaces it) rather than adding evidence. The value with the
// highest combined confidence wins (ties: alphabetical); the device's
// confidence is the highest confidence among its vendor, model, type and
// OS. The package is pure: no I/O.
package classify

import (
	"cmp"
	"encoding/binary"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Evidence is one observation of a device, as the sensor reported it.
type Evidence struct {
	MAC       string
	IP        netip.Addr
	Protocol  string
	Field     string // e.g. "dhcp.hostname"
	Value     string
	FirstSeen time.Time
	LastSeen  time.Time
	Count     uint64
}

// Binding says that MAC sent from IP (or announced it in ARP).
type Binding struct {
	MAC string // "" when the capture has no link layer
	IP  netip.Addr
	ARP bool // from ARP rather than from traffic
}

// Input is everything classification looks at.
type Input struct {
	Evidence []Evidence
	Bindings []Binding
}

// Attribute is one inferred attribute value with its support.
type Attribute struct {
	Name       string   `json:"name"`
	Value      string   `json:"value"`
	Confidence float64  `json:"confidence"`
	Rules      []string `json:"rules"`    // rule ids (or "oui") that support it
	Evidence   []string `json:"evidence"` // "field=value" observations behind it
}

// Device is one identified device.
type Device struct {
	MAC        string       // "" when identified by IP only
	IPs        []netip.Addr // sorted
	Hostname   string
	Vendor     string
	Model      string
	Type       string
	OS         string
	Software   []string
	Confidence float64
	Attributes []Attribute // every candidate value, best first per attribute
	Evidence   []Evidence  // observations, sorted by field then value
}

// Options tune classification.
type Options struct {
	// MaxIPsPerMAC: a MAC seen sending from more addresses than this is
	// treated as a router, and only its ARP-announced and DHCP-assigned
	// addresses are attached to it. Default 8.
	MaxIPsPerMAC int
}

// Classifier holds the registry and rules.
type Classifier struct {
	oui   *OUI
	rules *Rules
	opt   Options
}

// New returns a classifier. oui may be nil (no vendor lookup).
func New(oui *OUI, rules *Rules, opt Options) *Classifier {
	if opt.MaxIPsPerMAC <= 0 {
		opt.MaxIPsPerMAC = 8
	}
	if rules == nil {
		rules = &Rules{byField: map[string][]*Rule{}}
	}
	return &Classifier{oui: oui, rules: rules, opt: opt}
}

type devAcc struct {
	id      int32 // index in the accumulators
	mac     string
	ips     map[netip.Addr]bool
	routes  int        // addresses routed through this MAC
	router  bool       // routes all but its link-local IPv6 addresses (else only the public ones)
	traffic []Binding  // of a MAC that routes: its bindings, sorted (see compareBindings)
	key     netip.Addr // the address an IP-only device is collected under (none for MAC devices)
}

// routed reports whether ip is an address routed through d: one d sent
// traffic from that is not its own (a router's not link-local IPv6, a
// gateway's public ones).
func (d *devAcc) routed(ip netip.Addr) bool {
	if d.routes == 0 {
		return false
	}
	if d.router && ip.Is6() && ip.IsLinkLocalUnicast() || !d.router && isLocal(ip) {
		return false
	}
	i, found := slices.BinarySearchFunc(d.traffic, Binding{MAC: d.mac, IP: ip}, compareBindings)
	return found && !d.traffic[i].ARP
}

// compareBindings orders bindings by MAC, address, then traffic before ARP.
func compareBindings(a, b Binding) int {
	if c := strings.Compare(a.MAC, b.MAC); c != 0 {
		return c
	}
	if c := a.IP.Compare(b.IP); c != 0 {
		return c
	}
	switch {
	case a.ARP == b.ARP:
		return 0
	case a.ARP:
		return 1
	}
	return -1
}

// Classify builds the devices of in, sorted by MAC then first IP.
func (c *Classifier) Classify(in Input) []Device {
	in.Evidence, in.Bindings = slices.Clone(in.Evidence), slices.Clone(in.Bindings)
	return c.classify(in)
}

// ClassifyOwned is Classify for a caller that hands in over: it
// reorders and overwrites in.Evidence and in.Bindings, and the devices'
// evidence are parts of in.Evidence (no copy of the records is made).
func (c *Classifier) ClassifyOwned(in Input) []Device { return c.classify(in) }

// classify groups the evidence by device without a map of records per
// device: each record is given the index of its device's accumulator,
// the records are sorted (in place) by device, field and value, the
// records of one field=value merged, and each device's evidence is its
// run of the sorted records.
func (c *Classifier) classify(in Input) []Device {
	byMAC := map[string]*devAcc{}
	byIP := map[netip.Addr]*devAcc{}
	var accs []*devAcc
	get := func(mac string, ip netip.Addr) *devAcc {
		if mac != "" {
			d := byMAC[mac]
			if d == nil {
				d = &devAcc{id: int32(len(accs)), mac: mac, ips: map[netip.Addr]bool{}}
				byMAC[mac] = d
				accs = append(accs, d)
			}
			return d
		}
		d := byIP[ip]
		if d == nil {
			d = &devAcc{id: int32(len(accs)), ips: map[netip.Addr]bool{ip: true}}
			byIP[ip] = d
			accs = append(accs, d)
		}
		return d
	}
	// IP attachment: all traffic addresses of a MAC unless it routes.
	// The bindings of each MAC are a run of them sorted by MAC, address
	// and ARP (traffic first); a sensor hands them over in that order, so
	// the sort only checks it.
	bs := in.Bindings[:0]
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
		bs = append(bs, b)
	}
	clear(in.Bindings[len(bs):])
	if !slices.IsSortedFunc(bs, compareBindings) {
		slices.SortFunc(bs, compareBindings)
	}
	for i := 0; i < len(bs); {
		j := i + 1
		for j < len(bs) && bs[j].MAC == bs[i].MAC {
			j++
		}
		run := bs[i:j:j]
		i = j
		d := get(run[0].MAC, netip.Addr{})
		n, local := 0, 0 // traffic addresses (as often as given), the site ones among them
		for _, b := range run {
			if !b.ARP {
				n++
				if isLocal(b.IP) {
					local++
				}
			}
		}
		switch {
		case n == 0:
		case n > c.opt.MaxIPsPerMAC:
			// A router: keep only its own link-local addresses.
			d.routes, d.router, d.traffic = n, true, run
			for _, b := range run {
				if !b.ARP && b.IP.Is6() && b.IP.IsLinkLocalUnicast() {
					d.ips[b.IP] = true
				}
			}
		case local > 0 && local < n:
			// Site addresses plus public ones: the public ones are routed
			// through this MAC (a gateway), not its own.
			d.routes, d.traffic = n-local, run
			for _, b := range run {
				if !b.ARP && isLocal(b.IP) {
					d.ips[b.IP] = true
				}
			}
		default:
			for _, b := range run {
				if !b.ARP {
					d.ips[b.IP] = true
				}
			}
		}
		for _, b := range run {
			if b.ARP {
				d.ips[b.IP] = true
			}
		}
	}
	// The accumulator of each record (-1: none), and the records' fields
	// by id (a field is one of few names).
	ev := in.Evidence
	devOf := make([]int32, len(ev))
	fieldID := map[string]uint32{}
	var fields []string
	fldOf := make([]uint32, len(ev))
	// The records of one sender mostly come together: its MAC is looked
	// up once for them.
	var lastMAC string
	var lastUsable bool
	var lastDev *devAcc
	for i := range ev {
		e := &ev[i]
		if e.MAC != "" {
			if lastDev == nil || e.MAC != lastMAC {
				lastMAC, lastUsable, lastDev = e.MAC, usableMAC(e.MAC), nil
				if lastUsable {
					lastDev = get(e.MAC, netip.Addr{})
				}
			}
			if !lastUsable {
				e.MAC = ""
			}
		}
		if e.MAC == "" && !e.IP.IsValid() {
			devOf[i] = -1
			continue
		}
		var d *devAcc
		if e.MAC != "" {
			d = lastDev
		} else {
			d = get("", e.IP)
		}
		if e.MAC != "" && e.IP.IsValid() && d.routed(e.IP) {
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
		devOf[i] = d.id
		id, ok := fieldID[e.Field]
		if !ok {
			id = uint32(len(fields))
			fieldID[e.Field] = id
			fields = append(fields, e.Field)
		}
		fldOf[i] = id
	}
	// Merge IP-only devices into the MAC device that owns the address. When
	// several MACs claimed an address (re-assigned leases, spoofing), the
	// lowest MAC owns it, so the result does not depend on map order. The
	// records of a merged device go to the owner (into is the accumulator
	// a record of each goes to).
	owner := map[netip.Addr]*devAcc{}
	for _, mac := range slices.Sorted(maps.Keys(byMAC)) {
		d := byMAC[mac]
		for ip := range d.ips {
			if _, taken := owner[ip]; !taken {
				owner[ip] = d
			}
		}
	}
	into := make([]int32, len(accs))
	for i := range into {
		into[i] = int32(i)
	}
	for ip, d := range byIP {
		if o := owner[ip]; o != nil {
			into[d.id] = o.id
			accs[d.id] = nil // not a device
			continue
		}
		d.key = ip
	}
	byMAC, byIP, owner = nil, nil, nil
	// Sort the records by device, field and value (the input position
	// last, so the record kept of a merged field=value is the first given).
	fieldRank, _ := fieldRanks(fields)
	type sortKey struct {
		hi    uint64 // device << 32 | field rank
		value string
		i     int32
	}
	keys := make([]sortKey, 0, len(ev))
	for i := range ev {
		if devOf[i] < 0 {
			continue
		}
		keys = append(keys, sortKey{hi: uint64(into[devOf[i]])<<32 | uint64(fieldRank[fldOf[i]]), value: ev[i].Value, i: int32(i)})
	}
	devOf, fldOf = nil, nil
	slices.SortFunc(keys, func(a, b sortKey) int {
		if a.hi != b.hi {
			if a.hi < b.hi {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.value, b.value); c != 0 {
			return c
		}
		return int(a.i - b.i)
	})
	// Move the records into place in cycles (position j takes the record
	// at keys[j].i; the skipped ones end up past len(keys)), then merge
	// each run of one field=value into its first record.
	perm := make([]int32, len(ev)) // perm[j]: the record that goes to j
	placed := make([]bool, len(ev))
	for j := range keys {
		perm[j] = keys[j].i
		placed[keys[j].i] = true
	}
	j := len(keys)
	for i := range ev {
		if !placed[i] {
			perm[j] = int32(i)
			j++
		}
	}
	placed = nil
	permute(ev, perm)
	perm = nil
	type run struct{ dev, start, end int32 }
	var runs []run
	w := 0
	for r := 0; r < len(keys); r++ {
		dev := int32(keys[r].hi >> 32)
		if r > 0 && keys[r].hi == keys[r-1].hi && keys[r].value == keys[r-1].value {
			mergeEvidence(&ev[w-1], &ev[r])
			continue
		}
		if len(runs) == 0 || runs[len(runs)-1].dev != dev {
			runs = append(runs, run{dev: dev, start: int32(w)})
		}
		if w != r {
			ev[w] = ev[r]
		}
		w++
		runs[len(runs)-1].end = int32(w)
	}
	keys = nil
	clear(ev[w:]) // no strings held past the devices' evidence
	evOf := make([][]Evidence, len(accs))
	for _, r := range runs {
		evOf[r.dev] = ev[r.start:r.end:r.end]
	}
	out := make([]Device, 0, len(accs))
	tie := make([]netip.Addr, 0, len(accs))
	memo := ruleMemo{}
	classes := classMemo{}
	var sc scratch
	for i, d := range accs {
		if d == nil {
			continue
		}
		out = append(out, c.device(d, evOf[i], memo, classes, &sc))
		tie = append(tie, d.key)
		accs[i] = nil
	}
	return sortDevices(out, tie)
}

// fieldRanks returns the position of each field in the sorted fields.
func fieldRanks(fields []string) ([]uint32, []string) {
	sorted := slices.Clone(fields)
	slices.Sort(sorted)
	rank := make([]uint32, len(fields))
	for i, f := range fields {
		r, _ := slices.BinarySearch(sorted, f)
		rank[i] = uint32(r)
	}
	return rank, sorted
}

// permute moves the records of ev so that position j holds the one that
// was at perm[j] (a permutation of ev's positions), in cycles: no second
// slice of them. perm is destroyed.
func permute(ev []Evidence, perm []int32) {
	for j := range perm {
		if perm[j] < 0 || int(perm[j]) == j {
			continue
		}
		tmp := ev[j]
		k := j
		for {
			next := int(perm[k])
			perm[k] = -1
			if next == j {
				ev[k] = tmp
				break
			}
			ev[k] = ev[next]
			k = next
		}
	}
}

// mergeEvidence adds e to x, a record of the same field and value of
// the same device: the earliest first and latest last time, the counts
// added, and as the sender the lowest MAC, then IP, of the two. The
// result does not depend on the order the records are merged in.
func mergeEvidence(x, e *Evidence) {
	if e.FirstSeen.Before(x.FirstSeen) {
		x.FirstSeen = e.FirstSeen
	}
	if e.LastSeen.After(x.LastSeen) {
		x.LastSeen = e.LastSeen
	}
	x.Count += e.Count
	if c := strings.Compare(e.MAC, x.MAC); c < 0 || c == 0 && e.IP.Less(x.IP) {
		x.MAC, x.IP = e.MAC, e.IP
	}
}

// sortDevices orders devices by MAC, then first IP, then tie (the
// address an IP-only device was collected under; an IP-only device can
// hold a second, lower address from DHCP, so the first two do not always
// tell devices apart), sorting small keys rather than moving the large
// Device values around. tie has one entry per device.
func sortDevices(devs []Device, tie []netip.Addr) []Device {
	type key struct {
		mac     string
		ip, tie netip.Addr
		i       int32
	}
	keys := make([]key, len(devs))
	for i := range devs {
		keys[i] = key{devs[i].MAC, firstAddr(devs[i].IPs), tie[i], int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.mac, b.mac); c != 0 {
			return c
		}
		if c := a.ip.Compare(b.ip); c != 0 {
			return c
		}
		return a.tie.Compare(b.tie)
	})
	// Move the devices into place in cycles (no second slice of them):
	// position j takes the device at keys[j].i.
	for j := range keys {
		if keys[j].i < 0 || int(keys[j].i) == j {
			continue
		}
		tmp := devs[j]
		k := j
		for {
			next := int(keys[k].i)
			keys[k].i = -1
			if next == j {
				devs[k] = tmp
				break
			}
			devs[k] = devs[next]
			k = next
		}
	}
	return devs
}

func firstAddr(ips []netip.Addr) netip.Addr {
	if len(ips) == 0 {
		return netip.Addr{}
	}
	return ips[0]
}

// usableMAC rejects broadcast, multicast and all-zero addresses.
func usableMAC(mac string) bool {
	if len(mac) < 2 || mac == "00:00:00:00:00:00" {
		return false
	}
	v, err := strconv.ParseUint(mac[:2], 16, 8)
	return err == nil && v&1 == 0
}

// isLocal reports addresses that belong to a site: private, link-local,
// unique-local and shared (CGNAT) ranges.
func isLocal(ip netip.Addr) bool {
	if ip.IsPrivate() || ip.IsLinkLocalUnicast() {
		return true
	}
	return sharedSpace.Contains(ip)
}

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

type cand struct {
	conf  float64
	rules map[string]bool
	evid  map[string]bool
}

// ruleMemo caches the rule hits of one observed field=value for one
// Classify call: devices of the same model repeat the same facts, and the
// regular expressions are the cost of classification. It is bounded so a
// capture with millions of distinct values cannot grow it without limit.
type ruleMemo map[[2]string][]hit

const maxRuleMemo = 1 << 17

// scratch is the storage device reuses from one device to the next.
type scratch struct {
	facts [][2]string
	key   []byte
}

func (c *Classifier) device(d *devAcc, evidence []Evidence, memo ruleMemo, classes classMemo, sc *scratch) Device {
	// evidence is sorted by field then value, one record each.
	dev := Device{MAC: d.mac, Evidence: evidence}
	// Sized up front (nil when empty, as appending leaves them).
	if len(d.ips) > 0 {
		dev.IPs = make([]netip.Addr, 0, len(d.ips))
	}
	for ip := range d.ips {
		dev.IPs = append(dev.IPs, ip)
	}
	slices.SortFunc(dev.IPs, func(a, b netip.Addr) int { return a.Compare(b) })
	// Pseudo-observations that rules can match on too.
	facts := sc.facts[:0]
	defer func() { clear(facts); sc.facts = facts[:0] }()
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
	var keyOK bool
	sc.key, keyOK = appendClassKey(sc.key[:0], facts, org != "")
	cl, ok := classes[string(sc.key)] // no copy of the key to look it up
	if !ok || !keyOK {
		cl = c.classifyFacts(facts, org, memo)
		if keyOK && len(classes) < maxClassMemo {
			classes[string(sc.key)] = cl
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

// class is the classification of a set of facts.
type class struct {
	vendor, model, typ, os string
	software               []string
	confidence             float64
	attributes             []Attribute
}

// classMemo holds the classes of the sets of facts seen in one Classify
// call, bounded; scan-heavy captures have thousands of devices that show
// nothing but their MAC's registry entry.
type classMemo map[string]*class

const (
	maxClassMemo = 1 << 14
	maxClassKey  = 512
)

// classKey is the memo key of facts (each string length-prefixed, so no
// two lists of facts share a key); ok is false for large sets (not
// memoised).
func classKey(facts [][2]string, oui bool) (string, bool) {
	b, ok := appendClassKey(nil, facts, oui)
	return string(b), ok
}

// appendClassKey is classKey appended to b (b itself, empty, when not ok).
func appendClassKey(b []byte, facts [][2]string, oui bool) ([]byte, bool) {
	n := 1
	for _, f := range facts {
		n += len(f[0]) + len(f[1]) + 2*binary.MaxVarintLen64
	}
	if n > maxClassKey+1 {
		return b[:0], false
	}
	b = slices.Grow(b[:0], n)
	if oui {
		b = append(b, 'o')
	} else {
		b = append(b, '-')
	}
	for _, f := range facts {
		b = binary.AppendUvarint(b, uint64(len(f[0])))
		b = append(b, f[0]...)
		b = binary.AppendUvarint(b, uint64(len(f[1])))
		b = append(b, f[1]...)
	}
	return b, true
}

// classifyFacts applies the registry entry org (when not "") and the
// rules to facts.
func (c *Classifier) classifyFacts(facts [][2]string, org string, memo ruleMemo) *class {
	cands := map[string]map[string]*cand{}
	add := func(attr, value, rule, evidence string, conf float64) {
		m := cands[attr]
		if m == nil {
			m = map[string]*cand{}
			cands[attr] = m
		}
		cd := m[value]
		if cd == nil {
			cd = &cand{rules: map[string]bool{}, evid: map[string]bool{}}
			m[value] = cd
		}
		cd.evid[evidence] = true
		if cd.rules[rule] {
			return // a rule counts once per device
		}
		cd.rules[rule] = true
		cd.conf = 1 - (1-cd.conf)*(1-conf)
	}
	if org != "" {
		add(AttrVendor, org, "oui", "oui.vendor="+org, 0.5)
	}
	ouiRenamed := false
	for _, f := range facts {
		hits, ok := memo[f]
		if !ok {
			hits = c.rules.apply(f[0], f[1], nil)
			if len(memo) < maxRuleMemo {
				memo[f] = hits
			}
		}
		for _, h := range hits {
			add(h.attr, h.value, h.rule.ID, h.field+"="+h.obs, h.rule.Confidence)
			if h.field == "oui.vendor" && h.attr == AttrVendor {
				ouiRenamed = true
			}
		}
	}
	if ouiRenamed {
		// A rule on oui.vendor gives the registry's organisation its usual
		// name: that replaces the raw registry name, it is not a second,
		// competing piece of evidence.
		for v, cd := range cands[AttrVendor] {
			if cd.rules["oui"] && len(cd.rules) == 1 {
				delete(cands[AttrVendor], v)
			}
		}
	}
	best := func(attr string) (string, float64) {
		var v string
		var bc float64
		for _, val := range slices.Sorted(maps.Keys(cands[attr])) {
			if cd := cands[attr][val]; cd.conf > bc {
				v, bc = val, cd.conf
			}
		}
		return v, bc
	}
	cl := &class{}
	var conf float64
	for _, attr := range []string{AttrVendor, AttrModel, AttrType, AttrOS} {
		v, cf := best(attr)
		switch attr {
		case AttrVendor:
			cl.vendor = v
		case AttrModel:
			cl.model = v
		case AttrType:
			cl.typ = v
		case AttrOS:
			cl.os = v
		}
		conf = max(conf, cf)
	}
	cl.confidence = round2(conf)
	cl.software = slices.Sorted(maps.Keys(cands[AttrSoftware]))
	for _, attr := range []string{AttrVendor, AttrModel, AttrType, AttrOS, AttrSoftware} {
		var list []Attribute
		for v, cd := range cands[attr] {
			list = append(list, Attribute{Name: attr, Value: v, Confidence: round2(cd.conf),
				Rules: slices.Sorted(maps.Keys(cd.rules)), Evidence: slices.Sorted(maps.Keys(cd.evid))})
		}
		slices.SortFunc(list, func(a, b Attribute) int {
			return cmp.Or(cmp.Compare(b.Confidence, a.Confidence), cmp.Compare(a.Value, b.Value))
		})
		cl.attributes = append(cl.attributes, list...)
	}
	return cl
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

// hostnameFields in order of preference.
var hostnameFields = []string{"dhcp.hostname", "dhcp.client_fqdn", "mdns.name", "llmnr.name", "netbios.name", "snmp.sysname", "lldp.system_name", "cdp.device_id"}

// hostname picks the device's name: the first field in preference order,
// earliest seen, for mDNS only plain host names (no service instances).
func hostname(ev []Evidence) string {
	for _, f := range hostnameFields {
		var best *Evidence
		for i := range ev {
			e := &ev[i]
			if e.Field != f || e.Value == "" {
				continue
			}
			if f == "mdns.name" && (strings.Contains(e.Value, "._") || !strings.HasSuffix(strings.ToLower(e.Value), ".local")) {
				continue
			}
			if best == nil || e.FirstSeen.Before(best.FirstSeen) {
				best = e
			}
		}
		if best != nil {
			return best.Value
		}
	}
	return ""
}
