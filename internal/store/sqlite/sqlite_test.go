package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestUsersConformance(t *testing.T) {
	t.Parallel()
	storetest.RunUsers(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x", sqlite.FileName)
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDevice(ctx, storetest.Sample(1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	n, _ := s.CountDevices(ctx)
	v, _ := s.SchemaVersion(ctx)
	if n != 1 || v != store.SchemaVersion() {
		t.Errorf("after reopen: %d devices, schema %d", n, v)
	}
	var fk int
	if err := s.SQL.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d (%v), want 1", fk, err)
	}
}

func TestAdvisoriesConformance(t *testing.T) {
	t.Parallel()
	storetest.RunAdvisories(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSecurityConformance(t *testing.T) {
	t.Parallel()
	storetest.RunSecurity(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSensorsConformance(t *testing.T) {
	t.Parallel()
	storetest.RunSensors(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestEdgesConformance(t *testing.T) {
	t.Parallel()
	storetest.RunEdges(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSBOMsConformance(t *testing.T) {
	t.Parallel()
	storetest.RunSBOMs(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestFindingsConformance(t *testing.T) {
	t.Parallel()
	storetest.RunFindings(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestOIDCConformance(t *testing.T) {
	t.Parallel()
	storetest.RunOIDC(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
