package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/bpf"

	"github.com/medwarden/medwarden/internal/app"
	"github.com/medwarden/medwarden/internal/ingest/batch"
	"github.com/medwarden/medwarden/internal/ingest/spool"
	"github.com/medwarden/medwarden/internal/pki"
	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
)

// sendFlags are the flags of 'medwarden sensor' sending to a server.
type sendFlags struct {
	server, busURL, credentials, tokenFile, serverCA string
	sensorID, spoolDir, spoolMax, pcap               string
	batchEvery, edgeEvery, drain                     time.Duration
	flush                                            bool
	token                                            string
}

func (f *sendFlags) register(fs *flag.FlagSet, env *Env) {
	fs.StringVar(&f.server, "server", "", "send batches to this 'medwarden serve' (https://HOST:8443)")
	fs.StringVar(&f.busURL, "bus", "", "publish batches straight to NATS JetStream (nats://HOST:4222) instead of --server")
	fs.StringVar(&f.credentials, "credentials", "", "directory written by 'medwarden sensor enroll' (client certificate, pinned server; default ./medwarden-sensor when it exists)")
	fs.StringVar(&f.tokenFile, "token-file", "", "file holding an API token with sensor:write (or set $MEDWARDEN_TOKEN)")
	fs.StringVar(&f.serverCA, "server-ca", "", "PEM certificate(s) to trust for --server (e.g. the server's self-signed DATA/tls/medwarden.crt)")
	fs.StringVar(&f.sensorID, "sensor-id", "", "this sensor's id in batches (default: the enrolled id, else the host name)")
	fs.StringVar(&f.spoolDir, "spool", "medwarden-spool", "directory of batches not yet acknowledged")
	fs.StringVar(&f.spoolMax, "spool-max", "512MB", "bound of the spool (KB, MB, GB); beyond it the oldest batches are dropped and counted")
	fs.StringVar(&f.pcap, "pcap", "", "replay this capture file instead of capturing live (batches cut by capture time)")
	fs.DurationVar(&f.batchEvery, "batch-interval", time.Minute, "send a batch this often")
	fs.DurationVar(&f.edgeEvery, "edge-interval", sensor.DefaultEdgeInterval, "edge aggregation bucket")
	fs.DurationVar(&f.drain, "drain-timeout", 30*time.Second, "at exit, how long to keep trying to send what is spooled")
	fs.BoolVar(&f.flush, "flush", false, "only send what is spooled, then exit")
	f.token = env.Getenv("MEDWARDEN_TOKEN")
}

func (f *sendFlags) enabled() bool { return f.server != "" || f.busURL != "" || f.flush }

// parseSize reads "512MB", "64KB", "2GB" or a number of bytes.
func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, x := range []struct {
		suf string
		m   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(u, x.suf) {
			u, mult = strings.TrimSpace(strings.TrimSuffix(u, x.suf)), x.m
			break
		}
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size like 512MB", s)
	}
	return n * mult, nil
}

// sender builds the spool sender from the flags.
func (f *sendFlags) sender(ctx context.Context, env *Env, sp *spool.Spool, log *slog.Logger) (*spool.Sender, string, func(), error) {
	snd := &spool.Sender{Spool: sp, Log: log}
	sensorID := f.sensorID
	closeFn := func() {}
	if f.busURL != "" {
		if sensorID == "" {
			h, _ := os.Hostname()
			sensorID = h
		}
		b, durable, err := app.OpenBus(ctx, f.busURL, "medwarden-sensor "+sensorID)
		if err != nil {
			return nil, "", nil, err
		}
		if !durable {
			b.Close()
			return nil, "", nil, usageErr("--bus must be nats://HOST:PORT (the in-process bus lives inside 'medwarden serve')")
		}
		snd.Bus = b
		closeFn = func() { b.Close() }
		id := sensorID
		snd.ID = func(seq uint64) string { return fmt.Sprintf("%s/%d", id, seq) }
		return snd, sensorID, closeFn, nil
	}
	credDir := f.credentials
	if credDir == "" {
		if st, err := os.Stat("medwarden-sensor"); err == nil && st.IsDir() && f.token == "" && f.tokenFile == "" {
			credDir = "medwarden-sensor"
		}
	}
	if f.tokenFile != "" {
		data, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return nil, "", nil, fmt.Errorf("--token-file: %w", err)
		}
		f.token = strings.TrimSpace(string(data))
	}
	server := f.server
	tr := http.DefaultTransport.(*http.Transport).Clone()
	switch {
	case credDir != "":
		tc, err := pki.ClientTLSConfig(credDir)
		if err != nil {
			return nil, "", nil, err
		}
		sc, err := pki.LoadServerConfig(credDir)
		if err != nil {
			return nil, "", nil, err
		}
		if server == "" {
			server = sc.Server
		}
		if sensorID != "" && sensorID != sc.SensorID {
			return nil, "", nil, usageErr("--sensor-id %s: the certificate in %s is that of sensor %s", sensorID, credDir, sc.SensorID)
		}
		sensorID = sc.SensorID
		tr.TLSClientConfig = tc
	case f.token != "":
		if f.serverCA != "" {
			pem, err := os.ReadFile(f.serverCA)
			if err != nil {
				return nil, "", nil, fmt.Errorf("--server-ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, "", nil, fmt.Errorf("--server-ca %s: no PEM certificate", f.serverCA)
			}
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		snd.Token = f.token
	default:
		return nil, "", nil, usageErr("sending needs credentials: enrol with 'medwarden sensor enroll' (--credentials DIR) or give a token with sensor:write ($MEDWARDEN_TOKEN or --token-file)")
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, "", nil, usageErr("--server %q: want https://HOST:PORT", server)
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		if ip := net.ParseIP(host); !(host == "localhost" || ip != nil && ip.IsLoopback()) {
			return nil, "", nil, usageErr("--server %s: plain http is only allowed to a loopback address; use https", server)
		}
	}
	if sensorID == "" {
		sensorID, _ = os.Hostname()
	}
	snd.URL = strings.TrimSuffix(u.String(), "/") + "/api/v1/sensor/batches"
	snd.Client = &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	if credDir != "" {
		rctx, cancel := context.WithCancel(ctx)
		go pki.RenewLoop(rctx, credDir, time.Hour, func(err error) { log.Warn("certificate renewal", "err", err) })
		closeFn = cancel
	}
	return snd, sensorID, closeFn, nil
}

// cutSource cuts a batch whenever the clock passes the next cut: capture
// time for a replayed file, wall time for a live interface (whose Next
// returns ErrNoPacket on idle polls, so cuts happen on a quiet network too).
type cutSource struct {
	src   sensor.Source
	every time.Duration
	live  bool
	next  time.Time
	cut   func(at time.Time) error
	err   error
}

func (c *cutSource) Next() (sensor.Frame, error) {
	fr, err := c.src.Next()
	now := fr.Time
	if c.live {
		now = time.Now()
	}
	if err == nil || c.live && errors.Is(err, sensor.ErrNoPacket) {
		if c.next.IsZero() {
			c.next = now.Truncate(c.every).Add(c.every)
		}
		for !now.Before(c.next) {
			if cerr := c.cut(c.next); cerr != nil {
				c.err = cerr
				return sensor.Frame{}, cerr
			}
			c.next = c.next.Add(c.every)
		}
	}
	return fr, err
}

func runSensorSend(ctx context.Context, env *Env, a *analysisFlags, f *sendFlags, iface, filter string, dur time.Duration) error {
	if f.batchEvery < time.Second {
		return usageErr("--batch-interval must be at least 1s")
	}
	if f.edgeEvery < time.Minute || f.edgeEvery%time.Minute != 0 {
		return usageErr("--edge-interval must be whole minutes, at least 1m")
	}
	if !f.flush && (iface == "") == (f.pcap == "") {
		return usageErr("give --iface IFACE (live) or --pcap FILE (replay), not both")
	}
	if f.server != "" && f.busURL != "" {
		return usageErr("give --server or --bus, not both")
	}
	maxBytes, err := parseSize(f.spoolMax)
	if err != nil {
		return usageErr("--spool-max: %v", err)
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("subsystem", "sensor")
	sp, err := spool.Open(f.spoolDir, maxBytes, func(seq uint64, size int64) {
		log.Error("SPOOL FULL: dropped the oldest unsent batch", "seq", seq, "bytes", size, "spool", f.spoolDir, "spool_max", f.spoolMax)
	})
	if err != nil {
		return err
	}
	snd, sensorID, closeSnd, err := f.sender(ctx, env, sp, log)
	if err != nil {
		return err
	}
	defer closeSnd()
	if f.flush {
		return drainSpool(ctx, env, f, sp, snd)
	}
	if env.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ds, err := list.Select(a.dissectors)
	if err != nil {
		return usageErr("--dissectors: %v", err)
	}
	cl, err := a.classifier()
	if err != nil {
		return err
	}
	s := sensor.New(sensor.Config{MaxFlows: a.maxFlows, Dissectors: ds, EdgeBuckets: true, EdgeInterval: f.edgeEvery})
	p := &batch.Producer{Sensor: s, Classifier: cl, Builder: batch.NewBuilder(sensorID, f.edgeEvery, sp.NextSeq())}
	cut := func(at time.Time) error {
		b := p.Cut(at)
		if b == nil {
			return nil
		}
		data, err := b.Encode()
		if err != nil {
			return err
		}
		if err := sp.Put(b.Seq, data); err != nil {
			return err
		}
		snd.Wake()
		return nil
	}
	sctx, stopSender := context.WithCancel(ctx)
	senderDone := make(chan struct{})
	go func() { defer close(senderDone); snd.Run(sctx) }()
	var src sensor.Source
	var live *sensor.Live
	if f.pcap != "" {
		fh, err := os.Open(f.pcap)
		if err != nil {
			stopSender()
			return fmt.Errorf("open capture: %w", err)
		}
		defer fh.Close()
		if src, err = sensor.OpenCapture(fh, f.pcap); err != nil {
			stopSender()
			return err
		}
	} else {
		var prog []bpf.RawInstruction
		if filter != "" {
			if prog, err = compileBPF(ctx, filter); err != nil {
				stopSender()
				return err
			}
		}
		if live, err = sensor.OpenLive(iface, sensor.LiveOptions{Filter: prog}); err != nil {
			stopSender()
			return err
		}
		defer live.Close()
		src = live
	}
	cs := &cutSource{src: src, every: f.batchEvery, live: live != nil, cut: cut}
	runCtx := ctx
	if dur > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, dur)
		defer cancel()
	}
	log.Info("sensor sending", "sensor_id", sensorID, "to", cmpOrStr(snd.URL, f.busURL), "spool", f.spoolDir, "batch_interval", f.batchEvery, "edge_interval", f.edgeEvery)
	err = s.Run(runCtx, cs)
	if cs.err != nil {
		stopSender()
		<-senderDone
		return cs.err
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) && !errors.Is(err, io.ErrUnexpectedEOF) {
		fmt.Fprintf(env.Stderr, "medwarden sensor: warning: %v\n", err)
	}
	s.Flush()
	end := time.Now()
	if live == nil {
		end = cs.next
		if end.IsZero() {
			end = time.Now()
		}
	}
	if err := cut(end); err != nil {
		stopSender()
		<-senderDone
		return err
	}
	stopSender()
	<-senderDone
	if live != nil {
		if d := live.Drops(); d > 0 {
			fmt.Fprintf(env.Stderr, "medwarden sensor: warning: the kernel dropped %d packets (ring full)\n", d)
		}
	}
	return drainSpool(context.WithoutCancel(ctx), env, f, sp, snd)
}

func cmpOrStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// drainSpool sends what is spooled within --drain-timeout and reports.
func drainSpool(ctx context.Context, env *Env, f *sendFlags, sp *spool.Spool, snd *spool.Sender) error {
	dctx, cancel := context.WithTimeout(ctx, f.drain)
	defer cancel()
	var err error
	for {
		if err = snd.Flush(dctx); err == nil || dctx.Err() != nil {
			break
		}
		select {
		case <-dctx.Done():
		case <-time.After(time.Second):
		}
	}
	st, c := sp.Stats(), snd.Counters()
	fmt.Fprintf(env.Stdout, "medwarden sensor: %d batches sent, %d rejected by the server, %d pending in %s (%d bytes), %d dropped because the spool was full\n",
		c.Sent, c.Rejected, st.Pending, filepath.Clean(f.spoolDir), st.Bytes, st.Dropped)
	if st.Pending > 0 {
		return fmt.Errorf("%d batches not delivered (%v); they stay in %s and are sent first on the next start (or with --flush)", st.Pending, errOr(err, c.LastError), f.spoolDir)
	}
	if c.Rejected > 0 {
		return fmt.Errorf("%w: the server rejected %d batches (see the log above)", ErrBadInput, c.Rejected)
	}
	return nil
}

func errOr(err error, last string) string {
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err.Error()
	}
	if last != "" {
		return last
	}
	return "server unreachable"
}
