package sensor

import (
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
)

// flowMemory feeds n flows (one frame each, built by frame(i)) through a
// sensor with every default dissector and returns the flows in the table
// and the memory obtained from the OS after a GC.
func flowMemory(t *testing.T, cfg Config, n int, frame func(i int) []byte) (*Sensor, runtime.MemStats) {
	t.Helper()
	cfg.Dissectors = list.Build(list.Default())
	s := New(cfg)
	t0 := time.Unix(1700000000, 0)
	for i := range n {
		f := frame(i)
		s.Frame(Frame{Data: f, Time: t0.Add(time.Duration(i) * 100 * time.Nanosecond), Length: len(f), LinkType: layers.LinkTypeEthernet})
	}
	runtime.GC()
	if p := os.Getenv("MEDWARDEN_TEST_HEAPPROFILE"); p != "" { // go tool pprof -sample_index=inuse_space
		if f, err := os.Create(p); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d frames: %d flows in the table, %d evicted; heap in use %d MB, from the OS %d MB",
		n, s.flows.n, s.Stats().EvictedFlows, ms.HeapInuse>>20, ms.Sys>>20)
	return s, ms
}

// TestMillionPayloadFlowsMemory holds 1,000,000 concurrent flows that all
// carry payload (so each has application state: half TCP with data after
// the handshake, half UDP datagrams to a port no dissector claims) and
// checks the 512 MB budget. Then it sends 500,000 more: the cap evicts the
// oldest flows and memory stays within budget.
func TestMillionPayloadFlowsMemory(t *testing.T) {
	if os.Getenv("MEDWARDEN_TEST_MEMORY") == "" {
		t.Skip("MEDWARDEN_TEST_MEMORY not set: the 1,000,000-flow memory test is long")
	}
	payload := []byte("GET /status HTTP/1.1\r\nHost: pump\r\n\r\n")
	tcpFrame := eth(etIPv4, ipv4("10.0.0.1", "10.0.0.2", protoTCP, 1, 0, false, tcpSeg(40000, 8080, 1, tcpACK|0x08, payload)))
	udpFrame := eth(etIPv4, ipv4("10.0.0.1", "10.0.0.2", protoUDP, 1, 0, false, udp(40000, 9999, payload)))
	frame := func(i int) []byte {
		f := tcpFrame
		if i&1 == 1 {
			f = udpFrame
		}
		ip := f[14:]
		ip[17], ip[18], ip[19] = byte(i>>16), byte(i>>8), byte(i) // destination 10.x.y.z
		return f
	}
	const n = 1_000_000
	s, ms := flowMemory(t, Config{}, n, frame)
	if s.flows.n != n {
		t.Errorf("flows in table = %d, want %d", s.flows.n, n)
	}
	if ms.Sys > 512<<20 {
		t.Errorf("1,000,000 payload flows: memory from the OS = %d MB, budget 512 MB", ms.Sys>>20)
	}

	s, ms = flowMemory(t, Config{}, n+n/2, frame)
	if s.flows.n != DefaultMaxFlows || s.Stats().EvictedFlows != n/2 {
		t.Errorf("after %d flows: %d in the table, %d evicted; want %d and %d", n+n/2, s.flows.n, s.Stats().EvictedFlows, DefaultMaxFlows, n/2)
	}
	if ms.Sys > 512<<20 {
		t.Errorf("past the cap: memory from the OS = %d MB, budget 512 MB", ms.Sys>>20)
	}
}
