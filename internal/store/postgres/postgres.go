// Package postgres is the store driver for PostgreSQL (pgx). Reads and
// single writes go through database/sql with pgx's stdlib driver and the
// SQL shared with SQLite; imports run on the native pgx connection so bulk
// loads use COPY inside the same transaction.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store/sqldb"
)

// DefaultConnectTimeout bounds making a connection when the DSN sets no
// connect_timeout: with the database unreachable (a dropped route, a host
// that does not answer) requests fail after this long instead of waiting
// for the kernel's TCP timeout (about two minutes).
const DefaultConnectTimeout = 10 * time.Second

// withConnectTimeout adds connect_timeout to a URL DSN that has none; other
// DSNs are returned as given.
func withConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Query().Has("connect_timeout") {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "connect_timeout=" + strconv.Itoa(int(DefaultConnectTimeout/time.Second))
}

// Open connects to the database at dsn (postgres://…) and migrates it.
// Without connect_timeout in dsn, DefaultConnectTimeout applies.
func Open(ctx context.Context, dsn string) (*sqldb.DB, error) {
	db, err := sql.Open("pgx", withConnectTimeout(dsn))
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	// Keep them all when idle, as the SQLite driver does: with
	// database/sql's default of 2 idle connections a concurrent load opened
	// and closed connections all the time, each a new PostgreSQL backend
	// process (start-up, authentication, empty caches) and each preparing
	// its statements again. bench/load.sh's mix: PostgreSQL's CPU 3.2-4.0
	// -> 1.7-2.1 ms per request, serve's 1.0-1.4 -> 0.7-1.0 ms.
	db.SetMaxIdleConns(16)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	s, err := sqldb.New(ctx, db, Dialect{})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// Dialect is PostgreSQL's side of sqldb.Dialect.
type Dialect struct{}

var _ sqldb.Dialect = Dialect{}

// Name is "postgres".
func (Dialect) Name() string { return "postgres" }

// Fold matches the lower(col) expression indexes.
func (Dialect) Fold(col string) string { return "lower(" + col + ")" }

// FoldParam lower-cases the parameter.
func (Dialect) FoldParam(p string) string { return "lower(" + p + ")" }

// ILike is PostgreSQL's case-insensitive LIKE.
func (Dialect) ILike() string { return "ILIKE" }

// migrationLockID is an arbitrary constant for pg_advisory_xact_lock.
const migrationLockID = 0x6d65647761726431

// Lock takes a transaction-scoped advisory lock so concurrent starts migrate once.
func (Dialect) Lock(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLockID))
	return err
}

// Import runs fn in one pgx transaction; InsertDevices uses COPY.
func (Dialect) Import(ctx context.Context, db *sql.DB, fn func(tx sqldb.Tx) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		if err := fn(&txn{tx: tx}); err != nil {
			tx.Rollback(ctx) //nolint:errcheck // the error that matters is err
			return err
		}
		return tx.Commit(ctx)
	})
}

type txn struct{ tx pgx.Tx }

func (t *txn) Exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.Exec(ctx, q, args...)
	return err
}

func (t *txn) QueryRow(ctx context.Context, q string, args ...any) sqldb.Row {
	return t.tx.QueryRow(ctx, q, args...)
}

func (t *txn) Query(ctx context.Context, q string, args []any, each func(sqldb.Row) error) error {
	rows, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (t *txn) NextIDs(ctx context.Context, n int) ([]int64, error) {
	rows, err := t.tx.Query(ctx, "SELECT nextval('devices_id_seq') FROM generate_series(1, $1)", n)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func (t *txn) InsertDevices(ctx context.Context, ds []*inventory.Device) error {
	if len(ds) == 1 { // a plain INSERT reports unique violations per row
		a, err := sqldb.DeviceArgs(ds[0])
		if err != nil {
			return err
		}
		_, err = t.tx.Exec(ctx, insertOne, a...)
		return err
	}
	rows, err := sqldb.DeviceRows(ds)
	if err != nil {
		return err
	}
	return t.InsertDeviceRows(ctx, rows)
}

// InsertDeviceRows copies rows of sqldb.DeviceArgs (sqldb.RowInserter).
func (t *txn) InsertDeviceRows(ctx context.Context, rows [][]any) error {
	for _, a := range rows {
		pgArgs(a)
	}
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"devices"}, sqldb.DeviceColumns(), pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy devices: %w", err)
	}
	return nil
}

// pgArgs converts database/sql-only value types for pgx's binary COPY.
func pgArgs(a []any) []any {
	for i, v := range a {
		if nb, ok := v.(sql.NullBool); ok {
			if nb.Valid {
				a[i] = nb.Bool
			} else {
				a[i] = nil
			}
		}
	}
	return a
}

var insertOne = func() string {
	cols := sqldb.DeviceColumns()
	q := "INSERT INTO devices ("
	v := ") VALUES ("
	for i, c := range cols {
		if i > 0 {
			q += ", "
			v += ", "
		}
		q += c
		v += fmt.Sprintf("$%d", i+1)
	}
	return q + v + ")"
}()

// IndexCatalog lists the devices indexes not backing a constraint (the
// primary key and UNIQUE asset_id stay).
func (Dialect) IndexCatalog() string {
	return `SELECT coalesce(json_agg(json_build_array(i.indexname, i.indexdef)), '[]')::text
		FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = 'devices'
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
		                  WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)`
}

// BeforeIndexBuild gives this transaction's index sorts more memory.
func (Dialect) BeforeIndexBuild() string { return "SET LOCAL maintenance_work_mem = '256MB'" }

// Analyze samples the table for the planner.
func (Dialect) Analyze() string { return "ANALYZE devices" }
