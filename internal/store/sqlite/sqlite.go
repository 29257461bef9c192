// Package sqlite is the embedded store driver: one SQLite database file
// (pure Go, modernc.org/sqlite) in WAL mode with foreign keys on and full
// synchronous commits, so an acknowledged write survives a crash.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store/sqldb"

	_ "modernc.org/sqlite" // registers driver "sqlite"
)

// FileName is the database file inside the data directory.
const FileName = "medwarden.db"

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*sqldb.DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory %s: %w", dir, err)
		}
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(FULL)",
		// Statement journals and sorts in memory, and a 64 MiB page cache:
		// bulk imports otherwise spend most of their time in temp-file writes.
		"temp_store(MEMORY)", "cache_size(-65536)",
		// Reads through a memory map: every commit resets the page cache
		// of the other connections, and refilling it by read(2) and page
		// copies cost the API load test a third of its CPU (5.3 -> 3.4 ms
		// per request, docs/benchmarks/api.md). Writes still go to the WAL.
		// 256 MiB: a 100,000-device store (~110 MB) is mapped whole; for
		// larger ones the mapped pages a process touches count in its RSS
		// (file-backed), so the mapping is capped rather than the file size.
		"mmap_size(268435456)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	// Keep them all when idle: with database/sql's default of 2 idle
	// connections, a concurrent load opened and closed connections all the
	// time, each open parsing the schema and each new connection preparing
	// its statements again and starting with an empty page cache (under
	// bench/load.sh's mix: connection open and close 2.6 % of serve's
	// CPU, plus the re-prepares).
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: WAL mode not enabled (journal_mode=%q, %v)", path, mode, err)
	}
	s, err := sqldb.New(ctx, db, Dialect{})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return s, nil
}

// Dialect is SQLite's side of sqldb.Dialect.
type Dialect struct{}

var _ sqldb.Dialect = Dialect{}

// Name is "sqlite".
func (Dialect) Name() string { return "sqlite" }

// Fold uses the NOCASE collation the indexes are built with.
func (Dialect) Fold(col string) string { return col + " COLLATE NOCASE" }

// FoldParam leaves the parameter alone; the column's collation decides.
func (Dialect) FoldParam(p string) string { return p }

// ILike: SQLite's LIKE is case-insensitive for ASCII.
func (Dialect) ILike() string { return "LIKE" }

// Lock: SQLite write transactions are already exclusive (_txlock=immediate).
func (Dialect) Lock(context.Context, *sql.Tx) error { return nil }

// Import runs fn in one immediate transaction with a prepared multi-row insert.
func (Dialect) Import(ctx context.Context, db *sql.DB, fn func(tx sqldb.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	t := &txn{tx: tx, db: db}
	if err := fn(t); err != nil {
		t.close()
		tx.Rollback() //nolint:errcheck // the error that matters is err
		return err
	}
	t.close()
	return tx.Commit()
}

type txn struct {
	tx     *sql.Tx
	db     *sql.DB
	nextID int64
	stmts  map[int]*sql.Stmt
	// omitted are full INSERTs leaving columns at their default (insertStmt).
	omitted map[uint64]omittedInsert
	byText  map[string]*sql.Stmt // statements with arguments, prepared once per transaction
	args    []any
}

func (t *txn) close() {
	for _, s := range t.stmts {
		s.Close()
	}
	for _, o := range t.omitted {
		o.st.Close()
	}
	for _, s := range t.byText {
		s.Close()
	}
}

// sharedStmts holds statements prepared on a database by text, for its
// transactions: Tx.StmtContext runs such a statement on the transaction's
// connection, compiled there once (database/sql keeps it per connection)
// instead of once per transaction. A group commit of API writes
// (sqldb/device_writes.go) compiled its UPDATE, INSERT and audit
// statements again for every group: the UPDATE alone is a program that
// maintains every index and the search trigger. Statements of a closed
// database fail; once the cache holds sharedStmtsSize texts, further ones
// are prepared per transaction.
var sharedStmts struct {
	sync.Mutex
	m map[sharedKey]*sql.Stmt
}

type sharedKey struct {
	db   *sql.DB
	text string
}

const sharedStmtsSize = 128

// prepare returns q prepared for this transaction, from sharedStmts when
// it can.
func (t *txn) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	k := sharedKey{t.db, q}
	sharedStmts.Lock()
	st, ok := sharedStmts.m[k]
	full := len(sharedStmts.m) >= sharedStmtsSize
	sharedStmts.Unlock()
	if !ok {
		if full || t.db == nil {
			return t.tx.PrepareContext(ctx, q)
		}
		// Preparing on the database takes another connection, once per
		// text. Should the pool have none free (every one held by a
		// transaction waiting for this one's write lock), the statement
		// is prepared for this transaction alone.
		pctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		var err error
		st, err = t.db.PrepareContext(pctx, q)
		cancel()
		if err != nil {
			return t.tx.PrepareContext(ctx, q)
		}
		sharedStmts.Lock()
		if old, ok := sharedStmts.m[k]; ok { // prepared meanwhile
			st.Close()
			st = old
		} else {
			if sharedStmts.m == nil {
				sharedStmts.m = map[sharedKey]*sql.Stmt{}
			}
			sharedStmts.m[k] = st
		}
		sharedStmts.Unlock()
	}
	return t.tx.StmtContext(ctx, st), nil
}

// prepared returns q prepared in this transaction. An import reads and
// updates matched devices one by one with the same few statements;
// compiling each again per device cost more than running it.
func (t *txn) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := t.byText[q]; ok {
		return s, nil
	}
	s, err := t.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	if t.byText == nil {
		t.byText = map[string]*sql.Stmt{}
	}
	t.byText[q] = s
	return s, nil
}

func (t *txn) Exec(ctx context.Context, q string, args ...any) error {
	if len(args) == 0 { // DDL and pragmas: may hold several statements
		_, err := t.tx.ExecContext(ctx, q)
		return err
	}
	s, err := t.prepared(ctx, q)
	if err != nil {
		return err
	}
	_, err = s.ExecContext(ctx, args...)
	return err
}

func (t *txn) QueryRow(ctx context.Context, q string, args ...any) sqldb.Row {
	s, err := t.prepared(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return s.QueryRowContext(ctx, args...)
}

func (t *txn) Query(ctx context.Context, q string, args []any, each func(sqldb.Row) error) error {
	s, err := t.prepared(ctx, q)
	if err != nil {
		return err
	}
	rows, err := s.QueryContext(ctx, args...)
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

// errRow is a Row whose Scan reports a preparation error.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (t *txn) NextIDs(ctx context.Context, n int) ([]int64, error) {
	if t.nextID == 0 {
		var max sql.NullInt64
		if err := t.tx.QueryRowContext(ctx, "SELECT max(id) FROM devices").Scan(&max); err != nil {
			return nil, err
		}
		t.nextID = max.Int64 + 1
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = t.nextID
		t.nextID++
	}
	return ids, nil
}

// rowsPerInsert rows go in one INSERT; SQLite allows 32766 parameters.
const rowsPerInsert = 64

func (t *txn) InsertDevices(ctx context.Context, ds []*inventory.Device) error {
	rows, err := sqldb.DeviceRows(ds)
	if err != nil {
		return err
	}
	return t.InsertDeviceRows(ctx, rows)
}

// InsertDeviceRows inserts rows of sqldb.DeviceArgs (sqldb.RowInserter).
func (t *txn) InsertDeviceRows(ctx context.Context, rows [][]any) error {
	cols := sqldb.DeviceColumns()
	for len(rows) > 0 {
		n := min(len(rows), rowsPerInsert)
		st, keep, err := t.insertStmt(ctx, rows[:n], cols)
		if err != nil {
			return err
		}
		t.args = t.args[:0]
		for _, a := range rows[:n] {
			if keep == nil {
				t.args = append(t.args, a...)
				continue
			}
			for _, c := range keep {
				t.args = append(t.args, a[c])
			}
		}
		if _, err := st.ExecContext(ctx, t.args...); err != nil {
			return fmt.Errorf("insert devices: %w", err)
		}
		rows = rows[n:]
	}
	return nil
}

// Columns an import often leaves at their default for every device of an
// INSERT (the file has no such column, or sensors fill it later), with
// that default as DeviceArgs gives it. A full INSERT whose rows all hold a
// column's default leaves the column out: binding is about a third of a
// bulk insert's time in pure-Go SQLite (each value copied into C memory,
// each bind taking the connection's mutex), so fewer columns bind less.
var defaultColumns = map[string]func(any) bool{
	"udi_di": isEmptyText, "zone": isEmptyText, "os": isEmptyText, "end_of_life": isEmptyText,
	"first_seen": isEmptyText, "last_seen": isEmptyText, "location": isEmptyText, "hostname": isEmptyText,
	"observed":          func(v any) bool { s, ok := v.(string); return ok && s == "{}" },
	"patient_connected": isNull, "phi": isNull, "asset_id": isNull,
}

func isEmptyText(v any) bool { s, ok := v.(string); return ok && s == "" }

func isNull(v any) bool {
	if v == nil {
		return true
	}
	nb, ok := v.(sql.NullBool)
	return ok && !nb.Valid
}

// maxOmitShapes bounds the statements prepared per transaction for
// different sets of left-out columns (past it, every column is bound).
const maxOmitShapes = 8

// insertStmt returns the INSERT for rows and, when it leaves columns at
// their default, the positions of the columns it binds (nil: all).
func (t *txn) insertStmt(ctx context.Context, rows [][]any, cols []string) (*sql.Stmt, []int, error) {
	if len(rows) == rowsPerInsert {
		var omit uint64
		for c, name := range cols {
			isDefault := defaultColumns[name]
			if isDefault == nil {
				continue
			}
			all := true
			for _, r := range rows {
				if !isDefault(r[c]) {
					all = false
					break
				}
			}
			if all {
				omit |= 1 << c
			}
		}
		if omit != 0 {
			if o, ok := t.omitted[omit]; ok {
				return o.st, o.keep, nil
			}
			if len(t.omitted) < maxOmitShapes {
				var keep []int
				var names []string
				for c, name := range cols {
					if omit&(1<<c) == 0 {
						keep = append(keep, c)
						names = append(names, name)
					}
				}
				st, err := t.tx.PrepareContext(ctx, insertSQL(names, len(rows)))
				if err != nil {
					return nil, nil, err
				}
				if t.omitted == nil {
					t.omitted = map[uint64]omittedInsert{}
				}
				t.omitted[omit] = omittedInsert{st: st, keep: keep}
				return st, keep, nil
			}
		}
	}
	st, err := t.stmt(ctx, len(rows), cols)
	return st, nil, err
}

// omittedInsert is a full INSERT that leaves some columns at their default.
type omittedInsert struct {
	st   *sql.Stmt
	keep []int // positions (in DeviceColumns) of the columns it binds
}

// insertSQL is the multi-row INSERT of cols, n rows, with "?" parameters
// (modernc binds "$n" by looking each name up, which is quadratic in the
// parameter count of a multi-row INSERT).
func insertSQL(cols []string, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO devices (" + strings.Join(cols, ", ") + ") VALUES ")
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
		}
		b.WriteString(")")
	}
	return b.String()
}

func (t *txn) stmt(ctx context.Context, rows int, cols []string) (*sql.Stmt, error) {
	if s, ok := t.stmts[rows]; ok {
		return s, nil
	}
	prep := t.tx.PrepareContext
	if rows == 1 { // one device created through the API: every group commit
		prep = t.prepare
	}
	s, err := prep(ctx, insertSQL(cols, rows))
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = map[int]*sql.Stmt{}
	}
	t.stmts[rows] = s
	return s, nil
}

// IndexCatalog lists the devices indexes created by CREATE INDEX (the
// UNIQUE constraint's automatic index has no SQL and stays).
func (Dialect) IndexCatalog() string {
	return `SELECT coalesce(json_group_array(json_array(name, sql)), '[]') FROM sqlite_schema
		WHERE type = 'index' AND tbl_name = 'devices' AND sql IS NOT NULL`
}

// BeforeIndexBuild: SQLite sorts in memory already (temp_store=MEMORY).
func (Dialect) BeforeIndexBuild() string { return "" }

// Analyze: none. A full ANALYZE of a million devices costs about as much
// CPU as rebuilding three indexes, and a sampled one (analysis_limit) gave
// row estimates off by 100x that made the planner pick a filter index plus
// a sort over a (filter, sort) composite; without statistics SQLite prefers
// the index that also serves the ORDER BY, which is what the device lists
// need (docs/benchmarks/inventory.md).
func (Dialect) Analyze() string { return "" }
