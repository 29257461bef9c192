package cli

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/tlsutil"
)

// TestBackupWhileWritingThenRestore backs up a store while another
// connection keeps creating devices, restores the backup into a new data
// directory and checks the copy is a consistent snapshot: integrity, an
// intact audit chain, and every restored device equal to the original.
func TestBackupWhileWritingThenRestore(t *testing.T) {
	src := t.TempDir()
	auditedStore(t, src, 50)
	st, err := sqlite.Open(context.Background(), filepath.Join(src, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var stop atomic.Bool
	var written atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			d := &inventory.Device{AssetID: fmt.Sprintf("VENT-%05d", i), Vendor: "Draeger", Model: "Evita V800"}
			if err := st.CreateDevice(context.Background(), d); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	})
	for written.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	out := filepath.Join(t.TempDir(), "medwarden-backup.db")
	code, stdout, errOut := runIn(t, "", "backup", "--out", out, "--data", src)
	during := written.Load()
	stop.Store(true)
	wg.Wait()
	if code != ExitOK {
		t.Fatalf("backup: exit %d %s", code, errOut)
	}
	m := regexp.MustCompile(`sha256 ([0-9a-f]{64})`).FindStringSubmatch(stdout)
	b, err := os.ReadFile(out)
	if err != nil || m == nil {
		t.Fatalf("backup output %q, read %v", stdout, err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != m[1] {
		t.Error("printed sha256 does not match the file")
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
	}
	if code, _, _ := runIn(t, "", "backup", "--out", out, "--data", src); code != ExitBadInput {
		t.Errorf("backup over an existing file without --force: exit %d, want %d", code, ExitBadInput)
	}

	dst := t.TempDir()
	code, stdout, errOut = runIn(t, "", "restore", out, "--data", dst)
	if code != ExitOK || !strings.Contains(stdout, "chain intact") {
		t.Fatalf("restore: exit %d %q %s", code, stdout, errOut)
	}
	got, err := sqlite.Open(context.Background(), filepath.Join(dst, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	ctx := t.Context()
	n, err := got.CountDevices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < 50+20 || n > 50+during+1 {
		t.Errorf("restored %d devices; the snapshot had to hold between %d and %d", n, 70, 50+during+1)
	}
	if err := got.ScanDevices(ctx, func(d *inventory.Device) error {
		orig, err := st.GetDevice(ctx, d.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(orig, d); diff != "" {
			t.Errorf("device %d differs from the original (-orig +restored):\n%s", d.ID, diff)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	v := audit.NewVerifier()
	var last string
	if err := got.ScanAudit(ctx, 0, func(e *audit.Entry) error { last = e.Action; return v.Add(e) }); err != nil {
		t.Fatalf("restored audit chain: %v", err)
	}
	if last != "store.restore" || v.Count() != 52 {
		t.Errorf("restored audit log: %d entries ending in %q, want 50 creates + store.backup + store.restore", v.Count(), last)
	}

	// A second restore over the now non-empty store needs --force and keeps the old one.
	if code, _, errOut := runIn(t, "", "restore", out, "--data", dst); code != ExitBadInput || !strings.Contains(errOut, "--force") {
		t.Errorf("restore over data without --force: exit %d %q", code, errOut)
	}
	got.Close()
	code, stdout, errOut = runIn(t, "", "restore", out, "--force", "--data", dst)
	if code != ExitOK || !strings.Contains(stdout, "previous store is kept as") {
		t.Errorf("restore --force: exit %d %q %s", code, stdout, errOut)
	}
	kept, _ := filepath.Glob(filepath.Join(dst, sqlite.FileName+".pre-restore-*"))
	if len(kept) == 0 {
		t.Error("the replaced store was not kept")
	}
}

func TestRestoreRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a database"), 0o600) //nolint:errcheck // checked by restore
	other := filepath.Join(dir, "other.db")
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	st.SQL.Exec("VACUUM INTO '" + other + "'") //nolint:errcheck // checked below
	future := filepath.Join(dir, "future.db")
	st.SQL.Exec("INSERT INTO schema_migrations(version, name, applied_at) VALUES (999, '0999_future', 'x')") //nolint:errcheck // checked below
	st.SQL.Exec("VACUUM INTO '" + future + "'")                                                              //nolint:errcheck // checked below
	st.SQL.Exec("DELETE FROM schema_migrations WHERE version = 999")                                         //nolint:errcheck // checked below
	st.Close()
	foreign := filepath.Join(dir, "foreign.db")
	fst, _ := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
	fst.SQL.Exec("DROP TABLE schema_migrations")  //nolint:errcheck // checked below
	fst.SQL.Exec("VACUUM INTO '" + foreign + "'") //nolint:errcheck // checked below
	fst.Close()
	tests := []struct {
		name, file, want string
	}{
		{"text_file", text, "not an SQLite database"},
		{"missing", filepath.Join(dir, "nope.db"), "no such file"},
		{"newer_schema", future, "newer than this binary"},
		{"not_medwarden", foreign, "not a MedWarden database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runIn(t, "", "restore", tt.file, "--data", t.TempDir())
			if code == ExitOK || !strings.Contains(errOut, tt.want) {
				t.Errorf("restore %s: exit %d, %q; want failure naming %q", tt.name, code, errOut, tt.want)
			}
		})
	}
	if code, _, _ := runIn(t, "", "restore", other, "--data", t.TempDir()); code != ExitOK {
		t.Errorf("restore of an empty but valid store failed: %d", code)
	}
	if code, out, _ := runIn(t, "", "backup", "--out", filepath.Join(dir, "x.dump"), "--db", "postgres://medwarden:secret@db.example:5432/mw"); code != ExitFailure || !strings.Contains(out, "pg_dump --format=custom") || strings.Contains(out, "secret") {
		t.Errorf("backup of PostgreSQL: exit %d, %q; want exit 1, the pg_dump command and no password", code, out)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeTLSByDefault starts 'medwarden serve' with no TLS flags: it
// generates a self-signed certificate, prints its fingerprint, serves
// HTTPS with HSTS, refuses TLS 1.1, requires authentication on the API,
// and holds the store lock so 'restore' refuses to run.
func TestServeTLSByDefault(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer // pgrestart_fault_test.go
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"medwarden", "serve", "--addr", addr, "--data", dir}, strings.NewReader(""), &out, &errb, func(string) string { return "" })
	}()
	defer func() {
		cancel()
		if code := <-done; code != ExitOK {
			t.Errorf("serve exit %d: %s", code, errb.String())
		}
	}()
	var fp []string
	for i := 0; i < 200 && fp == nil; i++ {
		time.Sleep(25 * time.Millisecond)
		fp = regexp.MustCompile(`SHA-256 fingerprint: ([0-9A-F:]{95})`).FindStringSubmatch(out.String())
	}
	if fp == nil {
		t.Fatalf("no fingerprint printed: %q %q", out.String(), errb.String())
	}
	if fi, err := os.Stat(filepath.Join(dir, "tls", tlsutil.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
	pemBytes, err := os.ReadFile(filepath.Join(dir, "tls", tlsutil.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var res *http.Response
	for i := 0; i < 200; i++ {
		if res, err = client.Get("https://" + addr + "/healthz"); err == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("https healthz: %v", err)
	}
	res.Body.Close()
	if res.Header.Get("Strict-Transport-Security") == "" || res.TLS == nil {
		t.Errorf("healthz over TLS without HSTS: %v", res.Header)
	}
	if got := tlsutil.Fingerprint(res.TLS.PeerCertificates[0].Raw); got != fp[1] {
		t.Errorf("served certificate %s, printed %s", got, fp[1])
	}
	if res, err := client.Get("https://" + addr + "/api/v1/devices"); err != nil || res.StatusCode != 401 {
		t.Errorf("unauthenticated API call: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10}); err == nil {
		c.Close()
		t.Error("TLS 1.1 handshake accepted")
	}
	if res, err := http.Get("http://" + addr + "/healthz"); err == nil && res.StatusCode == 200 {
		t.Error("plain HTTP answered 200 on the TLS port")
	}
	// Online backup of the running server's store, then a restore onto
	// it, which must be refused while the server holds it.
	bk := filepath.Join(t.TempDir(), "online.db")
	if code, _, errOut := runIn(t, "", "backup", "--out", bk, "--data", dir); code != ExitOK {
		t.Fatalf("online backup: exit %d %s", code, errOut)
	}
	if code, _, errOut := runIn(t, "", "restore", bk, "--force", "--data", dir); code == ExitOK || !strings.Contains(errOut, "in use by a running") {
		t.Errorf("restore while serving: exit %d %s", code, errOut)
	}
}

func TestServeRefusesInsecureOffLoopback(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"insecure_any", []string{"--insecure-http", "--addr", "0.0.0.0:0"}, ExitUsage},
		{"insecure_lan", []string{"--insecure-http", "--addr", "10.1.2.3:8080"}, ExitUsage},
		{"cert_without_key", []string{"--tls-cert", "x.crt"}, ExitUsage},
		{"zero_rate_limit", []string{"--rate-limit-client", "0"}, ExitUsage},
		{"bad_feed_age", []string{"--max-feed-age", "soon"}, ExitUsage},
		{"trusted_key_not_a_key", []string{"--trusted-key", "backup_test.go", "--addr", "127.0.0.1:0"}, ExitBadInput},
		{"insecure_and_cert", []string{"--insecure-http", "--tls-cert", "x.crt", "--tls-key", "x.key"}, ExitUsage},
		{"missing_cert_files", []string{"--tls-cert", "/nonexistent/x.crt", "--tls-key", "/nonexistent/x.key", "--addr", "127.0.0.1:0"}, ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runIn(t, "", append([]string{"serve", "--data", t.TempDir()}, tt.args...)...)
			if code != tt.want {
				t.Errorf("serve %v: exit %d (%s), want %d", tt.args, code, errOut, tt.want)
			}
		})
	}
}
