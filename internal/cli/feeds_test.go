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
	"github.com/medwarden/medwarden/internal/advisory/csaf"
)

const csafTestdata = "../advisory/csaf/testdata"

func runFeedsCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), append([]string{"medwarden"}, args...), strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

func TestFeedsValidateJSON(t *testing.T) {
	t.Parallel()
	good := filepath.Join(csafTestdata, "cisa", "icsma-24-151-01.json")
	bad := filepath.Join(csafTestdata, "oasis", "mandatory", "oasis_csaf_tc-csaf_2_0-2021-6-1-02-01.json")
	missing := filepath.Join(t.TempDir(), "missing.json")
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		want     []validateResult
	}{
		{
			name: "valid_and_invalid", args: []string{good, bad}, wantCode: ExitOK,
			want: []validateResult{
				{File: good, Valid: true, Errors: []csaf.Error{}},
				{File: bad, Valid: false, Errors: []csaf.Error{{Test: "6.1.2", Path: "/product_tree/full_product_names/1/product_id", Message: `product id "CSAFPID-9080700" is already defined at /product_tree/full_product_names/0/product_id`}}},
			},
		},
		{
			name: "unreadable_file", args: []string{good, missing}, wantCode: ExitFailure,
			want: []validateResult{
				{File: good, Valid: true, Errors: []csaf.Error{}},
				{File: missing, Valid: false, Errors: []csaf.Error{{Test: "read", Message: "open " + missing + ": no such file or directory"}}},
			},
		},
		{
			name: "stdin_not_json", args: []string{"-"}, stdin: "not json", wantCode: ExitOK,
			want: []validateResult{{File: "-", Errors: []csaf.Error{{Test: "json", Message: "not well-formed JSON at line 1 column 2: invalid character 'o' in literal null (expecting 'u')"}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runFeedsCLI(t, tt.stdin, append([]string{"feeds", "validate", "--format", "json"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			var got []validateResult
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("output is not a JSON array: %v\n%s", err, stdout)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("feeds validate %v (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestFeedsValidateTable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(csafTestdata, "oasis", "mandatory", "oasis_csaf_tc-csaf_2_0-2021-6-1-02-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dup.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runFeedsCLI(t, "", "feeds", "validate", dir)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"dup.json", "6.1.2", "/product_tree/full_product_names/1/product_id", "1 file(s): 0 valid, 1 invalid, 0 unreadable"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestFeedsUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"no_subcommand", []string{"feeds"}, ExitUsage, "missing subcommand (available: validate, import, status, keygen, bundle)"},
		{"unknown_subcommand", []string{"feeds", "frobnicate"}, ExitUsage, `unknown subcommand "frobnicate" (available: validate, import, status, keygen, bundle)`},
		{"no_files", []string{"feeds", "validate"}, ExitUsage, "no FILE given"},
		{"bad_format", []string{"feeds", "validate", "--format", "xml", "a.json"}, ExitUsage, `--format must be table or json, not "xml"`},
		{"help", []string{"feeds", "validate", "-h"}, ExitOK, "usage: medwarden feeds validate"},
		{"import_nothing", []string{"feeds", "import", "--data", "unused"}, ExitUsage, "nothing to import"},
		{"status_bad_age", []string{"feeds", "status", "--max-feed-age", "soon"}, ExitUsage, "--max-feed-age"},
		{"keygen_no_out", []string{"feeds", "keygen"}, ExitUsage, "--out DIR is required"},
		{"bundle_no_key", []string{"feeds", "bundle", "--out", "x.bundle"}, ExitUsage, "--key and --out are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runFeedsCLI(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("%v: exit %d stderr %q; want exit %d and %q", tt.args, code, stderr, tt.wantCode, tt.wantStderr)
			}
		})
	}
}

func TestFeedsValidateOptional(t *testing.T) {
	t.Parallel()
	good := filepath.Join(csafTestdata, "cisa", "icsma-24-151-01.json")
	code, stdout, stderr := runFeedsCLI(t, "", "feeds", "validate", "--optional", "--format", "json", good)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var got []validateResult
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	want := []validateResult{{File: good, Valid: true, Errors: []csaf.Error{}, Warnings: []csaf.Error{
		{Test: "6.2.16", Path: "/product_tree/branches/0/branches/0/branches/0/product", Message: `product "CSAFPID-0001" has no product_identification_helper`},
		{Test: "6.2.18", Path: "/product_tree/branches/0/branches/0/branches/0/name", Message: `version range "<=1.9.4.1" is not a vers: range`},
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("feeds validate --optional (-want +got):\n%s", diff)
	}
}
