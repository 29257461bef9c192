// Package snmp dissects SNMP v1, v2c and v3 messages (UDP 161 and 162):
// the agent's system group (sysDescr, sysObjectID, sysName, sysContact,
// sysLocation) from responses and traps, v3 user and engine ids, and it
// reports cleartext community strings without ever storing them.
package snmp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "snmp"

// Dissector is the SNMP dissector.
type Dissector struct{}

// New returns an SNMP dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.PacketDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerUDP }

// Ports implements dissect.Dissector.
func (*Dissector) Ports() []uint16 { return []uint16{161, 162} }

// Detect accepts a BER SEQUENCE whose first element is the INTEGER version
// 0 (v1), 1 (v2c) or 3 (v3).
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	r := ber{b: p}
	seq, ok := r.next(0x30)
	if !ok {
		return false
	}
	v, ok := seq.next(0x02)
	return ok && len(v.b) == 1 && (v.b[0] == 0 || v.b[0] == 1 || v.b[0] == 3)
}

// PDU tags (RFC 3416 §3, RFC 1157 §4).
const (
	pduGet      = 0xa0
	pduGetNext  = 0xa1
	pduResponse = 0xa2
	pduSet      = 0xa3
	pduTrapV1   = 0xa4
	pduGetBulk  = 0xa5
	pduInform   = 0xa6
	pduTrapV2   = 0xa7
	pduReport   = 0xa8
)

// The system group (RFC 3418).
var sysFields = map[string]string{
	"1.3.6.1.2.1.1.1.0": "snmp.sys_descr",
	"1.3.6.1.2.1.1.2.0": "snmp.sys_object_id",
	"1.3.6.1.2.1.1.4.0": "snmp.sys_contact",
	"1.3.6.1.2.1.1.5.0": "snmp.sys_name",
	"1.3.6.1.2.1.1.6.0": "snmp.sys_location",
}

// defaultCommunities are vendor and tool defaults: naming one of these in a
// finding discloses nothing that is not already public.
var defaultCommunities = map[string]bool{
	"public": true, "private": true, "community": true, "admin": true, "cisco": true,
	"manager": true, "monitor": true, "secret": true, "snmp": true, "read": true,
	"write": true, "default": true, "password": true, "test": true, "ilmi": true,
	"system": true, "security": true, "internal": true, "all private": true,
	"snmpd": true, "agent": true, "root": true, "guest": true, "netman": true,
	"rmon": true, "rmon_admin": true, "hp_admin": true, "tivoli": true, "openview": true,
	"proxy": true, "snmptrap": true, "0": true, "1234": true,
}

var errMalformed = errors.New("malformed snmp message")

// DissectPacket implements dissect.PacketDissector.
func (d *Dissector) DissectPacket(f *dissect.Flow, dir dissect.Direction, p []byte, t time.Time, out dissect.Emitter) error {
	r := ber{b: p}
	msg, ok := r.next(0x30)
	if !ok {
		return fmt.Errorf("snmp: message: %w", errMalformed)
	}
	vb, ok := msg.next(0x02)
	if !ok || len(vb.b) != 1 {
		return fmt.Errorf("snmp: version: %w", errMalformed)
	}
	e := emitter{f: f, dir: dir, t: t, out: out}
	switch v := vb.b[0]; v {
	case 0, 1:
		comm, ok := msg.next(0x04)
		if !ok {
			return fmt.Errorf("snmp v%s: community: %w", versionName(v), errMalformed)
		}
		pdu, tag, ok := msg.any()
		if !ok {
			return fmt.Errorf("snmp v%s: pdu: %w", versionName(v), errMalformed)
		}
		e.agent = agentSide(tag, dir)
		e.observe("snmp.version", versionName(v))
		e.community(string(comm.b), v, tag)
		return e.pdu(tag, pdu)
	case 3:
		return e.v3(msg)
	default:
		return fmt.Errorf("snmp: version %d: %w", v, errMalformed)
	}
}

func versionName(v byte) string {
	switch v {
	case 0:
		return "1"
	case 1:
		return "2c"
	}
	return "3"
}

// agentSide says which direction the agent sent from, given a PDU type
// travelling in dir: requests go to the agent, the rest come from it.
func agentSide(tag byte, dir dissect.Direction) dissect.Direction {
	switch tag {
	case pduGet, pduGetNext, pduSet, pduGetBulk:
		if dir == dissect.FromClient {
			return dissect.FromServer
		}
		return dissect.FromClient
	}
	return dir
}

type emitter struct {
	f     *dissect.Flow
	dir   dissect.Direction // of this datagram
	agent dissect.Direction
	t     time.Time
	out   dissect.Emitter
}

// observe files a fact about the agent.
func (e *emitter) observe(field, value string) {
	if value == "" {
		return
	}
	ep := e.f.Sender(e.agent)
	e.out.Observe(dissect.Observation{Time: e.t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
}

// community reports a v1/v2c community string seen in clear. The string
// itself is never stored; defaults from a public list are named.
func (e *emitter) community(c string, v byte, tag byte) {
	agent, peer := e.f.Sender(e.agent), e.f.Sender(1-e.agent)
	sev, detail := communityDetail(c, v, tag)
	e.out.Report(dissect.Finding{
		Time: e.t, Protocol: Name, Kind: "snmp-community", Severity: sev,
		Detail: detail,
		MAC:    agent.MAC, IP: agent.Addr.Addr(), Peer: peer.Addr,
	})
}

// communityDetail is the severity and text of a community finding, built
// by concatenation (it was two fmt.Sprintf per datagram; the test keeps
// them and compares).
func communityDetail(c string, v byte, tag byte) (sev, detail string) {
	var what string
	if lc := strings.ToLower(c); defaultCommunities[lc] {
		sev, what = "high", "default community '"+lc+"'"
	} else {
		sev, what = "medium", "a non-default community string ("+strconv.Itoa(utf8.RuneCountInString(c))+" characters)"
	}
	access := " sent in clear"
	switch tag {
	case pduSet:
		access = " sent in clear with write access (set-request)"
	case pduResponse:
		access = " accepted by the agent (response in clear)"
	}
	return sev, "SNMPv" + versionName(v) + " " + what + access
}

// pdu reads the variable bindings of a PDU and reports the system group
// when the agent is the sender.
func (e *emitter) pdu(tag byte, pdu ber) error {
	switch tag {
	case pduResponse, pduTrapV1, pduTrapV2, pduReport, pduInform:
	case pduGet, pduGetNext, pduSet, pduGetBulk:
		return nil // values in requests are the manager's, not facts
	default:
		return fmt.Errorf("snmp: pdu tag %#02x: %w", tag, errMalformed)
	}
	if tag == pduTrapV1 {
		ent, ok := pdu.next(0x06)
		if !ok {
			return fmt.Errorf("snmp trap: enterprise: %w", errMalformed)
		}
		e.observe("snmp.trap_enterprise", oidString(ent.b))
		for i := 0; i < 4; i++ { // agent-addr, generic, specific, time-stamp
			if _, _, ok := pdu.any(); !ok {
				return fmt.Errorf("snmp trap: header: %w", errMalformed)
			}
		}
	} else {
		for i := 0; i < 3; i++ { // request-id, error-status, error-index
			if _, ok := pdu.next(0x02); !ok {
				return fmt.Errorf("snmp pdu: header: %w", errMalformed)
			}
		}
	}
	list, ok := pdu.next(0x30)
	if !ok {
		return fmt.Errorf("snmp pdu: variable bindings: %w", errMalformed)
	}
	for n := 0; len(list.b) > 0 && n < 1024; n++ {
		vb, ok := list.next(0x30)
		if !ok {
			return fmt.Errorf("snmp pdu: variable binding %d: %w", n, errMalformed)
		}
		name, ok := vb.next(0x06)
		if !ok {
			return fmt.Errorf("snmp pdu: variable binding %d name: %w", n, errMalformed)
		}
		field := sysFields[oidString(name.b)]
		if field == "" {
			continue
		}
		val, vtag, ok := vb.any()
		if !ok {
			continue
		}
		switch vtag {
		case 0x04:
			e.observe(field, printable(val.b))
		case 0x06:
			e.observe(field, oidString(val.b))
		}
	}
	return nil
}

// v3 handles an SNMPv3 message (RFC 3412 §6, USM RFC 3414 §2.4).
func (e *emitter) v3(msg ber) error {
	global, ok := msg.next(0x30)
	if !ok {
		return fmt.Errorf("snmp v3: msgGlobalData: %w", errMalformed)
	}
	global.next(0x02) // msgID
	global.next(0x02) // msgMaxSize
	flags, ok := global.next(0x04)
	if !ok || len(flags.b) != 1 {
		return fmt.Errorf("snmp v3: msgFlags: %w", errMalformed)
	}
	secParams, ok := msg.next(0x04)
	if !ok {
		return fmt.Errorf("snmp v3: msgSecurityParameters: %w", errMalformed)
	}
	usm := ber{b: secParams.b}
	sp, _ := usm.next(0x30)
	engine, _ := sp.next(0x04)
	sp.next(0x02) // boots
	sp.next(0x02) // time
	user, _ := sp.next(0x04)

	// The PDU type decides who the agent is; encrypted PDUs hide it, and
	// then the sender is taken to be the agent only if it answers from 161/162.
	e.agent = e.dir
	scoped, tag, ok := msg.any()
	var pdu ber
	var pduTag byte
	if ok && tag == 0x30 {
		scoped.next(0x04) // contextEngineID
		scoped.next(0x04) // contextName
		pdu, pduTag, ok = scoped.any()
		if ok {
			e.agent = agentSide(pduTag, e.dir)
		}
	} else if p := e.f.Sender(e.dir).Addr.Port(); p != 161 && p != 162 {
		e.agent = 1 - e.dir
	}
	e.observe("snmp.version", "3")
	if e.agent == e.dir && len(engine.b) > 0 {
		e.observe("snmp.v3_engine_id", fmt.Sprintf("%x", engine.b))
	}
	if u := printable(user.b); u != "" {
		// The user is configured on the agent; the manager names it.
		e.observe("snmp.v3_user", u)
		if flags.b[0]&0x03 == 0 && pduTag != pduReport {
			agent, peer := e.f.Sender(e.agent), e.f.Sender(1-e.agent)
			e.out.Report(dissect.Finding{
				Time: e.t, Protocol: Name, Kind: "snmp-v3-noauth", Severity: "medium",
				Detail: fmt.Sprintf("SNMPv3 user %q used with noAuthNoPriv (no authentication, no encryption)", u),
				MAC:    agent.MAC, IP: agent.Addr.Addr(), Peer: peer.Addr,
			})
		}
	}
	if pduTag != 0 {
		return e.pdu(pduTag, pdu)
	}
	return nil
}

// oidString renders BER OID content as dotted decimal.
func oidString(b []byte) string {
	if len(b) == 0 || len(b) > 256 {
		return ""
	}
	var sb strings.Builder
	var v uint64
	first := true
	for i, c := range b {
		if v > 1<<56 {
			return ""
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 != 0 {
			if i == len(b)-1 {
				return "" // truncated sub-identifier
			}
			continue
		}
		if first {
			x, y := v/40, v%40
			if x > 2 {
				x, y = 2, v-80
			}
			sb.WriteString(strconv.FormatUint(x, 10))
			sb.WriteByte('.')
			sb.WriteString(strconv.FormatUint(y, 10))
			first = false
		} else {
			sb.WriteByte('.')
			sb.WriteString(strconv.FormatUint(v, 10))
		}
		v = 0
	}
	return sb.String()
}

// printable keeps text readable: invalid UTF-8 and control characters
// (except tab) become spaces, runs of spaces collapse, length is capped.
func printable(b []byte) string {
	if len(b) > 1024 {
		b = b[:1024]
	}
	s := strings.ToValidUTF8(string(b), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// ber is a bounds-checked BER TLV reader (definite lengths only).
type ber struct{ b []byte }

// any reads the next TLV of any tag (single-byte tags only).
func (r *ber) any() (ber, byte, bool) {
	if len(r.b) < 2 {
		return ber{}, 0, false
	}
	tag := r.b[0]
	if tag&0x1f == 0x1f {
		return ber{}, 0, false // multi-byte tags do not occur in SNMP
	}
	n, hl := int(r.b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(r.b) < 2+k {
			return ber{}, 0, false
		}
		n = 0
		for _, c := range r.b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hl = 2 + k
	}
	if n > len(r.b)-hl {
		return ber{}, 0, false
	}
	v := ber{b: r.b[hl : hl+n]}
	r.b = r.b[hl+n:]
	return v, tag, true
}

// next reads the next TLV and checks its tag.
func (r *ber) next(tag byte) (ber, bool) {
	save := r.b
	v, got, ok := r.any()
	if !ok || got != tag {
		r.b = save
		return ber{}, false
	}
	return v, true
}
