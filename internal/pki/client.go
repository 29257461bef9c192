package pki

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/tlsutil"
)

// Files a sensor keeps in its credentials directory.
const (
	SensorKeyFile  = "sensor.key"  // its private key, mode 0600; never leaves the sensor
	SensorCertFile = "sensor.crt"  // its current certificate
	SensorCAFile   = "ca.crt"      // the MedWarden sensor CA
	ServerFile     = "server.json" // the server URL and its pinned certificate fingerprint
)

// API paths of enrolment and renewal.
const (
	EnrolPath = "/api/v1/sensors/enroll"
	RenewPath = "/api/v1/sensors/renew"
)

// EnrolRequest is the body of POST /api/v1/sensors/enroll; RenewPath
// takes the same body without the token (the client certificate
// authenticates).
type EnrolRequest struct {
	Token string `json:"token,omitempty"`
	CSR   string `json:"csr"` // PEM "CERTIFICATE REQUEST"
}

// CertResponse answers enrolment and renewal.
type CertResponse struct {
	SensorID    string    `json:"sensor_id"`
	Name        string    `json:"name"`
	Certificate string    `json:"certificate"` // PEM
	CA          string    `json:"ca"`          // PEM of the sensor CA
	Serial      string    `json:"serial"`
	NotAfter    time.Time `json:"not_after"`
}

// ServerConfig is what server.json holds.
type ServerConfig struct {
	Server string `json:"server"` // https://host:port
	// Fingerprint pins the server's TLS certificate (SHA-256, as 'medwarden
	// serve' prints it); empty: the system's roots verify it.
	Fingerprint string `json:"fingerprint,omitempty"`
	SensorID    string `json:"sensor_id"`
	Name        string `json:"name"`
}

// Enrolment options.
type EnrolOptions struct {
	Server      string // https://host:port of 'medwarden serve'
	Token       string // the one-time enrolment token
	Fingerprint string // the server certificate's SHA-256 fingerprint
	Dir         string // where the credentials go (created, mode 0700)
}

// Enrol creates a key pair on this machine, sends a certificate request
// with the enrolment token, and keeps the key, the certificate, the CA
// and the server's address and fingerprint in opts.Dir.
func Enrol(ctx context.Context, opts EnrolOptions) (*CertResponse, error) {
	if !strings.HasPrefix(opts.Server, "https://") {
		return nil, fmt.Errorf("server %q: must be an https:// URL", opts.Server)
	}
	if !LooksLikeEnrolmentToken(opts.Token) {
		return nil, fmt.Errorf("enrolment token: not a MedWarden enrolment token (%s followed by 43 characters)", EnrolmentTokenPrefix)
	}
	fp, err := normFingerprint(opts.Fingerprint)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", opts.Dir, err)
	}
	if _, err := os.Stat(filepath.Join(opts.Dir, SensorCertFile)); err == nil {
		return nil, fmt.Errorf("%s already holds an enrolled sensor's credentials; use another --out or delete them first", opts.Dir)
	}
	srv := ServerConfig{Server: strings.TrimRight(opts.Server, "/"), Fingerprint: fp}
	tc, err := serverTLS(srv)
	if err != nil {
		return nil, err
	}
	keyPEM, csrPEM, err := newKeyAndCSR()
	if err != nil {
		return nil, err
	}
	resp, err := post(ctx, tc, srv.Server+EnrolPath, EnrolRequest{Token: opts.Token, CSR: string(csrPEM)})
	if err != nil {
		return nil, fmt.Errorf("enrol at %s: %w", srv.Server, err)
	}
	srv.SensorID, srv.Name = resp.SensorID, resp.Name
	if err := save(opts.Dir, keyPEM, resp, &srv); err != nil {
		return nil, err
	}
	return resp, nil
}

// Renew asks the server for a new certificate with a new key,
// authenticated by the current certificate, and replaces both in dir.
func Renew(ctx context.Context, dir string) (*CertResponse, error) {
	tc, err := ClientTLSConfig(dir)
	if err != nil {
		return nil, err
	}
	srv, err := LoadServerConfig(dir)
	if err != nil {
		return nil, err
	}
	keyPEM, csrPEM, err := newKeyAndCSR()
	if err != nil {
		return nil, err
	}
	resp, err := post(ctx, tc, srv.Server+RenewPath, EnrolRequest{CSR: string(csrPEM)})
	if err != nil {
		return nil, fmt.Errorf("renew at %s: %w", srv.Server, err)
	}
	if resp.SensorID != srv.SensorID {
		return nil, fmt.Errorf("renew at %s: the server answered for sensor %s, this is %s", srv.Server, resp.SensorID, srv.SensorID)
	}
	if err := save(dir, keyPEM, resp, nil); err != nil {
		return nil, err
	}
	return resp, nil
}

// RenewDue reports whether the certificate in dir has less than a third of
// its life left at now (and so should be renewed), and when it expires.
func RenewDue(dir string, now time.Time) (bool, time.Time, error) {
	c, err := loadLeaf(dir)
	if err != nil {
		return false, time.Time{}, err
	}
	life := c.NotAfter.Sub(c.NotBefore)
	return c.NotAfter.Sub(now) < life/3, c.NotAfter, nil
}

// RenewLoop renews the certificate in dir whenever RenewDue says so,
// checking every interval until ctx ends. Failures are reported to
// onErr (may be nil) and retried at the next check.
func RenewLoop(ctx context.Context, dir string, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if due, _, err := RenewDue(dir, time.Now()); err == nil && due {
			if _, err := Renew(ctx, dir); err != nil && onErr != nil {
				onErr(err)
			}
		} else if err != nil && onErr != nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ClientTLSConfig is the TLS configuration of an enrolled sensor's HTTP
// client: it presents the certificate in dir (read again at every
// handshake, so a renewal takes effect without a restart) and checks the
// server against the pinned fingerprint (or the system's roots).
func ClientTLSConfig(dir string) (*tls.Config, error) {
	srv, err := LoadServerConfig(dir)
	if err != nil {
		return nil, err
	}
	if _, err := loadPair(dir); err != nil {
		return nil, err
	}
	tc, err := serverTLS(*srv)
	if err != nil {
		return nil, err
	}
	tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return loadPair(dir)
	}
	return tc, nil
}

// LoadServerConfig reads server.json from a sensor's credentials directory.
func LoadServerConfig(dir string) (*ServerConfig, error) {
	p := filepath.Join(dir, ServerFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("sensor credentials: %w (run 'medwarden sensor enroll' first)", err)
	}
	var s ServerConfig
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("sensor credentials %s: %w", p, err)
	}
	if !strings.HasPrefix(s.Server, "https://") {
		return nil, fmt.Errorf("sensor credentials %s: field server: %q is not an https:// URL", p, s.Server)
	}
	return &s, nil
}

func loadPair(dir string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(filepath.Join(dir, SensorCertFile), filepath.Join(dir, SensorKeyFile))
	if err != nil {
		return nil, fmt.Errorf("sensor credentials in %s: %w", dir, err)
	}
	return &c, nil
}

func loadLeaf(dir string) (*x509.Certificate, error) {
	c, err := loadPair(dir)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(c.Certificate[0])
}

// serverTLS verifies the server by fingerprint when one is pinned.
func serverTLS(s ServerConfig) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.Fingerprint == "" {
		return tc, nil
	}
	want, err := normFingerprint(s.Fingerprint)
	if err != nil {
		return nil, err
	}
	// The chain is not verified against roots: the pinned fingerprint
	// of the leaf is the trust anchor (the server's certificate is
	// self-signed by default).
	tc.InsecureSkipVerify = true
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("server sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		if got := tlsutil.Fingerprint(leaf.Raw); got != want {
			return fmt.Errorf("server certificate fingerprint %s does not match the pinned %s", got, want)
		}
		now := time.Now()
		if now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
			return fmt.Errorf("server certificate is not valid now (valid %s to %s)", leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
		}
		return nil
	}
	return tc, nil
}

// normFingerprint accepts a SHA-256 fingerprint with or without colons,
// in either case, and returns the form tlsutil.Fingerprint prints.
func normFingerprint(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	h := strings.ToUpper(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimPrefix(strings.TrimSpace(s), "SHA256:")))
	if len(h) != 64 || strings.Trim(h, "0123456789ABCDEF") != "" {
		return "", fmt.Errorf("server fingerprint %q: want the 64 hex digits of the SHA-256 'medwarden serve' prints", s)
	}
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String(), nil
}

func newKeyAndCSR() (keyPEM, csrPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate sensor key: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "medwarden sensor"}}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate request: %w", err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode sensor key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

func post(ctx context.Context, tc *tls.Config, url string, body EnrolRequest) (*CertResponse, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var p struct {
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(data, &p)
		return nil, fmt.Errorf("server answered %s: %s", resp.Status, p.Detail)
	}
	var out CertResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("server answer: %w", err)
	}
	if !ValidSensorID(out.SensorID) {
		return nil, fmt.Errorf("server answer: sensor id %q is not valid", out.SensorID)
	}
	return &out, nil
}

// save writes the new key and certificate (and, at enrolment, the CA and
// server.json). The key and certificate are each replaced atomically;
// the key goes first so a crash in between leaves a pair that fails to
// load loudly rather than a silently wrong one.
func save(dir string, keyPEM []byte, r *CertResponse, srv *ServerConfig) error {
	if _, err := tls.X509KeyPair([]byte(r.Certificate), keyPEM); err != nil {
		return fmt.Errorf("server answer: the certificate does not match the key sent: %w", err)
	}
	if err := writeFile(filepath.Join(dir, SensorKeyFile), keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, SensorCertFile), []byte(r.Certificate), 0o644); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, SensorCAFile), []byte(r.CA), 0o644); err != nil {
		return err
	}
	if srv == nil {
		return nil
	}
	b, err := json.MarshalIndent(srv, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, ServerFile), append(b, '\n'), 0o600)
}
