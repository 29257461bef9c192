package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/store"
)

// RunSBOMs runs the conformance tests of store.SBOMStore.
func RunSBOMs(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.SBOMStore, st store.Store)
	}{
		{"attach_versions_and_dedupe", testSBOMAttachVersions},
		{"device_and_model_sboms", testSBOMsForDevice},
		{"components_vulns_and_raw", testSBOMComponents},
		{"list_components_filters_and_cursor", testSBOMListComponents},
		{"bad_subject_and_cursor", testSBOMBadInput},
		{"osv_records_in_feed_import", testOSVRecords},
		{"mark_and_severity", testSBOMMarkAndSeverity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			ss, ok := s.(store.SBOMStore)
			if !ok {
				t.Fatalf("%T does not implement store.SBOMStore", s)
			}
			tt.fn(t, ss, s)
		})
	}
}

func sampleSBOM(sha string, comps ...store.SBOMComponent) *store.SBOMAttach {
	for i := range comps {
		comps[i].Index = i
	}
	return &store.SBOMAttach{
		Subject: store.SBOMSubject{Vendor: "Baxter", Model: "Sigma Spectrum", FirmwareVersion: "8.0"},
		Raw:     []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","sha":"` + sha + `"}`), SHA256: sha,
		Format: "cyclonedx-json", SpecVersion: "1.5", Name: "pump firmware", Valid: true, Quality: 80,
		Components: comps, AttachedBy: "alice", Note: "from the vendor portal",
	}
}

func testSBOMAttachVersions(t *testing.T, s store.SBOMStore, _ store.Store) {
	ctx := context.Background()
	v1, existing, err := s.AttachSBOM(ctx, sampleSBOM("aa", store.SBOMComponent{Name: "dcmtk", Version: "3.6.5"}))
	if err != nil || existing {
		t.Fatalf("first attach: %v existing=%v", err, existing)
	}
	if v1.Version != 1 || v1.Components != 1 || v1.Subject.Vendor != "Baxter" || v1.AttachedBy != "alice" || v1.AttachedAt.IsZero() {
		t.Errorf("first version = %+v", v1)
	}
	// The same bytes again (vendor spelled differently): no new version.
	again := sampleSBOM("aa", store.SBOMComponent{Name: "dcmtk", Version: "3.6.5"})
	again.Subject.Vendor = "BAXTER"
	v, existing, err := s.AttachSBOM(ctx, again)
	if err != nil || !existing || v.ID != v1.ID {
		t.Fatalf("re-attach of the same document: id %d existing=%v err=%v, want id %d existing", v.ID, existing, err, v1.ID)
	}
	v2, existing, err := s.AttachSBOM(ctx, sampleSBOM("bb", store.SBOMComponent{Name: "dcmtk", Version: "3.6.7"}, store.SBOMComponent{Name: "zlib"}))
	if err != nil || existing || v2.Version != 2 || v2.Components != 2 {
		t.Fatalf("second version: %+v existing=%v err=%v", v2, existing, err)
	}
	// Going back to the first document is a new version that shares the document.
	v3, existing, err := s.AttachSBOM(ctx, sampleSBOM("aa", store.SBOMComponent{Name: "dcmtk", Version: "3.6.5"}))
	if err != nil || existing || v3.Version != 3 || v3.DocumentID != v1.DocumentID {
		t.Fatalf("third version: %+v existing=%v err=%v", v3, existing, err)
	}
	other := sampleSBOM("aa")
	other.Subject.FirmwareVersion = "8.1"
	v4, _, err := s.AttachSBOM(ctx, other)
	if err != nil || v4.Version != 1 || v4.DocumentID != v1.DocumentID {
		t.Fatalf("other firmware version: %+v err=%v", v4, err)
	}
	all, err := s.ListSBOMs(ctx, store.SBOMQuery{Model: "sigma spectrum"})
	if err != nil || len(all.SBOMs) != 4 || all.SBOMs[0].ID != v4.ID {
		t.Fatalf("list: %d err=%v", len(all.SBOMs), err)
	}
	latest, err := s.ListSBOMs(ctx, store.SBOMQuery{Vendor: "baxter", Latest: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, v := range latest.SBOMs {
		ids = append(ids, v.ID)
	}
	if d := cmp.Diff([]int64{v4.ID, v3.ID}, ids); d != "" {
		t.Errorf("latest (-want +got):\n%s", d)
	}
	p1, err := s.ListSBOMs(ctx, store.SBOMQuery{Limit: 3})
	if err != nil || len(p1.SBOMs) != 3 || p1.Next == "" {
		t.Fatalf("page 1: %d next=%q err=%v", len(p1.SBOMs), p1.Next, err)
	}
	p2, err := s.ListSBOMs(ctx, store.SBOMQuery{Limit: 3, Cursor: p1.Next})
	if err != nil || len(p2.SBOMs) != 1 || p2.Next != "" || p2.SBOMs[0].ID != v1.ID {
		t.Fatalf("page 2: %+v err=%v", p2, err)
	}
	if _, err := s.GetSBOM(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSBOM(missing) = %v, want ErrNotFound", err)
	}
}

func testSBOMsForDevice(t *testing.T, s store.SBOMStore, st store.Store) {
	ctx := context.Background()
	d := Sample(1)
	d.Vendor, d.Model, d.Version = "Baxter", "Sigma Spectrum", "8.0"
	if err := st.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	model, _, err := s.AttachSBOM(ctx, sampleSBOM("aa"))
	if err != nil {
		t.Fatal(err)
	}
	own := sampleSBOM("cc")
	own.Subject = store.SBOMSubject{DeviceID: d.ID}
	dev, _, err := s.AttachSBOM(ctx, own)
	if err != nil {
		t.Fatal(err)
	}
	if dev.Subject.DeviceID != d.ID || dev.Subject.AssetID != d.AssetID || dev.Subject.Model != "Sigma Spectrum" {
		t.Errorf("device subject = %+v", dev.Subject)
	}
	got, err := s.SBOMsForDevice(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != dev.ID || got[1].ID != model.ID {
		t.Fatalf("SBOMsForDevice = %+v, want the device's own then the model's", got)
	}
	byDev, err := s.ListSBOMs(ctx, store.SBOMQuery{DeviceID: d.ID})
	if err != nil || len(byDev.SBOMs) != 1 {
		t.Errorf("list by device: %d %v", len(byDev.SBOMs), err)
	}
	missing := sampleSBOM("dd")
	missing.Subject = store.SBOMSubject{DeviceID: 424242}
	if _, _, err := s.AttachSBOM(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("attach to a missing device = %v, want ErrNotFound", err)
	}
}

func testSBOMComponents(t *testing.T, s store.SBOMStore, _ store.Store) {
	ctx := context.Background()
	in := sampleSBOM("aa",
		store.SBOMComponent{Ref: "fw", Type: "firmware", Name: "pump fw", Version: "8.0", CPE: "cpe:2.3:o:baxter:fw:8.0:*:*:*:*:*:*:*"},
		store.SBOMComponent{Ref: "lodash", Type: "library", Name: "lodash", Version: "4.17.15", PURL: "pkg:npm/lodash@4.17.15",
			Supplier: "OpenJS", Hashes: []store.SBOMHash{{Algorithm: "SHA-256", Value: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}},
	)
	in.Vulns = []store.SBOMVuln{
		{Index: 1, ID: "GHSA-35jh-r3h4-6jhm", Source: "osv", Method: "purl", Aliases: []string{"CVE-2021-23337"}, Status: "affected", Confidence: "high", Fixed: "4.17.21"},
		{Index: 0, ID: "CVE-2020-12039", Source: "nvd", Method: "cpe", Status: "not_affected", Suppressed: true, Justification: "code_not_present", Detail: "why", Confidence: "high", NoFix: true},
		{Index: 0, ID: "CVE-2024-2212", Source: "nvd", Method: "name", Status: "unknown", Confidence: "low", NeedsReview: true},
	}
	v, _, err := s.AttachSBOM(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if v.OpenVulns != 2 || v.Suppressed != 1 || v.NeedsReview != 1 {
		t.Errorf("counts: open %d suppressed %d review %d, want 2 1 1", v.OpenVulns, v.Suppressed, v.NeedsReview)
	}
	raw, err := s.SBOMRaw(ctx, v.ID)
	if err != nil || string(raw) != string(in.Raw) {
		t.Errorf("raw = %q, %v", raw, err)
	}
	comps, err := s.SBOMComponents(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.SBOMComponent{
		{Index: 0, Ref: "fw", Type: "firmware", Name: "pump fw", Version: "8.0", CPE: "cpe:2.3:o:baxter:fw:8.0:*:*:*:*:*:*:*", Vulns: []store.SBOMVuln{
			{Index: 0, ID: "CVE-2020-12039", Source: "nvd", Method: "cpe", Status: "not_affected", Suppressed: true, Justification: "code_not_present", Detail: "why", Confidence: "high", NoFix: true},
			{Index: 0, ID: "CVE-2024-2212", Source: "nvd", Method: "name", Status: "unknown", Confidence: "low", NeedsReview: true},
		}},
		{Index: 1, Ref: "lodash", Type: "library", Name: "lodash", Version: "4.17.15", PURL: "pkg:npm/lodash@4.17.15", Supplier: "OpenJS",
			Hashes: in.Components[1].Hashes, Vulns: []store.SBOMVuln{
				{Index: 1, ID: "GHSA-35jh-r3h4-6jhm", Source: "osv", Method: "purl", Aliases: []string{"CVE-2021-23337"}, Status: "affected", Confidence: "high", Fixed: "4.17.21"},
			}},
	}
	if d := cmp.Diff(want, comps); d != "" {
		t.Errorf("components (-want +got):\n%s", d)
	}
	if err := s.ReplaceSBOMVulns(ctx, v.DocumentID, in.Vulns[:1]); err != nil {
		t.Fatal(err)
	}
	v, _ = s.GetSBOM(ctx, v.ID)
	if v.OpenVulns != 1 || v.Suppressed != 0 || v.MatchedAt.IsZero() {
		t.Errorf("after re-match: %+v", v)
	}
	if err := s.ReplaceSBOMVulns(ctx, 987654, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("re-match of a missing document = %v, want ErrNotFound", err)
	}
}

func testSBOMListComponents(t *testing.T, s store.SBOMStore, _ store.Store) {
	ctx := context.Background()
	a := sampleSBOM("aa", store.SBOMComponent{Name: "OpenSSL", Version: "1.1.1k", PURL: "pkg:generic/openssl@1.1.1k"}, store.SBOMComponent{Name: "zlib", Version: "1.2.11"})
	a.Vulns = []store.SBOMVuln{{Index: 0, ID: "CVE-2021-3711", Source: "nvd", Method: "name", Status: "affected", Confidence: "medium"}}
	va, _, err := s.AttachSBOM(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	b := sampleSBOM("bb", store.SBOMComponent{Name: "openssl", Version: "3.0.13", PURL: "pkg:generic/openssl@3.0.13"})
	b.Subject.Model = "Other pump"
	vb, _, err := s.AttachSBOM(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.ListComponents(ctx, store.ComponentQuery{Name: "OPENSSL"})
	if err != nil || len(page.Components) != 2 {
		t.Fatalf("by name: %+v %v", page, err)
	}
	if page.Components[0].SBOMIDs[0] != va.ID || page.Components[1].SBOMIDs[0] != vb.ID || len(page.Components[0].Component.Vulns) != 1 {
		t.Errorf("by name: %+v", page.Components)
	}
	page, err = s.ListComponents(ctx, store.ComponentQuery{Vulnerable: true})
	if err != nil || len(page.Components) != 1 || page.Components[0].Component.Version != "1.1.1k" {
		t.Errorf("vulnerable: %+v %v", page, err)
	}
	page, err = s.ListComponents(ctx, store.ComponentQuery{Vuln: "CVE-2021-3711"})
	if err != nil || len(page.Components) != 1 {
		t.Errorf("by vuln: %+v %v", page, err)
	}
	page, err = s.ListComponents(ctx, store.ComponentQuery{PURLPrefix: "pkg:generic/openssl@3"})
	if err != nil || len(page.Components) != 1 || page.Components[0].Component.Version != "3.0.13" {
		t.Errorf("by purl prefix: %+v %v", page, err)
	}
	p1, err := s.ListComponents(ctx, store.ComponentQuery{Limit: 2})
	if err != nil || len(p1.Components) != 2 || p1.Next == "" {
		t.Fatalf("page 1: %+v %v", p1, err)
	}
	p2, err := s.ListComponents(ctx, store.ComponentQuery{Limit: 2, Cursor: p1.Next})
	if err != nil || len(p2.Components) != 1 || p2.Next != "" || p2.Components[0].Component.Name != "openssl" {
		t.Fatalf("page 2: %+v %v", p2, err)
	}
}

func testSBOMBadInput(t *testing.T, s store.SBOMStore, _ store.Store) {
	ctx := context.Background()
	in := sampleSBOM("aa")
	in.Subject = store.SBOMSubject{Vendor: "Baxter"}
	if _, _, err := s.AttachSBOM(ctx, in); err == nil {
		t.Error("attach without model and firmware version succeeded")
	}
	if _, err := s.ListSBOMs(ctx, store.SBOMQuery{Cursor: "x"}); err == nil {
		t.Error("bad sbom cursor accepted")
	}
	if _, err := s.ListComponents(ctx, store.ComponentQuery{Cursor: "1"}); err == nil {
		t.Error("bad component cursor accepted")
	}
}

func testOSVRecords(t *testing.T, s store.SBOMStore, st store.Store) {
	ctx := context.Background()
	put := func(recs map[string]string, fail bool) error {
		return st.ImportFeeds(ctx, func(tx store.FeedTx) error {
			otx, ok := tx.(store.OSVFeedTx)
			if !ok {
				t.Fatalf("%T does not implement store.OSVFeedTx", tx)
			}
			for id, raw := range recs {
				if err := otx.PutOSV(ctx, id, "npm", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), []byte(raw)); err != nil {
					return err
				}
			}
			if fail {
				return errors.New("feed rejected")
			}
			return tx.SetFeed(ctx, store.FeedStatus{Name: store.FeedOSV, Kind: store.FeedOSV, Source: "test", Items: int64(len(recs))})
		})
	}
	if err := put(map[string]string{"GHSA-b": `{"id":"GHSA-b"}`, "GHSA-a": `{"id":"GHSA-a"}`}, false); err != nil {
		t.Fatal(err)
	}
	if err := put(map[string]string{"GHSA-a": `{"id":"GHSA-a","v":2}`, "GHSA-c": `{"id":"GHSA-c"}`}, true); err == nil {
		t.Fatal("failed import reported success")
	}
	if err := put(map[string]string{"GHSA-a": `{"id":"GHSA-a","v":2}`}, false); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var order []string
	if err := s.ScanOSV(ctx, func(id string, raw []byte) error {
		got[id] = string(raw)
		order = append(order, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"GHSA-a": `{"id":"GHSA-a","v":2}`, "GHSA-b": `{"id":"GHSA-b"}`}
	if d := cmp.Diff(want, got); d != "" || order[0] != "GHSA-a" {
		t.Errorf("stored OSV records (-want +got), rolled-back GHSA-c must be absent:\n%s", d)
	}
}
