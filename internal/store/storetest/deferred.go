package storetest

import (
	"database/sql"
	"testing"

	"github.com/medwarden/medwarden/internal/store/sqldb"
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

// DeviceIndexNames lists the devices table's indexes, sorted (with
// triggers: SQLite's search triggers too), as a bulk load drops and
// rebuilds them.
func DeviceIndexNames(tb testing.TB, db *sqldb.DB, triggers bool) []string {
	tb.Helper()
	kinds := "('index')"
	if triggers {
		kinds = "('index', 'trigger')"
	}
	q := "SELECT name FROM sqlite_schema WHERE type IN " + kinds + " AND tbl_name = 'devices' ORDER BY name"
	if db.Dialect() == "postgres" {
		q = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'devices' ORDER BY indexname"
	}
	rows, err := db.SQL.Query(q)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
