package sensor_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

// The oracles compare the sensor's observations with independent tools on
// the shared corpus: Zeek's logs shipped with the captures, and tshark.

func corpus(t *testing.T) string {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: the oracle tests need the shared corpus")
	}
	return dir
}

func observe(t *testing.T, path string) *sensor.Result {
	t.Helper()
	return sensortest.Run(t, path, list.Build(list.Default())...)
}

// zeekLogColumn returns the distinct values of column in a Zeek TSV log,
// without the unset ("-") and empty ("(empty)") markers.
func zeekLogColumn(t *testing.T, path, column string) []string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var idx = -1
	seen := map[string]bool{}
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if cols, ok := strings.CutPrefix(line, "#fields\t"); ok {
			idx = slices.Index(strings.Split(cols, "\t"), column)
			continue
		}
		if strings.HasPrefix(line, "#") || idx < 0 {
			continue
		}
		f := strings.Split(line, "\t")
		if idx < len(f) && f[idx] != "-" && f[idx] != "(empty)" {
			seen[f[idx]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

var provRow = regexp.MustCompile("^\\| *([a-z_]+) *\\| *`([^`]+)` *\\|[^|]*\\| *([^|]*)\\|")

// zeekPairs maps each capture to its Zeek log files, from the corpus index.
func zeekPairs(t *testing.T, dir string) map[string][]string {
	b, err := os.ReadFile(filepath.Join(dir, "PROVENANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		m := provRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		pcap := filepath.Join(dir, "pcap", m[1], m[2])
		for _, e := range strings.Split(m[3], "<br>") {
			e = strings.TrimSpace(e)
			if strings.HasPrefix(e, "expected/zeek/") {
				log := filepath.Join(dir, "pcap", m[1], e)
				if _, err := os.Stat(log); err == nil {
					out[pcap] = append(out[pcap], log)
				}
			}
		}
	}
	return out
}

func TestZeekOracle(t *testing.T) {
	dir := corpus(t)
	// Zeek log → (column, our field).
	columns := map[string][][2]string{
		"dhcp.log": {{"host_name", "dhcp.hostname"}, {"client_fqdn", "dhcp.client_fqdn"}},
		"http.log": {{"host", "http.host"}, {"user_agent", "http.user_agent"}},
		// Zeek logs a response without a question under its answer's name:
		// we report those names as mdns.name / llmnr.name.
		"dns.log": {{"query", "dns.query|mdns.name|llmnr.name"}},
	}
	pairs := zeekPairs(t, dir)
	checked := 0
	for pcap, logs := range pairs {
		if _, err := os.Stat(pcap); err != nil {
			continue
		}
		for _, log := range logs {
			base := filepath.Base(log)
			if strings.HasSuffix(base, ".dhcp.log") {
				base = "dhcp.log" // cluster test: manager.dhcp.log
			}
			cols, ok := columns[base]
			if !ok || strings.Contains(log, "multipart-file-limit") {
				continue
			}
			t.Run(filepath.Base(pcap)+"/"+filepath.Base(filepath.Dir(log)), func(t *testing.T) {
				r := observe(t, pcap)
				for _, c := range cols {
					want := zeekLogColumn(t, log, c[0])
					var got []string
					for _, f := range strings.Split(c[1], "|") {
						got = append(got, sensortest.Values(r, f)...)
					}
					slices.Sort(got)
					got = slices.Compact(got)
					if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("%s: Zeek %s %s vs our %s (-zeek +ours):\n%s", filepath.Base(pcap), base, c[0], c[1], diff)
					}
				}
			})
			checked++
		}
	}
	if checked == 0 {
		t.Fatalf("no capture with a Zeek dhcp/http/dns log found under %s", dir)
	}
}

func TestTsharkOracle(t *testing.T) {
	dir := corpus(t)
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	fields := [][2]string{ // tshark field, our field
		{"dhcp.option.hostname", "dhcp.hostname"},
		{"http.user_agent", "http.user_agent"},
		{"http.host", "http.host"},
		{"http.server", "http.server"},
		{"dns.qry.name", "dns.query"},
	}
	var files []string
	for _, g := range []string{"dhcp", "http", "mdns_ssdp_netbios", "other"} {
		m, _ := filepath.Glob(filepath.Join(dir, "pcap", g, "*.*"))
		files = append(files, m...)
	}
	for _, f := range files {
		if strings.Contains(f, "fuzz") || strings.HasSuffix(f, ".md") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := observe(t, f)
			names := make([]string, len(fields))
			for i, fl := range fields {
				names[i] = fl[0]
			}
			all := tsharkValues(t, tshark, f, names)
			for i, fl := range fields {
				// HTTP over UDP (SSDP) belongs to the ssdp dissector, not http.
				if strings.HasPrefix(fl[1], "http.") && (strings.Contains(f, "ssdp") || strings.Contains(f, "upnp")) {
					continue
				}
				want := all[i]
				got := sensortest.Values(r, fl[1])
				if fl[1] == "dns.query" {
					want = slices.DeleteFunc(want, func(s string) bool { return s == "<Root>" || s == "" })
				}
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: tshark %s vs our %s (-tshark +ours):\n%s", filepath.Base(f), fl[0], fl[1], diff)
				}
			}
		})
	}
}

// tsharkValues returns the distinct values of each field in file, from one
// tshark run: fields tab-separated, every occurrence, joined by \x1e so
// values with commas stay whole.
func tsharkValues(t *testing.T, tshark, file string, fields []string) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"-n", "-r", file, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=\x1e", "-E", "separator=/t"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.CommandContext(ctx, tshark, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("tshark -r %s: %v", file, err)
	}
	seen := make([]map[string]bool, len(fields))
	for i := range seen {
		seen[i] = map[string]bool{}
	}
	for _, line := range strings.Split(string(out), "\n") {
		for i, col := range strings.Split(line, "\t") {
			if i >= len(fields) {
				break
			}
			for _, v := range strings.Split(col, "\x1e") {
				if v = strings.TrimSpace(v); v != "" {
					seen[i][v] = true
				}
			}
		}
	}
	res := make([][]string, len(fields))
	for i, m := range seen {
		for v := range m {
			res[i] = append(res[i], v)
		}
		sort.Strings(res[i])
	}
	return res
}
