package cli

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/app"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/ingest/ingesttest"
	"github.com/medwarden/medwarden/internal/simulate"
	"github.com/medwarden/medwarden/internal/store"
)

// sendEnv is a server's store with a sensor token, and a simulated capture.
type sendEnv struct {
	st       store.Store
	token    string
	pcap     string
	addr     string
	wantPkts int64
	dir      string
}

func newSendEnv(t *testing.T, devices, minutes int) *sendEnv {
	t.Helper()
	ctx := context.Background()
	e := &sendEnv{dir: t.TempDir()}
	var buf bytes.Buffer
	if _, err := simulate.Generate(ctx, &buf, simulate.Config{Devices: devices, Minutes: minutes, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	e.pcap = filepath.Join(e.dir, "ward.pcap")
	if err := os.WriteFile(e.pcap, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := ingesttest.ProduceFrom(bytes.NewReader(buf.Bytes()), e.pcap, "x", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	e.wantPkts = int64(out.Packets)
	st, err := app.OpenStore(ctx, app.StoreConfig{DataDir: filepath.Join(e.dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	u := &store.User{Username: "sensors", Role: string(auth.Analyst), PasswordHash: "x"}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	e.token, err = auth.NewAPIToken()
	if err != nil {
		t.Fatal(err)
	}
	now := store.Now()
	if err := st.(store.SecurityStore).CreateToken(ctx, &store.APIToken{UserID: u.ID, Name: "sensor", Hash: auth.HashToken(e.token),
		Scopes: []string{"sensor:write"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	ln.Close()
	return e
}

// serve starts the server on e.addr until the test ends.
func (e *sendEnv) serve(t *testing.T, bus string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	up := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- app.Serve(ctx, app.ServerConfig{Addr: e.addr, Bus: bus, RateLimit: api.RateLimit{PerClient: -1, PerAccount: -1},
			OnListening: func(net.Addr) { close(up) }}, e.st, slog.New(slog.DiscardHandler))
	}()
	select {
	case <-up:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() { cancel(); <-done })
}

func (e *sendEnv) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if k == "MEDWARDEN_TOKEN" {
			return e.token
		}
		return ""
	}
	code := Run(context.Background(), append([]string{"medwarden", "sensor"}, args...), strings.NewReader(""), &out, &errb, getenv)
	return code, out.String(), errb.String()
}

func (e *sendEnv) storedPackets(t *testing.T) (pkts int64, batches int) {
	t.Helper()
	ctx := context.Background()
	q := store.EdgeQuery{Limit: 1000}
	for {
		p, err := e.st.ListEdges(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, ed := range p.Edges {
			pkts += ed.Packets
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	last, err := e.st.LastBatches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return pkts, len(last)
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.batch.json"))
	return m
}

func TestSensorSpoolsWhileServerDownThenDeliversOnce(t *testing.T) {
	e := newSendEnv(t, 16, 5)
	sp := filepath.Join(e.dir, "spool")
	server := "http://" + e.addr
	// The server is down: every batch stays spooled.
	code, out, errs := e.run(t, "--pcap", e.pcap, "--server", server, "--spool", sp, "--drain-timeout", "1s", "--sensor-id", "ward-3")
	if code == 0 || !strings.Contains(errs, "not delivered") {
		t.Fatalf("sensor with the server down: exit %d\n%s\n%s", code, out, errs)
	}
	spooled := spoolFiles(t, sp)
	if len(spooled) < 5 {
		t.Fatalf("%d batches spooled from 5 minutes, want at least 5", len(spooled))
	}
	// Keep a copy: a sensor killed after the server acknowledged but before
	// it deleted its files sends them all again.
	copies := map[string][]byte{}
	for _, f := range spooled {
		copies[f], _ = os.ReadFile(f)
	}
	e.serve(t, "")
	code, out, errs = e.run(t, "--flush", "--server", server, "--spool", sp)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d batches sent", len(spooled))) || !strings.Contains(out, "0 pending") {
		t.Fatalf("flush: exit %d\n%s\n%s", code, out, errs)
	}
	if got, _ := e.storedPackets(t); got != e.wantPkts {
		t.Fatalf("stored %d packets, the capture has %d", got, e.wantPkts)
	}
	for f, data := range copies {
		os.WriteFile(f, data, 0o600)
	}
	code, out, errs = e.run(t, "--flush", "--server", server, "--spool", sp)
	if code != 0 || !strings.Contains(out, "0 pending") {
		t.Fatalf("second flush: exit %d\n%s\n%s", code, out, errs)
	}
	if got, _ := e.storedPackets(t); got != e.wantPkts {
		t.Fatalf("after resending every batch: %d packets stored, want %d (counted once)", got, e.wantPkts)
	}
	// Observed devices reached the inventory.
	if n, _ := e.st.CountDevices(context.Background()); n < 10 {
		t.Errorf("%d devices after ingestion, want the simulated ones", n)
	}
}

func TestSensorSpoolBound(t *testing.T) {
	e := newSendEnv(t, 8, 6)
	sp := filepath.Join(e.dir, "spool")
	code, _, errs := e.run(t, "--pcap", e.pcap, "--server", "http://"+e.addr, "--spool", sp, "--spool-max", "20KB",
		"--batch-interval", "30s", "--drain-timeout", "1s")
	if code == 0 || !strings.Contains(errs, "SPOOL FULL") {
		t.Fatalf("exit %d, want the dropped batches reported loudly:\n%s", code, errs)
	}
	var total int64
	for _, f := range spoolFiles(t, sp) {
		fi, _ := os.Stat(f)
		total += fi.Size()
	}
	if total > 20<<10 {
		t.Fatalf("spool holds %d bytes, bound 20 KiB", total)
	}
}

func TestSensorKilledMidSendResendIsDeduped(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI in a child process")
	}
	e := newSendEnv(t, 12, 20)
	sp := filepath.Join(e.dir, "spool")
	server := "http://" + e.addr
	if code, _, errs := e.run(t, "--pcap", e.pcap, "--server", server, "--spool", sp, "--batch-interval", "10s", "--drain-timeout", "1s"); code == 0 {
		t.Fatalf("server down but exit 0: %s", errs)
	}
	total := len(spoolFiles(t, sp))
	e.serve(t, "")
	cmd := exec.Command(os.Args[0], "sensor", "--flush", "--server", server, "--spool", sp)
	cmd.Env = append(os.Environ(), "MEDWARDEN_CLI_CHILD=1", "MEDWARDEN_TOKEN="+e.token)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if last, _ := e.st.LastBatches(context.Background()); len(last) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the child never delivered a batch")
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Skipf("the child finished all %d batches before the kill; nothing to check", total)
	}
	left := len(spoolFiles(t, sp))
	t.Logf("killed with %d of %d batches still spooled", left, total)
	code, out, errs := e.run(t, "--flush", "--server", server, "--spool", sp)
	if code != 0 || !strings.Contains(out, "0 pending") {
		t.Fatalf("flush after the kill: exit %d\n%s\n%s", code, out, errs)
	}
	if got, _ := e.storedPackets(t); got != e.wantPkts {
		t.Fatalf("stored %d packets after kill and resend, the capture has %d", got, e.wantPkts)
	}
}

// TestServeKilledDuringIngestionWithNATS: batches queued in NATS JetStream
// survive a SIGKILL of 'medwarden serve' in the middle of applying them;
// the restarted server gets the unacknowledged ones again and every batch
// is counted once.
func TestServeKilledDuringIngestionWithNATS(t *testing.T) {
	natsURL := os.Getenv("MEDWARDEN_TEST_NATS")
	if natsURL == "" {
		t.Skip("MEDWARDEN_TEST_NATS is not set (e.g. nats://127.0.0.1:4222): skipping the serve-killed-during-ingestion test")
	}
	if testing.Short() {
		t.Skip("runs serve in a child process")
	}
	e := newSendEnv(t, 12, 20)
	stream := fmt.Sprintf("MWTEST_KILL_%d", time.Now().UnixNano())
	busURL := natsURL + "?stream=" + stream + "&subject=mwtest." + stream + "&ack_wait=2s"
	t.Cleanup(func() {
		if b, _, err := app.OpenBus(context.Background(), busURL, "cleanup"); err == nil {
			if d, ok := b.(interface{ DeleteStream(context.Context) error }); ok {
				d.DeleteStream(context.Background())
			}
			b.Close()
		}
	})
	sp := filepath.Join(e.dir, "spool")
	server := "http://" + e.addr
	if code, _, errs := e.run(t, "--pcap", e.pcap, "--server", server, "--spool", sp, "--batch-interval", "10s", "--drain-timeout", "1s"); code == 0 {
		t.Fatalf("server down but exit 0: %s", errs)
	}
	total := len(spoolFiles(t, sp))
	cmd := exec.Command(os.Args[0], "serve", "--data", filepath.Join(e.dir, "data"), "--addr", e.addr, "--insecure-http", "--bus", busURL,
		"--rate-limit-client", "-1", "--rate-limit-account", "-1")
	cmd.Env = append(os.Environ(), "MEDWARDEN_CLI_CHILD=1")
	var childErr bytes.Buffer
	cmd.Stderr = &childErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.Dial("tcp", e.addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child serve never listened:\n%s", childErr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Queue everything (NATS answers 202 once the stream holds a batch)...
	if code, out, errs := e.run(t, "--flush", "--server", server, "--spool", sp); code != 0 || !strings.Contains(out, "0 pending") {
		t.Fatalf("flush to serve+NATS: exit %d\n%s\n%s", code, out, errs)
	}
	// ...and kill the server while it applies them.
	for {
		last, _ := e.st.LastBatches(context.Background())
		if len(last) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child applied nothing:\n%s", childErr.String())
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	pk, _ := e.storedPackets(t)
	t.Logf("serve killed after storing %d of %d packets (%d batches queued)", pk, e.wantPkts, total)
	// Restart: the bus delivers what was not acknowledged.
	e.serve(t, busURL)
	for {
		pk, _ = e.storedPackets(t)
		if pk >= e.wantPkts || time.Now().After(deadline.Add(30*time.Second)) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a double count would show now
	if pk, _ = e.storedPackets(t); pk != e.wantPkts {
		t.Fatalf("after the restart %d packets stored, the capture has %d", pk, e.wantPkts)
	}
}
