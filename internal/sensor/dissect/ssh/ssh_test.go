package ssh

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// The shared corpus has no SSH capture. The transcripts are the
// identification exchange of RFC 4253 §4.2 (including the example
// "SSH-2.0-billsSSH_3.6.3q3" and pre-banner lines a server may send),
// followed by the start of a binary KEXINIT packet.
var kexinit = []byte{0x00, 0x00, 0x05, 0xdc, 0x06, 0x14, 0x8a, 0x1b}

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
		out = append(out, f.Kind+"/"+f.Severity)
	}
	return out
}

type discard struct{}

func (discard) Observe(dissect.Observation) {}
func (discard) Report(dissect.Finding)      {}

var (
	client = netip.MustParseAddrPort("10.1.1.20:51000")
	server = netip.MustParseAddrPort("10.1.1.5:22")
)

func feed(cli, srv []byte, split int) *recorder {
	r := &recorder{}
	s := New().(*Dissector).NewStream(&dissect.Flow{Client: dissect.Endpoint{Addr: client}, Server: dissect.Endpoint{Addr: server}})
	t := time.Unix(1700000000, 0)
	for _, x := range []struct {
		dir dissect.Direction
		b   []byte
	}{{dissect.FromServer, srv}, {dissect.FromClient, cli}} {
		if split < 0 || split > len(x.b) {
			_ = s.Feed(x.dir, x.b, t, r)
		} else {
			_ = s.Feed(x.dir, x.b[:split], t, r)
			_ = s.Feed(x.dir, x.b[split:], t, r)
		}
	}
	s.End(r)
	return r
}

func TestStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cli, srv string
		want     []string
	}{
		{
			name: "rfc4253_example",
			cli:  "SSH-2.0-PuTTY_Release_0.78\r\n", srv: "SSH-2.0-billsSSH_3.6.3q3\r\n",
			want: []string{"ssh.server_banner=SSH-2.0-billsSSH_3.6.3q3", "ssh.client_banner=SSH-2.0-PuTTY_Release_0.78"},
		},
		{
			name: "comments_and_lf_only",
			cli:  "SSH-2.0-OpenSSH_9.6\n", srv: "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\n",
			want: []string{"ssh.server_banner=SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6", "ssh.client_banner=SSH-2.0-OpenSSH_9.6"},
		},
		{
			name: "lines_before_banner",
			cli:  "SSH-2.0-libssh_0.10.5\r\n", srv: "Authorized use only.\r\nAll sessions are logged.\r\nSSH-2.0-dropbear_2020.81\r\n",
			want: []string{"ssh.server_banner=SSH-2.0-dropbear_2020.81", "ssh.client_banner=SSH-2.0-libssh_0.10.5"},
		},
		{
			name: "ssh1_only_server",
			cli:  "SSH-1.5-1.2.27\n", srv: "SSH-1.5-Cisco-1.25\n",
			want: []string{"ssh.server_banner=SSH-1.5-Cisco-1.25", "ssh.client_banner=SSH-1.5-1.2.27", "ssh-v1/high"},
		},
		{
			name: "ssh1_fallback",
			cli:  "SSH-2.0-OpenSSH_7.4\r\n", srv: "SSH-1.99-OpenSSH_3.9p1\r\n",
			want: []string{"ssh.server_banner=SSH-1.99-OpenSSH_3.9p1", "ssh.client_banner=SSH-2.0-OpenSSH_7.4", "ssh-v1/medium"},
		},
		{
			name: "control_characters_removed",
			cli:  "SSH-2.0-x\x1b[2J\r\n", srv: "SSH-2.0-y\r\n",
			want: []string{"ssh.server_banner=SSH-2.0-y", "ssh.client_banner=SSH-2.0-x[2J"},
		},
		{
			name: "not_ssh",
			cli:  "GET / HTTP/1.1\r\n", srv: "HTTP/1.1 400 Bad Request\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := feed(append([]byte(tt.cli), kexinit...), append([]byte(tt.srv), kexinit...), -1)
			if diff := cmp.Diff(tt.want, r.strings()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, o := range r.obs {
				want := client.Addr()
				if o.Field == "ssh.server_banner" {
					want = server.Addr()
				}
				if o.IP != want || o.Protocol != Name {
					t.Errorf("%s owned by %v", o.Field, o.IP)
				}
			}
		})
	}
}

func TestBounded(t *testing.T) {
	t.Parallel()
	s := New().(*Dissector).NewStream(&dissect.Flow{}).(*stream)
	junk := make([]byte, 100)
	for i := range junk {
		junk[i] = 'a'
	}
	junk[99] = '\n'
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		err = s.Feed(dissect.FromServer, junk, time.Time{}, discard{})
	}
	if err == nil || !s.done[dissect.FromServer] {
		t.Fatalf("no give-up after %d bytes of preamble", 200*len(junk))
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"SSH-2.0-OpenSSH_8.9\r\n", true},
		{"SSH-", true},
		{"HTTP/1.1 200 OK\r\n", false},
		{"\x16\x03\x01\x00\xc8\x01", false},
		{"220 ftp.example.org FTP server ready\r\n", false},
		{"SSH", false},
	}
	for _, tt := range tests {
		if got := New().Detect(nil, dissect.FromServer, []byte(tt.in)); got != tt.want {
			t.Errorf("Detect(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func seeds(f *testing.F) {
	f.Add([]byte("SSH-2.0-PuTTY_Release_0.78\r\n"), []byte("Authorized use only.\r\nSSH-2.0-billsSSH_3.6.3q3\r\n"), uint16(5))
	f.Add([]byte("SSH-1.5-1.2.27\n"), []byte("SSH-1.99-OpenSSH_3.9p1\r\n"), uint16(20))
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

func BenchmarkBanner(b *testing.B) {
	cli := append([]byte("SSH-2.0-OpenSSH_9.6\r\n"), kexinit...)
	srv := append([]byte("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n"), kexinit...)
	f := &dissect.Flow{}
	b.SetBytes(int64(len(cli) + len(srv)))
	b.ReportAllocs()
	for b.Loop() {
		s := New().(*Dissector).NewStream(f)
		_ = s.Feed(dissect.FromServer, srv, time.Time{}, discard{})
		_ = s.Feed(dissect.FromClient, cli, time.Time{}, discard{})
	}
}
