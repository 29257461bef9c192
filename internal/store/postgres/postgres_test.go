package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// freshDSN is an empty schema on the server named by MEDWARDEN_TEST_POSTGRES.
func freshDSN(t testing.TB) string {
	base := os.Getenv("MEDWARDEN_TEST_POSTGRES")
	if base == "" {
		t.Skip("MEDWARDEN_TEST_POSTGRES not set: skipping PostgreSQL conformance (set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return storetest.PostgresSchemaDSN(t, base)
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

func TestSensorsConformance(t *testing.T) {
	storetest.RunSensors(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), freshDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestEdgesConformance(t *testing.T) {
	storetest.RunEdges(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), freshDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSBOMsConformance(t *testing.T) {
	storetest.RunSBOMs(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), freshDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestFindingsConformance(t *testing.T) {
	storetest.RunFindings(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), freshDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestOIDCConformance(t *testing.T) {
	storetest.RunOIDC(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), freshDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
