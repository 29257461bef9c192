package sensor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The tests map every capture file, however small, and drop the pages
// behind the reader every 16 KB, so that every test reading a classic
// pcap from a file (the oracle and differential tests included) reads it
// through the mapping.
func init() { mapMinSize, mapWindow = 0, 16<<10 }

// mappedAgainstReader writes data to a file, opens it with OpenCapture
// (mapped) and with OpenCapture on a bytes.Reader (buffered), and
// compares the frames and the errors. It reports whether the file was
// mapped.
func mappedAgainstReader(t *testing.T, data []byte) bool {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.pcap")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	msrc, merr := OpenCapture(fh, "x")
	bsrc, berr := OpenCapture(bytes.NewReader(data), "x")
	if (merr == nil) != (berr == nil) || merr != nil && merr.Error() != berr.Error() {
		t.Fatalf("OpenCapture: file %v, reader %v", merr, berr)
	}
	if merr != nil {
		return false
	}
	ps, mapped := msrc.(*pcapSource)
	mapped = mapped && ps.m != nil
	if got, want := describeFrames(msrc), describeFrames(bsrc); got != want {
		t.Fatalf("mapped %v: the file gave\n%.2000s\nthe reader gave\n%.2000s", mapped, got, want)
	}
	if mapped && ps.m.data != nil {
		t.Fatal("the mapping is still there after the end of the capture")
	}
	return mapped
}

// TestMappedMatchesReader: a classic pcap read through the mapping gives
// the frames, times, lengths and ending error of the buffered reader, and is unmapped at that end, on
// built edge cases (cut headers and records, records above the buffer,
// bad lengths) and on every capture of the test data (and of the shared
// corpus when it is there); other formats are not mapped.
func TestMappedMatchesReader(t *testing.T) {
	inputs := pcapSeeds()
	files, _ := filepath.Glob("testdata/*")
	if dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA"); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "pcap", "*", "*"))
		files = append(files, more...)
	}
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && len(b) < 64<<20 {
			inputs = append(inputs, b)
		}
	}
	mapped := 0
	for _, in := range inputs {
		if mappedAgainstReader(t, in) {
			mapped++
		}
	}
	if mapped < len(pcapSeeds())+3 {
		t.Errorf("only %d inputs read through a mapping", mapped)
	}
}

func FuzzMappedSource(f *testing.F) {
	for _, s := range pcapSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mappedAgainstReader(t, data)
	})
}
