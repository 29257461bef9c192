// Package sqldb is the SQL implementation of store.Store shared by the
// sqlite and postgres drivers. The drivers supply a Dialect: how to open,
// fold case, and bulk-insert; everything else is the same SQL ($n
// placeholders work in both).
package sqldb

import (
	"context"
	"database/sql"

	"github.com/medwarden/medwarden/internal/inventory"
)

// Dialect is what differs between the SQL databases.
type Dialect interface {
	Name() string // "sqlite" or "postgres"
	// Fold returns a case-insensitive expression of column col that the
	// dialect's indexes serve (sqlite: "col COLLATE NOCASE"; postgres: "lower(col)").
	Fold(col string) string
	// FoldParam returns the case-folded form of a parameter placeholder.
	FoldParam(p string) string
	// ILike is the case-insensitive LIKE operator.
	ILike() string
	// Lock serialises migrations across processes (postgres advisory lock).
	Lock(ctx context.Context, tx *sql.Tx) error
	// Import runs fn in one transaction with the dialect's fastest bulk insert.
	Import(ctx context.Context, db *sql.DB, fn func(tx Tx) error) error
	// IndexCatalog is a query returning one text value: a JSON array of
	// [name, CREATE INDEX statement] for each secondary index of the
	// devices table that a bulk load may drop and rebuild (not those
	// behind PRIMARY KEY or UNIQUE constraints).
	IndexCatalog() string
	// BeforeIndexBuild is run (when not empty) before a bulk load rebuilds
	// the indexes, e.g. to give the sort more memory.
	BeforeIndexBuild() string
	// Analyze refreshes the planner statistics of the devices table after
	// a bulk load ("" for none).
	Analyze() string
}

// Tx is the minimal transaction surface the shared code needs; *sql.Tx
// has it, and the postgres driver adapts pgx.Tx to it for COPY.
type Tx interface {
	Exec(ctx context.Context, query string, args ...any) error
	QueryRow(ctx context.Context, query string, args ...any) Row
	// Query runs query and calls each for every row, in order.
	Query(ctx context.Context, query string, args []any, each func(Row) error) error
	// InsertDevices bulk-inserts devices whose IDs are already assigned.
	InsertDevices(ctx context.Context, ds []*inventory.Device) error
	// NextIDs reserves n device IDs.
	NextIDs(ctx context.Context, n int) ([]int64, error)
}

// RowInserter is a Tx that also inserts devices from rows of DeviceArgs
// (IDs assigned), so that an import builds the rows of its next batch on
// its own goroutine while the previous batch is being written (pipeTx).
type RowInserter interface {
	InsertDeviceRows(ctx context.Context, rows [][]any) error
}

// Row is a single-row result.
type Row interface {
	Scan(dest ...any) error
}
