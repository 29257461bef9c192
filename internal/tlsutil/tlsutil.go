// Package tlsutil gives MedWarden TLS by default: a hardened server
// configuration (TLS 1.2+, forward-secret AEAD suites only) and, when the
// operator supplies no certificate, a self-signed ECDSA P-256 certificate
// generated on first start and kept in the data directory.
package tlsutil

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/atomicfile"
)

// File names of the generated certificate and key in the TLS directory.
const (
	CertFile = "medwarden.crt"
	KeyFile  = "medwarden.key"
)

// Validity of a generated certificate, and how long before expiry it is
// replaced at start.
const (
	Validity    = 397 * 24 * time.Hour
	RenewBefore = 30 * 24 * time.Hour
)

// ServerConfig returns the TLS configuration MedWarden serves with: TLS
// 1.2 and 1.3 only; on 1.2 only ECDHE key exchange with AES-GCM or
// ChaCha20-Poly1305 (TLS 1.3 suites are all AEAD and not configurable).
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384},
		NextProtos:       []string{"h2", "http/1.1"},
	}
}

// Fingerprint is the SHA-256 of a certificate's DER, as colon-separated
// upper-case hex (the form browsers show).
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// Generate makes a self-signed ECDSA P-256 server certificate valid from
// now for Validity, with the given host names and IP addresses as SANs.
// It returns the certificate and the PKCS#8 private key, PEM encoded.
func Generate(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate tls key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate tls serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "MedWarden self-signed", Organization: []string{"MedWarden"}},
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // self-signed: lets a browser or curl --cacert trust it directly
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create tls certificate: %w", err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode tls key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), nil
}

// Hosts returns the SANs a self-signed certificate for listen address addr
// should carry: the address's host (unless unspecified), localhost,
// 127.0.0.1 and ::1; for an unspecified host (":8443", "0.0.0.0") also
// the machine's host name and interface addresses.
func Hosts(addr string) []string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	out := []string{"localhost", "127.0.0.1", "::1"}
	ip := net.ParseIP(host)
	switch {
	case host == "" || (ip != nil && ip.IsUnspecified()):
		if name, err := os.Hostname(); err == nil && name != "" {
			out = append(out, name)
		}
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() {
					out = append(out, n.IP.String())
				}
			}
		}
	default:
		out = append(out, host)
	}
	var uniq []string
	for _, h := range out {
		if !slices.Contains(uniq, h) {
			uniq = append(uniq, h)
		}
	}
	return uniq
}

// Loaded is the certificate a server uses.
type Loaded struct {
	Cert        tls.Certificate
	Fingerprint string
	NotAfter    time.Time
	// Created is true when the certificate was generated on this start.
	Created bool
	// CertPath is the PEM file (for clients: curl --cacert).
	CertPath string
}

// Load reads an operator-supplied certificate chain and key (PEM).
func Load(certPath, keyPath string) (*Loaded, error) {
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("tls certificate %s / key %s: %w", certPath, keyPath, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("tls certificate %s: %w", certPath, err)
	}
	return &Loaded{Cert: cert, Fingerprint: Fingerprint(leaf.Raw), NotAfter: leaf.NotAfter, CertPath: certPath}, nil
}

// LoadOrCreate returns the self-signed certificate kept in dir, generating
// it (and dir, mode 0700) when it is missing, expires within RenewBefore,
// or lacks one of hosts. The key is written with mode 0600; both files are
// written atomically (temporary file, fsync, rename).
func LoadOrCreate(dir string, hosts []string, now time.Time) (*Loaded, error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	if l, err := Load(certPath, keyPath); err == nil {
		leaf, perr := x509.ParseCertificate(l.Cert.Certificate[0])
		if perr == nil && now.Add(RenewBefore).Before(leaf.NotAfter) && covers(leaf, hosts) {
			return l, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w (delete both files to generate a new self-signed certificate)", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create tls directory %s: %w", dir, err)
	}
	certPEM, keyPEM, err := Generate(hosts, now)
	if err != nil {
		return nil, err
	}
	if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(certPath, certPEM, 0o644); err != nil {
		return nil, err
	}
	l, err := Load(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	l.Created = true
	return l, nil
}

func covers(c *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if c.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	return atomicfile.Write(path, data, mode)
}

// CertPool returns a pool holding the PEM certificate (for tests and
// clients that pin the self-signed certificate).
func CertPool(certPEM []byte) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(bytes.TrimSpace(certPEM)) {
		return nil, errors.New("no certificate in PEM")
	}
	return p, nil
}
