package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/ingest"
	"github.com/medwarden/medwarden/internal/ingest/ingesttest"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/simulate"
	"github.com/medwarden/medwarden/internal/store"
)

func TestDevicePageShowsNetworkPeers(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	out := ingesttest.Produce(t, simulate.Config{Devices: 12, Minutes: 3, Seed: 4}, "icu-span-1", time.Minute)
	// Register one monitor, as the hospital's register holds it.
	var mon *simulate.Host
	for _, h := range out.Truth.Devices {
		if strings.HasPrefix(h.Name, "monitor-") {
			mon = h
			break
		}
	}
	d := &inventory.Device{AssetID: "ICU-MON-7", Vendor: mon.Vendor, Model: mon.Model, MACs: []string{mon.MAC}, IPs: []string{mon.IP}}
	if err := e.st.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	c := e.signedIn(auth.Viewer)
	if res := c.get(fmt.Sprintf("/devices/%d", d.ID)); res.Code != 200 || !strings.Contains(res.Body, "No traffic of this device is stored yet") {
		t.Fatalf("device page before ingestion: %d, missing the empty state", res.Code)
	}
	svc := ingest.New(e.st, nil)
	for _, b := range out.Batches {
		if _, err := svc.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	res := c.get(fmt.Sprintf("/devices/%d", d.ID))
	// The monitor sends HL7 to the interface engine (an unregistered device
	// the sensor found) on port 2575, and does DHCP and NTP.
	for _, want := range []string{"Network peers and protocols", "Reported by icu-span-1", "tcp / hl7", "2575", "(unregistered)", "udp / ntp", "Seen on the network from"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
	// The peer links to its own page, which lists this monitor.
	p, err := e.st.ListEdges(ctx, store.EdgeQuery{Device: d.ID, App: "hl7"})
	if err != nil || len(p.Edges) == 0 || p.Edges[0].DstDevice == 0 {
		t.Fatalf("hl7 edges of the monitor: %+v, %v", p, err)
	}
	peer := c.get(fmt.Sprintf("/devices/%d", p.Edges[0].DstDevice))
	if !strings.Contains(peer.Body, ">ICU-MON-7</a>") {
		t.Error("the interface engine's page does not list the monitor as a peer")
	}
}
