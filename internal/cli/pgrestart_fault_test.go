package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/app"
	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/ingest/batch"
	"github.com/medwarden/medwarden/internal/store"
)

// The PostgreSQL-restart fault proof of issue 9. It never touches the
// machine's shared PostgreSQL: it starts a private cluster of its own
// (initdb in a temporary directory, a random loopback port, its unix
// socket in that directory), runs the real 'medwarden serve --db' against
// it under a stream of acknowledged API writes and sensor batches, and
// crashes (pg_ctl stop -m immediate) and then cleanly restarts (-m fast)
// the database in the middle of the stream.

// pgCluster is a private PostgreSQL cluster for one test.
type pgCluster struct {
	bin, dir, data, sock string
	port                 int
	cred                 *syscall.Credential // run as this user (root cannot run postgres)
	logf                 string
}

// newPGCluster initialises a cluster with the binaries in bin
// (MEDWARDEN_TEST_PG_BIN), or skips saying why it cannot.
func newPGCluster(t *testing.T, bin string) *pgCluster {
	t.Helper()
	for _, tool := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			t.Skipf("MEDWARDEN_TEST_PG_BIN=%s has no %s (%v): skipping the PostgreSQL-restart test", bin, tool, err)
		}
	}
	c := &pgCluster{bin: bin}
	if os.Geteuid() == 0 {
		// postgres refuses to run as root: run the cluster as the
		// postgres account, in a directory it owns.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root and there is no 'postgres' account to run a private cluster as (%v): skipping", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "medwarden-pgfault-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c.dir, c.data, c.sock, c.logf = dir, filepath.Join(dir, "data"), filepath.Join(dir, "sock"), filepath.Join(dir, "postgres.log")
	if err := os.Mkdir(c.sock, 0o700); err != nil {
		t.Fatal(err)
	}
	if c.cred != nil {
		for _, p := range []string{dir, c.sock} {
			if err := os.Chown(p, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, port, _ := net.SplitHostPort(freePort(t))
	c.port, _ = strconv.Atoi(port)
	if out, err := c.cmd("initdb", "-D", c.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	return c
}

func (c *pgCluster) cmd(tool string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, tool), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

func (c *pgCluster) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// start starts the server and waits until it accepts connections.
func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c max_connections=40 -c shared_buffers=16MB", c.port, c.sock)
	if out, err := c.cmd("pg_ctl", "start", "-D", c.data, "-l", c.logf, "-w", "-t", "60", "-o", opts).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(c.logf)
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// stop stops the server: mode "immediate" is a crash (no checkpoint,
// recovery from the WAL at the next start), "fast" a clean shutdown that
// disconnects every client.
func (c *pgCluster) stop(t *testing.T, mode string) {
	t.Helper()
	if out, err := c.cmd("pg_ctl", "stop", "-D", c.data, "-m", mode, "-w", "-t", "60").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl stop -m %s: %v\n%s", mode, err, out)
	}
}

// writeLog is what the writers saw: every acknowledged write, and every
// refused one with its status.
type writeLog struct {
	mu       sync.Mutex
	created  map[string]int64 // asset id → device id, acknowledged creates
	updates  map[int64][]int  // device id → locations attempted, in order
	lastAck  map[int64]int    // device id → index in updates of the last acknowledged location
	batches  map[uint64]bool  // sensor batch seq → acknowledged (applied)
	refused  map[int]int      // status code (0: transport error) → count, for writes that got no 2xx
	slowest  time.Duration
	attempts int
	// refusedAt: when each refused write was sent.
	refusedAt []time.Time
}

func newWriteLog() *writeLog {
	return &writeLog{created: map[string]int64{}, updates: map[int64][]int{}, lastAck: map[int64]int{},
		batches: map[uint64]bool{}, refused: map[int]int{}}
}

func (l *writeLog) took(start time.Time, code int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts++
	l.slowest = max(l.slowest, time.Since(start))
	if (code < 200 || code > 299) && code != http.StatusPreconditionFailed {
		l.refused[code]++
		l.refusedAt = append(l.refusedAt, start)
	}
}

// refusedSince counts the writes sent at or after t that were refused.
func (l *writeLog) refusedSince(t time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, at := range l.refusedAt {
		if !at.Before(t) {
			n++
		}
	}
	return n
}

// apiClient sends authenticated requests to the child server.
type apiClient struct {
	base, token string
	hc          *http.Client
}

func (a *apiClient) do(method, path string, body []byte, hdr map[string]string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

func deviceBody(asset string, location int) []byte {
	return fmt.Appendf(nil, `{"asset_id":%q,"vendor":"Baxter","model":"Sigma Spectrum","device_type":"infusion-pump","location":"ward %d"}`, asset, location)
}

// writer creates devices and updates their location until stop closes,
// logging what was acknowledged.
func (a *apiClient) writer(w int, l *writeLog, stop <-chan struct{}) {
	type dev struct {
		id          int64
		asset, etag string
	}
	var mine []dev
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		if n%3 == 2 && len(mine) > 0 { // update one of ours
			d := &mine[n%len(mine)]
			l.mu.Lock()
			loc := len(l.updates[d.id]) + 1
			l.updates[d.id] = append(l.updates[d.id], loc)
			l.mu.Unlock()
			start := time.Now()
			code, h, _, err := a.do("PUT", fmt.Sprintf("/api/v1/devices/%d", d.id), deviceBody(d.asset, loc), map[string]string{"If-Match": d.etag})
			l.took(start, code)
			switch {
			case err == nil && code == http.StatusOK:
				d.etag = h.Get("ETag")
				l.mu.Lock()
				l.lastAck[d.id] = loc
				l.mu.Unlock()
			case err == nil && code == http.StatusPreconditionFailed:
				// An earlier update committed without being acknowledged
				// (it failed after the commit): read the current ETag.
				if c, h, _, err := a.do("GET", fmt.Sprintf("/api/v1/devices/%d", d.id), nil, nil); err == nil && c == http.StatusOK {
					d.etag = h.Get("ETag")
				}
			}
			continue
		}
		asset := fmt.Sprintf("PGF-%d-%d", w, n)
		start := time.Now()
		code, h, body, err := a.do("POST", "/api/v1/devices", deviceBody(asset, 0), nil)
		l.took(start, code)
		if err != nil || code != http.StatusCreated {
			time.Sleep(10 * time.Millisecond) // refused: the database is away
			continue
		}
		var v struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.ID == 0 {
			l.mu.Lock()
			l.refused[-1]++ // a 201 without a device: counted as a failure below
			l.mu.Unlock()
			continue
		}
		l.mu.Lock()
		l.created[asset] = v.ID
		l.mu.Unlock()
		mine = append(mine, dev{v.ID, asset, h.Get("ETag")})
		if len(mine) > 8 {
			mine = mine[1:]
		}
	}
}

// sensorBatch is a one-device batch of sensor seq.
func sensorBatch(seq uint64) []byte {
	end := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Minute)
	b := batch.Batch{Format: batch.Format, Version: batch.Version, SensorID: "pgfault-1", Seq: seq, Start: end.Add(-time.Minute), End: end, EdgeIntervalS: 60,
		Devices: []batch.Device{{MAC: fmt.Sprintf("02:00:00:00:%02x:%02x", seq>>8, seq&0xff), IPs: []string{fmt.Sprintf("10.77.%d.%d", seq>>8, seq&0xff)},
			Observed: []batch.Observed{{Field: "hostname", Value: fmt.Sprintf("pump-%d", seq), Confidence: 0.9, Evidence: []string{"dhcp.hostname"}, FirstSeen: end.Add(-time.Minute), LastSeen: end}}}}}
	data, err := json.Marshal(b)
	if err != nil {
		panic(err)
	}
	return data
}

func (a *apiClient) sendBatch(seq uint64, l *writeLog) {
	start := time.Now()
	code, _, _, err := a.do("POST", "/api/v1/sensor/batches", sensorBatch(seq), nil)
	l.took(start, code)
	// 200: applied (in-process bus); 202: held by NATS JetStream, to be
	// applied once the database is back. Both are acknowledgements.
	if err == nil && (code == http.StatusOK || code == http.StatusAccepted) {
		l.mu.Lock()
		l.batches[seq] = true
		l.mu.Unlock()
	}
}

// readyz polls /readyz until it answers want, within d; it returns how long that took.
func (a *apiClient) readyz(t *testing.T, want int, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		resp, err := a.hc.Get(a.base + "/readyz")
		code := 0
		if err == nil {
			code = resp.StatusCode
			resp.Body.Close()
		}
		if code == want {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("/readyz answered %d (%v) for %s, want %d", code, err, d, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServeSurvivesPostgresRestart: PostgreSQL crashes and restarts, then
// shuts down cleanly and restarts, while 'medwarden serve' takes writes.
// Every write acknowledged with a 2xx before, during and after is stored
// afterwards; writes during the outage are refused with a 503 in bounded
// time; the server stays up, /readyz goes unready and back by itself, and
// the audit chain verifies.
//
// With MEDWARDEN_TEST_NATS set it runs again with the batches on NATS
// JetStream: a batch sent during the outage is acknowledged (202) once the
// stream holds it, and must be applied, once, after the database is back.
func TestServeSurvivesPostgresRestart(t *testing.T) {
	bin := os.Getenv("MEDWARDEN_TEST_PG_BIN")
	if bin == "" {
		t.Skip("MEDWARDEN_TEST_PG_BIN is not set (e.g. /usr/lib/postgresql/15/bin, as .ci/run sets it): skipping the PostgreSQL-restart fault test, which starts a private PostgreSQL cluster")
	}
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster and serve in a child process")
	}
	t.Run("memory_bus", func(t *testing.T) { testServePostgresRestart(t, bin, "") })
	t.Run("nats_bus", func(t *testing.T) {
		natsURL := os.Getenv("MEDWARDEN_TEST_NATS")
		if natsURL == "" {
			t.Skip("MEDWARDEN_TEST_NATS is not set (e.g. nats://127.0.0.1:4222): skipping the run with sensor batches on NATS JetStream")
		}
		stream := fmt.Sprintf("MWTEST_PGFAULT_%d", time.Now().UnixNano())
		busURL := natsURL + "?stream=" + stream + "&subject=mwtest." + stream + "&ack_wait=5s"
		t.Cleanup(func() {
			if b, _, err := app.OpenBus(context.Background(), busURL, "cleanup"); err == nil {
				if d, ok := b.(interface{ DeleteStream(context.Context) error }); ok {
					d.DeleteStream(context.Background())
				}
				b.Close()
			}
		})
		testServePostgresRestart(t, bin, busURL)
	})
}

func testServePostgresRestart(t *testing.T, bin, busURL string) {
	pg := newPGCluster(t, bin)
	pg.start(t)
	t.Cleanup(func() { pg.cmd("pg_ctl", "stop", "-D", pg.data, "-m", "immediate").Run() })

	// A token for the writers (analyst: devices and sensor batches).
	ctx := context.Background()
	st, err := app.OpenStore(ctx, app.StoreConfig{DSN: pg.dsn()})
	if err != nil {
		t.Fatal(err)
	}
	u := &store.User{Username: "pgfault", Role: string(auth.Analyst), PasswordHash: "x"}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	token, err := auth.NewAPIToken()
	if err != nil {
		t.Fatal(err)
	}
	now := store.Now()
	tok := &store.APIToken{UserID: u.ID, Name: "pgfault", Hash: auth.HashToken(token),
		Scopes: []string{"devices:write", "devices:read", "sensor:write"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.(store.SecurityStore).CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	tokenID := tok.ID
	st.Close()

	addr := freePort(t)
	args := []string{"serve", "--db", pg.dsn(), "--addr", addr, "--insecure-http", "--rate-limit-client", "-1", "--rate-limit-account", "-1"}
	if busURL != "" {
		args = append(args, "--bus", busURL)
	}
	srv := exec.Command(os.Args[0], args...)
	srv.Env = append(os.Environ(), "MEDWARDEN_CLI_CHILD=1")
	var srvLog syncBuffer
	srv.Stdout, srv.Stderr = &srvLog, &srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			srv.Process.Kill()
			<-exited
		}
	})
	// Above the 30 s a sensor batch may wait for its commit (ingest.Sink).
	const requestTimeout = 40 * time.Second
	a := &apiClient{base: "http://" + addr, token: token, hc: &http.Client{Timeout: requestTimeout}}
	a.readyz(t, http.StatusOK, 60*time.Second)
	alive := func(when string) {
		t.Helper()
		select {
		case err := <-exited:
			t.Fatalf("serve exited %s: %v\n%s", when, err, srvLog.String())
		default:
		}
	}

	l := newWriteLog()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() { a.writer(w, l, stop) })
	}
	var seq uint64
	batchNow := func() { seq++; a.sendBatch(seq, l) }
	phase := func(d time.Duration) {
		time.Sleep(d)
		alive("during the writes")
	}
	var outages []time.Duration
	var during sync.WaitGroup
	for _, mode := range []string{"immediate", "fast"} {
		phase(2 * time.Second)
		batchNow()
		before := l.count()
		pg.stop(t, mode)
		downAt := time.Now()
		t.Logf("PostgreSQL stopped (-m %s) after %d acknowledged writes", mode, before)
		a.readyz(t, http.StatusServiceUnavailable, 10*time.Second)
		// A batch sent during the outage either waits for the database and
		// is applied, or is refused with 503 (the sensor keeps it spooled).
		seq++
		duringSeq := seq
		during.Go(func() { a.sendBatch(duringSeq, l) })
		phase(2 * time.Second)
		pg.start(t)
		back := a.readyz(t, http.StatusOK, 30*time.Second)
		readyAt := time.Now()
		outages = append(outages, time.Since(downAt))
		t.Logf("PostgreSQL started again; /readyz ready %s later", back.Round(time.Millisecond))
		phase(2 * time.Second)
		// Recovered by itself: once ready, no write is refused (stale
		// pooled connections are replaced, not handed to requests).
		if n := l.refusedSince(readyAt); n > 0 {
			t.Errorf("%d writes refused after /readyz said ready again (-m %s)", n, mode)
		}
		batchNow()
	}
	close(stop)
	wg.Wait()
	during.Wait()
	alive("after the writes")

	l.mu.Lock()
	t.Logf("%d writes attempted, %d creates and %d sensor batches acknowledged, refused by status: %v, slowest %s, outages %v",
		l.attempts, len(l.created), len(l.batches), l.refused, l.slowest.Round(time.Millisecond), outages)
	if l.refused[0] > 0 {
		t.Errorf("%d writes got no HTTP answer (transport error or a hang past the %s timeout)", l.refused[0], requestTimeout)
	}
	for code, n := range l.refused {
		if code == -1 {
			t.Errorf("%d creates answered 201 without a device", n)
		}
		if code > 0 && code != http.StatusServiceUnavailable {
			t.Errorf("%d writes refused with %d: an outage must answer 503 (store unavailable, retry)", n, code)
		}
	}
	if len(l.refused) == 0 {
		t.Errorf("no write was refused: the outage was not observed")
	}
	l.mu.Unlock()
	resp, err := a.hc.Get(a.base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz after the restarts: %v %v", resp, err)
	}
	resp.Body.Close()

	// Every acknowledged write is stored.
	st, err = app.OpenStore(ctx, app.StoreConfig{DSN: pg.dsn()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for asset, id := range l.created {
		d, err := st.GetDevice(ctx, id)
		if err != nil {
			t.Errorf("acknowledged device %s (id %d) is missing: %v", asset, id, err)
			continue
		}
		loc, _ := strconv.Atoi(strings.TrimPrefix(d.Location, "ward "))
		if ack := l.lastAck[id]; loc < ack {
			t.Errorf("device %d: location %q, but update to ward %d was acknowledged", id, d.Location, ack)
		}
	}
	last, err := st.LastBatches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	batchMAC := func(s uint64) string { return fmt.Sprintf("02:00:00:00:%02x:%02x", s>>8, s&0xff) }
	if busURL != "" {
		// Batches queued in NATS are applied after the outage, with the
		// ingester's backoff: wait for every acknowledged one.
		deadline := time.Now().Add(45 * time.Second)
		for s := uint64(1); s <= seq; s++ {
			for l.batches[s] && time.Now().Before(deadline) {
				if id, _, err := deviceByMAC(ctx, st, batchMAC(s)); err == nil && id != 0 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		time.Sleep(500 * time.Millisecond) // a second application would show now
	}
	applied := map[uint64]int64{} // seq → the device the batch created
	for s := uint64(1); s <= seq; s++ {
		id, n, err := deviceByMAC(ctx, st, batchMAC(s))
		if err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			t.Errorf("sensor batch %d was applied more than once: %d devices hold its MAC", s, n)
		}
		if id != 0 {
			applied[s] = id
		}
		if l.batches[s] && id == 0 {
			t.Errorf("sensor batch %d was acknowledged but its device is not stored", s)
		}
	}
	t.Logf("sensor batches stored (seq → device): %v (newest per sensor: %+v)", applied, last)

	// Every stored device has its creation entry, acknowledged or not (a
	// device write and its entry commit in one transaction).
	audited := map[string]*audit.Entry{}
	if err := st.(store.SecurityStore).ScanAudit(ctx, 0, func(e *audit.Entry) error {
		if e.Action == "device.create" {
			audited[e.Object] = e
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A device a sensor batch created is audited in the batch's
	// transaction, naming the token that sent it and its address.
	for s, id := range applied {
		e := audited[fmt.Sprintf("device/%d", id)]
		if e == nil || e.Actor != fmt.Sprintf("pgfault/token:%d", tokenID) || e.ActorKind != audit.KindToken || e.Source != "127.0.0.1" {
			t.Errorf("device %d created by sensor batch %d: audit entry %+v, want one by token pgfault/token:%d from 127.0.0.1", id, s, e, tokenID)
		}
	}
	unaudited, stored := 0, 0
	for q := (store.DeviceQuery{Limit: 1000, Sort: "id"}); ; {
		p, err := st.ListDevices(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Devices {
			if strings.HasPrefix(d.AssetID, "PGF-") {
				stored++
				if audited[fmt.Sprintf("device/%d", d.ID)] == nil {
					unaudited++
				}
			}
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	t.Logf("%d devices created through the API are stored (%d acknowledged), %d without a device.create audit entry", stored, len(l.created), unaudited)
	if unaudited > 0 {
		t.Errorf("%d stored devices have no device.create audit entry: a change committed without its entry", unaudited)
	}

	// The audit chain is intact.
	if code, out, errs := run(t, "audit", "verify", "--db", pg.dsn()); code != 0 {
		t.Fatalf("audit verify after the restarts: exit %d\n%s%s", code, out, errs)
	} else {
		t.Logf("audit verify: %s", strings.TrimSpace(out))
	}
	t.Logf("serve logged %d lines at level ERROR", strings.Count(srvLog.String(), "level=ERROR"))
	if t.Failed() {
		t.Logf("serve log:\n%s", srvLog.String())
	}
}

func (l *writeLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.created) + len(l.lastAck) + len(l.batches)
}

// deviceByMAC is the id of a device holding mac (0: none) and how many
// do (at most 2 counted).
func deviceByMAC(ctx context.Context, st store.Store, mac string) (int64, int, error) {
	p, err := st.ListDevices(ctx, store.DeviceQuery{Filters: map[string]string{"mac": mac}, Limit: 2})
	if err != nil {
		return 0, 0, err
	}
	if len(p.Devices) == 0 {
		return 0, 0, nil
	}
	return p.Devices[0].ID, len(p.Devices), nil
}

// syncBuffer is a bytes.Buffer safe for a child's stdout and stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
