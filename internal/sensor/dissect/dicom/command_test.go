package dicom

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

// timedRecorder records observations and findings with their times.
type timedRecorder struct{ out []string }

func (r *timedRecorder) Observe(o dissect.Observation) {
	r.out = append(r.out, fmt.Sprintf("%s %s %s=%s", o.Time.Format(time.RFC3339Nano), o.IP, o.Field, o.Value))
}

func (r *timedRecorder) Report(f dissect.Finding) {
	r.out = append(r.out, fmt.Sprintf("%s %s %s: %s", f.Time.Format(time.RFC3339Nano), f.IP, f.Kind, f.Detail))
}

type chunk struct {
	dir dissect.Direction
	b   []byte
	at  time.Time
}

// feedBoth feeds the same chunks to a stream that decodes every command
// and to one that skips repeated ones, ends both and fails on any
// difference in what they report, when, or in their errors. It returns
// how many commands the second took from its cache.
func feedBoth(t *testing.T, chunks []chunk) int {
	t.Helper()
	all := New().(*Dissector).NewStream(flow).(*stream)
	all.decodeAll = true
	fast := New().(*Dissector).NewStream(flow).(*stream)
	ra, rf := &timedRecorder{}, &timedRecorder{}
	for i, c := range chunks {
		ea := all.Feed(c.dir, c.b, c.at, ra)
		ef := fast.Feed(c.dir, c.b, c.at, rf)
		if fmt.Sprint(ea) != fmt.Sprint(ef) {
			t.Fatalf("chunk %d: error %v decoding all, %v with the cache", i, ea, ef)
		}
	}
	all.End(ra)
	fast.End(rf)
	if diff := cmp.Diff(ra.out, rf.out); diff != "" {
		t.Fatalf("the command cache changes the output (-decode all +cache):\n%s", diff)
	}
	if all.cmdHits != 0 {
		t.Fatalf("decodeAll stream took %d commands from the cache", all.cmdHits)
	}
	return fast.cmdHits
}

// TestCommandCacheSameOutput: an association with C-ECHO, 60 C-STOREs of
// two SOP classes in runs, a warning and two failure statuses, a C-FIND
// with pending responses and an unknown command reports, value for value
// and time for time, what decoding every command reports; most commands
// come from the cache.
func TestCommandCacheSameOutput(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	at := t0
	var chunks []chunk
	send := func(dir dissect.Direction, b []byte) {
		at = at.Add(37 * time.Millisecond)
		chunks = append(chunks, chunk{dir, b, at})
	}
	cli, srv := dissect.FromClient, dissect.FromServer
	mr := "1.2.840.10008.5.1.4.1.1.4"
	send(cli, associate(pduAssociateRQ, "PACS_MAIN", "CT_SCANNER_1", []pctx{{1, ctStorage, []string{implicit}}, {3, mr, []string{implicit}}, {5, echo, []string{implicit}}}, "1.2.840.113619.6.336", "GE_CT_R7.2"))
	send(srv, associate(pduAssociateAC, "PACS_MAIN", "CT_SCANNER_1", []pctx{{1, "", []string{implicit}}, {3, "", []string{implicit}}, {5, "", []string{implicit}}}, "1.2.40.0.13.1.3", "dcm4che-5.31"))
	send(cli, pdu(pduData, pdv(5, 0x03, commandSet(0x0030, echo, -1))))
	send(srv, pdu(pduData, pdv(5, 0x03, commandSet(0x8030, echo, 0))))
	for i := range 60 {
		sop := ctStorage
		if i/20 == 1 {
			sop = mr
		}
		rq := withInstance(commandSet(0x0001, sop, -1), fmt.Sprintf("1.2.3.%d", i))
		send(cli, pdu(pduData, append(pdv(1, 0x03, rq), pdv(1, 0x02, make([]byte, 300))...)))
		status := 0
		switch i {
		case 7:
			status = 0xB000 // warning
		case 33, 34:
			status = 0xA700 // out of resources
		}
		send(srv, pdu(pduData, pdv(1, 0x03, withInstance(commandSet(0x8001, sop, status), fmt.Sprintf("1.2.3.%d", i)))))
	}
	send(cli, pdu(pduData, pdv(1, 0x03, commandSet(0x0020, "1.2.840.10008.5.1.4.1.2.2.1", -1))))
	for range 5 {
		send(srv, pdu(pduData, pdv(1, 0x03, commandSet(0x8020, "1.2.840.10008.5.1.4.1.2.2.1", 0xFF00))))
	}
	send(cli, pdu(pduData, pdv(1, 0x03, commandSet(0x0FFF, "", -1))))
	send(cli, pdu(pduReleaseRQ, make([]byte, 4)))
	if n := feedBoth(t, chunks); n < 100 {
		t.Errorf("%d commands from the cache, want most of the 132", n)
	}
}

// withInstance adds an Affected SOP Instance UID (0000,1000), which
// differs per image and is not read, to a command set.
func withInstance(cmd []byte, inst string) []byte {
	body := append(append([]byte(nil), cmd[12:]...), elem(0x1000, evenUID(inst))...)
	return append(elem(0x0000, binary.LittleEndian.AppendUint32(nil, uint32(len(body)))), body...)
}

// FuzzCommandCache: whatever the bytes, cut into chunks at 0xFE and fed
// alternately by client and server at increasing times, the command
// cache gives what decoding every command gives.
func FuzzCommandCache(f *testing.F) {
	// Small seeds (a few hundred bytes): the fuzzer mutates them quickly.
	rq := associate(pduAssociateRQ, "PACS_MAIN", "CT_SCANNER_1", []pctx{{1, ctStorage, []string{implicit}}}, "1.2.840.113619.6.336", "GE_CT_R7.2")
	ac := associate(pduAssociateAC, "PACS_MAIN", "CT_SCANNER_1", []pctx{{1, "", []string{implicit}}}, "1.2.40.0.13.1.3", "dcm4che-5.31")
	seed := append(append(append([]byte(nil), rq...), 0xFE), ac...)
	for i, status := range []int{0, 0, 0xB000, 0, 0xA700} {
		seed = append(append(seed, 0xFE), pdu(pduData, append(pdv(1, 0x03, withInstance(commandSet(0x0001, ctStorage, -1), fmt.Sprint("1.2.", i))), pdv(1, 0x02, []byte{1, 2, 3, 4})...))...)
		seed = append(append(seed, 0xFE), pdu(pduData, pdv(1, 0x03, commandSet(0x8001, ctStorage, status)))...)
	}
	f.Add(seed)
	for _, p := range sensortest.Payloads(f, "testdata/dicom.pcap", dissect.LayerTCP) {
		if len(p) <= 4<<10 {
			f.Add(p)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var chunks []chunk
		at := time.Unix(1767258900, 0)
		for i, start := 0, 0; i <= len(b); i++ {
			if i == len(b) || b[i] == 0xFE {
				at = at.Add(time.Second)
				chunks = append(chunks, chunk{dissect.Direction(len(chunks) % 2), b[start:i], at})
				start = i + 1
			}
		}
		feedBoth(t, chunks)
	})
}

// TestTextCache: AE titles and UIDs are cleaned as before, the same bytes
// give the same string from the dissector's cache, and the cache stops
// growing at maxTexts without changing what it returns.
func TestTextCache(t *testing.T) {
	t.Parallel()
	d := New().(*Dissector)
	for _, c := range []struct {
		kind int
		raw  string
		want string
	}{
		{textTrim, "CT_SCANNER_1    ", "CT_SCANNER_1"},
		{textTrim, " PACS\x01MAIN ", "PACSMAIN"},
		{textUID, "1.2.840.10008.1.2\x00", "1.2.840.10008.1.2"},
		{textUID, "1.2.3 \x00", "1.2.3"},
		{textUID, "1.2.\xff3", "1.2.3"},
	} {
		for range 2 {
			if got := d.text(c.kind, []byte(c.raw)); got != c.want {
				t.Errorf("text(%d, %q) = %q, want %q", c.kind, c.raw, got, c.want)
			}
		}
	}
	for i := range maxTexts + 100 {
		raw := fmt.Sprintf("1.2.826.0.1.%d", i)
		if got := d.text(textUID, []byte(raw)); got != raw {
			t.Fatalf("text(%q) = %q", raw, got)
		}
	}
	if n := len(d.texts[textUID]); n > maxTexts {
		t.Errorf("UID cache holds %d entries, bound %d", n, maxTexts)
	}
}
