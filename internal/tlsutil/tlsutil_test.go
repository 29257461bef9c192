package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var now = time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	hosts := []string{"localhost", "127.0.0.1", "::1", "medwarden.hospital.example"}
	first, err := LoadOrCreate(dir, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created {
		t.Error("first start did not report a created certificate")
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("tls directory mode %v, want 0700", di.Mode().Perm())
	}
	leaf, err := x509.ParseCertificate(first.Cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if diff := cmp.Diff([]string{"127.0.0.1", "::1"}, ips); diff != "" {
		t.Errorf("IP SANs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"localhost", "medwarden.hospital.example"}, leaf.DNSNames); diff != "" {
		t.Errorf("DNS SANs (-want +got):\n%s", diff)
	}
	if first.Fingerprint != Fingerprint(leaf.Raw) || len(first.Fingerprint) != 95 {
		t.Errorf("fingerprint %q", first.Fingerprint)
	}

	// Second start: the same certificate.
	again, err := LoadOrCreate(dir, hosts, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Fingerprint != first.Fingerprint {
		t.Errorf("restart regenerated the certificate (created=%v)", again.Created)
	}
	// A new listen address not covered: regenerated.
	moved, err := LoadOrCreate(dir, append(hosts, "10.20.30.40"), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !moved.Created || moved.Fingerprint == first.Fingerprint {
		t.Error("a new SAN did not regenerate the certificate")
	}
	// Close to expiry: regenerated.
	late, err := LoadOrCreate(dir, hosts, now.Add(Validity-RenewBefore/2))
	if err != nil {
		t.Fatal(err)
	}
	if !late.Created {
		t.Error("a certificate close to expiry was kept")
	}
	// A damaged key is an error, not a silent replacement.
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir, hosts, now); err == nil {
		t.Error("damaged key accepted")
	}
}

func TestHosts(t *testing.T) {
	tests := []struct {
		addr string
		want []string
	}{
		{"127.0.0.1:8443", []string{"localhost", "127.0.0.1", "::1"}},
		{"[::1]:8443", []string{"localhost", "127.0.0.1", "::1"}},
		{"medwarden.example:443", []string{"localhost", "127.0.0.1", "::1", "medwarden.example"}},
		{"10.1.2.3:8443", []string{"localhost", "127.0.0.1", "::1", "10.1.2.3"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, Hosts(tt.addr)); diff != "" {
			t.Errorf("Hosts(%q) (-want +got):\n%s", tt.addr, diff)
		}
	}
	if h := Hosts(":8443"); len(h) < 4 {
		t.Errorf("Hosts(:8443) = %v, want the host name and interface addresses too", h)
	}
}

// TestServerConfigRefusesOldTLS handshakes over loopback: TLS 1.0 and 1.1
// and non-AEAD suites are refused, 1.2 and 1.3 work.
func TestServerConfigRefusesOldTLS(t *testing.T) {
	certPEM, keyPEM, err := Generate([]string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", ServerConfig(cert))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), ReadHeaderTimeout: time.Second}
	go srv.Serve(ln) //nolint:errcheck // closed below
	t.Cleanup(func() { srv.Close() })
	pool, err := CertPool(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		min, max uint16
		suites   []uint16
		ok       bool
	}{
		{"tls1.0", tls.VersionTLS10, tls.VersionTLS10, nil, false},
		{"tls1.1", tls.VersionTLS11, tls.VersionTLS11, nil, false},
		{"tls1.2", tls.VersionTLS12, tls.VersionTLS12, nil, true},
		{"tls1.3", tls.VersionTLS13, tls.VersionTLS13, nil, true},
		{"tls1.2_cbc_only", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(),
				&tls.Config{RootCAs: pool, MinVersion: tt.min, MaxVersion: tt.max, CipherSuites: tt.suites, ServerName: "127.0.0.1"})
			if c != nil {
				c.Close()
			}
			if (err == nil) != tt.ok {
				t.Errorf("handshake error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Generate([]string{"localhost", "127.0.0.1"}, now); err != nil {
			b.Fatal(err)
		}
	}
}
