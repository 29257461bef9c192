package poct1

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// The shared corpus has no POCT1-A capture. These documents follow the
// CLSI POCT1-A2 device messaging layer (HEL.R01 hello with the DEV block,
// DST.R01 device status, ACK.R01), with values a blood-gas analyser would
// send to its data manager.
const hello = `<?xml version="1.0" encoding="UTF-8"?>
<HEL.R01>
  <HDR>
    <HDR.message_type V="HEL.R01"/>
    <HDR.control_id V="1001"/>
    <HDR.version_id V="POCT1"/>
    <HDR.creation_dttm V="2026-01-05T08:15:00+01:00"/>
  </HDR>
  <HEL>
    <DEV>
      <DEV.device_id V="00:1B:2C:3D:4E:5F"/>
      <DEV.vendor_id V="RADIOMETER"/>
      <DEV.model_id V="ABL90 FLEX PLUS"/>
      <DEV.serial_id V="754R1234N012"/>
      <DEV.manufacturer_name V="Radiometer Medical ApS"/>
      <DEV.hw_version V="2.0"/>
      <DEV.sw_version V="3.5 MR2"/>
      <DEV.device_name V="BG-ICU-01"/>
    </DEV>
    <DCP><DCP.application_timeout V="30"/></DCP>
  </HEL>
</HEL.R01>`

const status = `<?xml version="1.0" encoding="UTF-8"?><DST.R01><HDR><HDR.message_type V="DST.R01"/><HDR.control_id V="1002"/><HDR.version_id V="POCT1"/></HDR><DST><DST.status_dttm V="2026-01-05T08:15:02+01:00"/><DST.new_observations_qty V="3"/></DST></DST.R01>`

const ack = `<?xml version="1.0" encoding="UTF-8"?><ACK.R01><HDR><HDR.message_type V="ACK.R01"/><HDR.control_id V="5001"/><HDR.version_id V="POCT1"/></HDR><ACK><ACK.type_cd V="AA"/><ACK.ack_control_id V="1001"/></ACK></ACK.R01>`

const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><HEL.R01><DEV.serial_id V="&lol2;"/></HEL.R01>`

type recorder struct{ obs []string }

func (r *recorder) Observe(o dissect.Observation) {
	r.obs = append(r.obs, o.IP.String()+" "+o.Field+"="+o.Value)
}
func (r *recorder) Report(dissect.Finding) {}

var flow = &dissect.Flow{
	Client: dissect.Endpoint{Addr: netip.MustParseAddrPort("10.40.3.7:51000")},
	Server: dissect.Endpoint{Addr: netip.MustParseAddrPort("10.40.0.9:5500")},
}

func feed(dir dissect.Direction, in string, split int) (*recorder, error) {
	r := &recorder{}
	s := New().(*Dissector).NewStream(flow)
	var err error
	if split >= 0 && split <= len(in) {
		err = s.Feed(dir, []byte(in[:split]), time.Time{}, r)
		if e := s.Feed(dir, []byte(in[split:]), time.Time{}, r); e != nil {
			err = e
		}
	} else {
		err = s.Feed(dir, []byte(in), time.Time{}, r)
	}
	return r, err
}

func TestStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		dir     dissect.Direction
		want    []string
		wantErr string
	}{
		{name: "hello_and_status", in: hello + "\r\n" + status, want: []string{
			"10.40.3.7 poct1.message_type=HEL.R01", "10.40.3.7 poct1.version=POCT1",
			"10.40.3.7 poct1.vendor=Radiometer Medical ApS", "10.40.3.7 poct1.vendor_id=RADIOMETER",
			"10.40.3.7 poct1.model=ABL90 FLEX PLUS", "10.40.3.7 poct1.serial=754R1234N012",
			"10.40.3.7 poct1.sw_version=3.5 MR2", "10.40.3.7 poct1.hw_version=2.0",
			"10.40.3.7 poct1.device_id=00:1B:2C:3D:4E:5F", "10.40.3.7 poct1.device_name=BG-ICU-01",
			"10.40.3.7 poct1.message_type=DST.R01", "10.40.3.7 poct1.version=POCT1",
		}},
		{name: "ack_from_manager", in: ack, dir: dissect.FromServer, want: []string{"10.40.0.9 poct1.message_type=ACK.R01", "10.40.0.9 poct1.version=POCT1"}},
		{name: "billion_laughs", in: laughs, wantErr: "document type declaration refused"},
		{name: "truncated_xml", in: hello[:200], want: nil},
		{name: "broken_xml", in: `<HEL.R01><DEV><DEV.serial_id V="x"></HEL.R01>`, wantErr: "line 1"},
		{name: "not_xml", in: "hello there", wantErr: "data outside an xml document"},
	}
	for _, tt := range tests {
		for _, split := range []int{-1, 1, 7, len(tt.in) / 2, len(tt.in) - 1} {
			r, err := feed(tt.dir, tt.in, split)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s split %d: error %v, want %q", tt.name, split, err, tt.wantErr)
				}
			} else if err != nil {
				t.Errorf("%s split %d: %v", tt.name, split, err)
			}
			if diff := cmp.Diff(tt.want, r.obs); diff != "" {
				t.Errorf("%s split %d (-want +got):\n%s", tt.name, split, diff)
			}
		}
	}
}

func TestOversized(t *testing.T) {
	t.Parallel()
	s := New().(*Dissector).NewStream(flow)
	_ = s.Feed(dissect.FromClient, []byte("<HEL.R01>"), time.Time{}, &recorder{})
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = s.Feed(dissect.FromClient, []byte(strings.Repeat("<X V=\"y\"/>", 1000)), time.Time{}, &recorder{})
	}
	if err == nil || !strings.Contains(err.Error(), "document over") {
		t.Fatalf("error %v, want document over", err)
	}
	if b := s.(*stream).buf[0]; b != nil {
		t.Errorf("buffer kept: %d bytes", len(b))
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	d := New().(*Dissector)
	for in, want := range map[string]bool{hello: true, status: true, "<OBS.R01>": true, "<?xml version=\"1.0\"?><html>": false, "GET /": false, "<HEL.R0": false} {
		if got := d.Detect(flow, dissect.FromClient, []byte(in)); got != want {
			t.Errorf("Detect(%.20q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzStreamSplit(f *testing.F) {
	for _, s := range []string{hello, status, ack, laughs} {
		f.Add([]byte(s), uint16(10))
	}
	f.Fuzz(func(t *testing.T, b []byte, at uint16) {
		split := int(at) % (len(b) + 1)
		one, e1 := feed(dissect.FromClient, string(b), -1)
		two, e2 := feed(dissect.FromClient, string(b), split)
		if diff := cmp.Diff(one.obs, two.obs); diff != "" {
			t.Fatalf("split at %d (-one +two):\n%s", split, diff)
		}
		if (e1 == nil) != (e2 == nil) {
			t.Fatalf("split at %d: errors %v vs %v", split, e1, e2)
		}
	})
}

func BenchmarkStream(b *testing.B) {
	in := []byte(strings.Repeat(hello+status, 20))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s := New().(*Dissector).NewStream(flow)
		if err := s.Feed(dissect.FromClient, in, time.Time{}, &recorder{}); err != nil {
			b.Fatal(err)
		}
	}
}
