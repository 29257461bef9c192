package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func csrPEM(t testing.TB, key any) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "admin"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestCAIsKeptAndReloaded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	ca, err := LoadOrCreateCA(dir, t0)
	if err != nil || !ca.Created {
		t.Fatalf("first start: %v created=%v", err, ca != nil && ca.Created)
	}
	if fi, _ := os.Stat(filepath.Join(dir, CAKeyFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", fi.Mode().Perm())
	}
	again, err := LoadOrCreateCA(dir, t0.Add(24*time.Hour))
	if err != nil || again.Created || again.Fingerprint != ca.Fingerprint {
		t.Fatalf("second start: %v created=%v, same root=%v", err, again.Created, again.Fingerprint == ca.Fingerprint)
	}
	if !ca.Cert.IsCA || !ca.Cert.MaxPathLenZero || ca.Cert.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("root %+v", ca.Cert)
	}
	// A key readable by others is refused, not silently used.
	if err := os.Chmod(filepath.Join(dir, CAKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateCA(dir, t0); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key: %v", err)
	}
	os.Chmod(filepath.Join(dir, CAKeyFile), 0o600)
	// Near expiry the root is replaced and the old one kept aside.
	renewed, err := LoadOrCreateCA(dir, ca.Cert.NotAfter.Add(-24*time.Hour))
	if err != nil || !renewed.Created || renewed.Fingerprint == ca.Fingerprint {
		t.Fatalf("near expiry: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, CACertFile+".expired")); err != nil {
		t.Error(err)
	}
}

func TestIssue(t *testing.T) {
	ca, err := LoadOrCreateCA(t.TempDir(), t0)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, err := ParseCSR(csrPEM(t, key))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := NewSensorID()
	is, err := ca.Issue(csr, id, t0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(is.DER)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := SensorID(c); !ok || got != id {
		t.Errorf("SensorID = %q %v, want %s (the CSR's subject %q must be ignored)", got, ok, id, "admin")
	}
	if c.NotAfter.Sub(t0) != CertValidity || len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || c.IsCA {
		t.Errorf("certificate: validity %v, EKU %v, CA %v", c.NotAfter.Sub(t0), c.ExtKeyUsage, c.IsCA)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: t0.Add(time.Hour), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("does not verify against the CA: %v", err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: t0.Add(31 * 24 * time.Hour), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("verifies after 31 days")
	}
	if _, err := ca.Issue(csr, "admin", t0); err == nil {
		t.Error("issued for an id that is not a sensor id")
	}
	if SerialHex(c.SerialNumber) != is.Serial {
		t.Errorf("serial %s vs %s", SerialHex(c.SerialNumber), is.Serial)
	}
}

func TestSensorIDNeedsMatchingCNAndURI(t *testing.T) {
	u := func(s string) []*url.URL { p, _ := url.Parse(s); return []*url.URL{p} }
	for _, tc := range []struct {
		name string
		c    x509.Certificate
		ok   bool
	}{
		{"match", x509.Certificate{Subject: pkix.Name{CommonName: "sensor-0123456789abcdef"}, URIs: u(URIPrefix + "sensor-0123456789abcdef")}, true},
		{"cn_differs", x509.Certificate{Subject: pkix.Name{CommonName: "sensor-0123456789abcdee"}, URIs: u(URIPrefix + "sensor-0123456789abcdef")}, false},
		{"no_uri", x509.Certificate{Subject: pkix.Name{CommonName: "sensor-0123456789abcdef"}}, false},
		{"other_scheme", x509.Certificate{Subject: pkix.Name{CommonName: "sensor-0123456789abcdef"}, URIs: u("spiffe://x/sensor-0123456789abcdef")}, false},
		{"upper_hex", x509.Certificate{Subject: pkix.Name{CommonName: "sensor-0123456789ABCDEF"}, URIs: u(URIPrefix + "sensor-0123456789ABCDEF")}, false},
	} {
		if _, ok := SensorID(&tc.c); ok != tc.ok {
			t.Errorf("%s: ok=%v, want %v", tc.name, ok, tc.ok)
		}
	}
}

func TestParseCSRRejects(t *testing.T) {
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	good := csrPEM(t, p384)
	tampered := []byte(strings.Replace(string(good), string(good[80:84]), "AAAA", 1))
	for _, tc := range []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"p384", good, true},
		{"rsa1024", csrPEM(t, weak), false},
		{"not_pem", []byte("hello"), false},
		{"wrong_block", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2}}), false},
		{"tampered", tampered, false},
		{"huge", make([]byte, 17<<10), false},
	} {
		_, err := ParseCSR(tc.in)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrBadCSR)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestFingerprintForms(t *testing.T) {
	h := strings.Repeat("ab", 32)
	want := strings.TrimSuffix(strings.Repeat("AB:", 32), ":")
	for _, in := range []string{h, strings.ToUpper(h), want, "SHA256:" + want, " " + want + " "} {
		if got, err := normFingerprint(in); err != nil || got != want {
			t.Errorf("normFingerprint(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"ab", strings.Repeat("zz", 32), h + "ab"} {
		if _, err := normFingerprint(in); err == nil {
			t.Errorf("normFingerprint(%q) accepted", in)
		}
	}
}

func TestEnrolmentTokens(t *testing.T) {
	tok, err := NewEnrolmentToken()
	if err != nil || !LooksLikeEnrolmentToken(tok) {
		t.Fatalf("%q %v", tok, err)
	}
	for _, bad := range []string{"", "mwt_" + tok[4:], tok + "x", tok[:len(tok)-1] + "*"} {
		if LooksLikeEnrolmentToken(bad) {
			t.Errorf("accepted %q", bad)
		}
	}
	if HashEnrolmentToken(tok) == HashEnrolmentToken(tok+"x") || len(HashEnrolmentToken(tok)) != 64 {
		t.Error("hash")
	}
}

func TestRenewDue(t *testing.T) {
	ca, _ := LoadOrCreateCA(t.TempDir(), t0)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := ParseCSR(csrPEM(t, key))
	is, _ := ca.Issue(csr, "sensor-0123456789abcdef", t0)
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, SensorCertFile), is.PEM, 0o644)
	os.WriteFile(filepath.Join(dir, SensorKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600)
	for _, tc := range []struct {
		at  time.Duration
		due bool
	}{{time.Hour, false}, {19 * 24 * time.Hour, false}, {21 * 24 * time.Hour, true}, {40 * 24 * time.Hour, true}} {
		due, exp, err := RenewDue(dir, t0.Add(tc.at))
		if err != nil || due != tc.due || !exp.Equal(is.NotAfter) {
			t.Errorf("at +%v: due=%v exp=%v %v, want due=%v", tc.at, due, exp, err, tc.due)
		}
	}
}

// FuzzParseCSR: arbitrary bytes in the enrolment body's csr field never
// panic, and whatever is accepted has a verified signature and an
// allowed key.
func FuzzParseCSR(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Add(csrPEM(f, key))
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, in []byte) {
		csr, err := ParseCSR(in)
		if err != nil {
			if !errors.Is(err, ErrBadCSR) {
				t.Fatalf("error %v does not wrap ErrBadCSR", err)
			}
			return
		}
		if csr.CheckSignature() != nil {
			t.Fatal("accepted a CSR whose signature does not verify")
		}
	})
}
