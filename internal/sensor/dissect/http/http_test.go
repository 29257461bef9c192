package http_test

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/http"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

func TestDissectCaptures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file         string
		want         map[string][]string
		wantFindings []string
	}{
		{"basic-auth-with-colon.pcap", map[string][]string{
			http.FieldHost:      {"172.24.133.205:8000"},
			http.FieldServer:    {"SimpleHTTP/0.6 Python/3.10.6"},
			http.FieldUserAgent: {"python-requests/2.31.0"},
		}, []string{`cleartext-credentials: HTTP Basic authentication in cleartext for user "test" to host "172.24.133.205:8000"`}},
		{"get.pcap", map[string][]string{
			http.FieldHost:      {"bro.org"},
			http.FieldServer:    {"Apache/2.4.3 (Fedora)"},
			http.FieldUserAgent: {"Wget/1.14 (darwin12.2.0)"},
		}, nil},
		{"multipart.pcap", map[string][]string{
			http.FieldHost:      {"httpbin.org"},
			http.FieldServer:    {"gunicorn/0.16.1"},
			http.FieldUserAgent: {"curl/7.30.0"},
		}, nil},
		{"no-version.pcap", map[string][]string{}, nil}, // HTTP/0.9: no headers at all
		{"pipelined-requests.pcap", map[string][]string{
			http.FieldHost:      {"www.mozilla.org"},
			http.FieldServer:    {"Apache", "Apache/2.2.3 (Red Hat)"},
			http.FieldUserAgent: {"Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.9.1.5) Gecko/20091102 Firefox/3.5.5"},
		}, nil},
		{"websocket.pcap", map[string][]string{
			http.FieldHost:      {"sandbox.kaazing.net"},
			http.FieldServer:    {"Kaazing Gateway"},
			http.FieldUserAgent: {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:54.0) Gecko/20100101 Firefox/54.0"},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			r := sensortest.Run(t, filepath.Join("testdata", tt.file), http.New())
			if diff := cmp.Diff(tt.want, sensortest.Fields(r)); diff != "" {
				t.Errorf("Dissect(%s) (-want +got):\n%s", tt.file, diff)
			}
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.Kind+": "+f.Detail)
				if strings.Contains(f.Detail, "test:") || strings.Contains(f.Detail, "password") {
					t.Errorf("finding leaks the password: %q", f.Detail)
				}
			}
			if diff := cmp.Diff(tt.wantFindings, got); diff != "" {
				t.Errorf("findings of %s (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

type collector struct {
	obs []string
	fnd []string
}

func (c *collector) Observe(o dissect.Observation) { c.obs = append(c.obs, o.Field+"="+o.Value) }
func (c *collector) Report(f dissect.Finding)      { c.fnd = append(c.fnd, f.Kind+"|"+f.Detail) }

func testFlow() *dissect.Flow {
	return &dissect.Flow{
		Client: dissect.Endpoint{MAC: "00:11:22:33:44:55", Addr: netip.MustParseAddrPort("10.1.2.3:50000")},
		Server: dissect.Endpoint{MAC: "00:11:22:33:44:66", Addr: netip.MustParseAddrPort("10.1.2.4:80")},
	}
}

const (
	pipelinedReq = "GET /a HTTP/1.1\r\nHost: pacs.local\r\nUser-Agent: Viewer/1.0\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: pacs.local\r\nContent-Length: 5\r\nAuthorization: Basic YWxpY2U6czNjcjN0\r\n\r\nhello" +
		"HEAD /c HTTP/1.1\r\nHost: other.local\r\n\r\n"
	pipelinedResp = "HTTP/1.1 200 OK\r\nServer: nginx/1.18.0\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nHTTP/\r\n0\r\nX-Trailer: 1\r\n\r\n" +
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nServer: second\r\nContent-Length: 3\r\n\r\nabc" +
		"HTTP/1.1 200 OK\r\nServer: third\r\nContent-Length: 999\r\n\r\n" // HEAD: no body follows
)

func feed(s dissect.Stream, c *collector, req, resp []string) {
	for _, r := range req {
		_ = s.Feed(dissect.FromClient, []byte(r), time.Unix(1, 0), c)
	}
	for _, r := range resp {
		_ = s.Feed(dissect.FromServer, []byte(r), time.Unix(2, 0), c)
	}
	s.End(c)
}

func TestStreamPipelining(t *testing.T) {
	t.Parallel()
	var c collector
	feed(http.New().(dissect.StreamDissector).NewStream(testFlow()), &c, []string{pipelinedReq}, []string{pipelinedResp, "HTTP/1.1 204 No Content\r\nServer: fourth\r\n\r\n"})
	want := []string{"http.host=pacs.local", "http.user_agent=Viewer/1.0", "http.host=pacs.local", "http.host=other.local",
		"http.server=nginx/1.18.0", "http.server=second", "http.server=third", "http.server=fourth"}
	if diff := cmp.Diff(want, c.obs); diff != "" {
		t.Errorf("observations (-want +got):\n%s", diff)
	}
	wantF := []string{`cleartext-credentials|HTTP Basic authentication in cleartext for user "alice" to host "pacs.local"`}
	if diff := cmp.Diff(wantF, c.fnd); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestStreamGapResync(t *testing.T) {
	t.Parallel()
	var c collector
	s := http.New().(dissect.StreamDissector).NewStream(testFlow())
	_ = s.Feed(dissect.FromClient, []byte("POST /x HTTP/1.1\r\nContent-Length: 100000\r\n\r\npartial"), time.Unix(1, 0), &c)
	s.Gap(dissect.FromClient)
	_ = s.Feed(dissect.FromClient, []byte("body bytes\r\nGET /y HTTP/1.1\r\nUser-Agent: after-gap\r\n\r\n"), time.Unix(1, 0), &c)
	if diff := cmp.Diff([]string{"http.user_agent=after-gap"}, c.obs); diff != "" {
		t.Errorf("observations after a gap (-want +got):\n%s", diff)
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	d := http.New()
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"GET / HTTP/1.1\r\n", true},
		{"HTTP/1.0 200 OK\r\n", true},
		{"M-SEARCH * HTTP/1.1\r\n", true},
		{"FOOBAR /x HTTP/1.1\r\n", true},
		{"\x16\x03\x01\x02\x00", false},
		{"SSH-2.0-OpenSSH_8.9\r\n", false},
		{"get / http/1.1", false},
	} {
		if got := d.Detect(testFlow(), dissect.FromClient, []byte(tt.in)); got != tt.want {
			t.Errorf("Detect(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func seeds(f *testing.F) [][]byte {
	out := [][]byte{[]byte(pipelinedReq), []byte(pipelinedResp)}
	for _, file := range sensortest.SeedFiles(f, "testdata") {
		out = append(out, sensortest.Payloads(f, file, dissect.LayerTCP)...)
	}
	return out
}

func FuzzStream(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, false)
		f.Add(s, true)
	}
	d := http.New().(dissect.StreamDissector)
	f.Fuzz(func(t *testing.T, data []byte, server bool) {
		dir := dissect.FromClient
		if server {
			dir = dissect.FromServer
		}
		var c collector
		s := d.NewStream(testFlow())
		_ = s.Feed(dir, data, time.Unix(0, 0), &c)
		s.Gap(dir)
		_ = s.Feed(dir, data, time.Unix(0, 0), &c)
		s.End(&c)
	})
}

// FuzzStreamSplit checks that feeding bytes in two chunks gives the same
// observations and findings as feeding them at once.
func FuzzStreamSplit(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, uint16(len(s)/2), false)
		f.Add(s, uint16(7), true)
	}
	d := http.New().(dissect.StreamDissector)
	f.Fuzz(func(t *testing.T, data []byte, at uint16, server bool) {
		dir := dissect.FromClient
		if server {
			dir = dissect.FromServer
		}
		cut := int(at) % (len(data) + 1)
		var one, two collector
		s1 := d.NewStream(testFlow())
		_ = s1.Feed(dir, data, time.Unix(0, 0), &one)
		s1.End(&one)
		s2 := d.NewStream(testFlow())
		_ = s2.Feed(dir, bytes.Clone(data[:cut]), time.Unix(0, 0), &two)
		_ = s2.Feed(dir, bytes.Clone(data[cut:]), time.Unix(0, 0), &two)
		s2.End(&two)
		if !slices.Equal(one.obs, two.obs) || !slices.Equal(one.fnd, two.fnd) {
			t.Fatalf("split at %d differs:\none: %q %q\ntwo: %q %q", cut, one.obs, one.fnd, two.obs, two.fnd)
		}
	})
}

func BenchmarkStream(b *testing.B) {
	req, resp := []byte(pipelinedReq), []byte(pipelinedResp)
	d := http.New().(dissect.StreamDissector)
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	var c discard
	for b.Loop() {
		s := d.NewStream(testFlow())
		_ = s.Feed(dissect.FromClient, req, time.Time{}, c)
		_ = s.Feed(dissect.FromServer, resp, time.Time{}, c)
		s.End(c)
	}
}

type discard struct{}

func (discard) Observe(dissect.Observation) {}
func (discard) Report(dissect.Finding)      {}
