// Command sensorbench times the sensor on a capture, stage by stage:
//
//	floor   read + decode only (the pcapgo zero-copy reader and our decoder)
//	sensor  read + decode + flows + reassembly + dissectors (no report)
//	scan    the above plus classification and report building (no output)
//
// It prints packets/s, MB/s and the heap high-water mark as JSON lines.
//
//	go run ./bench/sensorbench -mode sensor /tmp/realmix-1g.pcap
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
	"github.com/medwarden/medwarden/internal/sensor/report"
)

func main() {
	mode := flag.String("mode", "sensor", "floor, sensor or scan")
	cpu := flag.String("cpuprofile", "", "write a CPU profile here")
	mem := flag.String("memprofile", "", "write a heap profile (taken before the report is built) here")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: sensorbench [-mode floor|sensor|scan] [-cpuprofile F] CAPTURE")
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
	switch mode {
	case "floor":
		stats = sensor.DecodeOnly(src)
	case "sensor", "scan":
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
		s.Flush()
		res := s.Result()
		stats = res.Stats
		if mode == "scan" {
			oui, _ := classify.DefaultOUI()
			rules, _ := classify.DefaultRules()
			c := classify.New(oui, rules, classify.Options{})
			_ = report.Build(res, c.Classify(report.Input(res)))
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
		"sys_mb": ms.Sys >> 20, "evicted": stats.EvictedFlows, "decode_errors": stats.DecodeErrors,
	})
}
