package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/ingest"
	"github.com/medwarden/medwarden/internal/ingest/batch"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
	"github.com/medwarden/medwarden/internal/simulate"
	"github.com/medwarden/medwarden/internal/store"
)

// demoSensorID names the demo's simulated sensor in observed values.
const demoSensorID = "demo-span-1"

// demoTrafficMinutes of simulated traffic the demo's sensor sees.
const demoTrafficMinutes = 3

// demoKinds maps the demo's device types to the simulator's kinds, with
// how many devices of each the demo's capture covers.
var demoKinds = []struct {
	types []string
	kind  string
	n     int
}{
	{[]string{"patient-monitor", "vital-signs-monitor", "fetal-monitor", "central-station"}, "monitor", 24},
	{[]string{"ct-scanner"}, "ct", 2},
	{[]string{"mri-scanner"}, "mr", 1},
	{[]string{"ultrasound"}, "us", 3},
	{[]string{"blood-gas-analyser", "glucose-meter-dock"}, "poct", 12},
	{[]string{"chemistry-analyser", "haematology-analyser", "microbiology-analyser"}, "astm", 10},
	{[]string{"workstation"}, "ws", 12},
}

// demoHosts picks the devices the demo's sensor sees: a subset of the
// fleet (every fourth analyser reporting a firmware version that differs
// from the register, as after an undocumented update) and a few devices
// that are not in the register at all.
func demoHosts(fleet []*inventory.Device) []simulate.HostSpec {
	var hosts []simulate.HostSpec
	for _, k := range demoKinds {
		n := 0
		for _, d := range fleet {
			if n == k.n {
				break
			}
			if len(d.MACs) == 0 || len(d.IPs) == 0 || !contains(k.types, d.DeviceType) {
				continue
			}
			if a, err := netip.ParseAddr(d.IPs[0]); err != nil || !a.Is4() {
				continue
			}
			h := simulate.HostSpec{Kind: k.kind, Vendor: d.Vendor, Model: d.Model, MAC: d.MACs[0], IP: d.IPs[0],
				Software: d.Version, Serial: d.Serial, Hostname: d.Hostname}
			if (k.kind == "poct" || k.kind == "astm") && n%4 == 1 && d.Version != "" {
				h.Software = bumpVersion(d.Version)
			}
			hosts = append(hosts, h)
			n++
		}
	}
	// Not in the register: found only by the sensor.
	hosts = append(hosts,
		simulate.HostSpec{Kind: "ws", MAC: "3c:52:82:7e:10:01", IP: "10.1.200.241", Hostname: "byod-laptop-17"},
		simulate.HostSpec{Kind: "ws", MAC: "3c:52:82:7e:10:02", IP: "10.1.200.242", Hostname: "vendor-service-pc"},
		simulate.HostSpec{Kind: "monitor", MAC: "00:09:fb:7e:10:03", IP: "10.1.170.243", Hostname: "loaner-monitor-3"},
		simulate.HostSpec{Kind: "poct", MAC: "00:13:dd:7e:10:04", IP: "10.1.40.244", Serial: "LOAN0004", Hostname: "istat-loaner"},
	)
	return hosts
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// bumpVersion returns a plausible newer version: the last number plus 2.
func bumpVersion(v string) string {
	i := strings.LastIndexAny(v, "0123456789")
	if i < 0 {
		return v + ".1"
	}
	j := i
	for j > 0 && v[j-1] >= '0' && v[j-1] <= '9' {
		j--
	}
	var n int
	fmt.Sscanf(v[j:i+1], "%d", &n)
	return v[:j] + fmt.Sprint(n+2) + v[i+1:]
}

// demoTrafficResult says what the demo's sensor added.
type demoTrafficResult struct {
	Batches, Created, Updated, Conflicts, Edges int
}

// loadDemoTraffic simulates a few minutes of the demo hospital's traffic
// ending now, runs the passive sensor over it and ingests its batches
// (the same path as 'medwarden sensor' to 'medwarden serve').
func loadDemoTraffic(ctx context.Context, st store.Store, fleet []*inventory.Device, seed int64) (*demoTrafficResult, error) {
	now := time.Now().UTC().Truncate(time.Minute)
	var capture bytes.Buffer
	cfg := simulate.Config{Minutes: demoTrafficMinutes, Seed: uint64(seed), Start: now.Add(-demoTrafficMinutes * time.Minute), Hosts: demoHosts(fleet)}
	if _, err := simulate.Generate(ctx, &capture, cfg); err != nil {
		return nil, fmt.Errorf("simulate demo traffic: %w", err)
	}
	oui, err := classify.DefaultOUI()
	if err != nil {
		return nil, err
	}
	rules, err := classify.DefaultRules()
	if err != nil {
		return nil, err
	}
	src, err := sensor.OpenCapture(bytes.NewReader(capture.Bytes()), "demo traffic")
	if err != nil {
		return nil, err
	}
	s := sensor.New(sensor.Config{EdgeBuckets: true, Dissectors: list.Build(list.Default())})
	p := &batch.Producer{Sensor: s, Classifier: classify.New(oui, rules, classify.Options{}), Builder: batch.NewBuilder(demoSensorID, 0, 1)}
	svc := ingest.New(st, nil)
	out := &demoTrafficResult{}
	apply := func(b *batch.Batch) error {
		if b == nil {
			return nil
		}
		res, err := svc.Apply(ctx, b)
		if err != nil {
			return err
		}
		out.Batches++
		out.Created += len(res.Created)
		out.Updated += len(res.Updated)
		out.Conflicts += res.Conflicts
		out.Edges += res.Edges
		return nil
	}
	next := cfg.Start.Add(time.Minute)
	for {
		fr, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("demo traffic: %w", err)
		}
		for !fr.Time.Before(next) {
			if err := apply(p.Cut(next)); err != nil {
				return nil, err
			}
			next = next.Add(time.Minute)
		}
		s.Frame(fr)
	}
	s.Flush()
	if err := apply(p.Cut(next)); err != nil {
		return nil, err
	}
	return out, nil
}
