package feeds

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestImportSharedCorpus imports every CISA CSAF advisory and the full KEV
// catalog of the shared corpus: none may be rejected.
func TestImportSharedCorpus(t *testing.T) {
	root := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if root == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: skipping the shared-corpus import (set it to the shared data directory)")
	}
	s := openStore(t)
	im := newImporter(t, s, Options{})
	for _, in := range []struct {
		path, kind string
		min        int
	}{
		{filepath.Join(root, "csaf_cisa", "icsma"), KindAuto, 50},
		{filepath.Join(root, "csaf_cisa", "icsa"), KindAuto, 1},
		{filepath.Join(root, "kev", "known_exploited_vulnerabilities.json"), KindKEV, 500},
		{filepath.Join(root, "version_ranges", "nvd-cpe"), KindNVD, 1},
	} {
		if _, err := os.Stat(in.path); err != nil {
			t.Logf("%s: %v (skipped)", in.path, err)
			continue
		}
		res, err := im.Import(context.Background(), in.path, in.kind)
		if err != nil {
			for _, r := range res.Rejected {
				t.Errorf("rejected %s: %s", r.Location, r.Reason)
			}
			t.Fatalf("import %s: %v", in.path, err)
		}
		if res.Imported < in.min {
			t.Errorf("import %s: %d imported, want at least %d", in.path, res.Imported, in.min)
		}
		t.Logf("%s: %d imported, %d unchanged", in.path, res.Imported, res.Unchanged)
	}
}
