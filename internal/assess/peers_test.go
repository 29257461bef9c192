package assess

import (
	"context"
	"strings"
	"testing"
)

// TestEngineInboundPeers: the sensor's observed inbound peers reach the
// risk model's exposure factor of that device only, and many peers never
// lower its score.
func TestEngineInboundPeers(t *testing.T) {
	devs, as := fleet(t, 2500), icsma(t)
	base, err := newEngine(t, devs, as).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(base.Devices) < 2 {
		t.Fatalf("only %d devices at risk", len(base.Devices))
	}
	target := base.Devices[0].DeviceID
	e, err := NewEngine(Config{Now: testNow, InboundPeers: map[int64]int{target: 40}}, devs, as)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range base.Devices {
		g, ok := deviceOf(got, b.DeviceID)
		if !ok {
			t.Fatalf("device %d missing with peers", b.DeviceID)
		}
		expo := ""
		for _, f := range g.Factors {
			if f.Name == "exposure" {
				expo = f.Value
			}
		}
		if b.DeviceID != target {
			if g.Score != b.Score || strings.Contains(expo, "inbound peers") {
				t.Errorf("device %d: score %.1f → %.1f, exposure %q; only the observed device may change", b.DeviceID, b.Score, g.Score, expo)
			}
			continue
		}
		if !strings.Contains(expo, "40 inbound peers observed") {
			t.Errorf("observed device's exposure factor = %q, want the 40 inbound peers", expo)
		}
		if g.Score < b.Score {
			t.Errorf("40 inbound peers lowered the score: %.1f → %.1f", b.Score, g.Score)
		}
	}
}
