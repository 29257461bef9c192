package simulate

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

func generate(t testing.TB, cfg Config) (string, *Truth) {
	t.Helper()
	var buf bytes.Buffer
	truth, err := Generate(context.Background(), &buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sim.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, truth
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	cfg := Config{Devices: 12, Minutes: 2, Seed: 42, Attacks: []string{AttackPortScan}}
	var a, b bytes.Buffer
	if _, err := Generate(context.Background(), &a, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), &b, cfg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("same seed, different captures")
	}
	cfg.Seed = 43
	var c bytes.Buffer
	if _, err := Generate(context.Background(), &c, cfg); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("different seeds, same capture")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{Devices: 0, Minutes: 1}, "devices 0"},
		{Config{Devices: 5, Minutes: 0}, "minutes 0"},
		{Config{Devices: 5, Minutes: 1, Attacks: []string{"ddos"}}, `unknown kind "ddos"`},
	} {
		_, err := Generate(context.Background(), &bytes.Buffer{}, tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Generate(%+v) error %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

// Our own sensor and dissectors find every expected observation.
func TestSensorFindsTruth(t *testing.T) {
	t.Parallel()
	path, truth := generate(t, Config{Devices: 14, Minutes: 3, Seed: 7, Attacks: Attacks})
	res := sensortest.Run(t, path, list.Build(list.All())...)
	got := map[string]bool{}
	for _, o := range res.Observations {
		got[o.IP.String()+" "+o.Field+"="+o.Value] = true
		got[o.MAC+" "+o.Field+"="+o.Value] = true // DHCP facts belong to the client MAC
	}
	var missing []string
	for _, o := range truth.Observations {
		if k := o.IP + " " + o.Field + "=" + o.Value; !got[k] && !got[o.MAC+" "+o.Field+"="+o.Value] {
			missing = append(missing, k)
		}
	}
	if diff := cmp.Diff([]string(nil), missing); diff != "" {
		t.Errorf("expected observations not found (-want +got):\n%s", diff)
	}
	phi := 0
	for _, f := range res.Findings {
		if f.Kind == "cleartext-phi" {
			phi++
		}
	}
	if phi == 0 {
		t.Error("no cleartext-phi findings")
	}
	if len(truth.Attacks) != len(Attacks) {
		t.Errorf("%d attacks labelled, want %d", len(truth.Attacks), len(Attacks))
	}
}

// tshark, an independent decoder, finds no malformed packet and reads the
// same AE titles, MSH fields, DHCP host names and SNI as the ground truth.
func TestTshark(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not on PATH: independent check skipped")
	}
	path, truth := generate(t, Config{Devices: 14, Minutes: 2, Seed: 3, Attacks: []string{AttackInternet, AttackDICOMUnknown}})
	run := func(args ...string) string {
		t.Helper()
		base := []string{"-r", path, "-d", "tcp.port==2575,hl7", "-d", "tcp.port==6661,hl7"}
		out, err := exec.Command("tshark", append(base, args...)...).Output()
		if err != nil {
			t.Fatalf("tshark %v: %v", args, err)
		}
		return string(out)
	}
	if out := run("-Y", "_ws.malformed || _ws.expert.severity >= error", "-T", "fields", "-e", "frame.number", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info"); strings.TrimSpace(out) != "" {
		t.Errorf("tshark finds malformed packets:\n%.2000s", out)
	}
	fields := func(filter, field string) []string {
		seen := map[string]bool{}
		for _, l := range strings.Split(run("-Y", filter, "-T", "fields", "-e", field), "\n") {
			for _, v := range strings.Split(l, ",") {
				if v = strings.TrimSpace(v); v != "" {
					seen[v] = true
				}
			}
		}
		var out []string
		for v := range seen {
			out = append(out, v)
		}
		sort.Strings(out)
		return out
	}
	want := func(field string) []string {
		seen := map[string]bool{}
		for _, o := range truth.Observations {
			if o.Field == field {
				seen[o.Value] = true
			}
		}
		var out []string
		for v := range seen {
			out = append(out, v)
		}
		sort.Strings(out)
		return out
	}
	if diff := cmp.Diff(want("dicom.calling_ae"), fields("dicom.pdu.type==1", "dicom.assoc.ae.calling")); diff != "" {
		t.Errorf("DICOM calling AE (-truth +tshark):\n%s", diff)
	}
	if diff := cmp.Diff(want("dhcp.hostname"), fields("dhcp.option.dhcp==1", "dhcp.option.hostname")); diff != "" {
		t.Errorf("DHCP host names (-truth +tshark):\n%s", diff)
	}
	if diff := cmp.Diff(want("tls.sni"), fields("tls.handshake.type==1", "tls.handshake.extensions_server_name")); diff != "" {
		t.Errorf("TLS SNI (-truth +tshark):\n%s", diff)
	}
	msh := fields("hl7", "hl7.message.type")
	for _, w := range []string{"ORU", "ACK", "ADT"} {
		found := false
		for _, m := range msh {
			found = found || strings.HasPrefix(m, w)
		}
		if !found {
			t.Errorf("tshark sees no HL7 %s message (types %v)", w, msh)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := Config{Devices: 40, Minutes: 2, Seed: 1}
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		tr, err := Generate(context.Background(), discardCounter{&n}, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(tr.Bytes)
	}
}

type discardCounter struct{ n *int64 }

func (d discardCounter) Write(p []byte) (int, error) { *d.n += int64(len(p)); return len(p), nil }

// BenchmarkScanOverhead runs the sensor over one simulated capture with
// every dissector, and with every dissector but hl7 and dicom: the ratio
// is what HL7 and DICOM dissection add to a scan.
func BenchmarkScanOverhead(b *testing.B) {
	// The 20 MB exfiltration upload brings HL7 + DICOM to about 30 % of the bytes.
	path, truth := generate(b, Config{Devices: 30, Minutes: 3, Seed: 5, Attacks: []string{AttackExfiltration}})
	for _, bc := range []struct {
		name string
		skip map[string]bool
	}{
		{"all-dissectors", nil},
		{"without-hl7-dicom", map[string]bool{"hl7": true, "dicom": true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ds := list.Build(list.All())
			kept := ds[:0]
			for _, d := range ds {
				if !bc.skip[d.Name()] {
					kept = append(kept, d)
				}
			}
			b.SetBytes(truth.Bytes)
			b.ReportAllocs()
			for b.Loop() {
				sensortest.Run(b, path, kept...)
			}
		})
	}
}
