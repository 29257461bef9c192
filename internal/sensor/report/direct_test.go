package report

import (
	"bytes"
	"cmp"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

func defaultClassifier(t *testing.T) *classify.Classifier {
	t.Helper()
	oui, err := classify.DefaultOUI()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := classify.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	return classify.New(oui, rules, classify.Options{})
}

// TestWriteScanJSONIsFromResult: the scan's direct writer writes the
// bytes of FromResult + WriteJSON on every capture of the sensor's test
// data, from both takes (compact edges and sorted Edge values).
func TestWriteScanJSONIsFromResult(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.pcap*")
	if len(files) == 0 {
		t.Fatal("no captures in ../testdata")
	}
	c := defaultClassifier(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			for _, unordered := range []bool{true, false} {
				take := func() *sensor.Result {
					s := runCapture(t, f)
					if unordered {
						return s.TakeResultUnordered()
					}
					return s.TakeResult()
				}
				var want, got bytes.Buffer
				if err := FromResult(take(), c).WriteJSON(&want); err != nil {
					t.Fatal(err)
				}
				res := take()
				if err := WriteScanJSON(&got, res, c); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("unordered %v: WriteScanJSON differs from FromResult().WriteJSON:\n got %d bytes\nwant %d bytes\n%s",
						unordered, got.Len(), want.Len(), firstDiff(got.Bytes(), want.Bytes()))
				}
				if res.Observations != nil || res.Edges != nil || res.CompactEdges != nil || res.Hosts != nil {
					t.Error("WriteScanJSON did not release the result's observations, edges and hosts")
				}
			}
		})
	}
}

// TestWriteScanIsFromResult: what medwarden scan writes (TakeScan, then
// WriteScan: classification input made from the sensor's observation
// table and binding list) is the bytes of Flush + Result + FromResult +
// WriteJSON, on every capture of the sensor's test data and, when
// MEDWARDEN_TESTDATA_EXTRA is set, of the shared corpus; the take is
// emptied.
func TestWriteScanIsFromResult(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.*cap*")
	if dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA"); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "pcap", "*", "*.*cap*"))
		files = append(files, more...)
	}
	if len(files) == 0 {
		t.Fatal("no captures in ../testdata")
	}
	c := defaultClassifier(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var want, got bytes.Buffer
			s := runCapture(t, f)
			s.Flush()
			if err := FromResult(s.Result(), c).WriteJSON(&want); err != nil {
				t.Fatal(err)
			}
			take := runCapture(t, f).TakeScan()
			// Bindings with a MAC by MAC then address: the order
			// classification takes without sorting.
			macs := slices.DeleteFunc(slices.Clone(take.Bindings), func(b sensor.Binding) bool { return b.MAC == "" })
			if !slices.IsSortedFunc(macs, func(a, b sensor.Binding) int { return cmp.Or(strings.Compare(a.MAC, b.MAC), a.IP.Compare(b.IP)) }) {
				t.Error("TakeScan's bindings are not sorted by MAC, then address")
			}
			if err := WriteScan(&got, take, c); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("WriteScan differs from FromResult().WriteJSON:\n got %d bytes\nwant %d bytes\n%s",
					got.Len(), want.Len(), firstDiff(got.Bytes(), want.Bytes()))
			}
			if take.Observations() != 0 || take.Bindings != nil || take.Edges != nil || take.Findings != nil {
				t.Error("WriteScan did not release the take's observations, bindings, edges and findings")
			}
		})
	}
}

// TestWriteScanJSONEdgeCases: a result built by hand with what the test
// captures lack — text that JSON escapes, an IPv6 zone from a DHCP value,
// zero and out-of-range times, devices without addresses or
// observations, findings with and without MAC, IP and peer, an empty
// edge list and one with folded edges — is written the same by both.
func TestWriteScanJSONEdgeCases(t *testing.T) {
	t.Parallel()
	c := defaultClassifier(t)
	base := time.Date(2026, 11, 2, 9, 0, 5, 500000000, time.UTC)
	mac1, mac2 := "00:09:fb:11:22:33", "00:1b:21:01:02:03"
	ip1, ip2, ip3 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fe80::9")
	mk := func(withEdges bool) *sensor.Result {
		obs := func(mac string, ip netip.Addr, field, value string, first, last time.Time) sensor.ObservationRecord {
			proto := field[:bytes.IndexByte([]byte(field), '.')]
			return sensor.ObservationRecord{Observation: dissect.Observation{Protocol: proto, Field: field, Value: value, MAC: mac, IP: ip},
				FirstSeen: first, LastSeen: last, Count: 2}
		}
		r := &sensor.Result{
			Stats: sensor.Stats{Packets: 10, Bytes: 1000, Flows: 3},
			Hosts: []sensor.Host{{MAC: mac1, IPs: map[netip.Addr]uint8{ip1: sensor.BindTraffic}}, {MAC: mac2, IPs: map[netip.Addr]uint8{ip2: sensor.BindARP}}},
			Observations: []sensor.ObservationRecord{
				obs(mac1, ip1, "dhcp.hostname", `mon<1>&"x"`+"\u2028\xff", base, base.Add(time.Second)),
				obs(mac1, ip1, "http.user_agent", "Mozilla/5.0", time.Time{}, time.Time{}),
				obs(mac2, ip2, "dhcp.assigned_ip", `fe80::7%eth"0<`, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), base),
				obs("", ip3, "mdns.name", "pump.local", time.Date(-5, 1, 1, 0, 0, 0, 7, time.UTC), base),
				obs("", netip.MustParseAddr("192.0.2.1"), "ssh.server_banner", "SSH-2.0-x", base, base),
			},
			Findings: []sensor.FindingRecord{
				{Finding: dissect.Finding{Kind: "cleartext-credentials", Severity: "high", Protocol: "ftp", Detail: "user=<a&b>", MAC: mac1, IP: ip1,
					Peer: netip.AddrPortFrom(ip2, 21)}, FirstSeen: base, LastSeen: base.Add(time.Minute), Count: 3},
				{Finding: dissect.Finding{Kind: "snmp-community", Severity: "medium", Protocol: "snmp", Detail: "public", IP: netip.MustParseAddr("203.0.113.5")},
					FirstSeen: base, LastSeen: base, Count: 1},
				{Finding: dissect.Finding{Kind: "x", Severity: "low", Protocol: "y", Detail: "", MAC: mac2}, Count: 1},
				{Finding: dissect.Finding{Kind: "x", Severity: "low", Protocol: "y", Detail: "z", MAC: "00:00:5e:00:53:01"}, FirstSeen: base, LastSeen: base, Count: 1},
			},
		}
		if withEdges {
			e := func(sm string, sip netip.Addr, dm string, dip netip.Addr, proto string, port uint16, app string, first time.Time) sensor.Edge {
				return sensor.Edge{EdgeKey: sensor.EdgeKey{SrcMAC: sm, SrcIP: sip, DstMAC: dm, DstIP: dip, Proto: proto, DPort: port, App: app},
					EdgeStats: sensor.EdgeStats{Packets: 2, Bytes: 120, First: first, Last: first.Add(time.Second)}}
			}
			r.Edges = []sensor.Edge{
				e(mac1, ip1, mac2, ip2, "tcp", 104, "dicom", base),
				e(mac1, ip1, mac2, ip2, "tcp", 104, "dicom", base.Add(-time.Hour)),
				e(mac2, netip.IPv4Unspecified(), "ff:ff:ff:ff:ff:ff", netip.MustParseAddr("255.255.255.255"), "udp", 67, "dhcp", base),
				e("", netip.Addr{}, "", netip.Addr{}, "tcp", 0, sensor.FoldedApp, time.Time{}),
				e(mac1, ip1, "", netip.MustParseAddr("198.51.100.7"), "udp", 53, "", base),
			}
		}
		return r
	}
	for _, withEdges := range []bool{false, true} {
		var want, got bytes.Buffer
		if err := FromResult(mk(withEdges), c).WriteJSON(&want); err != nil {
			t.Fatal(err)
		}
		if err := WriteScanJSON(&got, mk(withEdges), c); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("edges %v: WriteScanJSON differs from FromResult().WriteJSON:\n%s", withEdges, firstDiff(got.Bytes(), want.Bytes()))
		}
		if !bytes.Contains(want.Bytes(), []byte(`fe80::7%eth\"0\u003c`)) {
			t.Errorf("edges %v: the zoned address is not in the report as expected:\n%s", withEdges, want.Bytes())
		}
	}
}

// firstDiff describes where a and b first differ.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return "at byte " + itoa(i) + ":\n got …" + string(a[lo:min(len(a), i+200)]) + "\nwant …" + string(b[lo:min(len(b), i+200)])
}

func itoa(i int) string { return strconv.Itoa(i) }
