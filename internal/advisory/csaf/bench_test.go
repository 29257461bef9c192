package csaf

import (
	"os"
	"path/filepath"
	"testing"
)

func benchFiles(b *testing.B) [][]byte {
	dir := filepath.Join("testdata", "cisa")
	if root := os.Getenv("MEDWARDEN_TESTDATA_EXTRA"); root != "" {
		dir = filepath.Join(root, "csaf_cisa", "icsma")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		b.Fatalf("no CSAF files in %s", dir)
	}
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// BenchmarkParse measures parse + schema + mandatory tests per document
// over real CISA advisories (the shared ICSMA corpus when
// MEDWARDEN_TESTDATA_EXTRA is set). ns/op is per document.
func BenchmarkParse(b *testing.B) {
	docs := benchFiles(b)
	v, err := NewValidator(Options{})
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, d := range docs {
		total += int64(len(d))
	}
	b.SetBytes(total / int64(len(docs)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rep := v.ParseBytes(docs[i%len(docs)], "bench.json")
		if rep.Document == nil {
			b.Fatal("not decoded")
		}
		i++
	}
}

// BenchmarkParseNoSchema isolates the mandatory tests from schema validation.
func BenchmarkParseNoSchema(b *testing.B) {
	docs := benchFiles(b)
	v, err := NewValidator(Options{SkipSchema: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		v.ParseBytes(docs[i%len(docs)], "bench.json")
		i++
	}
}

func BenchmarkToAdvisory(b *testing.B) {
	docs := benchFiles(b)
	v, err := NewValidator(Options{})
	if err != nil {
		b.Fatal(err)
	}
	var parsed []*Document
	for _, d := range docs {
		parsed = append(parsed, v.ParseBytes(d, "x").Document)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ToAdvisory(parsed[i%len(parsed)], "x", "", Options{})
		i++
	}
}

// BenchmarkNewValidator is the one-off cost of compiling the embedded schemas.
func BenchmarkNewValidator(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewValidator(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
