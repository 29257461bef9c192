package api_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/pki"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/tlsutil"
)

type sensorEnv struct {
	raw  store.SensorStore
	rec  *recorder.Store
	ca   *pki.CA
	ts   *httptest.Server
	fp   string // server certificate fingerprint
	data string
}

// newSensorServer serves the API over real TLS on loopback, requesting
// client certificates verified against a fresh sensor CA, as 'medwarden
// serve' does.
func newSensorServer(t *testing.T) *sensorEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec, err := recorder.Wrap(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.LoadOrCreateCA(filepath.Join(dir, "pki"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "pki", pki.CAKeyFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("CA key mode %v, want 0600", fi.Mode().Perm())
	}
	l, err := tlsutil.LoadOrCreate(filepath.Join(dir, "tls"), []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Deps{Store: rec, RateLimit: api.RateLimit{PerClient: -1, PerAccount: -1}})
	srv.EnableSensors(ca, st)
	ts := httptest.NewUnstartedServer(srv)
	ts.TLS = pki.RequestClientCerts(tlsutil.ServerConfig(l.Cert), ca)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return &sensorEnv{raw: st, rec: rec, ca: ca, ts: ts, fp: l.Fingerprint, data: dir}
}

func (e *sensorEnv) token(t *testing.T, name string, life time.Duration) string {
	t.Helper()
	tok, err := pki.NewEnrolmentToken()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := e.raw.CreateEnrolmentToken(t.Context(), &store.EnrolmentToken{Hash: pki.HashEnrolmentToken(tok), SensorName: name,
		CreatedAt: now, CreatedBy: "os:alice", ExpiresAt: now.Add(life)}); err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *sensorEnv) enrol(t *testing.T, name string) (string, *pki.CertResponse) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cred")
	resp, err := pki.Enrol(t.Context(), pki.EnrolOptions{Server: e.ts.URL, Token: e.token(t, name, time.Hour), Fingerprint: e.fp, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return dir, resp
}

// tlsCall makes one request on a fresh connection with the client TLS config.
func tlsCall(t *testing.T, tc *tls.Config, method, url string, body any) (int, map[string]any, error) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, url, rd)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

func TestSensorEnrolRenewRevoke(t *testing.T) {
	e := newSensorServer(t)
	dir, resp := e.enrol(t, "icu-span-1")
	if resp.Name != "icu-span-1" || !pki.ValidSensorID(resp.SensorID) {
		t.Fatalf("enrolment answer %+v", resp)
	}
	if d := time.Until(resp.NotAfter); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("certificate valid for %v, want about 30 days", d)
	}
	if fi, err := os.Stat(filepath.Join(dir, pki.SensorKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("sensor key: %v mode %v, want 0600", err, fi.Mode().Perm())
	}
	tc, err := pki.ClientTLSConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	code, who, err := tlsCall(t, tc, "GET", e.ts.URL+"/api/v1/auth/whoami", nil)
	if err != nil || code != 200 || who["sensor"] != resp.SensorID || who["via"] != "client certificate" {
		t.Fatalf("whoami with the sensor certificate: %d %v %v", code, who, err)
	}
	// A sensor holds the sensor scopes only.
	for _, r := range []struct{ method, path string }{{"GET", "/api/v1/devices"}, {"POST", "/api/v1/devices"}, {"GET", "/api/v1/audit"}} {
		code, _, err := tlsCall(t, tc, r.method, e.ts.URL+r.path, map[string]any{})
		if err != nil || code != http.StatusForbidden {
			t.Errorf("sensor %s %s = %d %v, want 403", r.method, r.path, code, err)
		}
	}

	// Renewal with the current certificate: a new serial and key; the old
	// certificate stays valid until it expires.
	oldCert, _ := os.ReadFile(filepath.Join(dir, pki.SensorCertFile))
	oldKey, _ := os.ReadFile(filepath.Join(dir, pki.SensorKeyFile))
	ren, err := pki.Renew(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if ren.SensorID != resp.SensorID || ren.Serial == resp.Serial {
		t.Fatalf("renewal %+v after %+v", ren, resp)
	}
	newKey, _ := os.ReadFile(filepath.Join(dir, pki.SensorKeyFile))
	if bytes.Equal(oldKey, newKey) {
		t.Error("renewal kept the old key")
	}
	code, who, _ = tlsCall(t, tc, "GET", e.ts.URL+"/api/v1/auth/whoami", nil)
	if code != 200 || who["certificate_serial"] != ren.Serial {
		t.Errorf("after renewal whoami = %d %v, want the new serial %s", code, who, ren.Serial)
	}
	oldPair, err := tls.X509KeyPair(oldCert, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	oldTC := tc.Clone()
	oldTC.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &oldPair, nil }
	if code, _, _ := tlsCall(t, oldTC, "GET", e.ts.URL+"/api/v1/auth/whoami", nil); code != 200 {
		t.Errorf("previous certificate before its expiry = %d, want 200", code)
	}

	// Revocation: both certificates are refused at once.
	if err := e.raw.RevokeSensor(t.Context(), resp.SensorID, time.Now()); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*tls.Config{"current": tc, "previous": oldTC} {
		code, p, err := tlsCall(t, c, "GET", e.ts.URL+"/api/v1/auth/whoami", nil)
		if err != nil || code != http.StatusUnauthorized {
			t.Errorf("revoked sensor, %s certificate: %d %v %v, want 401", name, code, p, err)
		}
	}
	if _, err := pki.Renew(t.Context(), dir); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("renewal by a revoked sensor: %v, want 401", err)
	}

	// Audit: the enrolment and the renewal, attributed to the sensor.
	es, err := e.rec.ListAudit(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range es {
		if en.ActorKind == "sensor" && en.Actor == "sensor:"+resp.SensorID {
			actions = append(actions, en.Action)
		}
	}
	if strings.Join(actions, ",") != "sensor.enrol,sensor.renew" {
		t.Errorf("audited sensor actions %v, want enrol and renew", actions)
	}
}

func TestSensorEnrolmentTokenIsOneTime(t *testing.T) {
	e := newSensorServer(t)
	tok := e.token(t, "lab-span", time.Hour)
	opts := pki.EnrolOptions{Server: e.ts.URL, Token: tok, Fingerprint: e.fp, Dir: filepath.Join(t.TempDir(), "a")}
	if _, err := pki.Enrol(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	opts.Dir = filepath.Join(t.TempDir(), "b")
	if _, err := pki.Enrol(t.Context(), opts); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("second use of a token: %v, want 401", err)
	}
	expired := e.token(t, "ed-span", time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	opts = pki.EnrolOptions{Server: e.ts.URL, Token: expired, Fingerprint: e.fp, Dir: filepath.Join(t.TempDir(), "c")}
	if _, err := pki.Enrol(t.Context(), opts); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("expired token: %v, want 401", err)
	}
	// A wrong pinned fingerprint stops the client before it sends the token.
	opts = pki.EnrolOptions{Server: e.ts.URL, Token: e.token(t, "or-span", time.Hour), Fingerprint: strings.Repeat("AB", 32), Dir: filepath.Join(t.TempDir(), "d")}
	if _, err := pki.Enrol(t.Context(), opts); err == nil || !strings.Contains(err.Error(), "does not match the pinned") {
		t.Errorf("wrong server fingerprint: %v", err)
	}
	code, p, _ := tlsCall(t, &tls.Config{InsecureSkipVerify: true}, "POST", e.ts.URL+pki.EnrolPath, map[string]any{"token": tok, "csr": "garbage"})
	if code != http.StatusBadRequest {
		t.Errorf("garbage csr: %d %v, want 400", code, p)
	}
}

// selfSigned makes a client certificate for id signed by key itself or by
// the given CA certificate and key.
func clientCert(t *testing.T, id string, notBefore, notAfter time.Time, parent *x509.Certificate, parentKey any) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: id}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, _ := x509.ParseCertificateRequest(der)
	tmpl := &x509.Certificate{SerialNumber: big1(), Subject: pkix.Name{CommonName: id}, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	cd, err := x509.CreateCertificate(rand.Reader, tmpl, parent, csr.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{cd}, PrivateKey: key}
}

func TestSensorUnknownAndExpiredCertificatesAreRefused(t *testing.T) {
	e := newSensorServer(t)
	_, resp := e.enrol(t, "ct-span")
	withCert := func(c tls.Certificate) *tls.Config {
		return &tls.Config{InsecureSkipVerify: true, GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }}
	}
	// Signed by another authority: the TLS handshake fails.
	foreign := clientCert(t, resp.SensorID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), nil, nil)
	if code, _, err := tlsCall(t, withCert(foreign), "GET", e.ts.URL+"/api/v1/auth/whoami", nil); err == nil {
		t.Errorf("certificate from another CA: %d, want a failed handshake", code)
	}
	// Issued by the CA, but expired: the handshake fails too.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csrDER, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	csr, _ := x509.ParseCertificateRequest(csrDER)
	old, err := e.ca.Issue(csr, resp.SensorID, time.Now().Add(-40*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.raw.AddSensorCert(t.Context(), &store.SensorCert{Serial: old.Serial, SensorID: resp.SensorID, NotBefore: old.NotBefore, NotAfter: old.NotAfter, IssuedAt: old.NotBefore}); err != nil {
		t.Fatal(err)
	}
	expired := tls.Certificate{Certificate: [][]byte{old.DER}, PrivateKey: key}
	if code, _, err := tlsCall(t, withCert(expired), "GET", e.ts.URL+"/api/v1/auth/whoami", nil); err == nil {
		t.Errorf("expired certificate: %d, want a failed handshake", code)
	}
	// Issued by the CA but never recorded (e.g. a store restored from an
	// older backup): 401.
	unrec, err := e.ca.Issue(csr, resp.SensorID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ghost := tls.Certificate{Certificate: [][]byte{unrec.DER}, PrivateKey: key}
	if code, _, err := tlsCall(t, withCert(ghost), "GET", e.ts.URL+"/api/v1/auth/whoami", nil); err != nil || code != http.StatusUnauthorized {
		t.Errorf("unrecorded certificate: %d %v, want 401", code, err)
	}
	// No certificate at all: the API asks for a token as before.
	if code, _, err := tlsCall(t, &tls.Config{InsecureSkipVerify: true}, "GET", e.ts.URL+"/api/v1/auth/whoami", nil); err != nil || code != http.StatusUnauthorized {
		t.Errorf("no certificate, no token: %d %v, want 401", code, err)
	}
}

func big1() *big.Int {
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	return n.Add(n, big.NewInt(1))
}
