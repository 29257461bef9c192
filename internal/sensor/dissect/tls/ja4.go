package tls

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// JA4 computes the JA4 client fingerprint of a ClientHello as specified by
// FoxIO (github.com/FoxIO-LLC/ja4, technical_details/JA4.md). transport is
// 't' for TCP, 'q' for QUIC and 'd' for DTLS.
//
// JA4 = a_b_c where a is transport, version (highest supported_versions
// value, else the legacy version), 'd' when SNI is present else 'i', the
// number of ciphers and of extensions (two digits each, GREASE ignored,
// capped at 99) and the first and last character of the first ALPN value
// ("00" without ALPN); b is the first 12 hex digits of the SHA-256 of the
// sorted cipher list; c the same over the sorted extensions (without SNI and
// ALPN) followed by "_" and the signature algorithms in wire order.
func JA4(ch *ClientHello, transport byte) string {
	var sb strings.Builder
	sb.WriteByte(transport)

	v := ch.LegacyVersion
	if len(ch.Versions) > 0 {
		v = 0
		for _, x := range ch.Versions {
			if !isGREASE(x) && x > v {
				v = x
			}
		}
	}
	sb.WriteString(ja4Version(v))
	if ch.SNI != "" || slices.Contains(ch.Extensions, extServerName) {
		sb.WriteByte('d')
	} else {
		sb.WriteByte('i')
	}

	ciphers := hexList(ch.Ciphers)
	var exts []string
	nExt := 0
	for _, e := range ch.Extensions {
		if isGREASE(e) {
			continue
		}
		nExt++
		if e != extServerName && e != extALPN {
			exts = append(exts, hexList([]uint16{e})...)
		}
	}
	fmt.Fprintf(&sb, "%02d%02d", min(len(ciphers), 99), min(nExt, 99))
	sb.WriteString(alpnChars(ch.ALPN))
	sb.WriteByte('_')

	slices.Sort(ciphers)
	sb.WriteString(hash12(strings.Join(ciphers, ",")))
	sb.WriteByte('_')

	slices.Sort(exts)
	c := strings.Join(exts, ",")
	if sig := hexList(ch.SigAlgs); len(sig) > 0 {
		c += "_" + strings.Join(sig, ",")
	}
	if len(exts) == 0 {
		sb.WriteString("000000000000")
	} else {
		sb.WriteString(hash12(c))
	}
	return sb.String()
}

func ja4Version(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// alpnChars is JA4's two-character ALPN summary.
func alpnChars(alpn []string) string {
	if len(alpn) == 0 || alpn[0] == "" {
		return "00"
	}
	p := alpn[0]
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return string([]byte{first, last})
	}
	h := hex.EncodeToString([]byte(p))
	return string([]byte{h[0], h[len(h)-1]})
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func hexList(vs []uint16) []string {
	const digits = "0123456789abcdef"
	out := make([]string, 0, len(vs))
	buf := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		if !isGREASE(v) {
			start := len(buf)
			buf = append(buf, digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15])
			out = append(out, string(buf[start:]))
		}
	}
	return out
}

func hash12(s string) string {
	if s == "" {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
