package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/bpf"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
	"github.com/medwarden/medwarden/internal/sensor/report"
)

// analysisFlags are the flags scan and sensor share.
type analysisFlags struct {
	format     string
	rulesDir   string
	dissectors string
	maxFlows   int
}

func (a *analysisFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.format, "format", "json", "output format: json or table")
	fs.StringVar(&a.rulesDir, "rules", "", "directory of extra fingerprint rule files (*.json), applied with the built-in rules")
	fs.StringVar(&a.dissectors, "dissectors", "", `dissector selection, e.g. "+dicom,-smb" (add/remove) or "dhcp,dns" (only these)`)
	fs.IntVar(&a.maxFlows, "max-flows", sensor.DefaultMaxFlows, "flow table cap; the oldest flows are evicted (and counted) beyond it")
}

func (a *analysisFlags) validate() error {
	if a.format != "json" && a.format != "table" {
		return usageErr("--format must be json or table, not %q", a.format)
	}
	if a.maxFlows < 1 {
		return usageErr("--max-flows must be at least 1")
	}
	return nil
}

// defaultMemoryLimit keeps the Go heap (and so RSS) of a scan within the
// 512 MB budget; GOMEMLIMIT in the environment overrides it.
const defaultMemoryLimit = 448 << 20

func (a *analysisFlags) newSensor(env *Env) (*sensor.Sensor, error) {
	if env.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ds, err := list.Select(a.dissectors)
	if err != nil {
		return nil, usageErr("--dissectors: %v", err)
	}
	return sensor.New(sensor.Config{MaxFlows: a.maxFlows, Dissectors: ds}), nil
}

func (a *analysisFlags) classifier() (*classify.Classifier, error) {
	oui, err := classify.DefaultOUI()
	if err != nil {
		return nil, err
	}
	rules, err := classify.DefaultRules()
	if err != nil {
		return nil, err
	}
	if a.rulesDir != "" {
		files, err := filepath.Glob(filepath.Join(a.rulesDir, "*.json"))
		if err != nil {
			return nil, fmt.Errorf("--rules %s: %w", a.rulesDir, err)
		}
		if st, err := os.Stat(a.rulesDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--rules %s: not a readable directory", a.rulesDir)
		}
		slices.Sort(files)
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				return nil, err
			}
			err = rules.Add(fh, f)
			fh.Close()
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
			}
		}
	}
	return classify.New(oui, rules, classify.Options{}), nil
}

func (a *analysisFlags) write(env *Env, s *sensor.Sensor) error {
	cl, err := a.classifier()
	if err != nil {
		return err
	}
	if a.format == "table" {
		return report.FromResult(s.TakeResultUnordered(), cl).WriteTable(env.Stdout)
	}
	t := s.TakeScan()
	if env.Getenv("GOMEMLIMIT") == "" && env.Getenv("GOGC") == "" {
		// One collection now frees the flow table TakeScan dropped (the
		// bulk of the heap on large captures) before the report is
		// made; from here the memory limit alone paces the collector:
		// what is left is short and bounded, and cycles over the whole
		// collected state each time the heap doubled would cost more.
		runtime.GC()
		debug.SetGCPercent(-1)
		defer debug.SetGCPercent(100)
	}
	// The bytes of FromResult(...).WriteJSON, written without the Report
	// (nor the sensor's observation records and host maps).
	return report.WriteScan(env.Stdout, t, cl)
}

func scanVerb() *Verb {
	return &Verb{
		Name:    "scan",
		Summary: "analyse packet captures offline and report devices, edges and findings",
		Usage:   "[--format json|table] [--rules DIR] [--dissectors SPEC] FILE...",
		Help: `Reads pcap and pcapng captures (also gzip-compressed; the format is detected
from the content, not the file name), decodes them, follows flows and TCP
streams, runs the protocol dissectors and identifies devices from what they
say on the wire (DHCP, DNS/mDNS/LLMNR, HTTP, ...), the IEEE MAC registry and
the fingerprint rules (built-in, plus --rules DIR/*.json).

All files are analysed together as one capture. Output: JSON with devices,
edges, findings and stats (see docs/SENSOR.md), or a table.

Exit status: 0 on success, also when a capture is truncated or corrupt (what
could be read is reported and a warning naming the file goes to stderr);
1 when a file cannot be opened or read; 2 on usage errors; 3 when a file is
not a capture at all (the others are still reported).`,
		Run: func(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
			var a analysisFlags
			a.register(fs)
			files, err := parseFlags(fs, args)
			if err != nil {
				return err
			}
			if err := a.validate(); err != nil {
				return err
			}
			if len(files) == 0 {
				return usageErr("no capture file given")
			}
			s, err := a.newSensor(env)
			if err != nil {
				return err
			}
			var notCaptures []string
			for _, name := range files {
				if err := scanFile(ctx, env, s, name); err != nil {
					if errors.Is(err, sensor.ErrUnknownFormat) {
						fmt.Fprintf(env.Stderr, "medwarden scan: warning: %v\n", err)
						notCaptures = append(notCaptures, name)
						continue
					}
					return err
				}
			}
			if err := a.write(env, s); err != nil {
				return err
			}
			if len(notCaptures) > 0 {
				return fmt.Errorf("%w: not a pcap or pcapng capture: %s", ErrBadInput, strings.Join(notCaptures, ", "))
			}
			return nil
		},
	}
}

// scanFile feeds one capture file to s. Open and read failures are errors;
// a capture that ends early or has a corrupt record is a warning.
func scanFile(ctx context.Context, env *Env, s *sensor.Sensor, name string) error {
	fh, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("open capture: %w", err)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.IsDir() {
		return fmt.Errorf("%s: is a directory", name)
	}
	src, err := sensor.OpenCapture(fh, name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return err
		}
		if errors.Is(err, sensor.ErrUnknownFormat) {
			return err
		}
		// A header that is there but cannot be parsed: not a capture we can read.
		return fmt.Errorf("%w: %v", sensor.ErrUnknownFormat, err)
	}
	before := s.Stats()
	if err := s.Run(ctx, src); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("read %s: %w", name, err)
		}
		after := s.Stats()
		fmt.Fprintf(env.Stderr, "medwarden scan: warning: %s: %v (%d frames before the error were analysed)\n",
			name, err, after.Packets-before.Packets)
	}
	return nil
}

func sensorVerb() *Verb {
	return &Verb{
		Name:    "sensor",
		Summary: "capture live on a Linux interface and report devices, edges and findings",
		Usage:   "--iface IFACE [--bpf FILTER] [--duration 10s] [--format json|table] | (--iface IFACE | --pcap FILE) (--server URL | --bus nats://…) [--spool DIR] [flags]",
		Help: `Captures on IFACE with an AF_PACKET (TPACKET_V3) memory-mapped ring. Needs
root or CAP_NET_RAW. --bpf takes a tcpdump filter expression, compiled with the
tcpdump program (which must be installed).

Without --server or --bus, when --duration passes (or on interrupt) it
prints the same report as 'medwarden scan' would for the same traffic.

With --server URL (or --bus nats://HOST:4222) it sends what it sees to
'medwarden serve' instead: every --batch-interval (1m) a batch of the
devices observed since the last one and the traffic edges aggregated per
--edge-interval (1h) bucket. Every batch is first written to the spool
(--spool DIR, bounded by --spool-max; the oldest batches are dropped, and
counted, when it is full) and deleted once the server acknowledged it, so
nothing is lost while the server is unreachable: spooled batches are resent
in order, with exponential backoff. Authentication: the client certificate
from 'medwarden sensor enroll' (--credentials DIR) or an API token with
sensor:write ($MEDWARDEN_TOKEN or --token-file). --pcap FILE replays a
capture instead of capturing live (batches cut by capture time); --flush
only sends what is spooled. See docs/SENSOR.md "Sending to a server".`,
		Run: func(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
			if len(args) > 0 && args[0] == "enroll" { // 'medwarden sensor enroll': sensors.go
				return runSensorEnrol(ctx, env, fs, args[1:])
			}
			var a analysisFlags
			a.register(fs)
			iface := fs.String("iface", "", "interface to capture on (required unless --pcap or --flush)")
			filter := fs.String("bpf", "", "tcpdump filter expression")
			dur := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
			var sf sendFlags
			sf.register(fs, env)
			rest, err := parseFlags(fs, args)
			if err != nil {
				return err
			}
			if err := a.validate(); err != nil {
				return err
			}
			if len(rest) > 0 {
				return usageErr("unexpected arguments: %s", strings.Join(rest, " "))
			}
			if sf.enabled() {
				return runSensorSend(ctx, env, &a, &sf, *iface, *filter, *dur)
			}
			if *iface == "" {
				return usageErr("--iface is required")
			}
			if *dur < 0 {
				return usageErr("--duration must not be negative")
			}
			var prog []bpf.RawInstruction
			if *filter != "" {
				if prog, err = compileBPF(ctx, *filter); err != nil {
					return err
				}
			}
			s, err := a.newSensor(env)
			if err != nil {
				return err
			}
			live, err := sensor.OpenLive(*iface, sensor.LiveOptions{Filter: prog})
			if err != nil {
				return err
			}
			defer live.Close()
			runCtx := ctx
			if *dur > 0 {
				var cancel context.CancelFunc
				runCtx, cancel = context.WithTimeout(ctx, *dur)
				defer cancel()
			}
			err = s.Run(runCtx, live)
			if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				return err
			}
			if ctx.Err() != nil && *dur == 0 {
				// Interrupted: still print what was seen.
				fmt.Fprintln(env.Stderr, "medwarden sensor: interrupted, reporting what was captured")
			}
			if d := live.Drops(); d > 0 {
				fmt.Fprintf(env.Stderr, "medwarden sensor: warning: the kernel dropped %d packets (ring full)\n", d)
			}
			return a.write(env, s)
		},
	}
}

// compileBPF compiles a tcpdump filter expression with tcpdump -ddd
// (pure-Go builds have no libpcap compiler).
func compileBPF(ctx context.Context, expr string) ([]bpf.RawInstruction, error) {
	path, err := exec.LookPath("tcpdump")
	if err != nil {
		return nil, fmt.Errorf("--bpf needs tcpdump to compile the filter: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, path, "-y", "EN10MB", "-ddd", expr).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, usageErr("--bpf %q: %s", expr, strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("--bpf %q: %w", expr, err)
	}
	return parseDDD(string(out))
}

// parseDDD reads tcpdump -ddd output: a count line, then "code jt jf k".
func parseDDD(s string) ([]bpf.RawInstruction, error) {
	rows := strings.Split(strings.TrimSpace(s), "\n")
	if len(rows) < 2 {
		return nil, fmt.Errorf("tcpdump -ddd: empty program")
	}
	n, err := strconv.Atoi(strings.TrimSpace(rows[0]))
	if err != nil || n != len(rows)-1 {
		return nil, fmt.Errorf("tcpdump -ddd: bad instruction count %q", rows[0])
	}
	prog := make([]bpf.RawInstruction, 0, n)
	for i, r := range rows[1:] {
		f := strings.Fields(r)
		if len(f) != 4 {
			return nil, fmt.Errorf("tcpdump -ddd line %d: want 4 numbers, got %q", i+2, r)
		}
		var v [4]uint64
		for j := range f {
			if v[j], err = strconv.ParseUint(f[j], 10, 32); err != nil {
				return nil, fmt.Errorf("tcpdump -ddd line %d: %w", i+2, err)
			}
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	return prog, nil
}
