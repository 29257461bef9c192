// Package tls dissects the cleartext part of TLS and SSL 3.0 handshakes:
// ClientHello (SNI, ALPN, offered versions, JA4), ServerHello (negotiated
// version, cipher suite, ALPN) and, up to TLS 1.2, the server's certificate
// (subject, issuer, validity, key). It reports weak protocol versions,
// cipher suites, keys and expired or self-signed certificates.
package tls

import (
	"bytes"
	//lint:ignore SA1019 only to name legacy DSA keys seen on the wire
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "tls"

// Limits on what a stream keeps. A handshake message larger than
// maxHandshake (a certificate chain of absurd size) ends dissection of that
// direction.
const (
	maxRecord    = 1<<14 + 2048 // RFC 8446 §5.2 upper bound for a TLSCiphertext
	maxHandshake = 64 << 10
)

// Record and handshake types (RFC 8446 §5.1, §4).
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23

	hsClientHello = 1
	hsServerHello = 2
	hsCertificate = 11
	hsServerDone  = 14
)

// Extension code points used here.
const (
	extServerName          = 0x0000
	extSignatureAlgorithms = 0x000d
	extALPN                = 0x0010
	extSupportedVersions   = 0x002b
)

var errGiveUp = errors.New("not a tls stream")

// Dissector is the TLS dissector. State lives in streams, apart from
// bounded caches of what certificates and ClientHellos say (safe for
// concurrent use).
type Dissector struct {
	certs  certCache
	hellos helloCache
}

// New returns a TLS dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.StreamDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerTCP }

// Ports implements dissect.Dissector: HTTPS, LDAPS, SMTPS, IMAPS, POP3S,
// FTPS, DICOM TLS, HL7 over TLS, MQTT over TLS, syslog over TLS, and 8443.
func (*Dissector) Ports() []uint16 {
	return []uint16{443, 636, 465, 993, 995, 990, 2762, 2575, 8883, 6514, 8443}
}

// Detect accepts a TLS handshake record (SSL 3.0 to TLS 1.3 record
// versions) whose first handshake message is a ClientHello or ServerHello.
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	if len(p) >= 5 && p[0]&0x80 != 0 && p[2] == 1 && p[3] <= 3 {
		// SSL 2.0 (or SSL 2.0-compatible) CLIENT-HELLO: version 0.2 to 3.x.
		n := int(p[0]&0x7f)<<8 | int(p[1])
		return n >= 9 && (p[3] == 0 && p[4] == 2 || p[3] == 3 && p[4] <= 4)
	}
	if len(p) < 6 || p[0] != recHandshake || p[1] != 3 || p[2] > 4 {
		return false
	}
	n := int(p[3])<<8 | int(p[4])
	return n >= 4 && n <= maxRecord && (p[5] == hsClientHello || p[5] == hsServerHello)
}

// NewStream implements dissect.StreamDissector.
func (d *Dissector) NewStream(f *dissect.Flow) dissect.Stream {
	return &stream{flow: f, certs: &d.certs, hellos: &d.hellos}
}

// half is the state of one direction.
type half struct {
	rec     []byte // unparsed record bytes
	hs      []byte // handshake bytes gathered from records
	done    bool   // nothing more to learn in clear
	started bool   // the first record or SSL 2.0 message was seen
}

type stream struct {
	flow   *dissect.Flow
	certs  *certCache  // nil: no cache
	hellos *helloCache // nil: no cache
	dir    [2]half
	// From the ServerHello, for naming things in findings.
	version uint16
	sawCert bool
}

// Feed implements dissect.Stream.
//
// Records are parsed straight out of data when nothing is buffered (a
// segment usually holds whole records), and handshake messages straight
// out of a record that holds them whole: only a partial record or message
// is copied, to be completed by the next call. Nothing keeps data after
// the call.
func (s *stream) Feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	h := &s.dir[dir]
	if h.done {
		return nil
	}
	// Complete records are consumed below, so at most one partial record
	// (≤ maxRecord+5 bytes) stays buffered between calls.
	rec, owned := data, false
	if len(h.rec) > 0 {
		h.rec = append(h.rec, data...)
		rec, owned = h.rec, true
	}
	err := s.records(dir, h, &rec, t, out)
	switch {
	case h.done:
		h.rec, h.hs = nil, nil
	case len(rec) == 0:
		h.rec = nil
	case owned:
		h.rec = rec // the rest of h.rec's own bytes
	default:
		h.rec = append([]byte(nil), rec...)
	}
	return err
}

// records consumes the complete records at the start of *rec (an SSL 2.0
// message first, if the direction starts with one) and leaves the rest.
func (s *stream) records(dir dissect.Direction, h *half, rec *[]byte, t time.Time, out dissect.Emitter) error {
	b := *rec
	defer func() { *rec = b }()
	if !h.started && len(b) >= 2 && b[0]&0x80 != 0 {
		// SSL 2.0 record header: a 15-bit length, no padding.
		n := int(b[0]&0x7f)<<8 | int(b[1])
		if len(b) < 2+n {
			return nil
		}
		h.started = true
		msg := b[2 : 2+n]
		b = b[2+n:]
		if err := s.sslv2(dir, msg, t, out); err != nil {
			h.done = true
			return err
		}
	}
	for !h.done && len(b) >= 5 {
		h.started = true
		typ, n := b[0], int(b[3])<<8|int(b[4])
		if b[1] != 3 || n > maxRecord || typ < recChangeCipherSpec || typ > recApplicationData+1 {
			h.done = true
			return fmt.Errorf("tls %s: record type %d of length %d: %w", dir, typ, n, errGiveUp)
		}
		if len(b) < 5+n {
			break
		}
		body := b[5 : 5+n]
		switch typ {
		case recHandshake:
			if len(h.hs)+len(body) > maxHandshake {
				h.done = true
				return fmt.Errorf("tls %s: handshake larger than %d bytes, giving up", dir, maxHandshake)
			}
			if err := s.handshakeRecord(dir, h, body, t, out); err != nil {
				h.done = true
				return err
			}
		case recChangeCipherSpec, recApplicationData:
			// From here on this direction is encrypted.
			h.done = true
		}
		b = b[5+n:]
	}
	return nil
}

// handshakeRecord parses the handshake messages completed by body. With
// nothing buffered they are read from body itself, and only a trailing
// partial message is copied into h.hs.
func (s *stream) handshakeRecord(dir dissect.Direction, h *half, body []byte, t time.Time, out dissect.Emitter) error {
	if len(h.hs) > 0 {
		h.hs = append(h.hs, body...)
		return s.handshakes(dir, h, t, out)
	}
	h.hs = body
	err := s.handshakes(dir, h, t, out)
	if len(h.hs) == 0 || h.done || err != nil {
		h.hs = nil // never append into the caller's bytes
	} else {
		h.hs = append([]byte(nil), h.hs...)
	}
	return err
}

// handshakes parses every complete handshake message buffered in h.
func (s *stream) handshakes(dir dissect.Direction, h *half, t time.Time, out dissect.Emitter) error {
	for len(h.hs) >= 4 {
		typ, n := h.hs[0], int(h.hs[1])<<16|int(h.hs[2])<<8|int(h.hs[3])
		if n > maxHandshake {
			return fmt.Errorf("tls %s: handshake message type %d of %d bytes, giving up", dir, typ, n)
		}
		if len(h.hs) < 4+n {
			return nil
		}
		msg := h.hs[4 : 4+n]
		h.hs = h.hs[4+n:]
		var err error
		switch {
		case typ == hsClientHello && dir == dissect.FromClient:
			err = s.clientHello(msg, t, out)
			h.done = true
		case typ == hsServerHello && dir == dissect.FromServer:
			err = s.serverHello(msg, t, out)
			if s.version == 0x0304 {
				h.done = true // the rest is encrypted
			}
		case typ == hsCertificate && dir == dissect.FromServer && !s.sawCert:
			s.sawCert = true
			err = s.certificate(msg, t, out)
		case typ == hsServerDone:
			h.done = true
		}
		if err != nil {
			return err
		}
		if h.done {
			return nil
		}
	}
	return nil
}

// Gap implements dissect.Stream: after lost bytes records cannot be found
// again, so the direction is abandoned.
func (s *stream) Gap(dir dissect.Direction) {
	s.dir[dir] = half{done: true}
}

// End implements dissect.Stream.
func (s *stream) End(dissect.Emitter) {}

// Done implements dissect.Finisher: both directions are past what can be
// read in clear.
func (s *stream) Done() bool { return s.dir[0].done && s.dir[1].done }

func (s *stream) observe(out dissect.Emitter, dir dissect.Direction, t time.Time, field, value string) {
	if value == "" {
		return
	}
	ep := s.flow.Sender(dir)
	out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
}

// report files a finding against the server, with the client as peer.
func (s *stream) report(out dissect.Emitter, t time.Time, kind, sev, detail string) {
	out.Report(dissect.Finding{
		Time: t, Protocol: Name, Kind: kind, Severity: sev, Detail: detail,
		MAC: s.flow.Server.MAC, IP: s.flow.Server.Addr.Addr(), Peer: s.flow.Client.Addr,
	})
}

// ClientHello is the part of a ClientHello this package uses.
type ClientHello struct {
	LegacyVersion uint16
	Ciphers       []uint16
	Extensions    []uint16 // in wire order
	SNI           string
	ALPN          []string
	Versions      []uint16 // supported_versions, wire order
	SigAlgs       []uint16 // signature_algorithms, wire order
}

// ParseClientHello parses the body of a ClientHello handshake message.
func ParseClientHello(msg []byte) (*ClientHello, error) {
	r := reader{b: msg}
	ch := &ClientHello{LegacyVersion: r.u16()}
	r.skip(32)
	r.skip(int(r.u8()))
	cs := r.sub(int(r.u16()))
	for cs.ok() && len(cs.b) >= 2 {
		ch.Ciphers = append(ch.Ciphers, cs.u16())
	}
	r.skip(int(r.u8()))
	if !r.ok() {
		return nil, errors.New("truncated before extensions")
	}
	if len(r.b) == 0 {
		return ch, nil // no extensions (SSL 3.0 style)
	}
	exts := r.sub(int(r.u16()))
	if !r.ok() {
		return nil, errors.New("extensions length past end of message")
	}
	for len(exts.b) >= 4 {
		typ := exts.u16()
		body := exts.sub(int(exts.u16()))
		if !exts.ok() {
			return nil, fmt.Errorf("extension %#04x: length past end", typ)
		}
		ch.Extensions = append(ch.Extensions, typ)
		switch typ {
		case extServerName:
			list := body.sub(int(body.u16()))
			for list.ok() && len(list.b) >= 3 {
				nt := list.u8()
				name := list.bytes(int(list.u16()))
				if list.ok() && nt == 0 && ch.SNI == "" {
					ch.SNI = printable(name)
				}
			}
		case extALPN:
			list := body.sub(int(body.u16()))
			for list.ok() && len(list.b) >= 1 {
				p := list.bytes(int(list.u8()))
				if list.ok() {
					ch.ALPN = append(ch.ALPN, string(p))
				}
			}
		case extSupportedVersions:
			list := body.sub(int(body.u8()))
			for list.ok() && len(list.b) >= 2 {
				ch.Versions = append(ch.Versions, list.u16())
			}
		case extSignatureAlgorithms:
			list := body.sub(int(body.u16()))
			for list.ok() && len(list.b) >= 2 {
				ch.SigAlgs = append(ch.SigAlgs, list.u16())
			}
		}
	}
	return ch, nil
}

func (s *stream) clientHello(msg []byte, t time.Time, out dissect.Emitter) error {
	ch, err := ParseClientHello(msg)
	if err != nil {
		return fmt.Errorf("tls client hello: %w", err)
	}
	dir := dissect.FromClient
	s.observe(out, dir, t, "tls.sni", ch.SNI)
	var f *helloFacts
	if s.hellos != nil {
		f = s.hellos.facts(ch)
	} else {
		f = makeHelloFacts(ch)
	}
	s.observe(out, dir, t, "tls.alpn", f.alpn)
	s.observe(out, dir, t, "tls.client_versions", f.versions)
	s.observe(out, dir, t, "tls.client_ciphers", f.ciphers)
	s.observe(out, dir, t, "tls.ja4", f.ja4)
	return nil
}

// helloFacts is what clientHello reports of a ClientHello besides the SNI.
type helloFacts struct {
	alpn, versions, ciphers, ja4 string
}

func makeHelloFacts(ch *ClientHello) *helloFacts {
	var alpn []string
	for _, p := range ch.ALPN {
		alpn = append(alpn, printable([]byte(p)))
	}
	var vers []string
	offered := ch.Versions
	if len(offered) == 0 {
		offered = []uint16{ch.LegacyVersion}
	}
	for _, v := range offered {
		if !isGREASE(v) {
			vers = append(vers, VersionName(v))
		}
	}
	var ciphers []string
	for _, c := range ch.Ciphers {
		if !isGREASE(c) && len(ciphers) < 128 {
			ciphers = append(ciphers, CipherName(c))
		}
	}
	return &helloFacts{alpn: join(alpn), versions: join(vers), ciphers: join(ciphers), ja4: JA4(ch, 't')}
}

// helloCache maps the fields of a ClientHello that helloFacts depend on
// (all but the SNI's text) to the facts: a client sends the same hello,
// bar its random values and server name, on every connection, and the
// names, lists and JA4 hashes were most of the cost of one.
type helloCache struct {
	mu  sync.Mutex
	m   map[string]*helloFacts
	key []byte // scratch, under mu
}

// Bounds of the hello cache: entries (when full it starts afresh) and the
// longest key kept.
const (
	maxHelloCache = 4096
	maxHelloKey   = 2048
)

func (c *helloCache) facts(ch *ClientHello) *helloFacts {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := helloKey(c.key[:0], ch)
	c.key = k
	if !ok {
		return makeHelloFacts(ch)
	}
	if f, hit := c.m[string(k)]; hit {
		return f
	}
	f := makeHelloFacts(ch)
	if c.m == nil || len(c.m) >= maxHelloCache {
		c.m = make(map[string]*helloFacts)
	}
	c.m[string(k)] = f
	return f
}

// helloKey appends the fields makeHelloFacts reads, each list
// length-prefixed; false when the key would be longer than maxHelloKey.
func helloKey(b []byte, ch *ClientHello) ([]byte, bool) {
	u16s := func(vs []uint16) {
		b = binary.BigEndian.AppendUint16(b, uint16(len(vs)))
		for _, v := range vs {
			b = binary.BigEndian.AppendUint16(b, v)
		}
	}
	n := 2 + 1 + 8 + 2*(len(ch.Ciphers)+len(ch.Extensions)+len(ch.Versions)+len(ch.SigAlgs)) + 2
	for _, p := range ch.ALPN {
		n += 2 + len(p)
	}
	if n > maxHelloKey {
		return b, false
	}
	b = binary.BigEndian.AppendUint16(b, ch.LegacyVersion)
	if ch.SNI != "" {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	u16s(ch.Ciphers)
	u16s(ch.Extensions)
	u16s(ch.Versions)
	u16s(ch.SigAlgs)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ch.ALPN)))
	for _, p := range ch.ALPN {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = append(b, p...)
	}
	return b, true
}

func (s *stream) serverHello(msg []byte, t time.Time, out dissect.Emitter) error {
	r := reader{b: msg}
	version := r.u16()
	r.skip(32)
	r.skip(int(r.u8()))
	cipher := r.u16()
	r.skip(1)
	if !r.ok() {
		return errors.New("tls server hello: truncated")
	}
	var alpn string
	if len(r.b) >= 2 {
		exts := r.sub(int(r.u16()))
		for exts.ok() && len(exts.b) >= 4 {
			typ := exts.u16()
			body := exts.sub(int(exts.u16()))
			switch typ {
			case extSupportedVersions:
				if v := body.u16(); body.ok() {
					version = v
				}
			case extALPN:
				list := body.sub(int(body.u16()))
				if p := list.bytes(int(list.u8())); list.ok() {
					alpn = printable(p)
				}
			}
		}
	}
	s.version = version
	dir := dissect.FromServer
	vname := VersionName(version)
	s.observe(out, dir, t, "tls.version", vname)
	cname := CipherName(cipher)
	s.observe(out, dir, t, "tls.cipher", cname)
	s.observe(out, dir, t, "tls.alpn", alpn)
	switch version {
	case 0x0300:
		s.report(out, t, "tls-weak-version", "high", "server negotiated SSL 3.0 (broken by POODLE; prohibited by RFC 7568)")
	case 0x0301, 0x0302:
		s.report(out, t, "tls-weak-version", "medium", fmt.Sprintf("server negotiated %s (deprecated by RFC 8996)", vname))
	}
	if why := weakCipher(cname); why != "" {
		s.report(out, t, "tls-weak-cipher", "high", fmt.Sprintf("server chose cipher suite %s (%s)", cname, why))
	}
	return nil
}

// sslv2 handles an SSL 2.0 CLIENT-HELLO (also sent by old SSL 3.0/TLS
// clients for compatibility) or SERVER-HELLO (the server speaks SSL 2.0).
func (s *stream) sslv2(dir dissect.Direction, msg []byte, t time.Time, out dissect.Emitter) error {
	r := reader{b: msg}
	switch typ := r.u8(); {
	case typ == 1 && dir == dissect.FromClient:
		v := r.u16()
		if !r.ok() {
			return errors.New("tls ssl 2.0 client hello: truncated")
		}
		s.observe(out, dir, t, "tls.client_versions", VersionName(v))
		if v == 0x0002 {
			s.dir[dir].done = true
		}
	case typ == 4 && dir == dissect.FromServer:
		r.skip(2) // session id hit, certificate type
		v := r.u16()
		certLen := int(r.u16())
		r.skip(4)
		der := r.bytes(certLen)
		if !r.ok() {
			return errors.New("tls ssl 2.0 server hello: truncated")
		}
		s.version = v
		s.observe(out, dir, t, "tls.version", VersionName(v))
		s.report(out, t, "tls-weak-version", "high", "server negotiated SSL 2.0 (broken; prohibited by RFC 6176)")
		s.dir[dir].done = true
		if len(der) > 0 {
			s.sawCert = true
			return s.leaf(der, t, out)
		}
	default:
		return fmt.Errorf("tls %s: ssl 2.0 message type %d: %w", dir, typ, errGiveUp)
	}
	return nil
}

// certificate handles a TLS ≤ 1.2 Certificate message: the first entry is
// the server's own (leaf) certificate.
func (s *stream) certificate(msg []byte, t time.Time, out dissect.Emitter) error {
	r := reader{b: msg}
	list := r.sub(int(r.u24()))
	der := list.bytes(int(list.u24()))
	if !list.ok() || len(der) == 0 {
		if len(msg) == 3 && msg[0] == 0 && msg[1] == 0 && msg[2] == 0 {
			return nil // empty chain
		}
		return errors.New("tls certificate message: truncated")
	}
	return s.leaf(der, t, out)
}

// certFacts is what leaf reports of a certificate, apart from what depends
// on when it was seen.
type certFacts struct {
	parsed                      bool // false: not parseable, only sha256 is set
	sha256                      string
	subjectCN, issuerCN         string
	notBeforeText, notAfterText string // RFC 3339
	notBeforeDate, notAfterDate string // time.DateOnly
	notBefore, notAfter         time.Time
	key                         string
	bits                        int
	name                        string // for findings
	pubAlg                      x509.PublicKeyAlgorithm
	selfSigned                  bool
	sigAlg                      x509.SignatureAlgorithm
	sigAlgName                  string
}

// maxCertCache bounds the certificates (their DER bytes) whose facts a
// dissector keeps: servers present the same certificate on every
// connection, and parsing it (x509 and SHA-256) was most of the cost of a
// TLS handshake. When full, the cache starts afresh.
const maxCertCache = 2 << 20

// certCache maps a certificate's DER to its facts.
type certCache struct {
	mu    sync.Mutex
	m     map[string]*certFacts
	bytes int // of the keys
}

func (c *certCache) facts(der []byte) *certFacts {
	c.mu.Lock()
	f, ok := c.m[string(der)]
	c.mu.Unlock()
	if ok {
		return f
	}
	f = parseCertFacts(der)
	if len(der) > maxCertCache/64 {
		return f // not worth a large share of the cache
	}
	c.mu.Lock()
	if c.m == nil || c.bytes+len(der) > maxCertCache {
		c.m, c.bytes = make(map[string]*certFacts), 0
	}
	if _, ok := c.m[string(der)]; !ok {
		c.m[string(der)] = f
		c.bytes += len(der)
	}
	c.mu.Unlock()
	return f
}

func parseCertFacts(der []byte) *certFacts {
	sum := sha256.Sum256(der)
	f := &certFacts{sha256: hex.EncodeToString(sum[:])}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return f
	}
	f.parsed = true
	f.subjectCN = printable([]byte(cert.Subject.CommonName))
	f.issuerCN = printable([]byte(cert.Issuer.CommonName))
	f.notBefore, f.notAfter = cert.NotBefore, cert.NotAfter
	f.notBeforeText = cert.NotBefore.UTC().Format(time.RFC3339)
	f.notAfterText = cert.NotAfter.UTC().Format(time.RFC3339)
	f.notBeforeDate = cert.NotBefore.UTC().Format(time.DateOnly)
	f.notAfterDate = cert.NotAfter.UTC().Format(time.DateOnly)
	f.key, f.bits = KeyDescription(cert)
	name := cert.Subject.CommonName
	if name == "" {
		name = cert.Subject.String()
	}
	f.name = printable([]byte(name))
	f.pubAlg = cert.PublicKeyAlgorithm
	f.selfSigned = selfSigned(cert)
	f.sigAlg = cert.SignatureAlgorithm
	f.sigAlgName = cert.SignatureAlgorithm.String()
	return f
}

// leaf reports on the server's own certificate.
func (s *stream) leaf(der []byte, t time.Time, out dissect.Emitter) error {
	var c *certFacts
	if s.certs != nil {
		c = s.certs.facts(der)
	} else {
		c = parseCertFacts(der)
	}
	if !c.parsed {
		// Still worth a stable identity for the certificate.
		s.observe(out, dissect.FromServer, t, "tls.cert_sha256", c.sha256)
		return nil
	}
	dir := dissect.FromServer
	s.observe(out, dir, t, "tls.cert_subject_cn", c.subjectCN)
	s.observe(out, dir, t, "tls.cert_issuer_cn", c.issuerCN)
	s.observe(out, dir, t, "tls.cert_not_before", c.notBeforeText)
	s.observe(out, dir, t, "tls.cert_not_after", c.notAfterText)
	key, bits := c.key, c.bits
	s.observe(out, dir, t, "tls.cert_key", key)
	s.observe(out, dir, t, "tls.cert_sha256", c.sha256)

	name := c.name
	if !t.IsZero() && t.After(c.notAfter) {
		s.report(out, t, "tls-expired-cert", "medium", fmt.Sprintf("server certificate %q expired on %s", name, c.notAfterDate))
	} else if !t.IsZero() && t.Before(c.notBefore) {
		s.report(out, t, "tls-expired-cert", "medium", fmt.Sprintf("server certificate %q is not valid before %s", name, c.notBeforeDate))
	}
	if c.selfSigned {
		s.report(out, t, "tls-self-signed-cert", "medium", fmt.Sprintf("server certificate %q is self-signed", name))
	}
	switch {
	case c.pubAlg == x509.RSA && bits < 1024:
		s.report(out, t, "tls-weak-key", "high", fmt.Sprintf("server certificate %q has a %s key (below 1024 bits is breakable)", name, key))
	case c.pubAlg == x509.RSA && bits < 2048:
		s.report(out, t, "tls-weak-key", "medium", fmt.Sprintf("server certificate %q has a %s key (NIST SP 800-131A requires at least 2048)", name, key))
	case c.pubAlg == x509.DSA:
		s.report(out, t, "tls-weak-key", "medium", fmt.Sprintf("server certificate %q has a %s key (DSA is disallowed for signing by FIPS 186-5)", name, key))
	}
	switch c.sigAlg {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		if !c.selfSigned {
			s.report(out, t, "tls-weak-signature", "medium", fmt.Sprintf("server certificate %q is signed with %s", name, c.sigAlgName))
		}
	}
	return nil
}

// selfSigned reports whether the certificate names itself as issuer and,
// when both key identifiers are present, they agree.
func selfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawSubject, c.RawIssuer) {
		return false
	}
	if len(c.AuthorityKeyId) > 0 && len(c.SubjectKeyId) > 0 {
		return bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId)
	}
	return true
}

// KeyDescription names a certificate's public key as "RSA 2048",
// "ECDSA P-256", "Ed25519" or "DSA 1024", and returns its size in bits
// (0 when unknown).
func KeyDescription(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen()), k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name, k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	case *dsa.PublicKey:
		return fmt.Sprintf("DSA %d", k.P.BitLen()), k.P.BitLen()
	}
	if c.PublicKeyAlgorithm != x509.UnknownPublicKeyAlgorithm {
		return c.PublicKeyAlgorithm.String(), 0
	}
	return "unknown", 0
}

// VersionName names a protocol version as in the observation contract.
func VersionName(v uint16) string {
	switch v {
	case 0x0002:
		return "SSL 2.0"
	case 0x0300:
		return "SSL 3.0"
	case 0x0301:
		return "TLS 1.0"
	case 0x0302:
		return "TLS 1.1"
	case 0x0303:
		return "TLS 1.2"
	case 0x0304:
		return "TLS 1.3"
	}
	if v>>8 == 0x7f { // TLS 1.3 drafts
		return fmt.Sprintf("TLS 1.3 draft %d", v&0xff)
	}
	return fmt.Sprintf("0x%04x", v)
}

// isGREASE reports RFC 8701 reserved values (0x0a0a, 0x1a1a, … 0xfafa).
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

func join(s []string) string { return strings.Join(s, ",") }

// printable returns b with control and non-ASCII bytes replaced by '.',
// capped at 256 bytes: names from the wire are untrusted.
func printable(b []byte) string {
	if len(b) > 256 {
		b = b[:256]
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

// reader is a bounds-checked big-endian cursor; after a short read ok()
// is false and every further read returns zero values.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) ok() bool { return !r.bad }

func (r *reader) bytes(n int) []byte {
	if r.bad || n < 0 || n > len(r.b) {
		r.bad, r.b = true, nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) skip(n int) { r.bytes(n) }

func (r *reader) sub(n int) reader {
	b := r.bytes(n)
	return reader{b: b, bad: r.bad}
}

func (r *reader) u8() uint8 {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return 0
}

func (r *reader) u24() uint32 {
	if b := r.bytes(3); b != nil {
		return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
	}
	return 0
}
