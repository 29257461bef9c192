package tls

import (
	"strings"
)

// CipherName returns the IANA name of a cipher suite, or "0xNNNN".
func CipherName(id uint16) string {
	if n, ok := ianaSuites[id]; ok {
		return n
	}
	const digits = "0123456789ABCDEF"
	return string([]byte{'0', 'x', digits[id>>12], digits[id>>8&15], digits[id>>4&15], digits[id&15]}) // unassigned
}

// weakCipher says why a negotiated suite is weak, or "" when it is not.
func weakCipher(name string) string {
	switch {
	case strings.Contains(name, "_NULL_"), strings.HasSuffix(name, "_NULL"):
		return "no encryption"
	case strings.Contains(name, "_anon_"):
		return "no server authentication"
	case strings.Contains(name, "EXPORT"):
		return "export-grade"
	case strings.Contains(name, "_RC4_"):
		return "RC4 is prohibited by RFC 7465"
	case strings.Contains(name, "_DES_"), strings.Contains(name, "_DES40_"):
		return "single DES"
	case strings.Contains(name, "_RC2_"):
		return "RC2"
	case strings.Contains(name, "_IDEA_"):
		return "IDEA has a 64-bit block (Sweet32)"
	case strings.Contains(name, "3DES"):
		return "3DES is vulnerable to Sweet32"
	}
	return ""
}
