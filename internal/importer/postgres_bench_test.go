package importer_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
)

// openPostgres opens a store in a fresh schema of MEDWARDEN_TEST_POSTGRES.
func openPostgres(b *testing.B) store.Store {
	base := os.Getenv("MEDWARDEN_TEST_POSTGRES")
	name := fmt.Sprintf("mwbench_%d_%d", os.Getpid(), time.Now().UnixNano())
	db, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if db, err := sql.Open("pgx", base); err == nil {
			db.Exec("DROP SCHEMA " + name + " CASCADE") //nolint:errcheck // best effort
			db.Close()
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	st, err := postgres.Open(context.Background(), u.String())
	if err != nil {
		b.Fatal(err)
	}
	return st
}
