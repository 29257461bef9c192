package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medwarden/medwarden/internal/store"
)

func newImporter(t testing.TB, s store.Store, o Options) *Importer {
	t.Helper()
	im, err := NewImporter(s, o)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func TestImportLocalFilesAndFeeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	im := newImporter(t, s, Options{})
	dir := t.TempDir()
	writeTree(t, dir, tree{"a/" + csafFiles[0]: readTestdata(t, "csaf/"+csafFiles[0]), "b/" + csafFiles[1]: readTestdata(t, "csaf/"+csafFiles[1]), "notes.txt": []byte("not json")})
	gzPath := filepath.Join(t.TempDir(), "epss.csv.gz")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(readTestdata(t, "epss_scores-2025-08-25.csv"))
	zw.Close()
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		loc, kind string
		want      Result
	}{
		{dir, KindAuto, Result{Kind: "csaf", Imported: 2, FeedDate: time.Date(2024, 5, 30, 6, 0, 0, 0, time.UTC)}},
		{filepath.Join("testdata", "csaf", csafFiles[2]), KindAuto, Result{Kind: "csaf", Imported: 1, FeedDate: time.Date(2024, 9, 5, 6, 0, 0, 0, time.UTC)}},
		{dir, KindAuto, Result{Kind: "csaf", Unchanged: 2, FeedDate: time.Date(2024, 5, 30, 6, 0, 0, 0, time.UTC)}}, // re-import: nothing changed
		{filepath.Join("testdata", "kev_subset.json"), KindAuto, Result{Feed: "kev", Kind: "kev", Imported: 5, FeedDate: time.Date(2025, 8, 25, 17, 4, 19, 979600000, time.UTC)}},
		{gzPath, KindAuto, Result{Feed: "epss", Kind: "epss", Imported: 12, FeedDate: time.Date(2025, 8, 25, 12, 55, 0, 0, time.UTC)}},
		{filepath.Join("testdata", "CVE-2022-2119.json"), KindNVD, Result{Feed: "nvd", Kind: "nvd", Imported: 1, FeedDate: time.Date(2025, 11, 3, 20, 15, 53, 857000000, time.UTC)}},
	}
	for _, tt := range tests {
		got, err := im.Import(ctx, tt.loc, tt.kind)
		if err != nil {
			t.Fatalf("Import(%s): %v", tt.loc, err)
		}
		if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreFields(Result{}, "Feed", "Source", "Warnings")); diff != "" {
			t.Errorf("Import(%s) (-want +got):\n%s", tt.loc, diff)
		}
		if tt.want.Feed != "" && got.Feed != tt.want.Feed {
			t.Errorf("Import(%s) feed = %q, want %q", tt.loc, got.Feed, tt.want.Feed)
		}
	}
	if diff := cmp.Diff(csafIDs, storedIDs(t, s)); diff != "" {
		t.Errorf("stored advisories (-want +got):\n%s", diff)
	}
	e, err := s.EPSS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e.ModelVersion != "v2025.03.14" || len(e.Scores) != 12 {
		t.Errorf("EPSS = %s with %d scores, want v2025.03.14 with 12", e.ModelVersion, len(e.Scores))
	}
	list, err := s.ListFeeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, f := range list {
		kinds = append(kinds, f.Kind)
		if f.ImportedAt.IsZero() || f.LastError != "" {
			t.Errorf("feed %s: %+v", f.Name, f)
		}
	}
	if diff := cmp.Diff([]string{"csaf", "csaf", "epss", "kev", "nvd"}, kinds); diff != "" {
		t.Errorf("feed kinds (-want +got):\n%s", diff)
	}
}

func TestImportBadInputNothingHalfImported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	kevBytes := readTestdata(t, "kev_subset.json")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, kind string
		data       []byte
		wantErr    string
	}{
		{"kev_truncated.json", KindKEV, kevBytes[:len(kevBytes)/2], "kev"},
		{"kev_count_wrong.json", KindKEV, bytes.Replace(kevBytes, []byte(`"count": 5`), []byte(`"count": 6`), 1), "count"},
		{"epss_bad.csv", KindEPSS, []byte("#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z\ncve,epss,percentile\nCVE-2024-0001,1.5,0.2\n"), "line 3"},
		{"nvd_bad_id.json", KindNVD, []byte(`{"id":"CVE-20","published":"2022-06-24T15:15:10.687","lastModified":"2022-06-24T15:15:10.687"}`), "/id"},
		{"garbage.json", KindAuto, []byte("\x00\x01 not json"), "unrecognised content"},
		{"binary.bin", KindAuto, []byte{0x1f, 0x8b, 0, 0}, "unrecognised"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			im := newImporter(t, s, Options{})
			if _, err := im.Import(ctx, filepath.Join("testdata", "kev_subset.json"), KindKEV); err != nil {
				t.Fatal(err)
			}
			_, err := im.Import(ctx, write(tt.name, tt.data), tt.kind)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Import(%s) = %v, want an error containing %q", tt.name, err, tt.wantErr)
			}
			c, err := s.KEV(ctx)
			if err != nil || len(c.Entries) != 5 {
				t.Errorf("KEV after a failed import: %v entries, %v; want the 5 of the last good import", c, err)
			}
			if _, err := s.EPSS(ctx); tt.kind == KindEPSS && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("EPSS after a failed first import: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestImportProviderTree(t *testing.T) {
	t.Parallel()
	docs := csafDocs(t)
	tamper := func(tr tree, path string, b []byte) { tr[path] = b }
	tests := []struct {
		name         string
		o            treeOpts
		opts         Options
		edit         func(tr tree)
		wantIDs      []string
		wantRejected []string // substrings of the reasons, in order
		wantWarn     string
		wantErr      string
	}{
		{name: "directory_changes_csv_signed", o: treeOpts{sign: true}, wantIDs: csafIDs},
		{name: "directory_index_txt_only", o: treeOpts{sign: true, noChanges: true}, wantIDs: csafIDs},
		{name: "rolie_signed", o: treeOpts{sign: true, rolie: true}, wantIDs: csafIDs},
		{name: "wrong_sha256_rejects_that_advisory", o: treeOpts{sign: true},
			edit: func(tr tree) {
				tamper(tr, ".well-known/csaf/white/2024/icsma-24-151-01.json.sha256", []byte(strings.Repeat("ab", 32)+"  icsma-24-151-01.json\n"))
			},
			wantIDs: []string{"ICSMA-17-009-01A", "ICSMA-24-249-01"}, wantRejected: []string{"sha256 mismatch"}},
		{name: "wrong_sha512_rejects_that_advisory", o: treeOpts{sign: true, rolie: true},
			edit: func(tr tree) {
				tamper(tr, ".well-known/csaf/white/2024/icsma-24-249-01.json.sha512", []byte(strings.Repeat("cd", 64)))
			},
			wantIDs: []string{"ICSMA-17-009-01A", "ICSMA-24-151-01"}, wantRejected: []string{"sha512 mismatch"}},
		{name: "bad_signature_rejects_that_advisory", o: treeOpts{sign: true},
			edit: func(tr tree) {
				tr[".well-known/csaf/white/2024/icsma-17-009-01a.json.asc"] = tr[".well-known/csaf/white/2024/icsma-24-151-01.json.asc"]
			},
			wantIDs: []string{"ICSMA-24-151-01", "ICSMA-24-249-01"}, wantRejected: []string{"bad OpenPGP signature"}},
		{name: "document_changed_after_signing", o: treeOpts{sign: true},
			edit: func(tr tree) {
				p := ".well-known/csaf/white/2024/icsma-24-249-01.json"
				tr[p] = append(append([]byte(nil), tr[p]...), '\n') // valid JSON, other bytes
				delete(tr, p+".sha256")
				delete(tr, p+".sha512")
			},
			wantIDs: []string{"ICSMA-17-009-01A", "ICSMA-24-151-01"}, wantRejected: []string{"bad OpenPGP signature"}},
		{name: "pinned_fingerprint_mismatch_means_unchecked", o: treeOpts{sign: true, fingerprint: strings.Repeat("0", 40)},
			wantIDs: csafIDs, wantWarn: "pinned fingerprint"},
		{name: "pinned_fingerprint_mismatch_with_require_signature", o: treeOpts{sign: true, fingerprint: strings.Repeat("0", 40)},
			opts: Options{RequireSignature: true}, wantIDs: []string{},
			wantRejected: []string{"no trusted OpenPGP key", "no trusted OpenPGP key", "no trusted OpenPGP key"}},
		{name: "unsigned_with_require_signature", o: treeOpts{}, opts: Options{RequireSignature: true}, wantIDs: []string{},
			wantRejected: []string{"no OpenPGP signature", "no OpenPGP signature", "no OpenPGP signature"}},
		{name: "listed_document_missing", o: treeOpts{sign: true},
			edit:    func(tr tree) { delete(tr, ".well-known/csaf/white/2024/icsma-24-151-01.json") },
			wantIDs: []string{"ICSMA-17-009-01A", "ICSMA-24-249-01"}, wantRejected: []string{"does not exist"}},
		{name: "changes_csv_path_traversal", o: treeOpts{sign: true},
			edit: func(tr tree) {
				tr[".well-known/csaf/white/changes.csv"] = []byte("\"../../secret.json\",\"2024-09-10T10:00:00Z\"\n")
			},
			wantErr: "leaves the directory"},
		{name: "invalid_csaf_rejected", o: treeOpts{},
			edit: func(tr tree) {
				p := ".well-known/csaf/white/2024/icsma-24-151-01.json"
				tr[p] = bytes.Replace(tr[p], []byte(`"csaf_version": "2.0"`), []byte(`"csaf_version": "9.9"`), 1)
				delete(tr, p+".sha256")
				delete(tr, p+".sha512")
			},
			wantIDs: []string{"ICSMA-17-009-01A", "ICSMA-24-249-01"}, wantRejected: []string{"invalid CSAF"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, mode := range []string{"http", "local"} {
				srv := serve(t)
				tr := buildTree(t, srv.URL, docs, tt.o)
				if tt.edit != nil {
					tt.edit(tr)
				}
				srv.tree = tr
				loc := srv.URL + "/.well-known/csaf/provider-metadata.json"
				if mode == "local" {
					dir := t.TempDir()
					writeTree(t, dir, tr)
					loc = dir
				}
				s := openStore(t)
				opts := tt.opts
				opts.AllowHosts = []string{srv.host()}
				im := newImporter(t, s, opts)
				res, err := im.Import(context.Background(), loc, KindAuto)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("%s: Import = %v, want error %q", mode, err, tt.wantErr)
					}
					if ids := storedIDs(t, s); len(ids) != 0 {
						t.Errorf("%s: advisories stored after a failed feed: %v", mode, ids)
					}
					continue
				}
				if len(tt.wantRejected) > 0 {
					if !errors.Is(err, ErrRejected) {
						t.Fatalf("%s: Import error = %v, want ErrRejected", mode, err)
					}
				} else if err != nil {
					t.Fatalf("%s: Import: %v", mode, err)
				}
				if diff := cmp.Diff(tt.wantIDs, storedIDs(t, s)); diff != "" {
					t.Errorf("%s: stored (-want +got):\n%s", mode, diff)
				}
				var reasons []string
				for i, r := range res.Rejected {
					if i < len(tt.wantRejected) && strings.Contains(r.Reason, tt.wantRejected[i]) {
						reasons = append(reasons, tt.wantRejected[i])
					} else {
						reasons = append(reasons, r.Reason)
					}
				}
				if diff := cmp.Diff(tt.wantRejected, reasons, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: rejections (-want +got):\n%s", mode, diff)
				}
				if tt.wantWarn != "" && !strings.Contains(strings.Join(res.Warnings, "\n"), tt.wantWarn) {
					t.Errorf("%s: warnings %q lack %q", mode, res.Warnings, tt.wantWarn)
				}
				if res.Feed != "csaf:"+srv.URL+"/.well-known/csaf/provider-metadata.json" {
					t.Errorf("%s: feed name %q", mode, res.Feed)
				}
				if mode == "local" && srv.docHits() != 0 {
					t.Errorf("local mirror import fetched %d documents over HTTP", srv.docHits())
				}
			}
		})
	}
}

func TestProviderSyncOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	srv := serve(t)
	srv.tree = buildTree(t, srv.URL, csafDocs(t), treeOpts{sign: true})
	s := openStore(t)
	im := newImporter(t, s, Options{AllowHosts: []string{srv.host()}})
	loc := srv.URL + "/.well-known/csaf/provider-metadata.json"
	if _, err := im.Import(context.Background(), loc, KindAuto); err != nil {
		t.Fatal(err)
	}
	if got := srv.docHits(); got != 3 {
		t.Fatalf("first sync fetched %d documents, want 3", got)
	}
	res, err := im.Import(context.Background(), loc, KindAuto)
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.docHits(); got != 3 || res.Unchanged != 3 || res.Imported != 0 {
		t.Errorf("second sync: %d document fetches in all, %d unchanged, %d imported; want 3, 3, 0", got, res.Unchanged, res.Imported)
	}
	// One advisory changes (newer line in changes.csv): only it is fetched.
	srv.mu.Lock()
	srv.tree[".well-known/csaf/white/changes.csv"] = append([]byte("\"2024/icsma-24-249-01.json\",\"2024-10-01T00:00:00Z\"\n"), srv.tree[".well-known/csaf/white/changes.csv"]...)
	srv.mu.Unlock()
	res, err = im.Import(context.Background(), loc, KindAuto)
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.docHits(); got != 4 {
		t.Errorf("third sync fetched %d documents in all, want 4", got)
	}
	if res.Unchanged != 4 || res.Imported != 0 { // same bytes: the stored SHA-256 matches
		t.Errorf("third sync: %+v", res)
	}
}

func TestHTTPGuards(t *testing.T) {
	t.Parallel()
	srv := serve(t)
	srv.tree = buildTree(t, srv.URL, csafDocs(t), treeOpts{})
	other := serve(t)
	other.tree = tree{"x.json": []byte(`{}`)}
	srv.extra = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/x.json", http.StatusFound)
	}
	big := serve(t)
	big.tree = tree{"big.json": bytes.Repeat([]byte(" "), 2<<20)}
	tests := []struct {
		name, loc string
		allow     []string
		maxDoc    int64
		want      string
	}{
		{"host_not_allowed", srv.URL + "/.well-known/csaf/provider-metadata.json", []string{"csaf.example.org"}, 0, "allow-list"},
		{"redirect_to_other_host", srv.URL + "/redirect/x.json", []string{srv.host(), "localhost"}, 0, "another host"},
		{"credentials_in_url", strings.Replace(srv.URL, "http://", "http://user:pw@", 1) + "/x.json", []string{srv.host()}, 0, "credentials"},
		{"too_big", big.URL + "/big.json", []string{big.host()}, 1 << 20, "limit"},
		{"not_found", srv.URL + "/nope.json", []string{srv.host()}, 0, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			im := newImporter(t, s, Options{AllowHosts: tt.allow, MaxDocument: tt.maxDoc})
			_, err := im.Import(context.Background(), tt.loc, KindAuto)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Import(%s) = %v, want error containing %q", tt.loc, err, tt.want)
			}
			list, _ := s.ListFeeds(context.Background())
			if len(list) != 1 || list[0].LastError == "" || !list[0].ImportedAt.IsZero() {
				t.Errorf("feed status after failure = %+v, want one failed feed", list)
			}
		})
	}
}

func TestImportAggregator(t *testing.T) {
	t.Parallel()
	srv := serve(t)
	tr := buildTree(t, srv.URL, csafDocs(t), treeOpts{sign: true})
	tr["aggregator.json"] = []byte(`{"aggregator":{"category":"lister","name":"Test lister","namespace":"https://example.org"},
		"aggregator_version":"2.0","canonical_url":"` + srv.URL + `/aggregator.json","last_updated":"2024-09-11T00:00:00Z",
		"csaf_providers":[{"metadata":{"last_updated":"2024-09-10T10:00:00Z","publisher":{"category":"vendor","name":"Example Medical","namespace":"https://example.org"},
		"role":"csaf_trusted_provider","url":"` + srv.URL + `/.well-known/csaf/provider-metadata.json"}},
		{"metadata":{"url":"https://elsewhere.example.net/.well-known/csaf/provider-metadata.json"}}]}`)
	srv.tree = tr
	s := openStore(t)
	im := newImporter(t, s, Options{AllowHosts: []string{srv.host()}})
	res, err := im.Import(context.Background(), srv.URL+"/aggregator.json", KindAuto)
	// The second provider is not on the allow-list: reported, the first is imported.
	if err == nil || !strings.Contains(err.Error(), "elsewhere.example.net") || !strings.Contains(err.Error(), "allow-list") {
		t.Fatalf("Import(aggregator) error = %v, want the refused provider named", err)
	}
	if res == nil || res.Imported != 3 {
		t.Errorf("Import(aggregator) = %+v, want 3 imported", res)
	}
	if diff := cmp.Diff(csafIDs, storedIDs(t, s)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

func TestAggregatorListingItselfDoesNotRecurse(t *testing.T) {
	t.Parallel()
	srv := serve(t)
	srv.tree = tree{"aggregator.json": []byte(`{"aggregator":{"name":"loop"},"csaf_providers":[{"metadata":{"url":"` + srv.URL + `/aggregator.json"}}]}`)}
	im := newImporter(t, openStore(t), Options{AllowHosts: []string{srv.host()}})
	_, err := im.Import(context.Background(), srv.URL+"/aggregator.json", KindAuto)
	if err == nil || !strings.Contains(err.Error(), "provider metadata") {
		t.Fatalf("Import(self-listing aggregator) = %v, want a provider metadata error", err)
	}
}
