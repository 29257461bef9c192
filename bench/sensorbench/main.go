// Command sensorbench times the sensor on a capture, stage by stage:
//
//	floor   read + decode only (the pcapgo zero-copy reader and our decoder)
//	sensor  read + decode + flows + reassembly + dissectors (no report)
//	scan    the above plus classification and report building (no output)
//	report  the above plus the JSON report written to /dev/null: what
//	        `medwarden scan` does, without its memory limit
//
// It prints packets/s, MB/s and the heap high-water mark as JSON lines.
//
//	go run ./bench/sensorbench -mode sensor /tmp/realmix-1g.pcap
//
// With -simulate it instead writes a simulated hospital capture (the
// simulator of `medwarden simulate`, plus -large full-resolution CT/MR
// studies for a few large flows) and reports the simulator's write speed:
//
//	go run ./bench/sensorbench -simulate /tmp/hospital.pcap -devices 600 -minutes 60 -large 200
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
	"github.com/medwarden/medwarden/internal/sensor/report"
	"github.com/medwarden/medwarden/internal/simulate"
)

// simulateCapture writes a simulated capture and prints the write speed.
func simulateCapture(path string, cfg simulate.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	start := time.Now()
	truth, err := simulate.Generate(context.Background(), w, cfg)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("simulate %s: %w", path, err)
	}
	el := time.Since(start)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"mode": "simulate", "file": path, "seconds": el.Seconds(), "packets": truth.Packets, "bytes": truth.Bytes,
		"mb_per_s": float64(truth.Bytes) / 1e6 / el.Seconds(), "devices": len(truth.Devices),
	})
}

func main() {
	mode := flag.String("mode", "sensor", "floor, sensor, scan, report or direct (report as medwarden scan writes it: TakeScan, WriteScan)")
	cpu := flag.String("cpuprofile", "", "write a CPU profile here")
	mem := flag.String("memprofile", "", "write a heap profile (taken before the report is built) here")
	sim := flag.String("simulate", "", "write a simulated capture to this file instead of timing a scan")
	devices := flag.Int("devices", 600, "with -simulate: devices")
	minutes := flag.Int("minutes", 60, "with -simulate: minutes")
	large := flag.Int("large", 200, "with -simulate: images per large CT/MR study (0: none)")
	tlsBytes := flag.Int("tls", 0, "with -simulate: application bytes per workstation TLS session")
	flag.Parse()
	if *sim != "" {
		if err := simulateCapture(*sim, simulate.Config{Devices: *devices, Minutes: *minutes, Seed: 1, LargeStudies: *large, TLSBytes: *tlsBytes}); err != nil {
			fmt.Fprintln(os.Stderr, "sensorbench:", err)
			os.Exit(1)
		}
		return
	}
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: sensorbench [-mode floor|sensor|scan|report|direct] [-cpuprofile F] CAPTURE")
		os.Exit(2)
	}
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	memProfile = *mem
	if err := run(*mode, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "sensorbench:", err)
		os.Exit(1)
	}
}

var memProfile string

// stage prints, to stderr, the process's peak RSS so far (VmHWM) and the
// live heap at the end of a stage: which stage sets the peak.
func stage(name string) {
	hwm := "?"
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmHWM:") {
				hwm = strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "stage %-15s peak RSS %s, heap in use %d MB, heap objects %d\n", name, hwm, ms.HeapInuse>>20, ms.HeapObjects)
}

func run(mode, path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	st, _ := fh.Stat()
	src, err := sensor.OpenCapture(fh, path)
	if err != nil {
		return err
	}
	start := time.Now()
	var stats sensor.Stats
	var counts map[string]int
	switch mode {
	case "floor":
		stats = sensor.DecodeOnly(src)
	case "sensor", "scan", "report", "direct":
		s := sensor.New(sensor.Config{Dissectors: list.Build(list.Default())})
		if err := s.Run(context.Background(), src); err != nil {
			return err
		}
		if memProfile != "" {
			runtime.GC()
			if f, err := os.Create(memProfile); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		stage("run")
		if mode == "direct" {
			// What medwarden scan does: no Report (2912cad), no Result (TakeScan).
			t := s.TakeScan()
			stage("take-scan")
			stats = t.Stats
			counts = map[string]int{"observations": t.Observations(), "edges": compactLen(t.Edges), "bindings": len(t.Bindings), "findings": len(t.Findings)}
			oui, _ := classify.DefaultOUI()
			rules, _ := classify.DefaultRules()
			if err := report.WriteScan(io.Discard, t, classify.New(oui, rules, classify.Options{})); err != nil {
				return err
			}
			stage("write-json")
			break
		}
		res := s.TakeResultUnordered()
		stage("take-result")
		stats = res.Stats
		counts = map[string]int{"observations": len(res.Observations), "edges": len(res.Edges) + compactLen(res.CompactEdges), "hosts": len(res.Hosts), "findings": len(res.Findings)}
		if mode != "sensor" {
			oui, _ := classify.DefaultOUI()
			rules, _ := classify.DefaultRules()
			rep := report.FromResult(res, classify.New(oui, rules, classify.Options{}))
			stage("classify+build")
			counts["devices"], counts["report_edges"] = len(rep.Devices), len(rep.Edges)
			if mode == "report" {
				if err := rep.WriteJSON(io.Discard); err != nil {
					return err
				}
				stage("write-json")
			}
		}
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	el := time.Since(start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"mode": mode, "file": path, "seconds": el.Seconds(), "packets": stats.Packets, "flows": stats.Flows,
		"pkt_per_s": float64(stats.Packets) / el.Seconds(), "mb_per_s": float64(st.Size()) / 1e6 / el.Seconds(),
		"sys_mb": ms.Sys >> 20, "evicted": stats.EvictedFlows, "decode_errors": stats.DecodeErrors, "counts": counts,
	})
}

func compactLen(c *sensor.CompactEdges) int {
	if c == nil {
		return 0
	}
	return c.Len()
}
