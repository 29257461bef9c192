package feeds

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/store"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	kev := store.FeedStatus{Name: "kev", Kind: "kev", ImportedAt: now.Add(-time.Hour), FeedDate: now.Add(-2 * day), Items: 1400}
	epss := store.FeedStatus{Name: "epss", Kind: "epss", ImportedAt: now.Add(-time.Hour), FeedDate: now.Add(-9*day - 4*time.Hour), Items: 250000}
	csaf := store.FeedStatus{Name: "csaf:cisa", Kind: "csaf", ImportedAt: now.Add(-time.Hour), FeedDate: now.Add(-3 * day), Items: 96}
	failed := store.FeedStatus{Name: "nvd", Kind: "nvd", LastError: "nvd.json: not JSON", ErrorAt: now.Add(-time.Hour)}
	tests := []struct {
		name       string
		list       []store.FeedStatus
		opts       StatusOptions
		wantStates []string
		wantWarn   []string
	}{
		{"all_fresh", []store.FeedStatus{csaf, epss, kev}, StatusOptions{MaxAge: 10 * day},
			[]string{"ok", "ok", "ok"}, []string{}},
		{"epss_stale_default_7d", []store.FeedStatus{csaf, epss, kev}, StatusOptions{},
			[]string{"ok", "stale", "ok"}, []string{"feed epss is STALE: dated 2026-11-19 08:00 UTC, 9d4h old (limit 7d)"}},
		{"empty_store_all_missing", nil, StatusOptions{},
			[]string{"missing", "missing", "missing"}, []string{
				"feed csaf is MISSING: no CSAF advisory data has been imported; results that depend on it are incomplete, not clean",
				"feed epss is MISSING: no EPSS data has been imported; results that depend on it are incomplete, not clean",
				"feed kev is MISSING: no CISA KEV data has been imported; results that depend on it are incomplete, not clean"}},
		{"failed_feed_never_imported", []store.FeedStatus{csaf, failed}, StatusOptions{Required: []string{"csaf", "nvd"}},
			[]string{"ok", "failed", "missing"}, []string{
				"feed nvd has never been imported successfully (last error: nvd.json: not JSON)",
				"feed nvd is MISSING: no NVD CVE data has been imported; results that depend on it are incomplete, not clean"}},
		{"later_error_keeps_old_data", []store.FeedStatus{{Name: "kev", Kind: "kev", ImportedAt: now.Add(-2 * day), FeedDate: now.Add(-2 * day), LastError: "boom", ErrorAt: now.Add(-time.Hour)}},
			StatusOptions{Required: []string{}}, []string{"ok"}, []string{"feed kev: last import failed at 2026-11-28 11:00 UTC: boom (older data kept)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Now = now
			r := Status(tt.list, tt.opts)
			var states []string
			for _, f := range r.Feeds {
				states = append(states, f.State)
			}
			if diff := cmp.Diff(tt.wantStates, states); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarn, r.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if r.OK() != (len(tt.wantWarn) == 0) {
				t.Errorf("OK() = %v", r.OK())
			}
		})
	}
}

func TestBanner(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	r := Status([]store.FeedStatus{{Name: "kev", Kind: "kev", ImportedAt: now, FeedDate: now.Add(-36 * time.Hour), Items: 5}}, StatusOptions{Now: now, Required: []string{"kev", "epss"}})
	var b bytes.Buffer
	if err := Banner(&b, r); err != nil {
		t.Fatal(err)
	}
	want := "feed kev: 2026-11-27, 1d12h old, 5 items [ok]\n" +
		"WARNING: feed epss is MISSING: no EPSS data has been imported; results that depend on it are incomplete, not clean\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Banner (-want +got):\n%s", diff)
	}
}

func TestParseAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"7d", 7 * 24 * time.Hour, false},
		{"36h", 36 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"0d", 0, true},
		{"-1h", 0, true},
		{"7 days", 0, true},
		{"1.5d", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseAge(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
