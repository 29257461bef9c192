package storetest

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
)

var schemaSeq atomic.Int64

// PostgresSchemaDSN creates an empty schema on the server at base and
// returns a DSN whose search_path is that schema; the schema is dropped
// when the test or benchmark ends. Each caller gets its own database
// namespace, so tests can run in parallel against one server.
func PostgresSchemaDSN(tb testing.TB, base string) string {
	tb.Helper()
	name := fmt.Sprintf("mwtest_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, schemaSeq.Add(1))
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		if db, err := sql.Open("pgx", base); err == nil {
			db.Exec("DROP SCHEMA " + name + " CASCADE") //nolint:errcheck // best-effort cleanup
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
