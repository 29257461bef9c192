package csvfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files")

// result is what a decoder produced, in order: devices and row errors.
type result struct {
	Devices []*inventory.Device     `json:"devices"`
	Errors  []*inventory.InputError `json:"errors"`
}

func decodeAll(t testing.TB, r io.Reader, name string) (result, *Decoder, error) {
	t.Helper()
	d, err := NewDecoder(r, name)
	if err != nil {
		return result{}, nil, err
	}
	var res result
	for {
		dev, err := d.Next()
		if err == io.EOF {
			return res, d, nil
		}
		if ie, ok := inventory.AsInputError(err); ok {
			res.Errors = append(res.Errors, ie)
			continue
		}
		if err != nil {
			return res, d, err
		}
		res.Devices = append(res.Devices, dev)
	}
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := []byte{0xFF, 0xFE}
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return b
}

func utf16be(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := []byte{0xFE, 0xFF}
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func date(s string) *inventory.Date {
	d, err := inventory.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return &d
}

// TestDecodeGolden decodes every file in testdata and compares devices,
// row errors and warnings with testdata/golden/<file>.golden (rewrite with
// -update after checking the change by hand).
func TestDecodeGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, ".md") {
			continue
		}
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, d, err := decodeAll(t, f, name)
			if err != nil {
				t.Fatalf("decode %s: %v", name, err)
			}
			out := struct {
				Encoding  Encoding `json:"encoding"`
				Delimiter string   `json:"delimiter"`
				Warnings  []string `json:"warnings"`
				result
			}{d.Encoding(), string(d.Delimiter()), d.Warnings(), res}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)+"\n"); diff != "" {
				t.Errorf("decode %s (-want +got):\n%s", name, diff)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	const hdr = "asset_id,vendor,serial,mac,ip\n"
	tests := []struct {
		name       string
		in         []byte
		want       result
		wantWarn   []string
		wantDelim  byte
		wantEncode Encoding
	}{
		{
			name:      "utf16le_tab_with_bom",
			in:        utf16le("Asset Tag\tManufacturer\tSerial Number\r\nA-1\tDrägerwerk\tASLM-1\r\n"),
			want:      result{Devices: []*inventory.Device{{AssetID: "A-1", Vendor: "Drägerwerk", Serial: "ASLM-1"}}},
			wantDelim: '\t', wantEncode: UTF16LE,
		},
		{
			name:      "utf16be_semicolon_with_bom",
			in:        utf16be("asset_id;vendor\nA-1;Müller Medizintechnik\n"),
			want:      result{Devices: []*inventory.Device{{AssetID: "A-1", Vendor: "Müller Medizintechnik"}}},
			wantDelim: ';', wantEncode: UTF16BE,
		},
		{
			name:      "utf16le_without_bom",
			in:        utf16le("asset_id,model\nA-1,Sigma Spectrum\n")[2:],
			want:      result{Devices: []*inventory.Device{{AssetID: "A-1", Model: "Sigma Spectrum"}}},
			wantDelim: ',', wantEncode: UTF16LE,
		},
		{
			name:      "utf8_bom_excel_sep_line",
			in:        []byte("\xEF\xBB\xBFsep=;\r\nasset_id;model, with comma\r\nA-1;MX450\r\n"),
			want:      result{Devices: []*inventory.Device{{AssetID: "A-1"}}},
			wantWarn:  []string{`column 2 "model, with comma" is not a MedWarden field; ignored`},
			wantDelim: ';', wantEncode: UTF8BOM,
		},
		{
			name: "several_macs_and_ips_per_cell",
			in:   []byte(hdr + `A-1,GE,S1,"00:1E:C0:00:00:01, 001ec0000002 ;00-1e-c0-00-00-01","10.0.0.1;10.0.0.2 ::ffff:10.0.0.3 2001:DB8::1"` + "\n"),
			want: result{Devices: []*inventory.Device{{
				AssetID: "A-1", Vendor: "GE", Serial: "S1",
				MACs: []string{"00:1e:c0:00:00:01", "00:1e:c0:00:00:02"},
				IPs:  []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::1"},
			}}},
			wantDelim: ',', wantEncode: UTF8,
		},
		{
			name:      "blank_lines_crlf_and_trailing_empty_fields",
			in:        []byte("asset_id,serial\r\n\r\nA-1,S1,,\r\n , \r\nA-2,S2\r\n"),
			want:      result{Devices: []*inventory.Device{{AssetID: "A-1", Serial: "S1"}, {AssetID: "A-2", Serial: "S2"}}},
			wantDelim: ',', wantEncode: UTF8,
		},
		{
			name:      "location_columns_are_joined",
			in:        []byte("Asset Tag,Building,Floor,Room\nA-1,Tower B,3,ICU 12\nA-2,,,OR 1\n"),
			want:      result{Devices: []*inventory.Device{{AssetID: "A-1", Location: "Tower B, 3, ICU 12"}, {AssetID: "A-2", Location: "OR 1"}}},
			wantDelim: ',', wantEncode: UTF8,
		},
		{
			name:      "better_alias_wins_with_warning",
			in:        []byte("Equipment ID,Cost Center,Department,Type\nE-1,4410,ICU,Ventilator\n"),
			want:      result{Devices: []*inventory.Device{{AssetID: "E-1", Department: "ICU", DeviceType: "Ventilator"}}},
			wantWarn:  []string{`columns "Cost Center" and "Department" both mean department; using "Department", ignoring "Cost Center"`},
			wantDelim: ',', wantEncode: UTF8,
		},
		{
			name:      "identity_from_mac_only",
			in:        []byte("MAC Address,Host Name\n00:09:FB:01:02:03,mon-1\n"),
			want:      result{Devices: []*inventory.Device{{MACs: []string{"00:09:fb:01:02:03"}, Hostname: "mon-1"}}},
			wantDelim: ',', wantEncode: UTF8,
		},
		{
			name: "dates_and_udi",
			in:   []byte("asset_id,end_of_support,eol,udi\nA-1,2027/03/31,2030-01-01 00:00:00,(01)00884838000001(17)301231(21)SN1\nA-2,31.12.2027,,\nA-3,,2030-13-01,\n"),
			want: result{
				Devices: []*inventory.Device{{AssetID: "A-1", EndOfSupport: date("2027-03-31"), EndOfLife: date("2030-01-01"), UDIDI: "00884838000001"}},
				Errors: []*inventory.InputError{
					{File: "t.csv", Line: 3, Column: "end_of_support", Value: "31.12.2027", Reason: `date "31.12.2027" is not YYYY-MM-DD (day/month forms like 01/02/2024 are ambiguous and refused)`},
					{File: "t.csv", Line: 4, Column: "eol", Value: "2030-13-01", Reason: `date "2030-13-01" does not exist (want a valid YYYY-MM-DD)`},
				},
			},
			wantDelim: ',', wantEncode: UTF8,
		},
		{
			name: "booleans",
			in:   []byte("asset_id,patient connected,ephi\nA-1,X,\nA-2,N,TRUE\nA-3,0,1\n"),
			want: result{Devices: []*inventory.Device{
				{AssetID: "A-1", PatientConnected: ptr(true)},
				{AssetID: "A-2", PatientConnected: ptr(false), PHI: ptr(true)},
				{AssetID: "A-3", PatientConnected: ptr(false), PHI: ptr(true)},
			}},
			wantDelim: ',', wantEncode: UTF8,
		},
		{
			name: "invalid_utf8_names_line_and_column",
			in:   []byte("asset_id,vendor\nA-1,Dr\xe4ger\nA-2,Dräger\n"),
			want: result{
				Devices: []*inventory.Device{{AssetID: "A-2", Vendor: "Dräger"}},
				Errors:  []*inventory.InputError{{File: "t.csv", Line: 2, Column: "vendor", Value: "Dr\uFFFDger", Reason: "invalid UTF-8 (save the file as UTF-8 or UTF-16)"}},
			},
			wantDelim: ',', wantEncode: UTF8,
		},
		{
			name: "truncated_inside_quotes_is_last_line",
			in:   []byte("asset_id,model\nA-1,MX450\nA-2,\"IntelliVue"),
			want: result{
				Devices: []*inventory.Device{{AssetID: "A-1", Model: "MX450"}},
				Errors:  []*inventory.InputError{{File: "t.csv", Line: 3, Column: "model", Reason: "quoted field is not closed before the end of the file (truncated file or missing quote)"}},
			},
			wantDelim: ',', wantEncode: UTF8,
		},
		{
			name:      "spaces_before_opening_quote",
			in:        []byte("asset_id, model\nA-1, \"MX450, rev B\"\n"),
			want:      result{Devices: []*inventory.Device{{AssetID: "A-1", Model: "MX450, rev B"}}},
			wantDelim: ',', wantEncode: UTF8,
		},
		{
			name: "too_few_fields",
			in:   []byte("asset_id,vendor,model\nA-1,GE\nA-2,GE,B650\n"),
			want: result{
				Devices: []*inventory.Device{{AssetID: "A-2", Vendor: "GE", Model: "B650"}},
				Errors:  []*inventory.InputError{{File: "t.csv", Line: 2, Reason: "record has 2 fields, the header has 3"}},
			},
			wantDelim: ',', wantEncode: UTF8,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, d, err := decodeAll(t, bytes.NewReader(tt.in), "t.csv")
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decode (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarn, d.Warnings()); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if d.Delimiter() != tt.wantDelim || d.Encoding() != tt.wantEncode {
				t.Errorf("delimiter %q encoding %s, want %q %s", d.Delimiter(), d.Encoding(), tt.wantDelim, tt.wantEncode)
			}
		})
	}
}

func TestHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *inventory.InputError
	}{
		{"empty_file", "", &inventory.InputError{File: "h.csv", Reason: "csv header: file is empty: no header line"}},
		{"no_identity_column", "vendor,model,ip\nGE,B650,10.0.0.1\n", &inventory.InputError{File: "h.csv", Line: 1,
			Reason: `csv header: header has no identity column: need asset_id (or "Asset Tag", "Equipment ID"…) or one of serial, mac, udi_di (or "Serial Number", "MAC Address", "UDI"); found "vendor,model,ip"`}},
		{"duplicate_header", "asset_id,Serial Number,serial_number\n", &inventory.InputError{File: "h.csv", Line: 1,
			Reason: `csv header: duplicate column "serial_number": columns 2 and 3 have the same name`}},
		{"header_line_too_long", "asset_id," + strings.Repeat("x", MaxLineBytes+10) + "\nA-1,2\n", &inventory.InputError{File: "h.csv", Line: 1,
			Reason: "csv header: line is longer than 1048576 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDecoder(strings.NewReader(tt.in), "h.csv")
			ie, ok := inventory.AsInputError(err)
			if !ok {
				t.Fatalf("NewDecoder: got %v, want an InputError", err)
			}
			if diff := cmp.Diff(tt.want, ie); diff != "" {
				t.Errorf("NewDecoder (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLimits checks that an overlong line or field costs one record, not
// the file, and that memory stays bounded (the reader never holds more
// than MaxLineBytes of one line).
func TestLimits(t *testing.T) {
	long := strings.Repeat("A", MaxLineBytes+1)
	field := strings.Repeat("B", MaxFieldBytes+1)
	in := "asset_id,model\n" +
		"A-1," + long + "\n" +
		"A-2," + field + "\n" +
		"A-3,\"" + field + "\"\n" +
		"A-4,ok\n"
	got, _, err := decodeAll(t, strings.NewReader(in), "big.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := result{
		Devices: []*inventory.Device{{AssetID: "A-4", Model: "ok"}},
		Errors: []*inventory.InputError{
			{File: "big.csv", Line: 2, Reason: "line is longer than 1048576 bytes; skipped"},
			{File: "big.csv", Line: 3, Column: "model", Reason: "field is longer than 65536 bytes"},
			{File: "big.csv", Line: 4, Column: "model", Reason: "field is longer than 65536 bytes"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decode (-want +got):\n%s", diff)
	}
}

// endlessLine is a reader of one never-ending line; a decoder that buffers
// whole lines would run out of memory on it.
type endlessLine struct{ n, max int }

func (r *endlessLine) Read(p []byte) (int, error) {
	if r.n >= r.max {
		return 0, io.EOF
	}
	for i := range p {
		p[i] = 'x'
	}
	if len(p) > r.max-r.n {
		p = p[:r.max-r.n]
	}
	r.n += len(p)
	return len(p), nil
}

func TestHugeSingleLineIsSkipped(t *testing.T) {
	r := io.MultiReader(strings.NewReader("asset_id,model\nA-1,"), &endlessLine{max: 64 << 20}, strings.NewReader("\nA-2,ok\n"))
	got, _, err := decodeAll(t, r, "huge.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := result{
		Devices: []*inventory.Device{{AssetID: "A-2", Model: "ok"}},
		Errors:  []*inventory.InputError{{File: "huge.csv", Line: 2, Reason: "line is longer than 1048576 bytes; skipped"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decode (-want +got):\n%s", diff)
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadErrorIsFatal(t *testing.T) {
	r := io.MultiReader(strings.NewReader("asset_id\nA-1\n"), failReader{})
	d, err := NewDecoder(r, "f.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); err != nil {
		t.Fatalf("first record: %v", err)
	}
	_, err = d.Next()
	if _, ok := inventory.AsInputError(err); ok || err == nil || err == io.EOF {
		t.Fatalf("Next after read failure = %v, want a non-input error", err)
	}
}

// TestStrayQuoteCostsOneRecord: an unclosed quote swallows lines until the
// field limit; the decoder reports the record and re-reads the lines after
// it instead of losing them.
func TestStrayQuoteCostsOneRecord(t *testing.T) {
	var b strings.Builder
	b.WriteString("asset_id,model\nA-0,\"IntelliVue MX450\n")
	var want result
	want.Errors = []*inventory.InputError{{File: "q.csv", Line: 2, Column: "model", Reason: "quoted field is longer than 65536 bytes: is a closing quote missing?"}}
	for i := 1; i <= 3000; i++ {
		id := fmt.Sprintf("A-%d", i)
		fmt.Fprintf(&b, "%s,IntelliVue MX450 bed %d\n", id, i)
		want.Devices = append(want.Devices, &inventory.Device{AssetID: id, Model: fmt.Sprintf("IntelliVue MX450 bed %d", i)})
	}
	got, _, err := decodeAll(t, strings.NewReader(b.String()), "q.csv")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decode (-want +got):\n%s", diff)
	}
}

func TestLocationJoinKeepsDistinctParts(t *testing.T) {
	in := "asset_id,building,room,unit\nA-1,Tower B,B,ICU\nA-2,ICU,ICU,\n"
	got, _, err := decodeAll(t, strings.NewReader(in), "l.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := result{Devices: []*inventory.Device{{AssetID: "A-1", Location: "Tower B, B, ICU"}, {AssetID: "A-2", Location: "ICU"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decode (-want +got):\n%s", diff)
	}
}
