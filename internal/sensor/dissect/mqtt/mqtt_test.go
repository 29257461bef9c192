package mqtt

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// The shared corpus has no MQTT capture. Packets are encoded field by
// field per MQTT 3.1.1 §3.1 / §3.2 and MQTT 5.0 §3.1, with the values an
// infusion-pump fleet gateway would use.

type recorder struct {
	obs   []dissect.Observation
	finds []dissect.Finding
}

func (r *recorder) Observe(o dissect.Observation) { r.obs = append(r.obs, o) }
func (r *recorder) Report(f dissect.Finding)      { r.finds = append(r.finds, f) }

func (r *recorder) strings() []string {
	var out []string
	for _, o := range r.obs {
		out = append(out, o.Field+"="+o.Value)
	}
	for _, f := range r.finds {
		out = append(out, f.Kind+"/"+f.Severity+": "+f.Detail)
	}
	return out
}

type discard struct{}

func (discard) Observe(dissect.Observation) {}
func (discard) Report(dissect.Finding)      {}

func lstr(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

func packet(typ byte, body []byte) []byte {
	b := []byte{typ}
	n := len(body)
	for {
		c := byte(n % 128)
		n /= 128
		if n > 0 {
			c |= 0x80
		}
		b = append(b, c)
		if n == 0 {
			break
		}
	}
	return append(b, body...)
}

type connectOpts struct {
	name           string
	level          byte
	id, user, pass string
	will           bool
}

func connect(o connectOpts) []byte {
	var flags byte = 0x02 // clean session
	if o.user != "" {
		flags |= 0x80
	}
	if o.pass != "" {
		flags |= 0x40
	}
	if o.will {
		flags |= 0x04
	}
	b := append(lstr(o.name), o.level, flags, 0, 60)
	if o.level == 5 {
		b = append(b, 5, 0x11, 0, 0, 0x0e, 0x10) // session expiry interval
	}
	b = append(b, lstr(o.id)...)
	if o.will {
		if o.level == 5 {
			b = append(b, 0)
		}
		b = append(b, lstr("pumps/icu3/status")...)
		b = append(b, lstr("offline")...)
	}
	if o.user != "" {
		b = append(b, lstr(o.user)...)
	}
	if o.pass != "" {
		b = append(b, lstr(o.pass)...)
	}
	return packet(0x10, b)
}

var (
	client = netip.MustParseAddrPort("10.4.0.17:40112")
	broker = netip.MustParseAddrPort("10.4.0.2:1883")
)

func feed(cli, srv []byte, split int) *recorder {
	r := &recorder{}
	s := New().(*Dissector).NewStream(&dissect.Flow{Client: dissect.Endpoint{Addr: client}, Server: dissect.Endpoint{Addr: broker}})
	for _, x := range []struct {
		dir dissect.Direction
		b   []byte
	}{{dissect.FromClient, cli}, {dissect.FromServer, srv}} {
		if split < 0 || split > len(x.b) {
			_ = s.Feed(x.dir, x.b, time.Unix(1, 0), r)
		} else {
			_ = s.Feed(x.dir, x.b[:split], time.Unix(1, 0), r)
			_ = s.Feed(x.dir, x.b[split:], time.Unix(1, 0), r)
		}
	}
	s.End(r)
	return r
}

var (
	connackOK     = packet(0x20, []byte{0, 0})
	connackNotAut = packet(0x20, []byte{0, 5})
	publish       = packet(0x30, append(lstr("pumps/icu3/rate"), "12.5 ml/h"...))
)

func TestStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cli, srv []byte
		want     []string
	}{
		{
			name: "v311_user_password",
			cli:  append(connect(connectOpts{name: "MQTT", level: 4, id: "pump-gw-07", user: "gateway", pass: "S3cret!"}), publish...),
			srv:  connackOK,
			want: []string{
				"mqtt.client_id=pump-gw-07", "mqtt.protocol_level=4", "mqtt.version=3.1.1", "mqtt.protocol_name=MQTT", "mqtt.user=gateway",
				`cleartext-credentials/high: MQTT CONNECT from client "pump-gw-07" sent a password in clear for user "gateway"; use MQTT over TLS (8883)`,
			},
		},
		{
			name: "v31_anonymous_accepted",
			cli:  connect(connectOpts{name: "MQIsdp", level: 3, id: "bedside-12"}),
			srv:  connackOK,
			want: []string{
				"mqtt.client_id=bedside-12", "mqtt.protocol_level=3", "mqtt.version=3.1", "mqtt.protocol_name=MQIsdp",
				`mqtt-anonymous/medium: MQTT broker accepted client "bedside-12" without a user name or password`,
			},
		},
		{
			name: "anonymous_refused",
			cli:  connect(connectOpts{name: "MQTT", level: 4, id: "bedside-12"}),
			srv:  connackNotAut,
			want: []string{"mqtt.client_id=bedside-12", "mqtt.protocol_level=4", "mqtt.version=3.1.1", "mqtt.protocol_name=MQTT"},
		},
		{
			name: "v5_will_user_no_password",
			cli:  connect(connectOpts{name: "MQTT", level: 5, id: "vent-3", user: "vent", will: true}),
			srv:  connackOK,
			want: []string{"mqtt.client_id=vent-3", "mqtt.protocol_level=5", "mqtt.version=5.0", "mqtt.protocol_name=MQTT", "mqtt.user=vent"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := feed(tt.cli, tt.srv, -1)
			if diff := cmp.Diff(tt.want, r.strings()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, s := range r.strings() {
				if strings.Contains(s, "S3cret!") {
					t.Fatalf("password leaked: %s", s)
				}
			}
			for _, o := range r.obs {
				if o.IP != client.Addr() {
					t.Errorf("%s owned by %v, want the client", o.Field, o.IP)
				}
			}
			for _, f := range r.finds {
				if f.IP != broker.Addr() || f.Peer != client {
					t.Errorf("%s on %v peer %v", f.Kind, f.IP, f.Peer)
				}
			}
		})
	}
}

func TestOversizedConnect(t *testing.T) {
	t.Parallel()
	b := []byte{0x10, 0xff, 0xff, 0xff, 0x7f} // 268 MB remaining length
	s := New().(*Dissector).NewStream(&dissect.Flow{})
	if err := s.Feed(dissect.FromClient, b, time.Time{}, discard{}); err == nil {
		t.Fatal("no error for a 268 MB CONNECT")
	}
	if st := s.(*stream); st.buf[0] != nil || !st.done[0] {
		t.Fatal("stream kept buffering")
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"connect_311", connect(connectOpts{name: "MQTT", level: 4, id: "x"}), true},
		{"connect_31", connect(connectOpts{name: "MQIsdp", level: 3, id: "x"}), true},
		{"publish", publish, false},
		{"tls_client_hello", []byte{0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03}, false},
		{"http", []byte("GET / HTTP/1.1\r\n\r\n"), false},
		{"connect_wrong_name", packet(0x10, append(lstr("AMQP"), 4, 2, 0, 60)), false},
	}
	for _, tt := range tests {
		if got := New().Detect(nil, dissect.FromClient, tt.in); got != tt.want {
			t.Errorf("Detect(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func seeds(f *testing.F) {
	f.Add(connect(connectOpts{name: "MQTT", level: 4, id: "pump-gw-07", user: "gateway", pass: "pw"}), connackOK, uint16(9))
	f.Add(connect(connectOpts{name: "MQTT", level: 5, id: "vent-3", user: "vent", will: true}), connackOK, uint16(30))
}

func FuzzStream(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, cli, srv []byte, _ uint16) { feed(cli, srv, -1) })
}

func FuzzSplit(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, cli, srv []byte, at uint16) {
		one, two := feed(cli, srv, -1), feed(cli, srv, int(at))
		if diff := cmp.Diff(one.strings(), two.strings()); diff != "" {
			t.Fatalf("split at %d (-one +two):\n%s", at, diff)
		}
	})
}

func BenchmarkConnect(b *testing.B) {
	cli := connect(connectOpts{name: "MQTT", level: 4, id: "pump-gw-07", user: "gateway", pass: "pw"})
	f := &dissect.Flow{}
	b.SetBytes(int64(len(cli)))
	b.ReportAllocs()
	for b.Loop() {
		s := New().(*Dissector).NewStream(f)
		_ = s.Feed(dissect.FromClient, cli, time.Time{}, discard{})
		_ = s.Feed(dissect.FromServer, connackOK, time.Time{}, discard{})
	}
}
