package cli

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/pki"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/tlsutil"
)

// TestSensorsVerbsEndToEnd: an administrator makes an enrolment token
// with 'medwarden sensors token', the sensor enrols with 'medwarden
// sensor enroll' over real TLS (pinned fingerprint) against the API
// wired as 'serve' wires it (same data directory, same CA), renews, and
// is listed and revoked; every step is audited.
func TestSensorsVerbsEndToEnd(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := runIn(t, "", "sensors", "token", "--name", "icu-span-1", "--data", data)
	if code != ExitOK || !regexp.MustCompile(`^mwe_[A-Za-z0-9_-]{43}\n$`).MatchString(out) {
		t.Fatalf("sensors token: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	token := strings.TrimSpace(out)
	if code, _, _ := runIn(t, "", "sensors", "token", "--name", "icu-span-1", "--data", data); code != ExitBadInput {
		t.Errorf("second pending token for one name: exit %d, want %d", code, ExitBadInput)
	}
	for _, bad := range [][]string{{"token"}, {"token", "--name", "bad name!"}, {"token", "--name", "x", "--expires", "1000h"}, {"mint"}, {"revoke"}} {
		if code, _, _ := runIn(t, "", append(append([]string{"sensors"}, bad...), "--data", data)...); code != ExitUsage {
			t.Errorf("sensors %v: exit %d, want usage", bad, code)
		}
	}
	if _, out, _ := runIn(t, "", "sensors", "list", "--data", data); !regexp.MustCompile(`Pending enrolment tokens:\nNAME +EXPIRES +CREATED BY\nicu-span-1 `).MatchString(out) {
		t.Errorf("sensors list before enrolment:\n%s", out)
	}

	// The server, wired from the same data directory.
	st, err := sqlite.Open(context.Background(), filepath.Join(data, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec, _ := recorder.Wrap(st, nil)
	ca, err := pki.LoadOrCreateCA(filepath.Join(data, "pki"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l, err := tlsutil.LoadOrCreate(filepath.Join(data, "tls"), []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Deps{Store: rec})
	srv.EnableSensors(ca, st)
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.TLS = pki.RequestClientCerts(tlsutil.ServerConfig(l.Cert), ca)
	ts.StartTLS()
	defer ts.Close()

	cred := filepath.Join(t.TempDir(), "cred")
	if code, _, _ := runIn(t, "", "sensor", "enroll", "--server", ts.URL, "--out", cred); code != ExitUsage {
		t.Errorf("enroll without a token: exit %d, want usage", code)
	}
	code, out, errOut = runIn(t, "", "sensor", "enroll", "--server", ts.URL, "--token", token, "--server-fingerprint", strings.ReplaceAll(l.Fingerprint, ":", ""), "--out", cred)
	if code != ExitOK || !strings.Contains(out, "enrolled as sensor icu-span-1 (sensor-") {
		t.Fatalf("sensor enroll: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runIn(t, "", "sensor-enroll", "--renew", "--out", cred)
	if code != ExitOK || !strings.Contains(out, "new certificate") {
		t.Fatalf("sensor-enroll --renew: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, out, _ = runIn(t, "", "sensors", "list", "--data", data); !regexp.MustCompile(`sensor-[0-9a-f]{16} +icu-span-1 +active `).MatchString(out) || strings.Contains(out, "Pending") {
		t.Errorf("sensors list after enrolment:\n%s", out)
	}
	if code, out, _ = runIn(t, "", "sensors", "revoke", "icu-span-1", "--data", data); code != ExitOK || !strings.Contains(out, "revoked") {
		t.Errorf("sensors revoke: exit %d %q", code, out)
	}
	if _, out, _ = runIn(t, "", "sensors", "list", "--data", data); !regexp.MustCompile(`icu-span-1 +revoked `).MatchString(out) {
		t.Errorf("sensors list after revocation:\n%s", out)
	}
	if code, _, _ := runIn(t, "", "sensors", "revoke", "nobody", "--data", data); code != ExitBadInput {
		t.Errorf("revoke unknown: exit %d", code)
	}
	code, _, errOut = runIn(t, "", "sensor-enroll", "--renew", "--out", cred)
	if code == ExitOK || !strings.Contains(errOut, "401") {
		t.Errorf("renewal after revocation: exit %d, stderr %q", code, errOut)
	}
	es, err := st.ListAudit(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		if strings.HasPrefix(e.Action, "sensor.") {
			got = append(got, e.Action+"/"+e.ActorKind)
		}
	}
	if want := "sensor.enrolment_token.create/user,sensor.enrol/sensor,sensor.renew/sensor,sensor.revoke/user"; strings.Join(got, ",") != want {
		t.Errorf("audited %v, want %s", got, want)
	}
}
