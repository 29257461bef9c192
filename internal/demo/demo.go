// Package demo generates a synthetic, realistic hospital fleet for the
// `medwarden demo` command and for benchmarks: several sites with campus
// layout and address plan, and medical, IT and building devices in
// realistic proportions, with real vendor product lines and firmware
// versions of which a known share sits inside the affected ranges of CISA
// medical advisories. Output is deterministic for a Config. The package is
// pure: it reads only its embedded catalog.
package demo

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
)

// Defaults and limits of Config.
const (
	DefaultSeed    = 1
	DefaultDevices = 2500
	DefaultSites   = 3

	MaxDevices = 10_000_000
	MaxSites   = 1000

	// DevicesPerAutoSite and MaxAutoSites size the site count when
	// Config.Sites is 0: one site per 800 devices, at most 300.
	DevicesPerAutoSite = 800
	MaxAutoSites       = 300
)

// Config says which fleet to generate. Generate's output is a function of
// all four fields: the same Config gives a byte-identical fleet.
type Config struct {
	Seed    int64
	Devices int       // number of devices, 1 to MaxDevices
	Sites   int       // number of sites; 0 picks one per DevicesPerAutoSite devices, at most MaxAutoSites
	Now     time.Time // reference time: dates (end of support, first/last seen) are relative to it
}

// DefaultConfig is the demo hospital system: seed 1, 2,500 devices over
// three sites, with Now at today's midnight UTC (set Now to a fixed time for
// a fleet that is identical on every day).
func DefaultConfig() Config {
	return Config{
		Seed:    DefaultSeed,
		Devices: DefaultDevices,
		Sites:   DefaultSites,
		Now:     time.Now().UTC().Truncate(24 * time.Hour),
	}
}

// ErrInvalidConfig is wrapped by every ConfigError.
var ErrInvalidConfig = errors.New("invalid demo config")

// ConfigError names the Config field that is invalid and why.
type ConfigError struct {
	Field  string
	Value  any
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("demo config field %s = %v: %s", e.Field, e.Value, e.Reason)
}

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// Validate reports the first invalid field as a *ConfigError.
func (c Config) Validate() error {
	switch {
	case c.Devices < 1 || c.Devices > MaxDevices:
		return &ConfigError{"devices", c.Devices, fmt.Sprintf("must be between 1 and %d", MaxDevices)}
	case c.Sites < 0 || c.Sites > MaxSites:
		return &ConfigError{"sites", c.Sites, fmt.Sprintf("must be between 0 (automatic) and %d", MaxSites)}
	case c.Sites > c.Devices:
		return &ConfigError{"sites", c.Sites, fmt.Sprintf("is more than the %d devices", c.Devices)}
	case c.Now.IsZero():
		return &ConfigError{"now", c.Now, "is not set"}
	case c.Now.Year() < 2000 || c.Now.Year() > 2200:
		return &ConfigError{"now", c.Now.Format(time.RFC3339), "must be in the years 2000 to 2200"}
	}
	return nil
}

// SiteCount is the number of sites Generate uses: Sites, or when it is 0,
// one per DevicesPerAutoSite devices (rounded, at least 1, at most
// MaxAutoSites).
func (c Config) SiteCount() int {
	if c.Sites > 0 {
		return c.Sites
	}
	n := int(math.Round(float64(c.Devices) / DevicesPerAutoSite))
	return min(max(n, 1), MaxAutoSites)
}

// Generate streams the fleet for cfg to fn, site by site, one new Device per
// call (fn may keep it). It stops at the first error of fn and returns it
// wrapped. Memory use does not grow with cfg.Devices.
func Generate(cfg Config, fn func(*inventory.Device) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cat, err := LoadCatalog()
	if err != nil {
		return err
	}
	g := newGenerator(cfg, cat)
	for i := range g.plan.sites {
		sp := &g.plan.sites[i]
		g.startSite(sp)
		for j := range sp.Devices {
			d := g.device(sp, j)
			if err := fn(d); err != nil {
				return fmt.Errorf("demo device %s: %w", d.AssetID, err)
			}
		}
	}
	return nil
}

// monitoringDays is how long ago the (fictional) sensors started watching:
// devices older than that were first seen in the first weeks of monitoring.
const monitoringDays = 730

type lineInfo struct {
	*ProductLine
	global  int // index over all lines: GTIN item reference
	serialC int // serial counter index, shared by lines of one vendor with the same pattern

	serialCap, serialMult, serialOff uint64
	verCum                           []float64
	verMinFrac                       []float64 // per version: least age, as a fraction of the age range
	ouis                             []int     // indices into generator.ouis; empty: locally administered
	udi                              string
	eos                              *inventory.Date
	eol                              *inventory.Date
	spread                           float64 // Age[1]-Age[0] in seconds
	minAge                           float64
	serialP                          []byte
}

type typeInfo struct {
	*DeviceType
	index    int
	zone     int
	class    int
	lines    []lineInfo
	lineCum  []float64
	depts    []int // department indices
	deptCum  []float64
	hostCode string
}

type generator struct {
	cfg   Config
	cat   *Catalog
	plan  *plan
	rng   *rand.Rand
	now   time.Time
	types []typeInfo

	ouis       [][3]byte
	ouiCounter []uint32
	ouiOffset  []uint32
	serialN    []uint64

	// per-site state
	siteLower    string
	classCounter [3]int
	hostCounter  []int
	zoneCounter  []int
	buf          []byte
}

// laaOUI is the locally administered prefix (02:4d:57, "MW") for devices
// whose manufacturer has no IEEE assignment we could verify.
var laaOUI = [3]byte{0x02, 0x4d, 0x57}

func newGenerator(cfg Config, cat *Catalog) *generator {
	g := &generator{
		cfg:  cfg,
		cat:  cat,
		plan: newPlan(cfg, cat),
		rng:  rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d65_6477_6172_6465)),
		now:  cfg.Now.UTC().Truncate(time.Second),
		buf:  make([]byte, 0, 128),
	}
	ouiIndex := map[string]int{}
	addOUI := func(hex string) int {
		if i, ok := ouiIndex[hex]; ok {
			return i
		}
		var b [3]byte
		for k := range 3 {
			v, _ := strconv.ParseUint(hex[2*k:2*k+2], 16, 8)
			b[k] = byte(v)
		}
		ouiIndex[hex] = len(g.ouis)
		g.ouis = append(g.ouis, b)
		return len(g.ouis) - 1
	}
	g.ouis = append(g.ouis, laaOUI) // index 0: locally administered
	zoneIndex := func(name string) int {
		return slices.IndexFunc(cat.Zones, func(z Zone) bool { return z.Name == name })
	}
	global := 0
	serialIndex := map[string]int{}
	g.types = make([]typeInfo, len(cat.Types))
	for ti := range cat.Types {
		t := &cat.Types[ti]
		info := typeInfo{DeviceType: t, index: ti, zone: zoneIndex(t.Zone), class: slices.Index(classes, t.Class), hostCode: t.Host}
		for d := range departments {
			if w, ok := t.Departments[departments[d].Name]; ok {
				info.depts = append(info.depts, d)
				info.deptCum = appendCum(info.deptCum, w)
			}
		}
		for li := range t.Lines {
			l := &t.Lines[li]
			li := lineInfo{ProductLine: l, global: global, serialP: []byte(l.Serial)}
			global++
			// vendors compare as the identity index compares them, so that
			// "NIHON KOHDEN" and "Nihon Kohden" never share a serial
			key := inventory.VendorKey(l.Vendor) + "\x00" + l.Serial
			if _, ok := serialIndex[key]; !ok {
				serialIndex[key] = len(serialIndex)
			}
			li.serialC = serialIndex[key]
			li.serialCap = uint64(serialCapacity(l.Serial))
			li.serialMult = coprimeNear(li.serialCap, 0.6180339887)
			li.serialOff = (uint64(li.serialC) * 0x9e3779b97f4a7c15) % li.serialCap
			for _, v := range l.Versions {
				li.verCum = appendCum(li.verCum, v.Weight)
				li.verMinFrac = append(li.verMinFrac, versionMinFrac(len(li.verMinFrac), len(l.Versions)))
			}
			for _, o := range l.OUIs {
				li.ouis = append(li.ouis, addOUI(o))
			}
			if t.Class == "BIOMED" {
				li.udi = GTIN(cat.GTINCompanyPrefix, li.global+1)
			}
			if l.EOSMonths != nil {
				li.eos = monthEnd(g.now, *l.EOSMonths)
			}
			if l.EOLMonths != nil {
				li.eol = monthEnd(g.now, *l.EOLMonths)
			}
			li.minAge = l.Age[0] * 365.25 * 86400
			li.spread = (l.Age[1] - l.Age[0]) * 365.25 * 86400
			info.lines = append(info.lines, li)
			info.lineCum = appendCum(info.lineCum, l.Weight)
		}
		g.types[ti] = info
	}
	g.serialN = make([]uint64, len(serialIndex))
	g.ouiCounter = make([]uint32, len(g.ouis))
	g.ouiOffset = make([]uint32, len(g.ouis))
	for i := range g.ouiOffset {
		g.ouiOffset[i] = g.rng.Uint32() & 0xffffff
	}
	g.hostCounter = make([]int, len(cat.Types))
	g.zoneCounter = make([]int, len(cat.Zones))
	return g
}

func appendCum(cum []float64, w float64) []float64 {
	last := 0.0
	if len(cum) > 0 {
		last = cum[len(cum)-1]
	}
	return append(cum, last+w)
}

// pick returns an index drawn with the weights whose running sums are cum.
func (g *generator) pick(cum []float64) int {
	if len(cum) == 1 {
		return 0
	}
	x := g.rng.Float64() * cum[len(cum)-1]
	i := sort.SearchFloat64s(cum, x)
	if i < len(cum) && cum[i] == x {
		i++
	}
	return min(i, len(cum)-1)
}

// monthEnd is the last day of the month that is months away from now.
func monthEnd(now time.Time, months int) *inventory.Date {
	first := time.Date(now.Year(), now.Month()+time.Month(months)+1, 1, 0, 0, 0, 0, time.UTC)
	return &inventory.Date{Time: first.AddDate(0, 0, -1)}
}

func (g *generator) startSite(sp *sitePlan) {
	g.siteLower = strings.ToLower(sp.Code)
	g.classCounter = [3]int{}
	clear(g.hostCounter)
	clear(g.zoneCounter)
}

// deviceBlock puts a device and what its pointers point to in one allocation.
type deviceBlock struct {
	d           inventory.Device
	pc, phi     bool
	eos, eol    inventory.Date
	first, seen time.Time
	macs, ips   [1]string
}

func (g *generator) device(sp *sitePlan, j int) *inventory.Device {
	pos := int((int64(sp.permA)*int64(j) + int64(sp.permB)) % int64(sp.Devices))
	ti := sort.SearchInts(sp.typeCum, pos+1)
	t := &g.types[ti]
	l := &t.lines[g.pick(t.lineCum)]
	vi := g.pick(l.verCum)
	v := &l.Versions[vi]

	blk := &deviceBlock{}
	d := &blk.d
	d.Vendor, d.Model, d.Version, d.OS = l.Vendor, l.Model, v.Version, l.OS
	d.DeviceType = t.Key
	d.Site = sp.Code
	d.Criticality = t.Criticality
	d.Zone = t.Zone
	d.UDIDI = l.udi
	blk.pc, blk.phi = t.PatientConnected, t.PHI
	d.PatientConnected, d.PHI = &blk.pc, &blk.phi
	if l.eos != nil {
		blk.eos = *l.eos
		d.EndOfSupport = &blk.eos
	}
	if l.eol != nil {
		blk.eol = *l.eol
		d.EndOfLife = &blk.eol
	}

	// asset id: SITE-CLASS-000123
	g.classCounter[t.class]++
	// all text fields are appended to one buffer and become one string
	var (
		b                                 = g.buf[:0]
		asset, loc, serial, mac, ip, host int
	)
	b = append(b, sp.Code...)
	b = append(b, '-')
	b = append(b, classes[t.class]...)
	b = append(b, '-')
	b = appendPadded(b, g.classCounter[t.class], 6)
	asset = len(b)

	// department and location
	di := t.depts[g.pick(t.deptCum)]
	dept := departments[di]
	d.Department = dept.Name
	var u *Unit
	if t.Anywhere {
		u = &sp.Units[g.rng.IntN(len(sp.Units))]
	} else if units := sp.unitsByDept[di]; len(units) > 0 {
		u = &sp.Units[units[g.rng.IntN(len(units))]]
	} else { // not reached with the built-in layouts (tested)
		u = &sp.Units[g.rng.IntN(len(sp.Units))]
	}
	b = append(b, u.Building...)
	b = append(b, " / "...)
	b = append(b, u.Floor...)
	b = append(b, " / "...)
	b = append(b, u.Name...)
	switch t.Spot {
	case "bed":
		b = append(b, " / Bed "...)
		b = strconv.AppendInt(b, int64(1+g.rng.IntN(24)), 10)
	case "room":
		b = append(b, " / Room "...)
		b = append(b, u.Floor[1:]...)
		b = appendPadded(b, 1+g.rng.IntN(40), 2)
	}
	loc = len(b)

	b = g.appendSerial(b, l)
	serial = len(b)

	// MAC, and for IP devices the address and hostname
	oi := 0
	if len(l.ouis) > 0 {
		oi = l.ouis[g.rng.IntN(len(l.ouis))]
	}
	nic := (g.ouiCounter[oi]*0x9e3779 + g.ouiOffset[oi]) & 0xffffff // odd multiplier: a bijection on 24 bits
	g.ouiCounter[oi]++
	o := g.ouis[oi]
	b = appendMAC(b, [6]byte{o[0], o[1], o[2], byte(nic >> 16), byte(nic >> 8), byte(nic)})
	mac = len(b)
	ip, host = mac, mac
	if t.Network == "ip" {
		k := g.zoneCounter[t.zone]
		g.zoneCounter[t.zone]++
		x := sp.zoneStart[t.zone] + k/hostsPerSubnet
		b = append(b, "10."...)
		b = strconv.AppendInt(b, int64(x>>8&255), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(x&255), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(10+k%hostsPerSubnet), 10)
		ip = len(b)

		g.hostCounter[ti]++
		b = append(b, g.siteLower...)
		b = append(b, '-')
		b = append(b, dept.Code...)
		b = append(b, '-')
		b = append(b, t.hostCode...)
		b = appendPadded(b, g.hostCounter[ti], 4)
		host = len(b)
	}
	g.buf = b
	text := string(b)
	d.AssetID = text[:asset]
	d.Location = text[asset:loc]
	d.Serial = text[loc:serial]
	blk.macs[0] = text[serial:mac]
	d.MACs = blk.macs[:]
	if ip > mac {
		blk.ips[0] = text[mac:ip]
		d.IPs = blk.ips[:]
		d.Hostname = text[ip:host]
	}

	// installation, first and last seen
	// explicit float64 conversions stop the compiler from fusing a
	// multiply-add (allowed on arm64, ppc64, s390x), which would make the
	// fleet differ between architectures
	// older firmware is found on older devices: a version's device is at
	// least verMinFrac of the way into the line's age range
	frac := l.verMinFrac[vi]
	frac += float64((1 - frac) * g.rng.Float64())
	age := l.minAge + float64(frac*l.spread)
	installed := g.now.Add(-time.Duration(age) * time.Second)
	first := installed.Add(time.Duration(g.rng.IntN(72*3600)) * time.Second)
	if start := g.now.AddDate(0, 0, -monitoringDays); first.Before(start) {
		first = start.Add(time.Duration(g.rng.IntN(30*86400)) * time.Second)
	}
	var ago time.Duration
	switch r := g.rng.Float64(); {
	case r < 0.92: // online
		ago = time.Duration(g.rng.IntN(36*3600)) * time.Second
	case r < 0.98: // in storage, on loan, switched off
		ago = time.Duration(2*86400+g.rng.IntN(28*86400)) * time.Second
	default: // missing
		ago = time.Duration(30*86400+g.rng.IntN(150*86400)) * time.Second
	}
	seen := g.now.Add(-ago)
	if first.After(g.now) {
		first = g.now
	}
	if seen.Before(first) {
		seen = first
	}
	blk.first, blk.seen = first, seen
	d.FirstSeen, d.LastSeen = &blk.first, &blk.seen
	return d
}

// appendSerial appends the line's pattern filled from a per-line counter mapped through a
// bijection of the pattern's value space, so serials look scattered but
// never repeat for a vendor (up to the pattern's capacity, at least 10^6).
func (g *generator) appendSerial(b []byte, l *lineInfo) []byte {
	n := g.serialN[l.serialC]
	g.serialN[l.serialC]++
	// n*mult + off modulo the capacity is a bijection because mult is
	// coprime with the capacity.
	hi, lo := bits.Mul64(n, l.serialMult)
	lo, carry := bits.Add64(lo, l.serialOff, 0)
	_, x := bits.Div64(hi+carry, lo, l.serialCap)
	start := len(b)
	b = append(b, l.serialP...)
	for i := len(b) - 1; i >= start; i-- {
		switch b[i] {
		case '#':
			b[i] = byte('0' + x%10)
			x /= 10
		case '@':
			b[i] = byte('A' + x%26)
			x /= 26
		case '?':
			b[i] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[x%36]
			x /= 36
		}
	}
	return b
}

func appendPadded(b []byte, n, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func appendMAC(b []byte, m [6]byte) []byte {
	const hex = "0123456789abcdef"
	for i, c := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[c>>4], hex[c&15])
	}
	return b
}

// GTIN returns the GTIN-14 with indicator digit 0, the 7-digit company
// prefix, a 5-digit item reference and the GS1 check digit.
func GTIN(companyPrefix string, itemRef int) string {
	s := "0" + companyPrefix + fmt.Sprintf("%05d", itemRef%100000)
	return s + string(rune('0'+GTINCheckDigit(s)))
}

// GTINCheckDigit computes the GS1 mod-10 check digit of the digits in s
// (without check digit): weights 3 and 1 alternate from the right.
func GTINCheckDigit(s string) int {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

// coprimeNear returns the first number from frac*n upwards that is coprime
// with n, so that multiplying by it scatters consecutive counters.
func coprimeNear(n uint64, frac float64) uint64 {
	m := max(uint64(float64(n)*frac), 1)
	for gcd64(m, n) != 1 {
		m++
	}
	return m
}

func gcd64(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// versionMinFrac is where in a line's age range devices on version k of n
// (versions listed oldest first) start, as a fraction: the newest version
// is found on devices of any age (new ones ship with it, old ones were
// upgraded), older versions only on older devices, the oldest from
// 0.8·(n-1)/n of the range.
func versionMinFrac(k, n int) float64 {
	return 0.8 * float64(n-1-k) / float64(n)
}
