package inventory

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func boolp(b bool) *bool { return &b }

func datep(y int, m time.Month, d int) *Date { v := NewDate(y, m, d); return &v }

func TestVendorKey(t *testing.T) {
	tests := []struct{ a, b string }{
		{"GE Healthcare", "GE HealthCare"},
		{"GE HealthCare", "GE-Healthcare, Inc."},
		{"Philips", "PHILIPS"},
		{"Drägerwerk AG & Co. KGaA", "Drägerwerk AG & Co KGaA"},
		{"B. Braun", "B Braun"},
		{"Hill-Rom, Inc.", "HillRom"},
		{"Siemens Healthineers AG", "Siemens Healthineers"},
	}
	for _, tt := range tests {
		if ka, kb := VendorKey(tt.a), VendorKey(tt.b); ka != kb || ka == "" {
			t.Errorf("VendorKey(%q) = %q, VendorKey(%q) = %q, want equal", tt.a, ka, tt.b, kb)
		}
	}
	if VendorKey("Philips") == VendorKey("Philips Respironics") {
		t.Error("different vendors compare equal")
	}
}

// fleet is the index used by the match tests: ids 1..5.
func fleet() *Index {
	x := NewIndex()
	x.Add(1, &Device{AssetID: "BME-1", Vendor: "Philips", Serial: "DE001", MACs: []string{"00:09:fb:00:00:01"}})
	x.Add(2, &Device{AssetID: "BME-2", Vendor: "GE Healthcare", Serial: "SHQ002", UDIDI: "00840682100011"})
	x.Add(3, &Device{Vendor: "Baxter", Serial: "sp003", MACs: []string{"00:1b:2c:00:00:03", "00:1b:2c:00:00:33"}})
	x.Add(4, &Device{UDIDI: "04048675000004", Serial: "ASLM-4"})
	x.Add(5, &Device{MACs: []string{"a4:bb:6d:00:00:05"}})
	return x
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name     string
		in       *Device
		wantID   int64
		wantRule string
		wantErr  string
	}{
		{"asset_id", &Device{AssetID: "BME-1"}, 1, RuleAssetID, ""},
		{"asset_id_trimmed", &Device{AssetID: "  BME-2 "}, 2, RuleAssetID, ""},
		{"asset_id_beats_other_rules_when_they_agree", &Device{AssetID: "BME-1", Vendor: "PHILIPS", Serial: "DE001"}, 1, RuleAssetID, ""},
		{"udi_di_and_serial", &Device{UDIDI: "04048675000004", Serial: "ASLM-4"}, 4, RuleUDI, ""},
		{"udi_di_without_serial_is_no_identity", &Device{UDIDI: "04048675000004"}, 0, "", ""},
		{"vendor_serial_case_and_spelling", &Device{Vendor: "GE HealthCare", Serial: "shq002"}, 2, RuleVendorSerial, ""},
		{"vendor_serial_legal_form", &Device{Vendor: "Baxter Inc.", Serial: "SP003"}, 3, RuleVendorSerial, ""},
		{"serial_without_vendor_is_no_identity", &Device{Serial: "DE001"}, 0, "", ""},
		{"serial_of_other_vendor", &Device{Vendor: "Mindray", Serial: "DE001"}, 0, "", ""},
		{"mac_any_of_several", &Device{MACs: []string{"00:1b:2c:00:00:33"}}, 3, RuleMAC, ""},
		{"mac_second_of_record", &Device{MACs: []string{"de:ad:be:ef:00:00", "a4:bb:6d:00:00:05"}}, 5, RuleMAC, ""},
		{"new_device", &Device{AssetID: "BME-99", Vendor: "Philips", Serial: "DE099"}, 0, "", ""},
		{"new_asset_id_with_known_mac_of_untagged_device", &Device{AssetID: "BME-5", MACs: []string{"a4:bb:6d:00:00:05"}}, 5, RuleMAC, ""},
		{"rules_disagree", &Device{AssetID: "BME-1", MACs: []string{"a4:bb:6d:00:00:05"}}, 0, "",
			"ambiguous identity: asset_id matches device 1; mac matches device 5"},
		{"vendor_serial_vs_mac", &Device{Vendor: "Philips", Serial: "DE001", MACs: []string{"00:1b:2c:00:00:03"}}, 0, "",
			"ambiguous identity: vendor+serial matches device 1; mac matches device 3"},
		{"asset_tag_contradiction", &Device{AssetID: "BME-77", Vendor: "Philips", Serial: "DE001"}, 0, "",
			`ambiguous identity: vendor+serial matches device 1, which has asset_id "BME-1", not "BME-77"`},
	}
	x := fleet()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, rule, err := x.Match(tt.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
				var ae *AmbiguousError
				if !errors.As(err, &ae) {
					t.Errorf("error %v is not an *AmbiguousError", err)
				}
			}
			if id != tt.wantID || rule != tt.wantRule || gotErr != tt.wantErr {
				t.Errorf("Match = (%d, %q, %q), want (%d, %q, %q)", id, rule, gotErr, tt.wantID, tt.wantRule, tt.wantErr)
			}
		})
	}
}

func TestMatchSharedKeyAndRemove(t *testing.T) {
	x := NewIndex()
	a := &Device{AssetID: "A", MACs: []string{"00:00:5e:00:01:01"}} // a VRRP MAC two devices report
	b := &Device{AssetID: "B", MACs: []string{"00:00:5e:00:01:01"}}
	x.Add(1, a)
	x.Add(2, b)
	_, _, err := x.Match(&Device{MACs: []string{"00:00:5e:00:01:01"}})
	var ae *AmbiguousError
	if !errors.As(err, &ae) {
		t.Fatalf("Match on a shared MAC: err = %v, want *AmbiguousError", err)
	}
	if diff := cmp.Diff(map[string][]int64{RuleMAC: {1, 2}}, ae.Candidates); diff != "" {
		t.Errorf("candidates (-want +got):\n%s", diff)
	}
	x.Remove(2, b)
	id, rule, err := x.Match(&Device{MACs: []string{"00:00:5e:00:01:01"}})
	if id != 1 || rule != RuleMAC || err != nil {
		t.Errorf("after Remove: Match = (%d, %q, %v), want (1, mac, nil)", id, rule, err)
	}
	x.Remove(1, a)
	if id, _, err := x.Match(a); id != 0 || err != nil {
		t.Errorf("after removing all: Match = (%d, %v), want (0, nil)", id, err)
	}
	// Re-adding the same device under the same id is harmless.
	x.Add(7, a)
	x.Add(7, a)
	if id, _, err := x.Match(a); id != 7 || err != nil {
		t.Errorf("re-add: Match = (%d, %v), want (7, nil)", id, err)
	}
}

// TestRemoveIDs: devices changed by another writer are dropped by id,
// whatever their keys were, and indexed again in their place: stored
// devices sharing a key stay in id order, devices not saved yet after them.
func TestRemoveIDs(t *testing.T) {
	x := NewIndex()
	const vrrp = "00:00:5e:00:01:01"
	x.Add(-1, &Device{MACs: []string{vrrp}}) // a record of the import
	x.Add(3, &Device{AssetID: "C", Vendor: "Baxter", Serial: "S3", MACs: []string{vrrp}})
	x.Add(5, &Device{AssetID: "E", MACs: []string{vrrp}})
	x.Add(1, &Device{AssetID: "A", MACs: []string{vrrp}})
	candidates := func() []int64 {
		t.Helper()
		_, _, err := x.Match(&Device{MACs: []string{vrrp}})
		var ae *AmbiguousError
		if !errors.As(err, &ae) {
			t.Fatalf("Match on a shared MAC: err = %v, want *AmbiguousError", err)
		}
		return ae.Candidates[RuleMAC]
	}
	if diff := cmp.Diff([]int64{1, 3, 5, -1}, candidates()); diff != "" {
		t.Errorf("candidates (-want +got):\n%s", diff)
	}
	// Device 3 changed elsewhere: its asset tag and serial are now others.
	x.RemoveIDs(map[int64]bool{3: true})
	if diff := cmp.Diff([]int64{1, 5, -1}, candidates()); diff != "" {
		t.Errorf("after RemoveIDs(3) (-want +got):\n%s", diff)
	}
	for _, d := range []*Device{{AssetID: "C"}, {Vendor: "Baxter", Serial: "S3"}} {
		if id, _, err := x.Match(d); id != 0 || err != nil {
			t.Errorf("after RemoveIDs(3): Match(%+v) = (%d, %v), want (0, nil)", d, id, err)
		}
	}
	x.Add(3, &Device{AssetID: "C2", Vendor: "Baxter", Serial: "S3b", MACs: []string{vrrp}})
	if diff := cmp.Diff([]int64{1, 3, 5, -1}, candidates()); diff != "" {
		t.Errorf("after adding 3 again (-want +got):\n%s", diff)
	}
	if id, rule, err := x.Match(&Device{Vendor: "Baxter", Serial: "S3B"}); id != 3 || rule != RuleVendorSerial || err != nil {
		t.Errorf("Match by the new serial = (%d, %q, %v), want (3, vendor+serial, nil)", id, rule, err)
	}
	// A shared key left with one device is an ordinary key again.
	x.RemoveIDs(map[int64]bool{1: true, 3: true, -1: true})
	if id, rule, err := x.Match(&Device{MACs: []string{vrrp}}); id != 5 || rule != RuleMAC || err != nil {
		t.Errorf("after removing all but 5: Match = (%d, %q, %v), want (5, mac, nil)", id, rule, err)
	}
}

// TestIndexKeys: the index compares the key bytes it copied: pairs split
// differently are different keys, and a very long key (over 16 MiB,
// stored with its length apart) matches and is removed.
func TestIndexKeys(t *testing.T) {
	x := NewIndex()
	x.Add(1, &Device{Vendor: "AB", Serial: "C"})
	if id, _, err := x.Match(&Device{Vendor: "A", Serial: "BC"}); id != 0 || err != nil {
		t.Errorf("vendor A + serial BC matched (%d, %v), want no match (vendor AB + serial C is stored)", id, err)
	}
	long := strings.Repeat("x", 1<<24+3)
	d := &Device{AssetID: long, MACs: []string{"00:00:5e:00:01:02"}}
	x.Add(2, d)
	if id, rule, err := x.Match(&Device{AssetID: long}); id != 2 || rule != RuleAssetID || err != nil {
		t.Errorf("long asset id: Match = (%d, %q, %v), want (2, asset_id, nil)", id, rule, err)
	}
	_, _, err := x.Match(&Device{AssetID: "OTHER", MACs: []string{"00:00:5e:00:01:02"}})
	var ae *AmbiguousError
	if !errors.As(err, &ae) || !strings.Contains(ae.Reason, `which has asset_id "xxx`) {
		t.Errorf("asset tag contradiction with a long tag: %v", err)
	}
	if x.Len() != 1 {
		t.Errorf("Len() = %d, want 1", x.Len())
	}
	x.Remove(2, d)
	if id, _, err := x.Match(&Device{AssetID: long}); id != 0 || err != nil || x.Len() != 0 {
		t.Errorf("after Remove: Match = (%d, %v), Len %d; want (0, nil), 0", id, err, x.Len())
	}
}

func TestApply(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	old := Provenance{Kind: SourceEdited, Source: "alice", At: t0}
	p := Provenance{Kind: SourceImported, Source: "cmms.csv", At: t0.Add(time.Hour)}
	tests := []struct {
		name     string
		dst, src *Device
		want     *Device
		changed  []string
	}{
		{
			name: "fills_and_overwrites_non_empty_only",
			dst: &Device{ID: 9, AssetID: "BME-1", Vendor: "Philips", Model: "MX450", Version: "M.00.01",
				Provenance: map[string]Provenance{"vendor": old, "version": old}},
			src: &Device{AssetID: "BME-1", Vendor: "Philips", Version: "M.00.03", Serial: "DE1",
				MACs: []string{"00:09:fb:00:00:01"}, Criticality: LifeSupporting, PHI: boolp(false),
				EndOfSupport: datep(2028, 12, 31)},
			want: &Device{ID: 9, AssetID: "BME-1", Vendor: "Philips", Model: "MX450", Version: "M.00.03", Serial: "DE1",
				MACs: []string{"00:09:fb:00:00:01"}, Criticality: LifeSupporting, PHI: boolp(false),
				EndOfSupport: datep(2028, 12, 31),
				Provenance: map[string]Provenance{"vendor": old, "version": p, "serial": p, "mac": p,
					"criticality": p, "phi": p, "end_of_support": p}},
			changed: []string{"version", "serial", "mac", "criticality", "phi", "end_of_support"},
		},
		{
			name: "same_values_change_nothing",
			dst: &Device{AssetID: "A", MACs: []string{"00:00:00:00:00:01", "00:00:00:00:00:02"}, PHI: boolp(true),
				EndOfLife: datep(2030, 1, 1), Provenance: map[string]Provenance{"mac": old}},
			src: &Device{AssetID: "A", MACs: []string{"00:00:00:00:00:02", "00:00:00:00:00:01"}, PHI: boolp(true),
				EndOfLife: datep(2030, 1, 1)},
			want: &Device{AssetID: "A", MACs: []string{"00:00:00:00:00:01", "00:00:00:00:00:02"}, PHI: boolp(true),
				EndOfLife: datep(2030, 1, 1), Provenance: map[string]Provenance{"mac": old}},
		},
		{
			name: "false_overwrites_true_and_ip_set_changes",
			dst:  &Device{AssetID: "A", PatientConnected: boolp(true), IPs: []string{"10.0.0.1"}},
			src:  &Device{PatientConnected: boolp(false), IPs: []string{"10.0.0.1", "10.0.0.2"}, Zone: "VLAN 20", UDIDI: "0123", EndOfLife: datep(2031, 5, 1)},
			want: &Device{AssetID: "A", PatientConnected: boolp(false), IPs: []string{"10.0.0.1", "10.0.0.2"}, Zone: "VLAN 20", UDIDI: "0123",
				EndOfLife: datep(2031, 5, 1), Provenance: map[string]Provenance{"patient_connected": p, "ip": p, "zone": p, "udi_di": p, "end_of_life": p}},
			changed: []string{"ip", "patient_connected", "udi_di", "zone", "end_of_life"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := Apply(tt.dst, tt.src, p)
			if diff := cmp.Diff(tt.changed, changed); diff != "" {
				t.Errorf("changed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, tt.dst); diff != "" {
				t.Errorf("device (-want +got):\n%s", diff)
			}
			// Idempotent: applying again changes nothing.
			if again := Apply(tt.dst, tt.src, p); again != nil {
				t.Errorf("second Apply changed %v", again)
			}
		})
	}
}

func TestApplyDoesNotAlias(t *testing.T) {
	src := &Device{MACs: []string{"00:00:00:00:00:01"}, PHI: boolp(true), EndOfSupport: datep(2030, 1, 1)}
	dst := &Device{}
	Apply(dst, src, Provenance{})
	src.MACs[0] = "changed"
	*src.PHI = false
	src.EndOfSupport.Time = src.EndOfSupport.AddDate(1, 0, 0)
	if dst.MACs[0] != "00:00:00:00:00:01" || !*dst.PHI || dst.EndOfSupport.Year() != 2030 {
		t.Errorf("dst shares memory with src: %+v", dst)
	}
}

func TestApplyObserved(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	d := &Device{Version: "M.00.03"}
	steps := []struct {
		field string
		o     Observation
		want  bool
	}{
		{"version", Observation{Value: "M.00.04", Source: "sensor-1", At: t0}, true},
		{"version", Observation{Value: "M.00.04", Source: "sensor-1", At: t0.Add(time.Hour)}, false},
		{"version", Observation{Value: "M.00.04", Source: "sensor-2", At: t0}, true},
		{"version", Observation{Value: "M.00.05", Source: "sensor-2", At: t0}, true},
		{"ip", Observation{Value: "10.0.0.9", Source: "sensor-2", At: t0}, true},
		{"ip", Observation{Value: "", Source: "sensor-2", At: t0}, false},
		{"no_such_field", Observation{Value: "x"}, false},
	}
	for i, s := range steps {
		if got := ApplyObserved(d, s.field, s.o); got != s.want {
			t.Errorf("step %d: ApplyObserved(%s, %q) = %v, want %v", i, s.field, s.o.Value, got, s.want)
		}
	}
	want := &Device{Version: "M.00.03", Observed: map[string]Observation{
		"version": {Value: "M.00.05", Source: "sensor-2", At: t0},
		"ip":      {Value: "10.0.0.9", Source: "sensor-2", At: t0},
	}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("device (-want +got):\n%s", diff)
	}
}

func benchDevices(n int) []*Device {
	out := make([]*Device, n)
	for i := range out {
		out[i] = &Device{
			AssetID: fmt.Sprintf("BME-%07d", i),
			Vendor:  [...]string{"Philips", "GE HealthCare", "Baxter", "BD"}[i%4],
			Serial:  fmt.Sprintf("SN%08d", i),
			UDIDI:   fmt.Sprintf("%014d", i%5000),
			MACs:    []string{fmt.Sprintf("00:09:fb:%02x:%02x:%02x", byte(i>>16), byte(i>>8), byte(i))},
		}
	}
	return out
}

// cpuSeconds is the user+system CPU time of the process so far. The build
// machine is shared; CPU time per operation is steadier than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// reportCPU adds the CPU nanoseconds per device (n devices per loop).
func reportCPU(b *testing.B, cpu0 float64, n int) {
	b.ReportMetric((cpuSeconds()-cpu0)*1e9/float64(n*b.N), "cpu-ns/device")
}

// BenchmarkIndex measures 1e6 Adds, then 1e6 Matches (all hits, every
// rule evaluated), per op.
func BenchmarkIndex(b *testing.B) {
	devs := benchDevices(1_000_000)
	b.Run("add-1e6", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuSeconds()
		for b.Loop() {
			x := NewIndex()
			for i, d := range devs {
				x.Add(int64(i+1), d)
			}
		}
		reportCPU(b, cpu0, len(devs))
	})
	b.Run("add-1e6-presized", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuSeconds()
		for b.Loop() {
			x := NewIndexSize(len(devs))
			for i, d := range devs {
				x.Add(int64(i+1), d)
			}
		}
		reportCPU(b, cpu0, len(devs))
	})
	b.Run("baseline-bare-map-insert-1e6", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuSeconds()
		for b.Loop() {
			m := make(map[string]int64)
			for i, d := range devs {
				m[d.AssetID] = int64(i + 1)
			}
		}
		reportCPU(b, cpu0, len(devs))
	})
	x := NewIndex()
	for i, d := range devs {
		x.Add(int64(i+1), d)
	}
	b.Run("match-1e6", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuSeconds()
		for b.Loop() {
			for i, d := range devs {
				id, _, err := x.Match(d)
				if err != nil || id != int64(i+1) {
					b.Fatalf("Match(%d) = %d, %v", i, id, err)
				}
			}
		}
		reportCPU(b, cpu0, len(devs))
	})
}

func BenchmarkApply(b *testing.B) {
	src := &Device{AssetID: "BME-1", Vendor: "Philips", Model: "IntelliVue MX450", Version: "M.00.03",
		Serial: "DE1", MACs: []string{"00:09:fb:00:00:01"}, IPs: []string{"10.0.0.1"}, PHI: boolp(true),
		Criticality: LifeSupporting, EndOfSupport: datep(2028, 12, 31)}
	dst := &Device{}
	Apply(dst, src, Provenance{})
	b.ReportAllocs()
	for b.Loop() {
		if Apply(dst, src, Provenance{}) != nil {
			b.Fatal("changed")
		}
	}
}
