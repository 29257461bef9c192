package fileformat

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat/invtest"
)

func utf16le(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, c := range utf16.Encode([]rune(s)) {
		b = append(b, byte(c), byte(c>>8))
	}
	return b
}

// TestOpenTestdata opens every testdata file of the format packages and
// checks the sniffed format, whatever the file name says.
func TestOpenTestdata(t *testing.T) {
	want := map[string]Format{
		"../csvfile/testdata/canonical.csv":        CSV,
		"../csvfile/testdata/cmms_export.csv":      CSV,
		"../csvfile/testdata/excel_unicode.txt":    CSV,
		"../csvfile/testdata/broken.csv":           CSV,
		"../jsonfile/testdata/devices_array.json":  JSON,
		"../jsonfile/testdata/devices_object.json": JSON,
		"../jsonfile/testdata/broken.json":         JSON,
		"../fhir/testdata/device_monitor.json":     FHIR,
		"../fhir/testdata/bundle_searchset.json":   FHIR,
		"../fhir/testdata/devices.ndjson":          NDJSON,
	}
	for path, f := range want {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// The name is deliberately wrong: sniffing uses content only.
			dec, got, err := Open(bytes.NewReader(b), "upload.dat")
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got != f {
				t.Errorf("format = %s, want %s", got, f)
			}
			n := 0
			for {
				_, err := dec.Next()
				if err == io.EOF {
					break
				}
				if _, ok := inventory.AsInputError(err); err != nil && !ok {
					t.Fatalf("Next: %v", err)
				}
				n++
			}
			if n == 0 {
				t.Error("no records")
			}
		})
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Format
		wantErr string
	}{
		{"csv", []byte("asset_id,vendor\nA-1,GE\n"), CSV, ""},
		{"csv_utf16", utf16le("asset_id\tvendor\r\n"), CSV, ""},
		{"csv_utf16_no_bom", utf16le("asset_id\tvendor\r\n")[2:], CSV, ""},
		{"json_array", []byte("\xEF\xBB\xBF  [ {\"asset_id\": \"A\"} ]"), JSON, ""},
		{"json_object", []byte(`{"devices": []}`), JSON, ""},
		{"json_object_other_key_first", []byte(`{"exported": {"by": "x"}, "devices": []}`), JSON, ""},
		{"fhir_device_pretty", []byte("{\n  \"resourceType\": \"Device\"\n}\n"), FHIR, ""},
		{"fhir_bundle_meta_first", []byte(`{"meta": {"x": 1}, "resourceType": "Bundle", "entry": []}`), FHIR, ""},
		{"fhir_single_line", []byte(`{"resourceType":"Device","serialNumber":"1"}` + "\n"), FHIR, ""},
		{"ndjson", []byte(`{"resourceType":"Device"}` + "\n" + `{"resourceType":"Device"}` + "\n"), NDJSON, ""},
		{"xlsx", []byte("PK\x03\x04\x14\x00\x06\x00"), "", "x: this is a zip archive, probably an Excel workbook (.xlsx): save it as CSV UTF-8 or Unicode text and import that"},
		{"xls", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1}, "", "x: this is an old Excel workbook (.xls): save it as CSV UTF-8 or Unicode text and import that"},
		{"fhir_xml", []byte(`<?xml version="1.0"?><Device xmlns="http://hl7.org/fhir">`), "", "x: this is XML (FHIR XML or a spreadsheet): MedWarden reads FHIR as JSON; export the resources as JSON"},
		{"empty", nil, "", "x: file is empty"},
		{"blank", []byte(" \n\t\n"), "", "x: file has only white space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.in, "x")
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if got != tt.want || gotErr != tt.wantErr {
				t.Errorf("Sniff = %q, %q; want %q, %q", got, gotErr, tt.want, tt.wantErr)
			}
		})
	}
}

// TestRoundTripAllFormats: random devices written in each format are
// sniffed back to the same format and read back to the same devices.
func TestRoundTripAllFormats(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, uint64(len(f))))
			for round := range 20 {
				var want []*inventory.Device
				var b bytes.Buffer
				w, err := NewWriter(&b, f)
				if err != nil {
					t.Fatal(err)
				}
				for range 2 + r.IntN(20) {
					d := invtest.Device(r)
					want = append(want, d)
					if err := w.Write(d); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				dec, got, err := Open(bytes.NewReader(b.Bytes()), "rt")
				if err != nil {
					t.Fatalf("round %d: Open: %v", round, err)
				}
				if got != f {
					t.Fatalf("round %d: sniffed %s, wrote %s", round, got, f)
				}
				var devs []*inventory.Device
				for {
					d, err := dec.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("round %d: Next: %v", round, err)
					}
					devs = append(devs, d)
				}
				if diff := cmp.Diff(want, devs); diff != "" {
					t.Fatalf("round %d: write → read (-want +got):\n%s", round, diff)
				}
			}
		})
	}
}

func TestParseFormatAndNewWriter(t *testing.T) {
	for _, s := range []string{"csv", "JSON", " fhir ", "ndjson", "fhir-ndjson"} {
		f, err := ParseFormat(s)
		if err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
			continue
		}
		if _, err := NewWriter(io.Discard, f); err != nil {
			t.Errorf("NewWriter(%s): %v", f, err)
		}
	}
	if _, err := ParseFormat("xlsx"); err == nil || !strings.Contains(err.Error(), "want csv, json, fhir or ndjson") {
		t.Errorf("ParseFormat(xlsx) = %v", err)
	}
	if _, err := NewWriter(io.Discard, "xml"); err == nil {
		t.Error("NewWriter(xml) succeeded")
	}
}

func FuzzOpen(f *testing.F) {
	for _, g := range []string{"../csvfile/testdata/*.*", "../jsonfile/testdata/*.json", "../fhir/testdata/*json"} {
		files, _ := filepath.Glob(g)
		for _, p := range files {
			if strings.HasSuffix(p, ".md") {
				continue
			}
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec, _, err := Open(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		for range len(data) + 2 {
			_, err := dec.Next()
			if err == io.EOF {
				return
			}
			if _, ok := inventory.AsInputError(err); err != nil && !ok {
				return // fatal: the caller stops
			}
		}
		t.Fatalf("decoder did not end within %d records", len(data)+2)
	})
}

func BenchmarkSniff(b *testing.B) {
	data, err := os.ReadFile("../fhir/testdata/bundle_searchset.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if f, err := Sniff(data, "b"); f != FHIR || err != nil {
			b.Fatal(f, err)
		}
	}
}

func TestOpenNDJSONWithLongFirstLine(t *testing.T) {
	long := `{"resourceType":"Device","serialNumber":"S1","manufacturer":"` + strings.Repeat("x", sniffSize) + `"}`
	in := long + "\n" + `{"resourceType":"Device","serialNumber":"S2"}` + "\n"
	dec, _, err := Open(strings.NewReader(in), "bulk.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	var serials []string
	for {
		d, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		serials = append(serials, d.Serial)
	}
	if diff := cmp.Diff([]string{"S1", "S2"}, serials); diff != "" {
		t.Errorf("serials (-want +got):\n%s", diff)
	}
}
