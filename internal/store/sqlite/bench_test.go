package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

func BenchmarkListDevices(b *testing.B) {
	n := storetest.BenchSize()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	storetest.LoadDemo(b, st, n)
	b.Run(storetest.SizeName(n), func(b *testing.B) { storetest.BenchListDevices(b, st) })
}
