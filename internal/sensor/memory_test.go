package sensor

import (
	"os"
	"os/exec"
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

// flowFrames returns a frame builder for n distinct flows from 10.0.0.1 to
// 10.x.y.z: TCP segments carrying an HTTP request (application state and an
// HTTP parser per flow), UDP datagrams to a port no dissector claims
// (detection state), or alternately both.
func flowFrames(kind string) func(i int) []byte {
	payload := []byte("GET /status HTTP/1.1\r\nHost: pump\r\n\r\n")
	tcpFrame := eth(etIPv4, ipv4("10.0.0.1", "10.0.0.2", protoTCP, 1, 0, false, tcpSeg(40000, 8080, 1, tcpACK|0x08, payload)))
	udpFrame := eth(etIPv4, ipv4("10.0.0.1", "10.0.0.2", protoUDP, 1, 0, false, udp(40000, 9999, payload)))
	return func(i int) []byte {
		f := udpFrame
		if kind == "tcp" || kind == "mixed" && i&1 == 0 {
			f = tcpFrame
		}
		ip := f[14:]
		ip[17], ip[18], ip[19] = byte(i>>16), byte(i>>8), byte(i) // destination 10.x.y.z
		return f
	}
}

// TestMillionUDPFlowsMemory holds 1,000,000 concurrent datagram flows that
// all carry payload and checks the 512 MB budget; then it sends 500,000
// more: the cap evicts the oldest flows and memory stays within budget.
func TestMillionUDPFlowsMemory(t *testing.T) {
	if os.Getenv("MEDWARDEN_TEST_MEMORY") == "" {
		t.Skip("MEDWARDEN_TEST_MEMORY not set: the 1,000,000-flow memory test is long")
	}
	if os.Getenv("MEDWARDEN_TEST_MEMORY_CHILD") == "" {
		// Memory from the OS is per process and never shrinks: measure in a
		// process of its own, so other tests neither inflate nor pay for it.
		cmd := exec.Command(os.Args[0], "-test.run=^TestMillionUDPFlowsMemory$", "-test.v")
		cmd.Env = append(os.Environ(), "MEDWARDEN_TEST_MEMORY_CHILD=1")
		out, err := cmd.CombinedOutput()
		t.Logf("%s", out)
		if err != nil {
			t.Fatalf("memory test process: %v", err)
		}
		return
	}
	const n = 1_000_000
	s, ms := flowMemory(t, Config{}, n, flowFrames("udp"))
	if s.flows.n != n {
		t.Errorf("flows in table = %d, want %d", s.flows.n, n)
	}
	if ms.Sys > 512<<20 {
		t.Errorf("1,000,000 UDP flows: memory from the OS = %d MB, budget 512 MB", ms.Sys>>20)
	}
	s, ms = flowMemory(t, Config{}, n+n/2, flowFrames("udp"))
	if s.flows.n != DefaultMaxFlows || s.Stats().EvictedFlows != n/2 {
		t.Errorf("after %d flows: %d in the table, %d evicted; want %d and %d", n+n/2, s.flows.n, s.Stats().EvictedFlows, DefaultMaxFlows, n/2)
	}
	if ms.Sys > 512<<20 {
		t.Errorf("past the cap: memory from the OS = %d MB, budget 512 MB", ms.Sys>>20)
	}
}

// TestMillionTCPFlowsMemory holds 1,000,000 concurrent TCP flows that
// each carry an HTTP request (flow, application state and an HTTP parser
// awaiting the response per flow) and checks the 512 MB budget.
func TestMillionTCPFlowsMemory(t *testing.T) {
	if os.Getenv("MEDWARDEN_TEST_MEMORY") == "" {
		t.Skip("MEDWARDEN_TEST_MEMORY not set: the 1,000,000-flow memory test is long")
	}
	kind := os.Getenv("MEDWARDEN_TEST_MEMORY_CHILD")
	if kind == "" {
		// One process per kind: memory from the OS never shrinks.
		for _, kind := range []string{"tcp", "mixed"} {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMillionTCPFlowsMemory$", "-test.v")
			cmd.Env = append(os.Environ(), "MEDWARDEN_TEST_MEMORY_CHILD="+kind)
			out, err := cmd.CombinedOutput()
			t.Logf("%s: %s", kind, out)
			if err != nil {
				t.Errorf("memory test process (%s): %v", kind, err)
			}
		}
		return
	}
	const n = 1_000_000
	s, ms := flowMemory(t, Config{}, n, flowFrames(kind))
	if s.flows.n != n {
		t.Errorf("%s: flows in table = %d, want %d", kind, s.flows.n, n)
	}
	if st := s.Stats(); st.DissectorErrors != 0 {
		t.Errorf("%s: %d dissector errors", kind, st.DissectorErrors)
	}
	if ms.Sys > 512<<20 {
		t.Errorf("1,000,000 %s flows with payload: memory from the OS = %d MB, budget 512 MB", kind, ms.Sys>>20)
	}
	runtime.KeepAlive(s)
}

// BenchmarkMillionFlows reports the heap of 1,000,000 concurrent flows per
// kind (one iteration is enough: go test -bench MillionFlows -benchtime 1x).
// TCP flows carrying payload hold a flowApp and an HTTP parser each (see
// docs/benchmarks/sensor.md).
func BenchmarkMillionFlows(b *testing.B) {
	for _, kind := range []string{"udp", "mixed", "tcp"} {
		b.Run(kind, func(b *testing.B) {
			var heap uint64
			for b.Loop() {
				cfg := Config{Dissectors: list.Build(list.Default())}
				s := New(cfg)
				frame := flowFrames(kind)
				t0 := time.Unix(1700000000, 0)
				for i := range 1_000_000 {
					f := frame(i)
					s.Frame(Frame{Data: f, Time: t0.Add(time.Duration(i) * 100 * time.Nanosecond), Length: len(f), LinkType: layers.LinkTypeEthernet})
				}
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap = ms.HeapInuse
				runtime.KeepAlive(s)
			}
			b.ReportMetric(float64(heap>>20), "heap-MB")
			b.ReportMetric(float64(heap)/1e6, "bytes/flow")
		})
	}
}
