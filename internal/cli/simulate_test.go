package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/simulate"
)

func TestSimulateVerb(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "ward.pcap")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "no_out", args: []string{"simulate"}, wantCode: ExitUsage, wantErr: "--out FILE.pcap is required"},
		{name: "bad_attack", args: []string{"simulate", "--out", out, "--attacks", "ddos"}, wantCode: ExitUsage, wantErr: `unknown kind "ddos"`},
		{name: "bad_devices", args: []string{"simulate", "--out", out, "--devices", "0"}, wantCode: ExitUsage, wantErr: "devices 0"},
		{name: "extra_arg", args: []string{"simulate", "--out", out, "x"}, wantCode: ExitUsage, wantErr: `unexpected argument "x"`},
		{name: "ok", args: []string{"simulate", "--out", out, "--devices", "12", "--minutes", "1", "--seed", "9", "--attacks", "all"}, wantCode: ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), append([]string{"medwarden"}, tt.args...), nil, &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			if tt.wantErr != "" && !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.wantErr)
			}
		})
	}
	b, err := os.ReadFile(filepath.Join(dir, "ward.truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth simulate.Truth
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, a := range truth.Attacks {
		kinds = append(kinds, a.Kind)
	}
	if diff := cmp.Diff(simulate.Attacks, kinds); diff != "" {
		t.Errorf("attacks in truth (-want +got):\n%s", diff)
	}
	st, err := os.Stat(filepath.Join(dir, "ward.pcap"))
	if err != nil || st.Size() != truth.Bytes {
		t.Errorf("capture size %v (err %v), truth says %d", st.Size(), err, truth.Bytes)
	}
}
