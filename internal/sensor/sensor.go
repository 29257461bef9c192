// Package sensor is the passive sensor core: it reads frames from captures
// or a live interface, decodes link, network and transport layers,
// reassembles IP fragments and TCP streams, tracks flows in a bounded table,
// hands payloads to protocol dissectors and collects what they observe.
//
// The package is pure: sources take an io.Reader (or an interface name for
// live capture, see live_linux.go), and nothing here writes files.
package sensor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strings"
	"time"
	"unique"
	"unsafe"

	"github.com/gopacket/gopacket/layers"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Defaults of Config.
const (
	// DefaultMaxFlows keeps 1,000,000 concurrent flows within 512 MB RSS
	// (measured in BenchmarkFlowTableMillion / TestMillionFlowsMemory).
	DefaultMaxFlows          = 1_000_000
	DefaultIdleTimeout       = 5 * time.Minute
	DefaultActiveTimeout     = time.Hour
	DefaultStreamBuffer      = 256 << 10 // out-of-order bytes per direction
	DefaultReassemblyMemory  = 64 << 20  // out-of-order bytes over all flows
	DefaultFragmentDatagrams = 4096
	DefaultFragmentMemory    = 16 << 20
	DefaultFragmentTimeout   = 30 * time.Second
	// DefaultRingMB is the live capture ring (LiveOptions.RingMB): a second
	// of traffic at 500 Mbit/s.
	DefaultRingMB = 64
	// maxDetectAttempts is how many payloads of a flow are offered to Detect
	// before the flow is left without a dissector.
	maxDetectAttempts = 4
)

// Config tunes a Sensor. The zero value of a field means its default.
type Config struct {
	MaxFlows          int
	IdleTimeout       time.Duration
	ActiveTimeout     time.Duration
	StreamBuffer      int
	ReassemblyMemory  int
	FragmentDatagrams int
	FragmentMemory    int
	FragmentTimeout   time.Duration
	EdgeInterval      time.Duration
	// EdgeBuckets keeps the per-interval edge aggregation (EdgeBuckets());
	// off, only whole-run edges are kept, which saves memory in scans.
	EdgeBuckets bool
	// MaxEdges bounds the distinct edges kept; beyond it new conversations
	// are folded into coarser edges (see EdgeAggregator). Default
	// DefaultMaxEdges; negative: no limit.
	MaxEdges int
	// Dissectors to run (usually list.Build(list.Default())).
	Dissectors []dissect.Dissector
}

func (c *Config) defaults() {
	c.MaxFlows = cmp.Or(c.MaxFlows, DefaultMaxFlows)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, DefaultIdleTimeout)
	c.ActiveTimeout = cmp.Or(c.ActiveTimeout, DefaultActiveTimeout)
	c.StreamBuffer = cmp.Or(c.StreamBuffer, DefaultStreamBuffer)
	c.ReassemblyMemory = cmp.Or(c.ReassemblyMemory, DefaultReassemblyMemory)
	c.FragmentDatagrams = cmp.Or(c.FragmentDatagrams, DefaultFragmentDatagrams)
	c.FragmentMemory = cmp.Or(c.FragmentMemory, DefaultFragmentMemory)
	c.FragmentTimeout = cmp.Or(c.FragmentTimeout, DefaultFragmentTimeout)
	c.EdgeInterval = cmp.Or(c.EdgeInterval, DefaultEdgeInterval)
	c.MaxEdges = cmp.Or(c.MaxEdges, DefaultMaxEdges)
}

// Stats counts what the sensor saw. Packets counts every frame read, even
// the ones that could not be decoded.
type Stats struct {
	Packets          uint64 `json:"packets"`
	Bytes            uint64 `json:"bytes"` // captured bytes of all frames
	Flows            uint64 `json:"flows"` // flows created
	DecodeErrors     uint64 `json:"decode_errors"`
	EvictedFlows     uint64 `json:"evicted_flows"`      // dropped because the table was full
	FragmentsDropped uint64 `json:"fragments_dropped"`  // datagrams given up (limits, timeouts)
	ReassemblyGaps   uint64 `json:"reassembly_gaps"`    // holes in TCP streams
	DissectorErrors  uint64 `json:"dissector_errors"`   // payloads a dissector rejected
	UnknownLinkTypes uint64 `json:"unknown_link_types"` // frames of link types the decoder does not know
	EdgesFolded      uint64 `json:"edges_folded"`       // flow records folded into coarser edges (edge limit)
}

// ObservationRecord is an observation with when it was first and last
// seen and how often.
type ObservationRecord struct {
	dissect.Observation
	FirstSeen, LastSeen time.Time
	Count               uint64
}

// FindingRecord is a finding with when it was first and last seen.
type FindingRecord struct {
	dissect.Finding
	FirstSeen, LastSeen time.Time
	Count               uint64
}

// Binding sources: how the sensor learnt that a MAC uses an IP.
const (
	BindTraffic uint8 = 1 << iota // the MAC sent IP packets from the address
	BindARP                       // ARP sender fields
)

// Host is a link-layer address and the IP addresses it sent from.
type Host struct {
	MAC string // "" for raw-IP captures
	IPs map[netip.Addr]uint8
}

// Result is everything a sensor collected.
type Result struct {
	Observations []ObservationRecord
	Findings     []FindingRecord
	Hosts        []Host
	Edges        []Edge
	// CompactEdges holds the edges instead of Edges in a result of
	// TakeResultUnordered.
	CompactEdges *CompactEdges
	Stats        Stats
}

// EdgeBuckets returns the per-interval edge aggregation (Config.EdgeInterval
// buckets, oldest first), for a server that stores time series. Call Flush
// first to include flows still open. It is empty unless Config.EdgeBuckets
// was set.
func (s *Sensor) EdgeBuckets() []EdgeBucket { return s.edges.Buckets() }

type obsKey struct {
	mac   string
	ip    netip.Addr
	field string
	value string
}

// obsVal is the rest of an observation record, held by value in the
// observation map (48 bytes, where a pointer to an ObservationRecord cost
// 8 plus 176): times as Unix nanoseconds (see nsTime).
type obsVal struct {
	proto          string
	t, first, last int64
	count          uint64
}

// timeNS and nsTime convert between the times of observations and their
// stored form; the zero time is kept as such.
func timeNS(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

func nsTime(ns int64) time.Time {
	if ns == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// record rebuilds the observation record of k and v.
func (k *obsKey) record(v *obsVal) ObservationRecord {
	return ObservationRecord{Observation: dissect.Observation{Time: nsTime(v.t), Protocol: v.proto, Field: k.field, Value: k.value, MAC: k.mac, IP: k.ip},
		FirstSeen: nsTime(v.first), LastSeen: nsTime(v.last), Count: v.count}
}

type findKey struct {
	mac, kind, detail, proto string
	ip                       netip.Addr
	peer                     netip.AddrPort
}

// Sensor is the passive analysis pipeline. It is not safe for concurrent
// use: one goroutine feeds it frames.
type Sensor struct {
	cfg    Config
	flows  *flowTable
	defrag *defragmenter
	edges  *EdgeAggregator
	stats  Stats
	pkt    packet
	nowNS  int64

	obs      *obsTable
	findings map[findKey]*FindingRecord
	hosts    *hostTable // MAC/IP bindings (Bind* bits)
	ipHosts  map[netip.Addr]uint8

	link     []dissect.PacketDissector
	udpAll   []dissect.PacketDissector
	tcpAll   []dissect.StreamDissector
	udpPorts map[uint16][]dissect.PacketDissector
	tcpPorts map[uint16][]dissect.StreamDissector
	hinted   map[uint16]bool
	// macStr caches the text form of MACs: flows, edges and observations
	// of a device then share one string instead of one each.
	macStr   map[[6]byte]uint32 // index in macTexts + 1
	macTexts []string
	macCache [1 << macCacheBits]macCacheEntry
	// udpAll (tcpAll) index + 1 of each UDP (TCP) dissector: flow.dis,
	// flowApp.sd.
	udpIndex map[dissect.PacketDissector]uint8
	tcpIndex map[dissect.StreamDissector]uint8
	// The edge aggregator's application ids of udpAll and tcpAll.
	udpApp, tcpApp []uint8
	// scratchFlow is the flow context of the datagram or link-layer frame
	// being dissected: packet dissectors get it only for the call.
	scratchFlow dissect.Flow
	sink        tcpSink // see tcp()

	reasmUsed int
	interned  *internCache
	// emit context: the flow whose payload is being dissected
	curFlow *dissect.Flow
	curDir  dissect.Direction
	curTime time.Time
}

// New returns a sensor with cfg (zero fields take their defaults).
func New(cfg Config) *Sensor {
	cfg.defaults()
	s := &Sensor{
		cfg:      cfg,
		flows:    newFlowTable(cfg.MaxFlows),
		defrag:   newDefragmenter(cfg.FragmentDatagrams, cfg.FragmentMemory, cfg.FragmentTimeout),
		edges:    NewEdgeAggregator(cfg.EdgeInterval),
		obs:      newObsTable(),
		findings: map[findKey]*FindingRecord{},
		hosts:    newHostTable(),
		ipHosts:  map[netip.Addr]uint8{},
		udpPorts: map[uint16][]dissect.PacketDissector{},
		tcpPorts: map[uint16][]dissect.StreamDissector{},
		hinted:   map[uint16]bool{},
		macStr:   map[[6]byte]uint32{},
		udpIndex: map[dissect.PacketDissector]uint8{},
		tcpIndex: map[dissect.StreamDissector]uint8{},
		interned: &internCache{},
	}
	s.edges.noBucket = !cfg.EdgeBuckets
	s.edges.max = max(cfg.MaxEdges, 0)
	for _, d := range cfg.Dissectors {
		switch d.Layer() {
		case dissect.LayerLink:
			if pd, ok := d.(dissect.PacketDissector); ok {
				s.link = append(s.link, pd)
			}
		case dissect.LayerUDP:
			if pd, ok := d.(dissect.PacketDissector); ok && len(s.udpAll) < 255 {
				s.udpAll = append(s.udpAll, pd)
				s.udpIndex[pd] = uint8(len(s.udpAll))
				for _, p := range d.Ports() {
					s.udpPorts[p] = append(s.udpPorts[p], pd)
					s.hinted[p] = true
				}
			}
		case dissect.LayerTCP:
			if sd, ok := d.(dissect.StreamDissector); ok && len(s.tcpAll) < 255 {
				s.tcpAll = append(s.tcpAll, sd)
				s.tcpIndex[sd] = uint8(len(s.tcpAll))
				for _, p := range d.Ports() {
					s.tcpPorts[p] = append(s.tcpPorts[p], sd)
					s.hinted[p] = true
				}
			}
		}
	}
	for _, d := range s.udpAll {
		s.udpApp = append(s.udpApp, s.edges.appID(d.Name()))
	}
	for _, d := range s.tcpAll {
		s.tcpApp = append(s.tcpApp, s.edges.appID(d.Name()))
	}
	return s
}

// Stats returns the counters so far.
func (s *Sensor) Stats() Stats {
	st := s.stats
	st.FragmentsDropped = s.defrag.dropped
	st.EdgesFolded = s.edges.folded
	return st
}

// Run reads src until it ends or ctx is cancelled. A read error other
// than io.EOF is returned after everything read so far was processed; the
// caller decides whether it is fatal (a truncated file usually is not).
func (s *Sensor) Run(ctx context.Context, src Source) error {
	for i := 0; ; i++ {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		fr, err := src.Next()
		if err != nil {
			if errors.Is(err, ErrNoPacket) {
				i |= 1023 // check ctx on the next turn
				continue
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("capture truncated after %d frames: %w", i, err)
			}
			return fmt.Errorf("after %d frames: %w", i, err)
		}
		s.Frame(fr)
	}
}

// Frame processes one frame.
func (s *Sensor) Frame(fr Frame) {
	s.stats.Packets++
	s.stats.Bytes += uint64(len(fr.Data))
	t := fr.Time
	ns := t.UnixNano()
	if ns > s.nowNS {
		s.nowNS = ns
	}
	s.expire()
	p := &s.pkt
	switch decodeFrame(p, fr.LinkType, fr.Data) {
	case decodedIP:
		s.ip(p, t, len(fr.Data))
	case decodedFrag:
		if data, ok := s.defrag.add(p, t); ok {
			if decodeL4(p, data) == decodedIP {
				s.ip(p, t, len(fr.Data))
			} else {
				s.stats.DecodeErrors++
			}
		}
	case decodedARP:
		s.arp(p)
	case decodedLink:
		s.linkFrame(p, t)
	case decodedError:
		s.stats.DecodeErrors++
	case decodedNone:
		if !knownLinkType(fr.LinkType) {
			s.stats.UnknownLinkTypes++
		}
	}
}

func knownLinkType(lt layers.LinkType) bool {
	switch lt {
	case layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeRaw, 12, 14,
		layers.LinkTypeIPv4, layers.LinkTypeIPv6, layers.LinkTypeNull, layers.LinkTypeLoop:
		return true
	}
	return false
}

func (s *Sensor) arp(p *packet) {
	if !p.arpSPA.IsValid() || p.arpSPA.IsUnspecified() || isMulticastMAC(p.arpSHA) || p.arpSHA == ([6]byte{}) {
		return
	}
	s.bind(p.arpSHA, p.arpSPA, BindARP)
}

// hostKey is one MAC/IP binding: 23 bytes without pointers, where a map
// of maps cost about 700 bytes per MAC.
type hostKey struct {
	ip  [16]byte
	mac [6]byte
	v6  bool
}

func (s *Sensor) bind(mac [6]byte, ip netip.Addr, how uint8) {
	s.hosts.set(hostKey{ip: ip.As16(), mac: mac, v6: ip.Is6()}, how)
}

// hostList groups the bindings by MAC, plus the addresses seen without
// one (raw-IP captures).
func (s *Sensor) hostList() []Host {
	out := make([]Host, 0, len(s.ipHosts)+64)
	s.hosts.byMAC(func(mac [6]byte, ips map[netip.Addr]uint8) {
		out = append(out, Host{MAC: s.macString(mac), IPs: ips})
	})
	for ip, how := range s.ipHosts {
		out = append(out, Host{IPs: map[netip.Addr]uint8{ip: how}})
	}
	return out
}

func isMulticastMAC(m [6]byte) bool { return m[0]&1 != 0 }

func (s *Sensor) linkFrame(p *packet, t time.Time) {
	if len(s.link) == 0 || !p.hasMAC {
		return
	}
	f := &s.scratchFlow // no allocation per frame
	*f = dissect.Flow{
		Client:       dissect.Endpoint{MAC: s.macString(p.srcMAC)},
		Server:       dissect.Endpoint{MAC: s.macString(p.dstMAC)},
		EtherType:    p.etherType,
		LLC:          p.llc,
		SNAPProtocol: p.snapProto,
		DstMAC:       s.macString(p.dstMAC),
	}
	for _, d := range s.link {
		if !s.safeDetect(d, f, dissect.FromClient, p.linkPayload) {
			continue
		}
		s.packetToDissector(f, d, dissect.FromClient, p.linkPayload, t)
		return
	}
}

// ip handles a decoded (and, if needed, reassembled) IP packet.
func (s *Sensor) ip(p *packet, t time.Time, frameLen int) {
	if !p.src.IsValid() || !p.dst.IsValid() {
		s.stats.DecodeErrors++
		return
	}
	k, srcIsA := makeKey(p.src, p.dst, p.sport, p.dport, p.proto)
	f := s.flows.get(k)
	ns := t.UnixNano()
	if f != nil && ns-f.firstNS > int64(s.cfg.ActiveTimeout) {
		s.endFlow(f)
		f = nil
	}
	if f == nil {
		if s.flows.n >= s.cfg.MaxFlows {
			s.stats.EvictedFlows++
			s.endFlow(s.flows.last())
		}
		f = s.flows.insert(k)
		s.stats.Flows++
		f.firstNS = ns
		f.bucketFirst = ns
		f.clientIsA = s.guessClientIsA(p, srcIsA)
	} else {
		s.flows.touch(f)
		iv := int64(s.cfg.EdgeInterval)
		if ns >= f.bucketFirst-f.bucketFirst%iv+iv {
			s.flushEdge(f)
			f.bucketFirst = ns
		}
	}
	if ns > f.lastNS {
		f.lastNS = ns
	}
	f.bucketPkts++
	f.bucketBytes += uint64(frameLen)
	if bit := uint8(1) << b2i(!srcIsA); f.seen&bit == 0 {
		f.seen |= bit
		s.seen(p, f)
	}
	if p.hasMAC {
		f.hasMAC = true
		if srcIsA {
			f.macA, f.macB = p.srcMAC, p.dstMAC
		} else {
			f.macA, f.macB = p.dstMAC, p.srcMAC
		}
	}
	dir := dissect.FromClient
	if srcIsA != f.clientIsA {
		dir = dissect.FromServer
	}
	switch p.proto {
	case protoTCP:
		s.tcp(f, p, dir, t)
	case protoUDP:
		s.udp(f, p, dir, t)
	}
}

// seen records the MAC/IP binding of the first packet of each side.
func (s *Sensor) seen(p *packet, f *flow) {
	if !isHostAddr(p.src) {
		return
	}
	if p.hasMAC && !isMulticastMAC(p.srcMAC) && p.srcMAC != ([6]byte{}) {
		s.bind(p.srcMAC, p.src, BindTraffic)
		return
	}
	if !p.hasMAC {
		s.ipHosts[p.src] |= BindTraffic
	}
}

func b2i(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func isHostAddr(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && !a.IsLoopback() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// portScore ranks how server-like a port is.
func (s *Sensor) portScore(port uint16) int {
	switch {
	case s.hinted[port]:
		return 2
	case port < 1024:
		return 1
	}
	return 0
}

// guessClientIsA decides which endpoint opened the flow: the SYN sender
// when the handshake is seen, else the side talking to the more
// server-like port, else the sender of the first packet.
func (s *Sensor) guessClientIsA(p *packet, srcIsA bool) bool {
	if p.proto == protoTCP && p.tcpFlags&tcpSYN != 0 {
		if p.tcpFlags&tcpACK == 0 {
			return srcIsA
		}
		return !srcIsA
	}
	ss, ds := s.portScore(p.sport), s.portScore(p.dport)
	if ss > ds {
		return !srcIsA // the source is the server
	}
	return srcIsA
}

// flowContext fills df with f's endpoints.
func (s *Sensor) flowContext(df *dissect.Flow, f *flow) {
	ca, cb := dissect.Endpoint{Addr: netip.AddrPortFrom(f.key.addrA(), f.key.pa)}, dissect.Endpoint{Addr: netip.AddrPortFrom(f.key.addrB(), f.key.pb)}
	if f.hasMAC {
		ca.MAC, cb.MAC = s.macString(f.macA), s.macString(f.macB)
	}
	*df = dissect.Flow{}
	if f.clientIsA {
		df.Client, df.Server = ca, cb
	} else {
		df.Client, df.Server = cb, ca
	}
}

func (s *Sensor) app(f *flow) *flowApp {
	if f.app != nil {
		return f.app
	}
	a := &flowApp{}
	s.flowContext(&a.df, f)
	f.app = a
	return a
}

func (s *Sensor) udp(f *flow, p *packet, dir dissect.Direction, t time.Time) {
	if len(p.payload) == 0 || len(s.udpAll) == 0 || (f.done && f.dis == 0) {
		return
	}
	// Packet dissectors get the flow only for the call: a scratch context.
	df := &s.scratchFlow
	s.flowContext(df, f)
	if !f.done {
		f.tries++
		srv := df.Server.Addr.Port()
		cli := df.Client.Addr.Port()
		var chosen dissect.PacketDissector
		for _, d := range s.udpPorts[srv] {
			if s.safeDetect(d, df, dir, p.payload) {
				chosen = d
				break
			}
		}
		if chosen == nil && cli != srv {
			for _, d := range s.udpPorts[cli] {
				if s.safeDetect(d, df, dir, p.payload) {
					chosen = d
					break
				}
			}
		}
		if chosen == nil {
			for _, d := range s.udpAll {
				if s.safeDetect(d, df, dir, p.payload) {
					chosen = d
					break
				}
			}
		}
		if chosen != nil {
			f.done, f.dis = true, s.udpIndex[chosen]
		} else if f.tries >= maxDetectAttempts {
			f.done = true
		}
	}
	if f.dis != 0 {
		if !s.packetToDissector(df, s.udpAll[f.dis-1], dir, p.payload, t) {
			f.dis = 0 // the dissector panicked: no more of this flow
		}
	}
}

// packetToDissector hands one payload to pd; false when pd panicked.
func (s *Sensor) packetToDissector(df *dissect.Flow, pd dissect.PacketDissector, dir dissect.Direction, payload []byte, t time.Time) (ok bool) {
	s.curFlow, s.curDir, s.curTime = df, dir, t
	defer func() {
		s.curFlow = nil
		if r := recover(); r != nil {
			s.stats.DissectorErrors++
			ok = false
		}
	}()
	if err := pd.DissectPacket(df, dir, payload, t, s); err != nil {
		s.stats.DissectorErrors++
	}
	return true
}

func (s *Sensor) safeDetect(d dissect.Dissector, f *dissect.Flow, dir dissect.Direction, payload []byte) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			s.stats.DissectorErrors++
			ok = false
		}
	}()
	return d.Detect(f, dir, payload)
}

// tcpSink adapts reassembled bytes to the flow's stream dissector.
type tcpSink struct {
	s   *Sensor
	a   *flowApp
	dir dissect.Direction
	t   time.Time
}

func (k *tcpSink) deliver(data []byte) { k.s.streamBytes(k.a, k.dir, data, k.t) }
func (k *tcpSink) gap() {
	k.s.stats.ReassemblyGaps++
	k.a.skip[k.dir&1] = 0 // the stream resynchronises (or gives up) after a gap
	if k.a.stream != nil {
		k.s.safeStream(k.a, func() { k.a.stream.Gap(k.dir) })
	}
}

func (s *Sensor) tcp(f *flow, p *packet, dir dissect.Direction, t time.Time) {
	if len(s.tcpAll) == 0 || f.done {
		return
	}
	if f.app == nil {
		if len(p.payload) == 0 {
			if p.tcpFlags&tcpSYN != 0 && p.tcpFlags&tcpRST == 0 {
				f.tcp[dir].init, f.tcp[dir].next = true, p.seq+1
			}
			return // nothing to reassemble yet
		}
		s.app(f)
	}
	a := f.app
	if a.decided && a.stream == nil {
		return
	}
	if p.tcpFlags&tcpRST != 0 {
		return
	}
	// The sink lives in the sensor: as a local it escaped to the heap, one
	// allocation per segment.
	s.sink = tcpSink{s: s, a: a, dir: dir, t: t}
	budget := s.cfg.ReassemblyMemory - s.reasmUsed
	s.reasmUsed += f.tcp[dir].segment(&a.ooo, int(dir&1), p.seq, p.tcpFlags, p.payload, s.cfg.StreamBuffer, budget, &s.sink)
	s.sink.a = nil
	if a.decided && a.stream == nil {
		// No dissector (any more): drop what is buffered and the whole
		// application state; the flow keeps only the dissector's name for
		// its edge. Done here, not while segment is delivering, because
		// segment walks the buffer.
		s.releaseTCP(a)
		f.dis, f.done, f.app = a.sd, true, nil
	}
}

func (s *Sensor) streamBytes(a *flowApp, dir dissect.Direction, data []byte, t time.Time) {
	if !a.decided {
		a.attempts++
		var chosen dissect.StreamDissector
		srv, cli := a.df.Server.Addr.Port(), a.df.Client.Addr.Port()
		for _, d := range s.tcpPorts[srv] {
			if s.safeDetect(d, &a.df, dir, data) {
				chosen = d
				break
			}
		}
		if chosen == nil && cli != srv {
			for _, d := range s.tcpPorts[cli] {
				if s.safeDetect(d, &a.df, dir, data) {
					chosen = d
					break
				}
			}
		}
		if chosen == nil {
			for _, d := range s.tcpAll {
				if s.safeDetect(d, &a.df, dir, data) {
					chosen = d
					break
				}
			}
		}
		if chosen != nil {
			a.decided, a.sd = true, s.tcpIndex[chosen]
			s.safeStream(a, func() { a.stream = chosen.NewStream(&a.df) })
		} else if a.attempts >= maxDetectAttempts {
			a.decided = true // tcp() releases the reassembly buffers
			return
		}
	}
	if a.stream == nil {
		return
	}
	if n := a.skip[dir&1]; n > 0 {
		// Bytes the stream said it does not need (dissect.Skipper).
		if int(n) >= len(data) {
			a.skip[dir&1] = n - uint32(len(data))
			return
		}
		data, a.skip[dir&1] = data[n:], 0
	}
	s.curFlow, s.curDir, s.curTime = &a.df, dir, t
	s.safeStream(a, func() {
		if err := a.stream.Feed(dir, data, t, s); err != nil {
			s.stats.DissectorErrors++
		}
		if sk, ok := a.stream.(dissect.Skipper); ok {
			// Skip lengths come from 32-bit length fields (DICOM PDUs).
			a.skip[dir&1] = uint32(min(max(0, sk.Skip(dir)), math.MaxUint32))
		}
	})
	if a.stream == nil {
		return // the dissector panicked
	}
	if fin, ok := a.stream.(dissect.Finisher); ok && fin.Done() {
		// Large-flow fast path: the dissector has what it needs. End it
		// now; tcp() then skips the flow's payload (a.stream == nil).
		st := a.stream
		a.ended = true
		s.safeStream(a, func() { st.End(s) })
		a.stream = nil // tcp() releases the reassembly buffers
	}
}

// safeStream runs fn and turns a dissector panic into a counted error
// that disables the dissector for the flow.
func (s *Sensor) safeStream(a *flowApp, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			s.stats.DissectorErrors++
			a.stream = nil
			a.decided = true
		}
	}()
	fn()
}

func (s *Sensor) releaseTCP(a *flowApp) {
	if a.ooo != nil {
		s.reasmUsed -= a.ooo[0].release() + a.ooo[1].release()
		a.ooo = nil
	}
}

// endFlow finishes a flow: flushes counters and ends its dissector.
func (s *Sensor) endFlow(f *flow) {
	if f == nil {
		return
	}
	s.flushEdge(f)
	if a := f.app; a != nil {
		s.releaseTCP(a)
		if a.stream != nil && !a.ended {
			a.ended = true
			s.curFlow, s.curDir, s.curTime = &a.df, dissect.FromClient, time.Unix(0, f.lastNS).UTC()
			s.safeStream(a, func() { a.stream.End(s) })
		}
	}
	s.flows.remove(f)
}

func (s *Sensor) expire() {
	idle := int64(s.cfg.IdleTimeout)
	for f := s.flows.last(); f != nil && s.nowNS-f.lastNS > idle; f = s.flows.last() {
		s.endFlow(f)
	}
}

func protoName(p uint8, v6 bool) string {
	switch p {
	case protoTCP:
		return "tcp"
	case protoUDP:
		return "udp"
	case protoICMP:
		return "icmp"
	case protoICMPv6:
		return "icmpv6"
	}
	return fmt.Sprintf("ip-%d", p)
}

func (s *Sensor) flushEdge(f *flow) {
	if f.bucketPkts == 0 {
		return
	}
	k := &f.key
	var e edgeKey
	cm, sm := f.macA, f.macB
	e.src, e.dst, e.dport = k.a, k.b, k.pb
	if !f.clientIsA {
		cm, sm = f.macB, f.macA
		e.src, e.dst, e.dport = k.b, k.a, k.pa
	}
	e.flags = edgeSrcValid | edgeDstValid
	if k.v6 {
		e.flags |= edgeSrcV6 | edgeDstV6
	}
	if f.hasMAC {
		e.srcMAC, e.dstMAC = cm, sm
		e.flags |= edgeSrcMAC | edgeDstMAC
	}
	e.proto = k.proto
	switch {
	case f.app != nil && f.app.sd != 0:
		e.app = s.tcpApp[f.app.sd-1]
	case f.dis != 0 && k.proto == protoTCP:
		e.app = s.tcpApp[f.dis-1]
	case f.dis != 0:
		e.app = s.udpApp[f.dis-1]
	}
	s.edges.add(e, uint64(f.bucketPkts), f.bucketBytes, f.bucketFirst, f.lastNS)
	f.bucketPkts, f.bucketBytes = 0, 0
}

// Observe implements dissect.Emitter.
func (s *Sensor) Observe(o dissect.Observation) {
	s.fillDevice(&o.MAC, &o.IP)
	if o.Time.IsZero() {
		o.Time = s.curTime
	}
	k := obsKey{mac: o.MAC, ip: o.IP, field: o.Field, value: o.Value}
	ns := timeNS(o.Time)
	e, slot, h := s.obs.find(&k)
	if e == nil {
		// The table keeps one copy of each text for the whole run, shared
		// by every record that holds it (and drops any larger buffer the
		// dissector's string points into).
		s.obs.insert(slot, h, k, obsVal{proto: o.Protocol, t: ns, first: ns, last: ns, count: 1})
		return
	}
	r := e
	r.count++
	r.first = min(r.first, ns)
	r.last = max(r.last, ns)
}

// Report implements dissect.Emitter.
func (s *Sensor) Report(fd dissect.Finding) {
	s.fillDevice(&fd.MAC, &fd.IP)
	if fd.Time.IsZero() {
		fd.Time = s.curTime
	}
	k := findKey{mac: fd.MAC, ip: fd.IP, kind: fd.Kind, detail: fd.Detail, proto: fd.Protocol, peer: fd.Peer}
	r := s.findings[k]
	if r == nil {
		in := s.interned
		fd.MAC, fd.Protocol, fd.Kind, fd.Detail = in.intern(fd.MAC), in.intern(fd.Protocol), in.intern(fd.Kind), in.text(fd.Detail)
		k = findKey{mac: fd.MAC, ip: fd.IP, kind: fd.Kind, detail: fd.Detail, proto: fd.Protocol, peer: fd.Peer}
		s.findings[k] = &FindingRecord{Finding: fd, FirstSeen: fd.Time, LastSeen: fd.Time, Count: 1}
		return
	}
	r.Count++
	if fd.Time.Before(r.FirstSeen) {
		r.FirstSeen = fd.Time
	}
	if fd.Time.After(r.LastSeen) {
		r.LastSeen = fd.Time
	}
}

// fillDevice applies the attribution rule of the contract: an observation
// with neither MAC nor IP belongs to the sender; one with only an IP gets
// the sender's MAC when the IP is the sender's.
func (s *Sensor) fillDevice(mac *string, ip *netip.Addr) {
	if s.curFlow == nil {
		return
	}
	snd := s.curFlow.Sender(s.curDir)
	switch {
	case *mac == "" && !ip.IsValid():
		*mac = snd.MAC
		if a := snd.Addr.Addr(); a.IsValid() {
			*ip = a
		}
	case *mac == "" && *ip == snd.Addr.Addr():
		*mac = snd.MAC
	}
	if ip.IsValid() {
		*ip = ip.Unmap()
	}
}

// Flush ends every flow (so stream dissectors see End and counters reach
// the edges). Call it once after the last frame.
func (s *Sensor) Flush() {
	for f := s.flows.last(); f != nil; f = s.flows.last() {
		s.endFlow(f)
	}
}

// Result returns what was collected, in a deterministic order. Call Flush
// first to include flows still open.
func (s *Sensor) Result() *Result {
	r := &Result{Stats: s.Stats(), Edges: s.edges.Edges(),
		Observations: make([]ObservationRecord, 0, s.obs.len()), Findings: make([]FindingRecord, 0, len(s.findings)),
		Hosts: s.hostList()}
	for i := range s.obs.len() {
		e := s.obs.at(i)
		r.Observations = append(r.Observations, e.k.record(&e.v))
	}
	for _, f := range s.findings {
		r.Findings = append(r.Findings, *f)
	}
	sortResult(r)
	return r
}

func firstIP(h Host) netip.Addr {
	var m netip.Addr
	for ip := range h.IPs {
		if !m.IsValid() || ip.Less(m) {
			m = ip
		}
	}
	return m
}

const hexDigits = "0123456789abcdef"

// maxMACStrings bounds the MAC text cache (about 40 bytes an entry).
const maxMACStrings = 1 << 20

// macString is formatMAC through the sensor's caches: a small
// direct-mapped one (a multiply and a compare; every UDP datagram needs
// both MACs of its flow) in front of the macStr map. Both hold indexes
// into macTexts, not strings: filling a slot writes no pointer (a write
// barrier while the collector runs).
func (s *Sensor) macString(m [6]byte) string {
	k := uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
	e := &s.macCache[(k*0x9e3779b97f4a7c15)>>(64-macCacheBits)]
	if e.id != 0 && e.mac == m {
		return s.macTexts[e.id-1]
	}
	id, ok := s.macStr[m]
	if !ok {
		v := formatMAC(m)
		if len(s.macTexts) >= maxMACStrings {
			return v
		}
		s.macTexts = append(s.macTexts, v)
		id = uint32(len(s.macTexts))
		s.macStr[m] = id
	}
	e.mac, e.id = m, id
	return s.macTexts[id-1]
}

// macCacheBits sizes Sensor.macCache: 1,024 entries (12 KB).
const macCacheBits = 10

type macCacheEntry struct {
	mac [6]byte
	id  uint32 // index in macTexts + 1; 0: empty
}

// internCache returns canonical copies of strings (see package unique): a
// string kept for the whole run is stored once however many devices
// report it. It remembers the canonical copies of the strings last interned
// by where their bytes are: dissectors pass the same constant strings
// (field and protocol names) and the sensor's cached MAC texts again and
// again, and a hit costs a comparison instead of unique.Make's lookup.
type internCache struct {
	byData [256]struct {
		data  *byte
		canon string
	}
	// byText: the canonical strings interned so far (bounded), looked up
	// by their text. Observed values repeat (realmix-200M: 170,000
	// interned strings, 4,700 distinct), and a map lookup is cheaper than
	// unique.Make's.
	byText map[string]string
}

// maxInternText bounds internCache.byText (about 40 bytes an entry
// besides the strings, which the records keep anyway).
const maxInternText = 1 << 16

// text interns v looking it up by its text.
func (c *internCache) text(v string) string {
	if v == "" {
		return ""
	}
	if s, ok := c.byText[v]; ok {
		return s
	}
	if c.byText == nil {
		c.byText = make(map[string]string)
	}
	if len(c.byText) < maxInternText {
		// byText is the canonical copy: unique.Make's (a weak pointer
		// and its cleanup per string) is needed only beyond the bound.
		s := strings.Clone(v)
		c.byText[s] = s
		return s
	}
	return unique.Make(v).Value()
}

func (c *internCache) intern(v string) string {
	if v == "" {
		return ""
	}
	p := unsafe.StringData(v)
	e := &c.byData[(uintptr(unsafe.Pointer(p))>>3^uintptr(len(v)))&255]
	if e.data == p && e.canon == v {
		return e.canon
	}
	canon := c.text(v)
	e.data, e.canon = p, canon
	return canon
}

// formatMAC renders m as aa:bb:cc:dd:ee:ff.
func formatMAC(m [6]byte) string {
	var b [17]byte
	for i, x := range m {
		if i > 0 {
			b[i*3-1] = ':'
		}
		b[i*3] = hexDigits[x>>4]
		b[i*3+1] = hexDigits[x&0xf]
	}
	return string(b[:])
}

// DecodeOnly reads src to the end and decodes every frame without flow
// tracking: the floor the full pipeline is measured against.
func DecodeOnly(src Source) Stats {
	var st Stats
	var p packet
	for {
		fr, err := src.Next()
		if err != nil {
			return st
		}
		st.Packets++
		st.Bytes += uint64(len(fr.Data))
		if decodeFrame(&p, fr.LinkType, fr.Data) == decodedError {
			st.DecodeErrors++
		}
	}
}
