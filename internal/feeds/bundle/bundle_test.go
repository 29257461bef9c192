package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func keys(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	privPEM, pubPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(privPEM, "priv.pem")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM, "pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

var sample = map[string][]byte{
	"kev/known_exploited_vulnerabilities.json": []byte(`{"title":"x"}`),
	"csaf/1.jsonl": []byte("{\"id\":\"ICSMA-24-151-01\"}\n"),
}

var sampleManifest = Manifest{Created: time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC), Feeds: []Feed{
	{Name: "kev", Kind: "kev", Items: 1, Files: []string{"kev/known_exploited_vulnerabilities.json"}},
	{Name: "csaf:x", Kind: "csaf", Items: 1, Files: []string{"csaf/1.jsonl"}},
}}

func write(t testing.TB, priv ed25519.PrivateKey) []byte {
	var buf bytes.Buffer
	if err := Write(&buf, sampleManifest, sample, priv); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rewrite rebuilds an archive with edit applied to each member (nil drops it) plus extra members.
func rewrite(t testing.TB, data []byte, edit func(h *tar.Header, b []byte) []byte, extra ...tar.Header) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		if edit != nil {
			b = edit(h, b)
		}
		if b == nil {
			continue
		}
		h.Size = int64(len(b))
		tw.WriteHeader(h)
		tw.Write(b)
	}
	for _, h := range extra {
		h.Size = 2
		h.Mode = 0o644
		tw.WriteHeader(&h)
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte("{}"))
		}
	}
	tw.Close()
	zw.Close()
	return out.Bytes()
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	priv, pub := keys(t)
	_, otherPub := keys(t)
	m, files, err := Read(bytes.NewReader(write(t, priv)), "x.bundle", []ed25519.PublicKey{otherPub, pub}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sample, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sampleManifest.Feeds, m.Feeds); diff != "" {
		t.Errorf("feeds (-want +got):\n%s", diff)
	}
	if m.Format != Format || len(m.Files) != 2 || !m.Created.Equal(sampleManifest.Created) {
		t.Errorf("manifest = %+v", m)
	}
}

func TestReadRejects(t *testing.T) {
	t.Parallel()
	priv, pub := keys(t)
	_, wrongPub := keys(t)
	good := write(t, priv)
	tests := []struct {
		name    string
		data    []byte
		trusted []ed25519.PublicKey
		wantErr error
		wantMsg string
	}{
		{"tampered_file", rewrite(t, good, func(h *tar.Header, b []byte) []byte {
			if h.Name == "csaf/1.jsonl" {
				return []byte("{\"id\":\"ICSMA-24-151-02\"}\n")
			}
			return b
		}), nil, ErrTampered, `"csaf/1.jsonl" hashes to`},
		{"tampered_manifest", rewrite(t, good, func(h *tar.Header, b []byte) []byte {
			if h.Name == ManifestName {
				return bytes.Replace(b, []byte(`"items": 1`), []byte(`"items": 2`), 1)
			}
			return b
		}), nil, ErrBadSignature, ""},
		{"wrong_key", good, []ed25519.PublicKey{wrongPub}, ErrBadSignature, ""},
		{"truncated_archive", good[:len(good)*2/3], nil, ErrMalformed, ""},
		{"truncated_gzip_trailer", good[:len(good)-4], nil, ErrMalformed, ""},
		{"missing_file", rewrite(t, good, func(h *tar.Header, b []byte) []byte {
			if h.Name == "csaf/1.jsonl" {
				return nil
			}
			return b
		}), nil, ErrTampered, "is missing"},
		{"missing_signature", rewrite(t, good, func(h *tar.Header, b []byte) []byte {
			if h.Name == SignatureName {
				return nil
			}
			return b
		}), nil, ErrMalformed, "no manifest.sig"},
		{"extra_file", rewrite(t, good, nil, tar.Header{Name: "csaf/2.jsonl", Typeflag: tar.TypeReg}), nil, ErrTampered, "not in the manifest"},
		{"path_traversal_dotdot", rewrite(t, good, nil, tar.Header{Name: "../../etc/cron.d/x", Typeflag: tar.TypeReg}), nil, ErrMalformed, "not a clean relative path"},
		{"path_traversal_absolute", rewrite(t, good, nil, tar.Header{Name: "/etc/passwd", Typeflag: tar.TypeReg}), nil, ErrMalformed, "not a clean relative path"},
		{"path_unclean", rewrite(t, good, nil, tar.Header{Name: "csaf/./../x", Typeflag: tar.TypeReg}), nil, ErrMalformed, "not a clean relative path"},
		{"symlink_member", rewrite(t, good, nil, tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}), nil, ErrMalformed, "not a regular file"},
		{"duplicate_member", rewrite(t, good, nil, tar.Header{Name: "csaf/1.jsonl", Typeflag: tar.TypeReg}), nil, ErrMalformed, "appears twice"},
		{"not_gzip", []byte("hello"), nil, ErrMalformed, "not gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trusted := tt.trusted
			if trusted == nil {
				trusted = []ed25519.PublicKey{pub}
			}
			m, files, err := Read(bytes.NewReader(tt.data), "x.bundle", trusted, 0)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Read = %v, want %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
			if m != nil || files != nil {
				t.Errorf("Read returned content with an error")
			}
		})
	}
	if _, _, err := Read(bytes.NewReader(good), "x.bundle", nil, 0); err == nil {
		t.Error("Read without trusted keys succeeded")
	}
	if _, _, err := Read(bytes.NewReader(good), "x.bundle", []ed25519.PublicKey{pub}, 100); !errors.Is(err, ErrMalformed) {
		t.Errorf("Read over the size limit = %v", err)
	}
}

func TestKeyParsing(t *testing.T) {
	t.Parallel()
	privPEM, pubPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePrivateKey(pubPEM, "pub.pem"); err == nil {
		t.Error("public key accepted as private")
	}
	if _, err := ParsePublicKey(privPEM, "priv.pem"); err == nil {
		t.Error("private key accepted as public")
	}
	if _, err := ParsePublicKey([]byte("garbage"), "g"); err == nil {
		t.Error("garbage accepted")
	}
}

func FuzzRead(f *testing.F) {
	priv, pub := keys(f)
	good := write(f, priv)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, files, err := Read(bytes.NewReader(data), "fuzz.bundle", []ed25519.PublicKey{pub}, 1<<20)
		if err == nil && (m == nil || files == nil) {
			t.Fatal("nil content without error")
		}
	})
}

func BenchmarkRead(b *testing.B) {
	priv, pub := keys(b)
	files := map[string][]byte{"csaf/1.jsonl": bytes.Repeat([]byte("{\"id\":\"ICSMA-24-151-01\",\"title\":\"x\"}\n"), 50000)}
	var buf bytes.Buffer
	m := Manifest{Created: time.Now(), Feeds: []Feed{{Name: "csaf:x", Kind: "csaf", Files: []string{"csaf/1.jsonl"}}}}
	if err := Write(&buf, m, files, priv); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(files["csaf/1.jsonl"])))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Read(bytes.NewReader(data), "b", []ed25519.PublicKey{pub}, 0); err != nil {
			b.Fatal(err)
		}
	}
}
