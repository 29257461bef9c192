// Package jsonesc writes JSON strings exactly as encoding/json of Go 1.26
// does, independently of the Go version a binary is built with.
//
// Two things depend on these bytes: the reflection-free device JSON of the
// API (which must equal what encoding/json writes) and the canonical JSON
// the audit log hashes (which must not change when the toolchain does:
// an entry hashed by one build must verify in the next). Go 1.27's
// encoding/json, for one, writes invalid UTF-8 as a raw U+FFFD where Go
// 1.26 writes \ufffd.
package jsonesc

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// Append appends s as a JSON string: '"' and '\\' escaped, control
// characters as \b \f \n \r \t or \u00XX, '<', '>' and '&' as \u003c
// \u003e \u0026 (HTML-safe), U+2028 and U+2029 as \u2028 \u2029, each
// byte of invalid UTF-8 as \ufffd; everything else as is.
func Append(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
