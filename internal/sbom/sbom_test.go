package sbom

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// summary is the part of a Document the example tests pin down.
type summary struct {
	Format      Format
	SpecVersion string
	Serial      string
	Name        string
	Created     time.Time
	Authors     []string
	Tools       []Tool
	Primary     string
	Components  int
	First       Component
	Deps        int
	VEX         []VEXStatement
	Valid       bool
}

func summarise(d *Document) summary {
	s := summary{
		Format: d.Format, SpecVersion: d.SpecVersion, Serial: d.Serial, Name: d.Name, Created: d.Created,
		Authors: d.Authors, Tools: d.Tools, Components: len(d.Components), Deps: len(d.Dependencies),
		VEX: d.VEX, Valid: d.Valid(),
	}
	if d.Primary != nil {
		s.Primary = d.Primary.Name + "@" + d.Primary.Version
	}
	if len(d.Components) > 0 {
		s.First = d.Components[0]
	}
	return s
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want summary
	}{
		{
			file: "medical-extended.cdx.json",
			want: summary{
				Format: FormatCycloneDXJSON, SpecVersion: "1.4", Serial: "urn:uuid:9a9fb992-c015-4d78-91b5-88b6be21f53d",
				Name: "REDACTED", Created: mustTime("2025-07-23T20:23:25.191246Z"), Authors: []string{"REDACTED"},
				Primary: "REDACTED@", Components: 65, Deps: 66, Valid: true,
				First: Component{
					Ref: "BomRef.44305842036545207.6160051513931243", Type: "application", Name: "UniFi Network Application",
					Version: "8.3.32", Supplier: "Ubiquiti", PURL: "pkg:generic/unifi_network_application@8.3.32",
					CPEs:         []string{"cpe:2.3:a:ubiquiti:unifi_network_application:8.3.32:*:*:*:*:*:*:*"},
					Licenses:     []string{"Ubiquiti"},
					SupportLevel: "Actively maintained", EndOfSupport: "Until hardware support ends",
				},
			},
		},
		{
			file: "cisa-case1-vex-not_affected.cdx.json",
			want: summary{
				Format: FormatCycloneDXJSON, SpecVersion: "1.4", Name: "ABC", Created: mustTime("2022-03-03T00:00:00Z"),
				Primary: "ABC@4.2", Valid: true,
				VEX: []VEXStatement{{
					ID: "CVE-2021-44228", Source: "NVD", Affects: []string{"product-ABC"}, Status: "not_affected",
					Justification: "code_not_present",
					Detail:        "This version of Product ABC is not affected by the vulnerability. Class with vulnerable code was removed before shipping.",
				}},
			},
		},
		{
			file: "laravel-7.12.0.1.3.cdx.json",
			want: summary{
				Format: FormatCycloneDXJSON, SpecVersion: "1.3", Name: "cyclonedx-php-composer-demo",
				Tools:   []Tool{{Vendor: "cyclonedx", Name: "cyclonedx-php-composer", Version: "in-dev"}},
				Primary: "cyclonedx-php-composer-demo@dev-master", Components: 62, Deps: 63, Valid: true,
				First: Component{
					Ref: "asm89/stack-cors-1.3.0.0", Type: "library", Name: "stack-cors", Group: "asm89", Version: "1.3.0",
					Supplier: "Alexander", PURL: "pkg:composer/asm89/stack-cors@1.3.0", Licenses: []string{"MIT"},
				},
			},
		},
		{
			file: "SPDXJSONExample-v2.3.spdx.json",
			want: summary{
				Format: FormatSPDXJSON, SpecVersion: "2.3",
				Serial: "http://spdx.org/spdxdocs/spdx-example-444504E0-4F89-41D3-9A0C-0305E82C3301",
				Name:   "SPDX-Tools-v2.0", Created: mustTime("2010-01-29T18:30:22Z"),
				Authors: []string{"ExampleCodeInspect", "Jane Doe"}, Tools: []Tool{{Name: "LicenseFind", Version: "1.0"}},
				Primary: "glibc@2.11.1", Components: 3, Deps: 2, Valid: true,
				First: Component{Ref: "SPDXRef-fromDoap-1", Name: "Apache Commons Lang"},
			},
		},
		{
			file: "example6-lib.spdx",
			want: summary{
				Format: FormatSPDXTagValue, SpecVersion: "2.2", Serial: "https://swinslow.net/spdx-examples/example6/go-lib-v2",
				Name: "go-lib", Created: mustTime("2021-08-26T01:55:00Z"), Authors: []string{"Steve Winslow"},
				Primary: "go-1.15@1.15.4", Components: 4, Deps: 1, Valid: true,
				First: Component{
					Ref: "SPDXRef-Package-go-compiler", Name: "go", Version: "1.15.4",
					Hashes: []Hash{{Algorithm: "SHA256", Value: "4448b9e62b3c364a073808e22643985d9f49c4ad44aa11d8e4a17c49600a7c3a"}},
				},
			},
		},
		{
			file: "examplemaven-0.0.1-enriched.spdx3.json",
			want: summary{
				Format: FormatSPDX3JSONLD, SpecVersion: "3.0.1",
				Serial: "http://spdx.org/documents/examplemaven-0.0.1/enriched-specv3/document0",
				Name:   "examplemaven", Created: mustTime("2024-11-18T10:22:12Z"), Authors: []string{"Gary O'Neall"},
				Tools:   []Tool{{Name: "spdx-maven-plugin"}, {Name: "Parlay"}},
				Primary: "examplemaven@0.0.1", Components: 5, Deps: 5, Valid: true,
				First: Component{
					Ref:  "http://spdx.org/documents/examplemaven-0.0.1/enriched-specv3/SPDXRef-gnrtd17",
					Type: "library", Name: "Apache Log4j Core",
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "examples", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Parse(bytes.NewReader(data), tt.file, Options{})
			if err != nil {
				t.Fatalf("Parse(%s): %v", tt.file, err)
			}
			if diff := cmp.Diff(tt.want, summarise(doc)); diff != "" {
				t.Errorf("Parse(%s) (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// TestXMLMatchesJSON: the same BOM in XML and JSON gives the same components.
func TestXMLMatchesJSON(t *testing.T) {
	t.Parallel()
	read := func(name string) *Document {
		data, err := os.ReadFile(filepath.Join("testdata", "examples", name))
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(bytes.NewReader(data), name, Options{})
		if err != nil {
			t.Fatalf("Parse(%s): %v", name, err)
		}
		return d
	}
	j, x := read("dropwizard-1.3.15.cdx.json"), read("dropwizard-1.3.15.cdx.xml")
	// Upstream's XML twin lacks one licence the JSON has; that is the data,
	// not the parser.
	for i := range j.Components {
		if j.Components[i].Name == "osgi-resource-locator" {
			j.Components[i].Licenses = nil
		}
	}
	if diff := cmp.Diff(j.Components, x.Components); diff != "" {
		t.Errorf("components json vs xml (-json +xml):\n%s", diff)
	}
	if diff := cmp.Diff(j.Dependencies, x.Dependencies); diff != "" {
		t.Errorf("dependencies json vs xml (-json +xml):\n%s", diff)
	}
}

func nested(depth int) string {
	var b strings.Builder
	b.WriteString(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[`)
	for i := 0; i < depth; i++ {
		b.WriteString(`{"type":"library","name":"c","components":[`)
	}
	for i := 0; i < depth; i++ {
		b.WriteString(`]}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components><component type="library"><name>&lol3;</name></component></components></bom>`

const externalEntity = `<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components><component type="library"><name>&xxe;</name></component></components></bom>`

func TestParseBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		opts    Options
		wantErr error
		want    *InputError // Line and Pointer are compared when set
	}{
		{
			name:    "truncated_cyclonedx_json",
			in:      "{\n \"bomFormat\": \"CycloneDX\",\n \"specVersion\": \"1.6\",\n \"components\": [\n  {\"type\": \"library\", \"name\": \"openssl\", \"vers",
			wantErr: ErrSyntax,
			want:    &InputError{Line: 5, Pointer: "/components/0/vers"},
		},
		{
			name:    "syntax_error_in_nested_value",
			in:      "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"components\":[{\"type\":\"library\",\"name\":\"a\"},{\"type\":\"library\",\"name\": x}]}",
			wantErr: ErrSyntax,
			want:    &InputError{Line: 1, Pointer: "/components/1/name"},
		},
		{
			name:    "truncated_cyclonedx_xml",
			in:      "<?xml version=\"1.0\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\" version=\"1\">\n<components>\n<component type=\"library\">\n<name>busybox</na",
			wantErr: ErrSyntax,
			want:    &InputError{Line: 5},
		},
		{name: "billion_laughs", in: billionLaughs, wantErr: ErrForbiddenDTD, want: &InputError{Line: 6}},
		{name: "external_entity", in: externalEntity, wantErr: ErrForbiddenDTD, want: &InputError{Line: 2}},
		{name: "deeply_nested_components", in: nested(40), opts: Options{MaxDepth: 8}, wantErr: ErrTooDeep},
		{name: "json_nesting_bomb", in: strings.Repeat("[", 100000), wantErr: ErrUnknownFormat},
		{name: "json_nesting_bomb_in_bom", in: `{"bomFormat":"CycloneDX","x":` + strings.Repeat("[", 100000), wantErr: ErrTooDeep},
		// from 1 MiB (concurrentValidateSize) the depth check runs on
		// another goroutine while encoding/json decodes: its error still wins
		{name: "deeply_nested_large", in: strings.Replace(nested(40), `"version":1,`, `"version":1,"metadata":{"component":{"type":"library","name":"`+strings.Repeat("x", concurrentValidateSize)+`"}},`, 1), opts: Options{MaxDepth: 8}, wantErr: ErrTooDeep},
		{name: "json_nesting_bomb_large", in: `{"bomFormat":"CycloneDX","x":` + strings.Repeat("[", concurrentValidateSize+10), wantErr: ErrTooDeep},
		{name: "too_large", in: nested(2), opts: Options{MaxBytes: 64}, wantErr: ErrTooLarge},
		{name: "empty", in: "", wantErr: ErrUnknownFormat},
		{name: "not_an_sbom", in: `{"hello":"world"}`, wantErr: ErrUnknownFormat},
		{name: "truncated_spdx_json", in: "{\"spdxVersion\": \"SPDX-2.3\", \"SPDXID\": \"SPDXRef-DOCUMENT\", \"packages\": [{\"name\"", wantErr: ErrSyntax},
		{name: "spdx3_truncated", in: "{\"@context\": \"https://spdx.org/rdf/3.0.1/spdx-context.jsonld\", \"@graph\": [{\"type\": \"software_Package\"", wantErr: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(tt.in), tt.name, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%s) = %v, want %v", tt.name, err, tt.wantErr)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Parse(%s) = %T, want *InputError", tt.name, err)
			}
			if ie.Name != tt.name {
				t.Errorf("InputError.Name = %q, want %q", ie.Name, tt.name)
			}
			if tt.want != nil {
				got := &InputError{Line: ie.Line, Pointer: ie.Pointer}
				want := &InputError{Line: tt.want.Line, Pointer: tt.want.Pointer}
				if tt.want.Pointer == "" {
					got.Pointer = ""
				}
				if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b error) bool { return true })); diff != "" {
					t.Errorf("Parse(%s) position (-want +got):\n%s\nerror: %v", tt.name, diff, err)
				}
			}
		})
	}
}

// TestParseProblems: documents that parse but violate the schema or the
// structural rules carry Problems with pointers.
func TestParseProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []Problem
	}{
		{
			name: "duplicate_bom_ref",
			in:   `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"a","bom-ref":"x"},{"type":"library","name":"b","bom-ref":"x"}]}`,
			want: []Problem{{Pointer: "/components/1/bom-ref", Message: `bom-ref "x" is not unique (first used at /components/0/bom-ref)`}},
		},
		{
			name: "unknown_spec_version",
			in:   `{"bomFormat":"CycloneDX","specVersion":"9.9","version":1}`,
			want: []Problem{{Pointer: "/specVersion", Message: `unsupported cyclonedx spec version "9.9" (want 1.2 to 1.7)`}},
		},
		{
			name: "wrong_type_in_item_before_spec_version",
			in:   `{"bomFormat":"CycloneDX","components":[{"type":"library","name":"a"},{"type":"library","name":"b","hashes":[{"alg":"SHA-256","content":"xyz"}]}],"specVersion":"1.6","version":1}`,
			want: []Problem{{Pointer: "/components/1/hashes/0/content", Message: "'xyz' does not match pattern '^([a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{64}|[a-fA-F0-9]{96}|[a-fA-F0-9]{128})$'"}},
		},
		{
			name: "duplicate_dependency_items",
			in:   `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"a","bom-ref":"a"}],"dependencies":[{"ref":"a"}, {"ref" : "a"}]}`,
			want: []Problem{{Pointer: "/dependencies", Message: "items at 0 and 1 are equal, but should be unique"}},
		},
		{
			name: "wrong_component_type",
			in:   `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[{"type":"gadget","name":"a"}]}`,
			want: []Problem{{Pointer: "/components/0/type", Message: `value must be one of 'application', 'framework', 'library', 'container', 'platform', 'operating-system', 'device', 'device-driver', 'firmware', 'file', 'machine-learning-model', 'data'`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := Parse(strings.NewReader(tt.in), tt.name, Options{})
			if err != nil {
				t.Fatalf("Parse(%s): %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, doc.Problems); diff != "" {
				t.Errorf("Parse(%s) problems (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

// TestReadSized: the bytes read do not depend on the size hint (exact, too
// small, too large, unknown), and at most limit+1 bytes are read.
func TestReadSized(t *testing.T) {
	t.Parallel()
	data := []byte(strings.Repeat(`{"bomFormat":"CycloneDX"}`, 1000)) // 25,000 bytes
	n := int64(len(data))
	tests := []struct {
		name        string
		size, limit int64
		want        int64
	}{
		{"exact", n, 1 << 20, n},
		{"hint_too_small", 100, 1 << 20, n},
		{"hint_too_large", n + 5000, 1 << 20, n},
		{"unknown", -1, 1 << 20, n},
		{"over_limit_exact_hint", n, 1000, 1001},
		{"over_limit_unknown", -1, 1000, 1001},
		{"empty_hint", 0, 1 << 20, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadSized(iotest.HalfReader(bytes.NewReader(data)), tt.size, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(got)) != tt.want || !bytes.Equal(got, data[:tt.want]) {
				t.Errorf("ReadSized(size %d, limit %d) = %d bytes, want the first %d", tt.size, tt.limit, len(got), tt.want)
			}
		})
	}
	if _, err := ReadSized(iotest.ErrReader(io.ErrUnexpectedEOF), 10, 100); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadSized(failing reader) error = %v, want %v", err, io.ErrUnexpectedEOF)
	}
}
