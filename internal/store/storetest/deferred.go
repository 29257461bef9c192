package storetest

import (
	"database/sql"
	"testing"
)

// DeferIndexBuild leaves the SQLite store db as a large bulk import leaves
// it for one index (store/sqldb/index_builds.go): the index dropped and
// its definition recorded as a pending build.
func DeferIndexBuild(tb testing.TB, db *sql.DB, name string) {
	tb.Helper()
	var ddl string
	if err := db.QueryRow("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = $1", name).Scan(&ddl); err != nil {
		tb.Fatalf("index %s: %v", name, err)
	}
	if _, err := db.Exec("DROP INDEX " + name); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO deferred_index_builds (name, kind, ddl, seq) VALUES ($1, 'index', $2, 1)", name, ddl); err != nil {
		tb.Fatal(err)
	}
}
