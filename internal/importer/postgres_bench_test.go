package importer_test

import (
	"context"
	"os"
	"testing"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// openPostgres opens a store in a fresh schema of MEDWARDEN_TEST_POSTGRES.
func openPostgres(b *testing.B) store.Store {
	st, err := postgres.Open(context.Background(), storetest.PostgresSchemaDSN(b, os.Getenv("MEDWARDEN_TEST_POSTGRES")))
	if err != nil {
		b.Fatal(err)
	}
	return st
}
