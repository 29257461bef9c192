package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

var schemaSeq atomic.Int64

// FreshDSN creates an empty schema on the server named by
// MEDWARDEN_TEST_POSTGRES and returns a DSN whose search_path is it.
func freshDSN(t testing.TB) string {
	base := os.Getenv("MEDWARDEN_TEST_POSTGRES")
	if base == "" {
		t.Skip("MEDWARDEN_TEST_POSTGRES not set: skipping PostgreSQL conformance (set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	name := fmt.Sprintf("mwtest_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, schemaSeq.Add(1))
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			db.Exec("DROP SCHEMA " + name + " CASCADE") //nolint:errcheck // best-effort cleanup
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), freshDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestUsersConformance(t *testing.T) {
	storetest.RunUsers(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), freshDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestAdvisoriesConformance(t *testing.T) {
	storetest.RunAdvisories(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), freshDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSecurityConformance(t *testing.T) {
	storetest.RunSecurity(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), freshDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
