package sensor

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// TestFindingsTotalOrder: findings that differ only in protocol or peer
// (distinct findings: both are part of the key they are collected by)
// come out of Result and TakeResultUnordered ordered by protocol, then
// peer, whatever the order of the map that collected them. Before the
// order was total they kept map order.
func TestFindingsTotalOrder(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 2, 9, 0, 5, 0, time.UTC)
	ip := netip.MustParseAddr("10.0.0.5")
	var want []string
	for _, proto := range []string{"ftp", "http", "telnet"} {
		for port := range 8 {
			want = append(want, fmt.Sprintf("%s 10.0.0.9:%d", proto, 2000+port))
		}
	}
	for run := range 10 {
		for _, unordered := range []bool{false, true} {
			s := New(Config{})
			// Reported in reverse, so the order cannot come from insertion.
			for i := len(want) - 1; i >= 0; i-- {
				var proto string
				var port uint16
				if _, err := fmt.Sscanf(want[i], "%s 10.0.0.9:%d", &proto, &port); err != nil {
					t.Fatal(err)
				}
				s.Report(dissect.Finding{Time: at, Protocol: proto, Kind: "cleartext-credentials", Severity: "high",
					Detail: "user=admin", MAC: "00:1b:21:01:02:03", IP: ip, Peer: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.9"), port)})
			}
			var res *Result
			if unordered {
				res = s.TakeResultUnordered()
			} else {
				s.Flush()
				res = s.Result()
			}
			if len(res.Findings) != len(want) {
				t.Fatalf("run %d: %d findings, want %d", run, len(res.Findings), len(want))
			}
			for i, f := range res.Findings {
				if got := fmt.Sprintf("%s %s", f.Protocol, f.Peer); got != want[i] {
					t.Fatalf("run %d (unordered %v): finding %d is %q, want %q", run, unordered, i, got, want[i])
				}
			}
		}
	}
}
