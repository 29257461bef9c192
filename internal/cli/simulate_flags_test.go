package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/simulate"
)

// TestSimulateLargeStudiesTLSBytes: --large-studies and --tls-bytes reach
// the simulator (the capture grows by about what they add) and out-of-range
// values are usage errors naming the field.
func TestSimulateLargeStudiesTLSBytes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), append([]string{"medwarden", "simulate"}, args...), nil, &stdout, &stderr)
		return code, stderr.String()
	}
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--large-studies", "-1"}, "large studies -1"},
		{[]string{"--large-studies", "2001"}, "large studies 2001"},
		{[]string{"--tls-bytes", "-5"}, "TLS bytes -5"},
		{[]string{"--tls-bytes", "100000001"}, "TLS bytes 100000001"},
	} {
		args := append([]string{"--out", filepath.Join(dir, "bad.pcap")}, tt.args...)
		code, stderr := run(args...)
		if code != ExitUsage || !strings.Contains(stderr, tt.wantErr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, ExitUsage, tt.wantErr)
		}
	}

	truth := func(name string, extra ...string) simulate.Truth {
		t.Helper()
		out := filepath.Join(dir, name+".pcap")
		args := append([]string{"--out", out, "--devices", "12", "--minutes", "2"}, extra...)
		if code, stderr := run(args...); code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(dir, name+".truth.json"))
		if err != nil {
			t.Fatal(err)
		}
		var tr simulate.Truth
		if err := json.Unmarshal(b, &tr); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	base := truth("base")
	large := truth("large", "--large-studies", "3")
	tls := truth("tls", "--tls-bytes", "200000")
	// 12 devices include at least one CT or MR; each large image is 512 KiB.
	if got := large.Bytes - base.Bytes; got < 3*512*1024 {
		t.Errorf("--large-studies 3 added %d bytes, want at least one 3-image study (%d)", got, 3*512*1024)
	}
	// Each workstation opens at least one TLS session in 2 minutes.
	if got := tls.Bytes - base.Bytes; got < 200000 {
		t.Errorf("--tls-bytes 200000 added %d bytes, want at least one session's worth", got)
	}
	if len(large.Devices) != len(base.Devices) || len(tls.Devices) != len(base.Devices) {
		t.Errorf("devices %d/%d/%d: the flags must not change the device list", len(base.Devices), len(large.Devices), len(tls.Devices))
	}
}
