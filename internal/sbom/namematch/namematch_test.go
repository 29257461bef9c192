package namematch

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/versions/cpe"
)

func TestDefaultTable(t *testing.T) {
	t.Parallel()
	if _, err := Parse(aliasesTSV, "aliases.tsv"); err != nil {
		t.Fatal(err)
	}
	// Every target makes a CPE the cpe package parses.
	for _, a := range Default.words {
		for _, c := range (Match{Targets: a.targets}).CPEs("1.2.3") {
			if _, err := cpe.Parse(c); err != nil {
				t.Errorf("alias %q: CPE %s: %v", a.norm, c, err)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, comp, group, supplier string
		wantProduct, wantConf       string
	}{
		{"threadx_vendor_spelling", "Express Logic ThreadX", "", "", "azure_rtos_threadx", Medium},
		{"threadx_trademark", "Azure® RTOS ThreadX™", "", "", "azure_rtos_threadx", Medium},
		{"vxworks", "VxWorks", "", "", "vxworks", Medium},
		{"vxworks_by_supplier", "VxWorks", "", "Wind River", "vxworks", Medium},
		{"wes7", "Windows Embedded Standard 7", "", "", "windows_embedded_standard_7", Medium},
		{"wes7_longest_alias_wins", "Microsoft Windows Embedded Standard 7 SP1 x64", "", "", "windows_embedded_standard_7", Low},
		{"linux_kernel", "linux-kernel", "", "", "linux_kernel", Medium},
		{"freertos_in_name", "FreeRTOS 10.0.1", "", "", "freertos", Low},
		{"qnx", "QNX Neutrino RTOS", "", "", "qnx_neutrino_rtos", Medium},
		{"integrity", "INTEGRITY", "", "", "integrity_rtos", Medium},
		{"nucleus", "Nucleus PLUS", "", "", "nucleus_rtos", Medium},
		{"openssl_group", "openssl", "", "", "openssl", Medium},
		{"busybox", "BusyBox", "", "", "busybox", Medium},
		{"short_alias_not_searched_inside", "xpe-tools", "", "", "", ""},
		{"unrelated", "pump-ui", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := Default.Lookup(&sbom.Component{Name: tt.comp, Group: tt.group, Supplier: tt.supplier})
			var got [2]string
			if ok {
				got = [2]string{m.Targets[0].Product, m.Confidence}
			}
			if d := cmp.Diff([2]string{tt.wantProduct, tt.wantConf}, got); d != "" {
				t.Errorf("Lookup(%q) (-want +got):\n%s", tt.comp, d)
			}
		})
	}
}

func TestCPEsEscapeVersion(t *testing.T) {
	t.Parallel()
	m := Match{Targets: []Target{{"o", "windriver", "vxworks"}}}
	got := m.CPEs("6.9 SR0640 (build:7)")
	want := []string{`cpe:2.3:o:windriver:vxworks:6.9\ SR0640\ \(build\:7\):*:*:*:*:*:*:*`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("CPEs (-want +got):\n%s", d)
	}
	if _, err := cpe.Parse(got[0]); err != nil {
		t.Errorf("escaped CPE does not parse: %v", err)
	}
	if got := m.CPEs(""); got[0] != "cpe:2.3:o:windriver:vxworks:*:*:*:*:*:*:*:*" {
		t.Errorf("no version: %s", got[0])
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"o:x:y", "x:y\talias", "o:x:y\t", "o:x:y\ta|a"} {
		if _, err := Parse(in, "t.tsv"); err == nil || !strings.Contains(err.Error(), "t.tsv line 1") {
			t.Errorf("Parse(%q) = %v, want an error naming t.tsv line 1", in, err)
		}
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"Express Logic ThreadX", "Windows Embedded Standard 7", "linux", "", "™®", "a b c d"} {
		f.Add(s, "6.1")
	}
	f.Fuzz(func(t *testing.T, name, version string) {
		m, ok := Default.Lookup(&sbom.Component{Name: name})
		if !ok {
			return
		}
		for _, c := range m.CPEs(version) {
			if _, err := cpe.Parse(c); err != nil {
				t.Fatalf("Lookup(%q) version %q: CPE %s does not parse: %v", name, version, c, err)
			}
		}
	})
}
