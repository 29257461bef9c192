package sqldb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// The conformance suite's search store is too small to leave the "few
// candidates" plan. With thresholds of 5 candidates and a 20-device walk,
// its searches take all three SQLite plans (candidates only; a bounded
// sort-index walk that fills the page; a walk that does not, then the
// candidates), on first and later pages, and must give the same devices.
func TestSearchPlansSmallThresholds(t *testing.T) {
	defer sqldb.SetSearchLimits(5, 20)()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	storetest.SearchIndex(t, st)
}
