package feeds

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

func openStore(t testing.TB) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var csafFiles = []string{"icsma-17-009-01a.json", "icsma-24-151-01.json", "icsma-24-249-01.json"}

// The advisory ids of csafFiles.
var csafIDs = []string{"ICSMA-17-009-01A", "ICSMA-24-151-01", "ICSMA-24-249-01"}

var (
	keyOnce sync.Once
	testKey *openpgp.Entity
)

func pgpKey(t testing.TB) *openpgp.Entity {
	keyOnce.Do(func() {
		e, err := openpgp.NewEntity("MedWarden test provider", "", "psirt@example.org", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
		if err != nil {
			panic(err)
		}
		testKey = e
	})
	return testKey
}

func armoredPublic(t testing.TB, e *openpgp.Entity) []byte {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

func sign(t testing.TB, e *openpgp.Entity, data []byte) []byte {
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, e, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tree is a CSAF provider tree: path (under the site root) → content.
type tree map[string][]byte

type treeOpts struct {
	rolie       bool   // ROLIE distribution instead of a directory one
	noChanges   bool   // index.txt only
	fingerprint string // pinned fingerprint ("" = the key's)
	sign        bool
}

// buildTree makes a provider tree at base (the site URL, no trailing slash)
// for the given documents (file name → bytes), with .sha256, .sha512 and
// (opts.sign) .asc files.
func buildTree(t testing.TB, base string, docs map[string][]byte, o treeOpts) tree {
	tr := tree{}
	key := pgpKey(t)
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	var changes, index strings.Builder
	type link struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	}
	var entries []map[string]any
	for i, n := range names {
		p := ".well-known/csaf/white/2024/" + n
		d := docs[n]
		tr[p] = d
		s256 := sha256.Sum256(d)
		s512 := sha512.Sum512(d)
		tr[p+".sha256"] = []byte(hex.EncodeToString(s256[:]) + "  " + n + "\n")
		tr[p+".sha512"] = []byte(hex.EncodeToString(s512[:]) + "  " + n + "\n")
		if o.sign {
			tr[p+".asc"] = sign(t, key, d)
		}
		fmt.Fprintf(&changes, "\"2024/%s\",\"2024-09-%02dT10:00:00Z\"\n", n, 10-i)
		fmt.Fprintf(&index, "2024/%s\n", n)
		u := base + "/" + p
		entries = append(entries, map[string]any{
			"id": n, "title": n, "updated": fmt.Sprintf("2024-09-%02dT10:00:00Z", 10-i),
			"link":    []link{{"self", u}, {"hash", u + ".sha256"}, {"hash", u + ".sha512"}, {"signature", u + ".asc"}},
			"content": map[string]string{"type": "application/json", "src": u},
		})
	}
	if !o.noChanges {
		tr[".well-known/csaf/white/changes.csv"] = []byte(changes.String())
	}
	tr[".well-known/csaf/white/index.txt"] = []byte(index.String())
	fp := o.fingerprint
	if fp == "" {
		fp = strings.ToUpper(hex.EncodeToString(key.PrimaryKey.Fingerprint))
	}
	tr[".well-known/csaf/openpgp/key.asc"] = armoredPublic(t, key)
	dist := map[string]any{"directory_url": base + "/.well-known/csaf/white/"}
	if o.rolie {
		dist = map[string]any{"rolie": map[string]any{"feeds": []map[string]string{{"url": base + "/.well-known/csaf/feed-tlp-white.json", "tlp_label": "WHITE"}}}}
		feed, _ := json.Marshal(map[string]any{"feed": map[string]any{"id": "white", "title": "white", "updated": "2024-09-10T10:00:00Z", "entry": entries}})
		tr[".well-known/csaf/feed-tlp-white.json"] = feed
	}
	pm, _ := json.Marshal(map[string]any{
		"canonical_url":    base + "/.well-known/csaf/provider-metadata.json",
		"last_updated":     "2024-09-10T10:00:00Z",
		"metadata_version": "2.0", "role": "csaf_trusted_provider", "list_on_CSAF_aggregators": true,
		"publisher":           map[string]string{"category": "vendor", "name": "Example Medical", "namespace": "https://example.org"},
		"distributions":       []any{dist},
		"public_openpgp_keys": []map[string]string{{"fingerprint": fp, "url": base + "/.well-known/csaf/openpgp/key.asc"}},
	})
	tr[".well-known/csaf/provider-metadata.json"] = pm
	return tr
}

// server serves a tree and counts requests per path.
type server struct {
	*httptest.Server
	mu    sync.Mutex
	tree  tree
	hits  map[string]int
	extra http.HandlerFunc
}

func serve(t testing.TB) *server {
	s := &server{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		b, ok := s.tree[strings.TrimPrefix(r.URL.Path, "/")]
		extra := s.extra
		s.mu.Unlock()
		if extra != nil && strings.HasPrefix(r.URL.Path, "/redirect") {
			extra(w, r)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) host() string {
	u, _ := url.Parse(s.URL)
	return u.Hostname()
}

func (s *server) docHits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.hits {
		if strings.HasSuffix(p, ".json") && strings.Contains(p, "/2024/") {
			n += c
		}
	}
	return n
}

func writeTree(t testing.TB, dir string, tr tree) {
	for p, b := range tr {
		fp := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fp, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func csafDocs(t testing.TB) map[string][]byte {
	docs := map[string][]byte{}
	for _, n := range csafFiles {
		docs[n] = readTestdata(t, "csaf/"+n)
	}
	return docs
}

func storedIDs(t testing.TB, s store.Store) []string {
	t.Helper()
	p, err := s.ListAdvisories(context.Background(), store.AdvisoryQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, a := range p.Advisories {
		ids = append(ids, a.ID)
	}
	return ids
}
