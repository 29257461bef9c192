package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/store"
)

// RunAdvisories runs the conformance tests of store.AdvisoryStore.
func RunAdvisories(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"advisory_put_get_replace", testAdvisoryPutGet},
		{"advisory_list_filters_and_cursor", testAdvisoryList},
		{"feed_import_is_all_or_nothing", testFeedRollback},
		{"kev_epss_nvd_replace_and_read", testKEVEPSSNVD},
		{"feed_status_and_errors", testFeedStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

func sampleAdvisory(id, publisher string, cves ...string) *advisory.Advisory {
	a := &advisory.Advisory{
		ID: id, Title: "Sample advisory " + id, Category: "csaf_security_advisory",
		Publisher:      advisory.Publisher{Name: publisher, Namespace: "https://example.org", Category: "coordinator"},
		InitialRelease: time.Date(2024, 5, 30, 6, 0, 0, 0, time.UTC),
		CurrentRelease: time.Date(2024, 6, 4, 12, 0, 0, 0, time.UTC),
		Version:        "1", Status: "final",
		Products: []advisory.Product{{ID: "CSAFPID-0001", Name: "Infusion pump 8.00", Vendor: "Baxter", ProductName: "Sigma Spectrum", Version: "8.00"}},
		Source:   "testdata/" + id + ".json", SHA256: fmt.Sprintf("%064x", len(id)),
	}
	for _, c := range cves {
		a.Vulnerabilities = append(a.Vulnerabilities, advisory.Vulnerability{CVE: c,
			Statuses: map[string][]string{advisory.StatusKnownAffected: {"CSAFPID-0001"}}})
	}
	return a
}

func putAll(t *testing.T, s store.Store, feed string, as ...*advisory.Advisory) {
	t.Helper()
	err := s.ImportFeeds(context.Background(), func(tx store.FeedTx) error {
		for _, a := range as {
			if err := tx.PutAdvisory(context.Background(), a, feed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testAdvisoryPutGet(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := sampleAdvisory("ICSMA-24-151-01", "CISA", "CVE-2024-1111", "CVE-2024-2222")
	putAll(t, s, "csaf:test", a)
	got, err := s.GetAdvisory(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("GetAdvisory (-want +got):\n%s", diff)
	}
	b := sampleAdvisory("ICSMA-24-151-01", "CISA", "CVE-2024-3333")
	b.Title, b.Version = "Revised", "2"
	putAll(t, s, "csaf:test", b)
	got, err = s.GetAdvisory(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("GetAdvisory after replace (-want +got):\n%s", diff)
	}
	page, err := s.ListAdvisories(ctx, store.AdvisoryQuery{CVE: "CVE-2024-1111"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Advisories) != 0 {
		t.Errorf("CVE of the replaced revision still indexed: %+v", page.Advisories)
	}
	if _, err := s.GetAdvisory(ctx, "NOPE"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAdvisory(missing) = %v, want ErrNotFound", err)
	}
	dig, err := s.AdvisoryDigests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{b.ID: b.SHA256}, dig); diff != "" {
		t.Errorf("AdvisoryDigests (-want +got):\n%s", diff)
	}
	var ids []string
	if err := s.ScanAdvisories(ctx, func(a *advisory.Advisory) error { ids = append(ids, a.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{b.ID}, ids); diff != "" {
		t.Errorf("ScanAdvisories (-want +got):\n%s", diff)
	}
}

func testAdvisoryList(t *testing.T, s store.Store) {
	ctx := context.Background()
	putAll(t, s, "csaf:a",
		sampleAdvisory("ICSMA-24-001-01", "CISA", "CVE-2024-0001"),
		sampleAdvisory("ICSMA-24-002-01", "CISA", "CVE-2024-0002", "CVE-2024-0001"),
		sampleAdvisory("SSA-123456", "Siemens ProductCERT", "CVE-2024-0003"),
		sampleAdvisory("100%_sure", "Odd Publisher"))
	ids := func(p *store.AdvisoryPage) []string {
		out := []string{}
		for _, a := range p.Advisories {
			out = append(out, a.ID)
		}
		return out
	}
	tests := []struct {
		name string
		q    store.AdvisoryQuery
		want []string
	}{
		{"all", store.AdvisoryQuery{}, []string{"100%_sure", "ICSMA-24-001-01", "ICSMA-24-002-01", "SSA-123456"}},
		{"publisher_case_insensitive", store.AdvisoryQuery{Publisher: "siemens productcert"}, []string{"SSA-123456"}},
		{"cve_lowercase", store.AdvisoryQuery{CVE: "cve-2024-0001"}, []string{"ICSMA-24-001-01", "ICSMA-24-002-01"}},
		{"search_title", store.AdvisoryQuery{Search: "advisory ssa"}, []string{"SSA-123456"}},
		{"search_like_metacharacters_literal", store.AdvisoryQuery{Search: "0%_"}, []string{"100%_sure"}},
		{"combined", store.AdvisoryQuery{Publisher: "CISA", CVE: "CVE-2024-0002"}, []string{"ICSMA-24-002-01"}},
		{"no_match", store.AdvisoryQuery{CVE: "CVE-1999-0001"}, []string{}},
	}
	for _, tt := range tests {
		p, err := s.ListAdvisories(ctx, tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, ids(p)); diff != "" {
			t.Errorf("%s: ListAdvisories (-want +got):\n%s", tt.name, diff)
		}
	}
	// Pages of two.
	var all []string
	q := store.AdvisoryQuery{Limit: 2}
	for range 5 {
		p, err := s.ListAdvisories(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids(p)...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if diff := cmp.Diff([]string{"100%_sure", "ICSMA-24-001-01", "ICSMA-24-002-01", "SSA-123456"}, all); diff != "" {
		t.Errorf("paged list (-want +got):\n%s", diff)
	}
	p, err := s.ListAdvisories(ctx, store.AdvisoryQuery{CVE: "CVE-2024-0002"})
	if err != nil {
		t.Fatal(err)
	}
	want := store.AdvisorySummary{ID: "ICSMA-24-002-01", Title: "Sample advisory ICSMA-24-002-01", Publisher: "CISA",
		CurrentRelease: time.Date(2024, 6, 4, 12, 0, 0, 0, time.UTC), CVEs: []string{"CVE-2024-0001", "CVE-2024-0002"},
		Feed: "csaf:a", Source: "testdata/ICSMA-24-002-01.json", SHA256: fmt.Sprintf("%064x", 15)}
	if diff := cmp.Diff([]store.AdvisorySummary{want}, p.Advisories); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if _, err := s.ListAdvisories(ctx, store.AdvisoryQuery{Cursor: "!!not base64!!"}); err == nil {
		t.Error("bad cursor accepted")
	}
}

func testFeedRollback(t *testing.T, s store.Store) {
	ctx := context.Background()
	boom := errors.New("advisory 3 has a bad signature")
	err := s.ImportFeeds(ctx, func(tx store.FeedTx) error {
		if err := tx.PutAdvisory(ctx, sampleAdvisory("A-1", "P", "CVE-2024-0001"), "csaf:x"); err != nil {
			return err
		}
		if err := tx.ReplaceKEV(ctx, &kev.Catalog{Title: "KEV", CatalogVersion: "1", Entries: []kev.Entry{{CVEID: "CVE-2024-0001"}}}); err != nil {
			return err
		}
		if err := tx.SetFeed(ctx, store.FeedStatus{Name: "csaf:x", Kind: store.FeedCSAF, Items: 1}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ImportFeeds = %v, want the callback's error", err)
	}
	if _, err := s.GetAdvisory(ctx, "A-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("advisory of a failed import is visible: %v", err)
	}
	if _, err := s.KEV(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("KEV of a failed import is visible: %v", err)
	}
	fs, err := s.ListFeeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("feeds after a failed import = %+v, want none", fs)
	}
}

func testKEVEPSSNVD(t *testing.T, s store.Store) {
	ctx := context.Background()
	due := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	cat := &kev.Catalog{Title: "CISA Catalog of Known Exploited Vulnerabilities", CatalogVersion: "2024.06.04",
		DateReleased: time.Date(2024, 6, 4, 14, 0, 0, 0, time.UTC), Count: 2,
		Entries: []kev.Entry{
			{CVEID: "CVE-2021-44228", VendorProject: "Apache", Product: "Log4j2", DueDate: due, CWEs: []string{"CWE-20"}},
			{CVEID: "CVE-2017-0144", VendorProject: "Microsoft", Product: "SMBv1", DueDate: due},
		}}
	scores := &epss.File{ModelVersion: "v2025.03.14", ScoreDate: time.Date(2025, 8, 25, 0, 0, 0, 0, time.UTC)}
	for i := range 2500 { // several insert batches
		scores.Scores = append(scores.Scores, epss.Score{CVE: fmt.Sprintf("CVE-2024-%05d", i), EPSS: float64(i) / 2500, Percentile: 0.5})
	}
	raw := []byte(`{"id":"CVE-2022-2119","published":"2022-06-24T15:15:10.687","lastModified":"2025-11-03T20:15:53.857"}`)
	err := s.ImportFeeds(ctx, func(tx store.FeedTx) error {
		if err := tx.ReplaceKEV(ctx, cat); err != nil {
			return err
		}
		if err := tx.SetFeed(ctx, store.FeedStatus{Name: store.FeedKEV, Kind: store.FeedKEV, FeedDate: cat.DateReleased, Version: cat.CatalogVersion, Items: 2}); err != nil {
			return err
		}
		if err := tx.ReplaceEPSS(ctx, scores); err != nil {
			return err
		}
		if err := tx.SetFeed(ctx, store.FeedStatus{Name: store.FeedEPSS, Kind: store.FeedEPSS, FeedDate: scores.ScoreDate, Version: scores.ModelVersion, Items: 2500}); err != nil {
			return err
		}
		return tx.PutNVD(ctx, "CVE-2022-2119", time.Date(2025, 11, 3, 20, 15, 53, 0, time.UTC), raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.KEV(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := *cat
	want.Entries = []kev.Entry{cat.Entries[1], cat.Entries[0]} // by CVE id
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("KEV (-want +got):\n%s", diff)
	}
	gotE, err := s.EPSS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(scores, gotE, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("EPSS (-want +got):\n%s", diff)
	}
	// A second EPSS import replaces, not merges.
	small := &epss.File{ModelVersion: "v2025.03.14", ScoreDate: time.Date(2025, 8, 26, 0, 0, 0, 0, time.UTC), Scores: []epss.Score{{CVE: "CVE-2024-99999", EPSS: 0.9, Percentile: 0.99}}}
	if err := s.ImportFeeds(ctx, func(tx store.FeedTx) error {
		if err := tx.ReplaceEPSS(ctx, small); err != nil {
			return err
		}
		return tx.SetFeed(ctx, store.FeedStatus{Name: store.FeedEPSS, Kind: store.FeedEPSS, FeedDate: small.ScoreDate, Version: small.ModelVersion, Items: 1})
	}); err != nil {
		t.Fatal(err)
	}
	if gotE, err = s.EPSS(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(small, gotE); diff != "" {
		t.Errorf("EPSS after replace (-want +got):\n%s", diff)
	}
	var nvdIDs []string
	if err := s.ScanNVD(ctx, func(id string, b []byte) error {
		nvdIDs = append(nvdIDs, id)
		if string(b) != string(raw) {
			t.Errorf("NVD record %s changed: %s", id, b)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"CVE-2022-2119"}, nvdIDs); diff != "" {
		t.Errorf("ScanNVD (-want +got):\n%s", diff)
	}
}

func testFeedStatus(t *testing.T, s store.Store) {
	ctx := context.Background()
	imported := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	f := store.FeedStatus{Name: "csaf:https://example.org/.well-known/csaf/provider-metadata.json", Kind: store.FeedCSAF,
		Source: "https://example.org/.well-known/csaf/provider-metadata.json", ImportedAt: imported,
		FeedDate: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Items: 42}
	if err := s.ImportFeeds(ctx, func(tx store.FeedTx) error { return tx.SetFeed(ctx, f) }); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFeedError(ctx, f, "advisory x: bad signature"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFeedError(ctx, store.FeedStatus{Name: store.FeedKEV, Kind: store.FeedKEV, Source: "kev.json"}, "kev.json: not JSON"); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListFeeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantErr := f
	wantErr.LastError = "advisory x: bad signature"
	want := []store.FeedStatus{wantErr, {Name: store.FeedKEV, Kind: store.FeedKEV, Source: "kev.json", LastError: "kev.json: not JSON"}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(store.FeedStatus{}, "ErrorAt")); diff != "" {
		t.Errorf("ListFeeds (-want +got):\n%s", diff)
	}
	for _, g := range got {
		if g.ErrorAt.IsZero() {
			t.Errorf("feed %s: error time not recorded", g.Name)
		}
	}
	// A later success clears the error.
	f.ImportedAt = imported.Add(time.Hour)
	if err := s.ImportFeeds(ctx, func(tx store.FeedTx) error { return tx.SetFeed(ctx, f) }); err != nil {
		t.Fatal(err)
	}
	got, err = s.ListFeeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, got[0]); diff != "" {
		t.Errorf("feed after success (-want +got):\n%s", diff)
	}
}
