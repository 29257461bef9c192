package dicom

import (
	"bytes"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// TestStudyDedupe: a 50-image study on one association. The pixel data is
// walked by PDV header only; the association still reports calling and
// called AE, SOP class, the C-STORE command and a failure status, and
// the 50 identical commands are reported once during the association and
// once more at End, with the time of the last image.
func TestStudyDedupe(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	r := &recorder{}
	s := New().(*Dissector).NewStream(flow)
	feed := func(dir dissect.Direction, b []byte, at time.Time) {
		t.Helper()
		if err := s.Feed(dir, b, at, r); err != nil {
			t.Fatal(err)
		}
	}
	feed(dissect.FromClient, associate(pduAssociateRQ, "PACS_MAIN", "CT_SCANNER_1", []pctx{{1, ctStorage, []string{implicit}}}, "1.2.840.113619.6.336", "GE_CT_R7.2"), t0)
	feed(dissect.FromServer, associate(pduAssociateAC, "PACS_MAIN", "CT_SCANNER_1", []pctx{{1, "", []string{implicit}}}, "1.2.40.0.13.1.3", "dcm4che-5.31"), t0)
	pixels := bytes.Repeat([]byte{0x5A}, 128<<10)
	const images = 50
	var last time.Time
	for i := range images {
		last = t0.Add(time.Duration(i+1) * 100 * time.Millisecond)
		img := pdu(pduData, pdv(1, 0x03, commandSet(0x0001, ctStorage, -1)))
		for off := 0; off < len(pixels); off += 16 << 10 {
			mch := byte(0x00)
			if off+16<<10 >= len(pixels) {
				mch = 0x02
			}
			img = append(img, pdu(pduData, pdv(1, mch, pixels[off:min(off+16<<10, len(pixels))]))...)
		}
		// Arbitrary TCP-like chunks.
		for len(img) > 0 {
			n := min(1448, len(img))
			feed(dissect.FromClient, img[:n], last)
			img = img[n:]
		}
		status := 0
		if i == images-1 {
			status = 0xA700 // the last image is refused: out of resources
		}
		feed(dissect.FromServer, pdu(pduData, pdv(1, 0x03, commandSet(0x8001, ctStorage, status))), last)
	}
	count := func(k string) (n int, lastSeen time.Time) {
		for _, o := range r.obs {
			if o.IP.String()+" "+o.Field+"="+o.Value == k {
				n++
				if o.Time.After(lastSeen) {
					lastSeen = o.Time
				}
			}
		}
		return n, lastSeen
	}
	for _, k := range []string{
		"10.30.2.11 dicom.calling_ae=CT_SCANNER_1",
		"10.30.0.20 dicom.called_ae=PACS_MAIN",
		"10.30.2.11 dicom.sop_class=CT Image Storage",
		"10.30.2.11 dicom.command=C-STORE-RQ",
		"10.30.0.20 dicom.command=C-STORE-RSP",
		"10.30.0.20 dicom.status=C-STORE-RSP failure 0xA700",
	} {
		if n, _ := count(k); n == 0 {
			t.Errorf("%s not reported; got %v", k, r.strings())
		}
	}
	if n, _ := count("10.30.2.11 dicom.command=C-STORE-RQ"); n != 1 {
		t.Errorf("C-STORE-RQ reported %d times before End, want 1 (dedupe)", n)
	}
	s.End(r)
	for _, k := range []string{"10.30.2.11 dicom.command=C-STORE-RQ", "10.30.0.20 dicom.command=C-STORE-RSP"} {
		if n, ls := count(k); n != 2 || !ls.Equal(last) {
			t.Errorf("%s: %d reports, last seen %s; want 2 reports (first image, End) and last seen %s", k, n, ls, last)
		}
	}
}
