package dicom

import (
	"bytes"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// feedSkipping feeds b in chunks of size n the way the sensor core does
// with a dissect.Skipper: after each Feed it asks Skip and drops that many
// of the following bytes. It returns the bytes actually fed.
func feedSkipping(t *testing.T, s dissect.Stream, dir dissect.Direction, b []byte, n int, at time.Time, out dissect.Emitter) int {
	t.Helper()
	fed, skip := 0, 0
	for len(b) > 0 {
		c := b[:min(n, len(b))]
		b = b[len(c):]
		if skip >= len(c) {
			skip -= len(c)
			continue
		}
		c, skip = c[skip:], 0
		fed += len(c)
		if err := s.Feed(dir, c, at, out); err != nil {
			t.Fatal(err)
		}
		skip = s.(dissect.Skipper).Skip(dir)
	}
	return fed
}

// TestSkipPixelData: a CT association whose data-set fragments are
// skipped (never delivered) reports exactly what the fully fed one does:
// calling and called AE, SOP classes, the C-STORE command and its status;
// and at most a few bytes per fragment of the pixel data are fed.
func TestSkipPixelData(t *testing.T) {
	t.Parallel()
	pixels := bytes.Repeat([]byte{0xC3}, 512<<10)
	cli := associate(pduAssociateRQ, "PACS_MAIN", "CT_SCANNER_1", []pctx{{1, ctStorage, []string{implicit}}, {3, echo, []string{implicit}}}, "1.2.840.113619.6.336", "GE_CT_R7.2")
	for range 3 {
		cli = append(cli, pdu(pduData, pdv(1, 0x03, commandSet(0x0001, ctStorage, -1)))...)
		for off := 0; off < len(pixels); off += 64 << 10 {
			end := min(off+64<<10, len(pixels))
			mch := byte(0x00)
			if end == len(pixels) {
				mch = 0x02
			}
			// Two PDVs per PDU, as some toolkits send.
			half := off + (end-off)/2
			cli = append(cli, pdu(pduData, append(pdv(1, 0x00, pixels[off:half]), pdv(1, mch, pixels[half:end])...))...)
		}
	}
	cli = append(cli, pdu(pduReleaseRQ, make([]byte, 4))...)
	srv := associate(pduAssociateAC, "PACS_MAIN", "CT_SCANNER_1", []pctx{{1, "", []string{implicit}}, {3, "", []string{implicit}}}, "1.2.40.0.13.1.3", "dcm4che-5.31")
	for i := range 3 {
		status := 0
		if i == 2 {
			status = 0xA700
		}
		srv = append(srv, pdu(pduData, pdv(1, 0x03, commandSet(0x8001, ctStorage, status)))...)
	}
	srv = append(srv, pdu(pduReleaseRP, make([]byte, 4))...)
	at := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

	full := &recorder{}
	s := New().(*Dissector).NewStream(flow)
	for _, x := range []struct {
		dir dissect.Direction
		b   []byte
	}{{dissect.FromClient, cli}, {dissect.FromServer, srv}} {
		if err := s.Feed(x.dir, x.b, at, full); err != nil {
			t.Fatal(err)
		}
	}
	s.End(full)
	want := full.strings()
	sort.Strings(want)
	for _, k := range []string{"10.30.2.11 dicom.calling_ae=CT_SCANNER_1", "10.30.0.20 dicom.called_ae=PACS_MAIN", "10.30.2.11 dicom.command=C-STORE-RQ", "10.30.0.20 dicom.status=C-STORE-RSP failure 0xA700"} {
		if i := sort.SearchStrings(want, k); i == len(want) || want[i] != k {
			t.Errorf("full feed lacks %s", k)
		}
	}

	for _, chunk := range []int{1, 7, 1448, 9000, 65536} {
		r := &recorder{}
		s := New().(*Dissector).NewStream(flow)
		fed := feedSkipping(t, s, dissect.FromClient, cli, chunk, at, r)
		feedSkipping(t, s, dissect.FromServer, srv, chunk, at, r)
		s.End(r)
		got := r.strings()
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("chunks of %d, skipping (-full +skipping):\n%s", chunk, diff)
		}
		// TCP delivers at most a segment (≤ MSS) at a time: all but a few
		// bytes of each fragment are skipped. Larger chunks cover whole
		// fragments, which Feed walks without reading.
		if chunk <= 1448 && fed > len(cli)/10 {
			t.Errorf("chunks of %d: %d of %d client bytes fed, want the pixel data skipped", chunk, fed, len(cli))
		}
	}
}

// FuzzSkip: any bytes fed whole, or in chunks with the core's skipping
// (dissect.Skipper), give the same observations, findings and error
// status, and never panic.
func FuzzSkip(f *testing.F) {
	cli, srv := ctSession()
	f.Add(cli, uint16(1448))
	f.Add(srv, uint16(7))
	f.Add(append(cli, cli...), uint16(100))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint16) {
		n := int(chunk)%4096 + 1
		at := time.Unix(1, 0)
		one, two := &recorder{}, &recorder{}
		s1 := New().(*Dissector).NewStream(flow)
		e1 := s1.Feed(dissect.FromClient, b, at, one)
		s1.End(one)
		s2 := New().(*Dissector).NewStream(flow)
		var e2 error
		skip := 0
		for rest := b; len(rest) > 0; {
			c := rest[:min(n, len(rest))]
			rest = rest[len(c):]
			if skip >= len(c) {
				skip -= len(c)
				continue
			}
			c, skip = c[skip:], 0
			if err := s2.Feed(dissect.FromClient, c, at, two); err != nil && e2 == nil {
				e2 = err
			}
			skip = s2.(dissect.Skipper).Skip(dissect.FromClient)
			if skip < 0 {
				t.Fatalf("Skip returned %d", skip)
			}
		}
		s2.End(two)
		if diff := cmp.Diff(one.strings(), two.strings()); diff != "" {
			t.Fatalf("chunks of %d with skipping change the result (-whole +skipping):\n%s", n, diff)
		}
		if (e1 != nil) != (e2 != nil) {
			t.Fatalf("chunks of %d with skipping change the error: %v vs %v", n, e1, e2)
		}
	})
}
