package postgres_test

import (
	"context"
	"testing"

	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

func BenchmarkListDevices(b *testing.B) {
	n := storetest.BenchSize()
	st, err := postgres.Open(context.Background(), freshDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	storetest.LoadDemo(b, st, n)
	if _, err := st.SQL.Exec("ANALYZE devices"); err != nil {
		b.Fatal(err)
	}
	b.Run(storetest.SizeName(n), func(b *testing.B) { storetest.BenchListDevices(b, st) })
}
