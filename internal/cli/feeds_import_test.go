package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const feedsTestdata = "../feeds/testdata"

// TestFeedsImportStatusBundle runs the offline workflow end to end: import
// every kind of feed, check status, make keys and a bundle, load the bundle
// elsewhere; a tampered bundle or a wrong key loads nothing.
func TestFeedsImportStatusBundle(t *testing.T) {
	t.Parallel()
	src, dst, keys := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "keys")
	code, stdout, stderr := runFeedsCLI(t, "", "feeds", "import", "--data", src, "--format", "json",
		"--kev", filepath.Join(feedsTestdata, "kev_subset.json"), "--epss", filepath.Join(feedsTestdata, "epss_scores-2025-08-25.csv"),
		"--nvd", filepath.Join(feedsTestdata, "CVE-2022-2119.json"), filepath.Join(feedsTestdata, "csaf"))
	if code != ExitOK {
		t.Fatalf("import: exit %d, stderr %s", code, stderr)
	}
	type result struct {
		Kind     string `json:"kind"`
		Imported int    `json:"imported"`
	}
	var res []result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]result{{"kev", 5}, {"epss", 12}, {"nvd", 1}, {"csaf", 3}}, res); diff != "" {
		t.Errorf("import results (-want +got):\n%s", diff)
	}
	// The test data is old: status warns, --strict fails.
	code, _, stderr = runFeedsCLI(t, "", "feeds", "status", "--data", src)
	if code != ExitOK || !strings.Contains(stderr, "WARNING: feed kev is STALE") {
		t.Errorf("status: exit %d, stderr %q", code, stderr)
	}
	code, _, _ = runFeedsCLI(t, "", "feeds", "status", "--data", src, "--strict")
	if code != ExitBadInput {
		t.Errorf("status --strict with stale feeds: exit %d, want %d", code, ExitBadInput)
	}
	code, _, stderr = runFeedsCLI(t, "", "feeds", "status", "--data", t.TempDir(), "--strict", "--max-feed-age", "100000d")
	if code != ExitBadInput || !strings.Contains(stderr, "feed csaf is MISSING") {
		t.Errorf("status of an empty store: exit %d, stderr %q", code, stderr)
	}
	code, _, _ = runFeedsCLI(t, "", "feeds", "status", "--data", src, "--strict", "--max-feed-age", "100000d")
	if code != ExitOK {
		t.Errorf("status --strict with fresh enough feeds: exit %d", code)
	}

	if code, _, stderr = runFeedsCLI(t, "", "feeds", "keygen", "--out", keys); code != ExitOK {
		t.Fatalf("keygen: exit %d, %s", code, stderr)
	}
	st, err := os.Stat(filepath.Join(keys, "feeds.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode = %v, %v; want 0600", st, err)
	}
	if code, _, _ = runFeedsCLI(t, "", "feeds", "keygen", "--out", keys); code == ExitOK {
		t.Error("keygen overwrote an existing key")
	}
	bundlePath := filepath.Join(t.TempDir(), "feeds.bundle")
	if code, _, stderr = runFeedsCLI(t, "", "feeds", "bundle", "--data", src, "--key", filepath.Join(keys, "feeds.key"), "--out", bundlePath); code != ExitOK {
		t.Fatalf("bundle: exit %d, %s", code, stderr)
	}

	// Wrong key, tampered bundle: rejected, nothing loaded.
	other := filepath.Join(t.TempDir(), "other")
	runFeedsCLI(t, "", "feeds", "keygen", "--out", other)
	data, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(t.TempDir(), "tampered.bundle")
	bad := append([]byte(nil), data...)
	bad[len(bad)/2] ^= 0xff
	os.WriteFile(tampered, bad, 0o644)
	for _, c := range []struct{ key, file, want string }{
		{filepath.Join(other, "feeds.pub"), bundlePath, "signature does not verify with any trusted key"},
		{filepath.Join(keys, "feeds.pub"), tampered, "malformed bundle"},
	} {
		code, _, stderr = runFeedsCLI(t, "", "feeds", "import", "--data", dst, "--trusted-key", c.key, c.file)
		if code == ExitOK || !strings.Contains(stderr, c.want) {
			t.Errorf("import %s with %s: exit %d, stderr %q; want failure %q", c.file, c.key, code, stderr, c.want)
		}
		_, stdout, _ = runFeedsCLI(t, "", "feeds", "status", "--data", dst, "--format", "json")
		if strings.Contains(stdout, `"imported_at"`) {
			t.Errorf("a rejected bundle loaded feeds: %s", stdout)
		}
	}
	code, _, stderr = runFeedsCLI(t, "", "feeds", "import", "--data", dst, "--trusted-key", filepath.Join(keys, "feeds.pub"), bundlePath)
	if code != ExitOK {
		t.Fatalf("import bundle: exit %d, %s", code, stderr)
	}
	_, a, _ := runFeedsCLI(t, "", "feeds", "status", "--data", src, "--format", "json")
	_, b, _ := runFeedsCLI(t, "", "feeds", "status", "--data", dst, "--format", "json")
	type feed struct {
		Name     string `json:"name"`
		FeedDate string `json:"feed_date"`
		Items    int    `json:"items"`
		State    string `json:"state"`
	}
	var fa, fb struct{ Feeds []feed }
	json.Unmarshal([]byte(a), &fa)
	json.Unmarshal([]byte(b), &fb)
	if len(fa.Feeds) != 4 {
		t.Fatalf("source feeds: %s", a)
	}
	if diff := cmp.Diff(fa.Feeds, fb.Feeds); diff != "" {
		t.Errorf("feeds after bundle import (-source +destination):\n%s", diff)
	}
}
