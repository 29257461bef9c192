// Package dissect defines the contract between the sensor core and protocol
// dissectors. The core captures, defragments, reassembles TCP and tracks
// flows; a dissector gets payload bytes plus flow context and emits
// observations and findings. Dissectors never open files or sockets.
//
// Each protocol lives in its own package (dissect/dhcp, dissect/tls…) with
// `const Name = "dhcp"`, a New() constructor, a guard such as
// `var _ dissect.PacketDissector = (*Dissector)(nil)`, fuzz tests and a
// benchmark. The explicit registry is dissect/list.
package dissect

import (
	"net/netip"
	"time"
)

// Layer says what a dissector is fed.
type Layer int

// The layers a dissector can sit on.
const (
	// LayerLink: the payload after the Ethernet/802.1Q header (or the LLC
	// header for 802.3 frames), e.g. LLDP (ethertype 0x88cc) or CDP (SNAP).
	LayerLink Layer = iota + 1
	// LayerUDP: one UDP datagram payload at a time.
	LayerUDP
	// LayerTCP: the reassembled byte stream of each direction.
	LayerTCP
)

// Direction of a payload within a flow.
type Direction int

// Client is the side that opened the flow (sent the SYN, or the first packet).
const (
	FromClient Direction = iota
	FromServer
)

func (d Direction) String() string {
	if d == FromServer {
		return "server"
	}
	return "client"
}

// Endpoint is one side of a flow.
type Endpoint struct {
	MAC  string // aa:bb:cc:dd:ee:ff, "" when unknown (raw-IP captures)
	Addr netip.AddrPort
}

// Flow is the context handed to a dissector. Client and Server are fixed for
// the life of the flow; for link-layer and UDP payloads Client is the sender
// of the first packet seen.
type Flow struct {
	Client, Server Endpoint
	// EtherType for LayerLink payloads (0 for 802.3/LLC frames, see LLC).
	EtherType uint16
	// LLC is true for 802.3 frames with an LLC/SNAP header (CDP).
	LLC bool
	// SNAPProtocol is the SNAP protocol id for LLC/SNAP frames (0x2000 for CDP).
	SNAPProtocol uint16
	// DstMAC of the current link-layer frame (LayerLink only).
	DstMAC string
}

// Sender returns the endpoint that sent a payload travelling in dir.
func (f *Flow) Sender(dir Direction) Endpoint {
	if dir == FromServer {
		return f.Server
	}
	return f.Client
}

// Observation is one fact a device said about itself on the wire.
// Field names are fixed by the scan CLI contract (e.g. "dhcp.hostname").
type Observation struct {
	Time     time.Time
	Protocol string // dissector name, e.g. "dhcp"
	Field    string // e.g. "dhcp.hostname"
	Value    string
	// The device the observation belongs to: the sender, unless the protocol
	// says otherwise (DHCP's chaddr). The core fills an empty MAC/IP from the
	// sender of the payload.
	MAC string
	IP  netip.Addr
}

// Finding is a security-relevant event (cleartext credentials, an SNMP
// community seen, PHI in clear). Never put secrets in Detail: describe them.
type Finding struct {
	Time     time.Time
	Protocol string
	Kind     string // e.g. "cleartext-credentials", "snmp-community", "cleartext-phi"
	Severity string // "low", "medium", "high"
	Detail   string
	MAC      string
	IP       netip.Addr
	Peer     netip.AddrPort
}

// Emitter receives what dissectors find. The core implements it.
type Emitter interface {
	Observe(Observation)
	Report(Finding)
}

// Dissector is the common part of every dissector.
type Dissector interface {
	// Name is the stable lower-case protocol name, e.g. "dhcp".
	Name() string
	// Layer says what the dissector is fed.
	Layer() Layer
	// Ports are hints that make the core try this dissector first; the
	// payload must still pass Detect. Empty for link-layer dissectors.
	Ports() []uint16
	// Detect is cheap: does this first payload look like the protocol?
	// For TCP it gets the first bytes of whichever direction speaks first.
	Detect(f *Flow, dir Direction, payload []byte) bool
}

// PacketDissector handles datagrams and link-layer frames one at a time.
type PacketDissector interface {
	Dissector
	DissectPacket(f *Flow, dir Direction, payload []byte, t time.Time, out Emitter) error
}

// StreamDissector handles TCP byte streams.
type StreamDissector interface {
	Dissector
	NewStream(f *Flow) Stream
}

// Stream gets a flow's reassembled bytes in order, per direction, in
// arbitrary chunks: a message may be split across Feed calls, and feeding
// the same bytes in two calls must give the same result as in one. A Stream
// must bound its buffers. Gap reports a hole (lost segments) in dir.
type Stream interface {
	Feed(dir Direction, data []byte, t time.Time, out Emitter) error
	Gap(dir Direction)
	End(out Emitter)
}

// Finisher is optionally implemented by a Stream that can tell when it
// needs no more bytes of its flow (a TLS stream once both sides' handshake
// messages are behind it: the rest is encrypted). The core then calls End
// at once, stops reassembling the flow and only counts its packets and
// bytes: large encrypted transfers cost no payload work. Done must not
// become true while End would still emit something that later bytes could
// change.
type Finisher interface {
	Done() bool
}

// Skipper is optionally implemented by a Stream that can tell, after a
// Feed, that it does not need the next bytes of a direction (DICOM pixel
// data inside a data-set fragment whose length it has read). Skip returns
// n ≥ 0 and the stream counts those n bytes as consumed at once; the core
// then drops the next n reassembled bytes of dir without delivering them
// (they still count in the flow's packets and bytes, and a hole among
// them is still reported through Gap). Skip must leave in the stream any
// byte whose arrival would make it emit something (e.g. the last byte of
// a PDU): those are fed as usual.
type Skipper interface {
	Skip(dir Direction) int
}
