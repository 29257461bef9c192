package astm

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// The shared corpus has no ASTM capture. Sessions are encoded per ASTM
// E1381-02 §6 (ENQ, frames "STX FN text ETB|ETX C1 C2 CR LF", checksum =
// sum of FN … ETX modulo 256 in two upper-case hex digits, EOT) with
// E1394-97 / LIS2-A2 records as a chemistry analyser sends them.

type recorder struct{ obs []string }

func (r *recorder) Observe(o dissect.Observation) {
	r.obs = append(r.obs, o.IP.String()+" "+o.Field+"="+o.Value)
}
func (r *recorder) Report(dissect.Finding) {}

var flow = &dissect.Flow{
	Client: dissect.Endpoint{Addr: netip.MustParseAddrPort("10.50.1.12:40001")},
	Server: dissect.Endpoint{Addr: netip.MustParseAddrPort("10.50.0.3:5000")},
}

func frame(fn int, text string, last bool) string {
	end := byte(etb)
	if last {
		end = etx
	}
	body := fmt.Sprintf("%d%s%c", fn%8, text, end)
	var sum byte
	for i := 0; i < len(body); i++ {
		sum += body[i]
	}
	return fmt.Sprintf("\x02%s%02X\r\n", body, sum)
}

const (
	header  = `H|\^&|||cobas c 311^2.1.3^1234-56|||||host^LIS||P|LIS2-A2|20260105081500` + "\r"
	patient = "P|1||MRN778899||DOE^JOHN||19600101|M\r"
	result  = "R|1|^^^GLU^1|5.4|mmol/L||N||F||||20260105081400\r"
	term    = "L|1|N\r"
)

func session() string {
	var b strings.Builder
	b.WriteByte(enq)
	b.WriteString(frame(1, header, true))
	b.WriteString(frame(2, patient, true))
	// A result record split over an intermediate and a final frame.
	b.WriteString(frame(3, result[:10], false))
	b.WriteString(frame(4, result[10:], true))
	b.WriteString(frame(5, term, true))
	b.WriteByte(eot)
	return b.String()
}

func feed(in string, split int) (*recorder, error) {
	r := &recorder{}
	s := New().(*Dissector).NewStream(flow)
	if split < 0 || split > len(in) {
		return r, s.Feed(dissect.FromClient, []byte(in), time.Time{}, r)
	}
	e1 := s.Feed(dissect.FromClient, []byte(in[:split]), time.Time{}, r)
	e2 := s.Feed(dissect.FromClient, []byte(in[split:]), time.Time{}, r)
	if e1 != nil {
		return r, e1
	}
	return r, e2
}

func TestStream(t *testing.T) {
	t.Parallel()
	wantHeader := []string{
		"10.50.1.12 astm.sender_name=cobas c 311", "10.50.1.12 astm.version=2.1.3", "10.50.1.12 astm.serial=1234-56",
		"10.50.1.12 astm.receiver_id=host", "10.50.1.12 astm.processing_id=P", "10.50.1.12 astm.protocol_version=LIS2-A2",
	}
	bad := frame(1, header, true)
	bad = bad[:len(bad)-4] + "00\r\n"
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "framed_session", in: session(), want: wantHeader},
		{name: "unframed_records", in: header + patient + term, want: wantHeader},
		{name: "bad_checksum_then_retransmit", in: "\x05" + bad + frame(1, header, true), want: wantHeader, wantErr: "checksum"},
		{name: "bad_frame_number", in: "\x05\x02X" + header, wantErr: "frame number"},
		{name: "truncated_frame", in: "\x05" + frame(1, header, true)[:30]},
	}
	for _, tt := range tests {
		for _, split := range []int{-1, 1, 2, 17, len(tt.in) / 2, len(tt.in) - 1} {
			r, err := feed(tt.in, split)
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("%s split %d: error %v, want %q", tt.name, split, err, tt.wantErr)
			}
			if tt.wantErr == "" && err != nil {
				t.Errorf("%s split %d: %v", tt.name, split, err)
			}
			if diff := cmp.Diff(tt.want, r.obs); diff != "" {
				t.Errorf("%s split %d (-want +got):\n%s", tt.name, split, diff)
			}
			for _, o := range r.obs {
				if strings.Contains(o, "DOE") || strings.Contains(o, "MRN") {
					t.Errorf("patient data leaked: %s", o)
				}
			}
		}
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	d := New().(*Dissector)
	for in, want := range map[string]bool{"\x05": true, session(): true, frame(1, header, true): true, header: true, "GET /": false, "\x05x": false} {
		if got := d.Detect(flow, dissect.FromClient, []byte(in)); got != want {
			t.Errorf("Detect(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzStreamSplit(f *testing.F) {
	f.Add([]byte(session()), uint16(20))
	f.Add([]byte(header+patient), uint16(3))
	f.Fuzz(func(t *testing.T, b []byte, at uint16) {
		split := int(at) % (len(b) + 1)
		one, e1 := feed(string(b), -1)
		two, e2 := feed(string(b), split)
		if diff := cmp.Diff(one.obs, two.obs); diff != "" {
			t.Fatalf("split at %d (-one +two):\n%s", split, diff)
		}
		if (e1 == nil) != (e2 == nil) {
			t.Fatalf("split at %d: errors %v vs %v", split, e1, e2)
		}
	})
}

func BenchmarkStream(b *testing.B) {
	in := []byte(strings.Repeat(session(), 200))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s := New().(*Dissector).NewStream(flow)
		if err := s.Feed(dissect.FromClient, in, time.Time{}, &recorder{}); err != nil {
			b.Fatal(err)
		}
	}
}
