package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	dhcpMud   = "../sensor/dissect/dhcp/testdata/dhcp-mud.pcap"
	dhcpv6Mud = "../sensor/dissect/dhcp/testdata/dhcpv6-mud.pcap"
	basicAuth = "../sensor/dissect/http/testdata/basic-auth-with-colon.pcap"
	httpGet   = "../sensor/dissect/http/testdata/get.pcap"
)

func scanCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"medwarden"}, args...), strings.NewReader(""), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

type scanOut struct {
	Devices []struct {
		MAC          string   `json:"mac"`
		IPs          []string `json:"ips"`
		Hostname     string   `json:"hostname"`
		Vendor       string   `json:"vendor"`
		Model        string   `json:"model"`
		Type         string   `json:"type"`
		OS           string   `json:"os"`
		Confidence   float64  `json:"confidence"`
		Observations []struct {
			Protocol  string `json:"protocol"`
			Field     string `json:"field"`
			Value     string `json:"value"`
			FirstSeen string `json:"first_seen"`
		} `json:"observations"`
	} `json:"devices"`
	Edges []struct {
		Src     string `json:"src"`
		Dst     string `json:"dst"`
		Proto   string `json:"proto"`
		DPort   int    `json:"dport"`
		App     string `json:"app"`
		Packets int    `json:"packets"`
		Bytes   int    `json:"bytes"`
	} `json:"edges"`
	Findings []map[string]any `json:"findings"`
	Stats    struct {
		Packets      int `json:"packets"`
		Bytes        int `json:"bytes"`
		Flows        int `json:"flows"`
		DecodeErrors int `json:"decode_errors"`
	} `json:"stats"`
}

func TestScanJSON(t *testing.T) {
	code, out, errOut := scanCLI(t, "scan", dhcpMud, dhcpv6Mud, basicAuth)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var r scanOut
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not the scan JSON: %v\n%s", err, out)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &top); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"devices", "edges", "findings", "stats"} {
		if _, ok := top[k]; !ok {
			t.Errorf("output lacks %q", k)
		}
	}
	// The Raspberry Pi (DHCPv4 and relayed DHCPv6 SOLICIT), its hostname and OS.
	var pi []string
	for _, d := range r.Devices {
		if d.MAC == "b8:27:eb:b8:53:c8" {
			pi = append(pi, d.Hostname, d.Vendor, d.OS)
			for _, o := range d.Observations {
				if !strings.HasPrefix(o.Field, o.Protocol+".") || o.FirstSeen == "" {
					t.Errorf("observation %+v: field must be the dotted name under its protocol, with first_seen", o)
				}
			}
		}
	}
	if diff := cmp.Diff([]string{"raspberrypi", "Raspberry Pi", "Linux 4.1.18-v7+"}, pi); diff != "" {
		t.Errorf("raspberry pi device (-want +got):\n%s", diff)
	}
	if len(r.Findings) != 1 || r.Findings[0]["kind"] != "cleartext-credentials" || strings.Contains(out, "test:") {
		t.Errorf("findings = %v", r.Findings)
	}
	if r.Stats.Packets != 2+5+12 {
		t.Errorf("stats.packets = %d, want every frame of the three files (19)", r.Stats.Packets)
	}
	// Deterministic: a second run prints the same bytes.
	if _, again, _ := scanCLI(t, "scan", dhcpMud, dhcpv6Mud, basicAuth); again != out {
		t.Errorf("two runs over the same files differ")
	}
}

func TestScanTable(t *testing.T) {
	code, out, errOut := scanCLI(t, "scan", "--format", "table", httpGet)
	if code != 0 || !strings.Contains(out, "DEVICE") || !strings.Contains(out, "http") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestScanErrors(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.pcap")
	os.WriteFile(notCapture, []byte("this is a text file, not a capture"), 0o644)
	whole, err := os.ReadFile(httpGet)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "cut.pcap")
	os.WriteFile(truncated, whole[:len(whole)-100], 0o644)
	absurd := filepath.Join(dir, "absurd.pcap")
	bad := append([]byte(nil), whole...)
	copy(bad[24+8:], []byte{0xff, 0xff, 0xff, 0x7f}) // first record claims a 2 GB capture length
	os.WriteFile(absurd, bad, 0o644)
	missing := filepath.Join(dir, "missing.pcap")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"missing_file", []string{"scan", missing}, 1, missing},
		{"not_a_capture", []string{"scan", notCapture, httpGet}, 3, notCapture},
		{"truncated_capture", []string{"scan", truncated}, 0, "warning: " + truncated},
		{"absurd_length", []string{"scan", absurd}, 0, "warning: " + absurd},
		{"no_files", []string{"scan"}, 2, "no capture file"},
		{"bad_format", []string{"scan", "--format", "xml", httpGet}, 2, "--format"},
		{"unknown_dissector", []string{"scan", "--dissectors", "+nosuch", httpGet}, 2, "nosuch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := scanCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("exit %d (want %d), stderr %q (want it to contain %q)", code, tt.wantCode, errOut, tt.wantStderr)
			}
		})
	}
}

func TestScanUserRules(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "site.json"), []byte(`{"rules":[{"id":"lab-pi","field":"dhcp.hostname","match":"^raspberrypi$","set":{"type":"lab-analyser-gateway"},"confidence":0.95}]}`), 0o644)
	code, out, errOut := scanCLI(t, "scan", "--rules", dir, dhcpMud)
	if code != 0 || !strings.Contains(out, `"type": "lab-analyser-gateway"`) {
		t.Errorf("exit %d, stderr %q; user rule not applied:\n%s", code, errOut, out)
	}
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{"rules":[{"id":"x"}]}`), 0o644)
	if code, _, errOut := scanCLI(t, "scan", "--rules", dir, dhcpMud); code != 3 || !strings.Contains(errOut, "broken.json") {
		t.Errorf("broken rule file: exit %d, stderr %q", code, errOut)
	}
}

// TestScanSharedCorpus runs scan over every shared capture with a per-file
// timeout: no crash, no hang, exit 0 or a warning.
func TestScanSharedCorpus(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: no shared corpus to scan")
	}
	var files []string
	filepath.WalkDir(filepath.Join(dir, "pcap"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.Contains(p, "/expected/") && !strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			code := Run(ctx, []string{"medwarden", "scan", f}, strings.NewReader(""), &out, &errb)
			if ctx.Err() != nil {
				t.Fatalf("no result within 20 s")
			}
			if code != 0 {
				t.Errorf("exit %d: %s", code, errb.String())
			}
			if !json.Valid(out.Bytes()) {
				t.Errorf("output is not JSON")
			}
		})
	}
}
