package sqldb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// Opening a SQLite store sets devices_search's FTS5 automerge to 16
// (sqldb.searchAutomerge), on a new store and on one that has another
// value (stores created before the setting have FTS5's default, 4).
func TestSearchAutomergeSet(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	automerge := func() string {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var v string
		if err := st.SQL.QueryRowContext(ctx, "SELECT v FROM devices_search_config WHERE k = 'automerge'").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SQL.ExecContext(ctx, "INSERT INTO devices_search(devices_search, rank) VALUES('automerge', 4)"); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := automerge(); v != "16" {
		t.Errorf("new store: automerge %q, want 16", v)
	}
	if v := automerge(); v != "16" { // the previous open left it at 4
		t.Errorf("store with automerge 4: automerge %q after open, want 16", v)
	}
}
