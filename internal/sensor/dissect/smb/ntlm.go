package smb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

var ntlmSignature = []byte("NTLMSSP\x00")

// NTLMSSP negotiate flags used here (MS-NLMP §2.2.2.5).
const (
	ntlmUnicode = 0x00000001
	ntlmVersion = 0x02000000
)

// ntlm finds an NTLMSSP message inside a security blob (raw, or wrapped in
// SPNEGO/GSS-API) and reports what it names: from a CHALLENGE (type 2) the
// server's NetBIOS and DNS names and OS version, from an AUTHENTICATE
// (type 3) the client's user, domain and workstation.
func (s *stream) ntlm(dir dissect.Direction, blob []byte, t time.Time, out dissect.Emitter) {
	i := bytes.Index(blob, ntlmSignature)
	if i < 0 {
		return
	}
	m := blob[i:]
	if len(m) < 12 {
		return
	}
	switch binary.LittleEndian.Uint32(m[8:]) {
	case 2:
		s.ntlmChallenge(dir, m, t, out)
	case 3:
		s.ntlmAuthenticate(dir, m, t, out)
	}
}

// field returns the bytes an NTLM (len, maxlen, offset) descriptor at off
// points to, or nil.
func field(m []byte, off int) []byte {
	if off+8 > len(m) {
		return nil
	}
	n := int(binary.LittleEndian.Uint16(m[off:]))
	at := int(binary.LittleEndian.Uint32(m[off+4:]))
	if n == 0 || at < 0 || at > len(m) || n > len(m)-at {
		return nil
	}
	return m[at : at+n]
}

func ntlmString(b []byte, flags uint32) string {
	if flags&ntlmUnicode != 0 {
		return clean(utf16le(b))
	}
	return clean(string(b))
}

// osVersion formats the 8-byte VERSION structure as "major.minor.build".
func osVersion(m []byte, off int, flags uint32) string {
	if flags&ntlmVersion == 0 || off+8 > len(m) {
		return ""
	}
	major, minor, build := m[off], m[off+1], binary.LittleEndian.Uint16(m[off+2:])
	if major == 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", major, minor, build)
}

func (s *stream) ntlmChallenge(dir dissect.Direction, m []byte, t time.Time, out dissect.Emitter) {
	if len(m) < 48 {
		return
	}
	flags := binary.LittleEndian.Uint32(m[20:])
	if len(m) >= 56 {
		s.observeAt(out, dir, t, "ntlm.os_version", osVersion(m, 48, flags))
	}
	info := field(m, 40)
	names := map[uint16]string{
		1: "ntlm.nb_computer_name",
		2: "ntlm.nb_domain_name",
		3: "ntlm.dns_computer_name",
		4: "ntlm.dns_domain_name",
		5: "ntlm.dns_tree_name",
	}
	for len(info) >= 4 {
		id := binary.LittleEndian.Uint16(info)
		n := int(binary.LittleEndian.Uint16(info[2:]))
		if id == 0 || 4+n > len(info) { // MsvAvEOL or truncated
			return
		}
		if f, ok := names[id]; ok {
			s.observeAt(out, dir, t, f, clean(utf16le(info[4:4+n])))
		}
		info = info[4+n:]
	}
}

func (s *stream) ntlmAuthenticate(dir dissect.Direction, m []byte, t time.Time, out dissect.Emitter) {
	if len(m) < 64 {
		return
	}
	flags := binary.LittleEndian.Uint32(m[60:])
	user := ntlmString(field(m, 36), flags)
	if user == "" {
		return // anonymous
	}
	domain := ntlmString(field(m, 28), flags)
	host := ntlmString(field(m, 44), flags)
	s.observeAt(out, dir, t, "ntlm.user", user)
	s.observeAt(out, dir, t, "ntlm.domain", domain)
	s.observeAt(out, dir, t, "ntlm.hostname", host)
	if len(m) >= 72 {
		s.observeAt(out, dir, t, "ntlm.os_version", osVersion(m, 64, flags))
	}
	if nt := field(m, 20); len(nt) == 24 {
		who := user
		if domain != "" {
			who = domain + `\` + user
		}
		s.report(out, dir, t, "ntlmv1", "high", fmt.Sprintf("NTLMv1 authentication by %q (NTLMv1 responses can be cracked to the password hash; require NTLMv2)", who))
	}
}
