package csvfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/inventory"
)

// FuzzDecode feeds arbitrary bytes (seeded with the testdata files, also
// re-encoded as UTF-16) to the decoder. It must not panic, must end, must
// return only normalised devices, must report row problems as InputErrors
// with a line, and must give the same result when the input arrives one
// byte at a time.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, p := range files {
		if strings.HasSuffix(p, ".md") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if bytes.HasPrefix(b, []byte{0xFF, 0xFE}) {
			continue
		}
		f.Add(utf16le(string(b)))
	}
	f.Add([]byte("asset_id,model\nA-1,\"open\nA-2,x\n"))
	f.Add([]byte("sep=\t\nmac\n00:01:02:03:04:05\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, err1 := run(t, bytes.NewReader(data))
		split, err2 := run(t, iotest.OneByteReader(bytes.NewReader(data)))
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("whole read error %v, byte-wise read error %v", err1, err2)
		}
		if diff := cmp.Diff(whole, split); diff != "" {
			t.Fatalf("whole vs byte-wise read (-whole +split):\n%s", diff)
		}
	})
}

func run(t *testing.T, r io.Reader) (result, error) {
	d, err := NewDecoder(r, "fuzz.csv")
	if err != nil {
		if _, ok := inventory.AsInputError(err); !ok {
			t.Fatalf("NewDecoder error is not an InputError: %v", err)
		}
		return result{}, err
	}
	var res result
	for n := 0; ; n++ {
		if n > 1<<20 {
			t.Fatal("decoder does not end")
		}
		dev, err := d.Next()
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			ie, ok := inventory.AsInputError(err)
			if !ok {
				t.Fatalf("Next: non-input error on in-memory input: %v", err)
			}
			if ie.Line <= 0 {
				t.Fatalf("InputError without line: %v", ie)
			}
			res.Errors = append(res.Errors, ie)
			continue
		}
		for _, m := range dev.MACs {
			if n, err := inventory.NormalizeMAC(m); err != nil || n != m {
				t.Fatalf("MAC %q not normalised", m)
			}
		}
		for _, a := range dev.IPs {
			if n, err := inventory.NormalizeIP(a); err != nil || n != a {
				t.Fatalf("IP %q not normalised", a)
			}
		}
		res.Devices = append(res.Devices, dev)
	}
}
