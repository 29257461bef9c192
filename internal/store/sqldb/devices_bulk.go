package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// Bulk loads. Maintaining every secondary index of the devices table row by
// row costs one B-tree descent per index per row, in random key order; a
// large load is much cheaper when those indexes are dropped inside the
// import transaction and rebuilt from sorted keys just before it commits.
// Both databases run DDL transactionally, so a failed, cancelled or killed
// import leaves the old indexes (and rows) exactly as they were.
//
// An import switches to this mode once the devices it has inserted reach
// the number the store held before it (so always for an empty store) and
// at least bulkMinRows: from then on rebuilding costs less than maintaining.

// bulkMinRows is the smallest insert that drops the indexes.
const bulkMinRows = 500

// IndexDef is one droppable secondary index of the devices table.
type IndexDef struct {
	Name, DDL string
}

// bulkState tracks one import transaction's index handling.
type bulkState struct {
	checked  bool  // existing counted
	existing int64 // devices before the import
	inserted int64 // devices this import inserted so far
	dropped  []IndexDef
	deferred bool // the rebuild is left for after the commit (index_builds.go)
}

// beforeInsert drops the secondary indexes when the import has become a
// bulk load; n devices are about to be inserted.
func (t *importTx) beforeInsert(ctx context.Context, n int) error {
	b := &t.bulk
	b.inserted += int64(n)
	if b.dropped != nil || b.inserted < bulkMinRows {
		return nil // single creates never pay for the count below
	}
	if !b.checked {
		b.checked = true
		var now int64
		if err := t.tx.QueryRow(ctx, "SELECT count(*) FROM devices").Scan(&now); err != nil {
			return fmt.Errorf("count devices: %w", err)
		}
		b.existing = now - (b.inserted - int64(n)) // minus what this import already added
	}
	if b.inserted < b.existing {
		return nil
	}
	var js string
	if err := t.tx.QueryRow(ctx, t.dialect.IndexCatalog()).Scan(&js); err != nil {
		return fmt.Errorf("list device indexes: %w", err)
	}
	var pairs [][2]string
	if err := json.Unmarshal([]byte(js), &pairs); err != nil {
		return fmt.Errorf("list device indexes: %w", err)
	}
	b.dropped = make([]IndexDef, 0, len(pairs))
	for _, p := range pairs {
		if err := t.tx.Exec(ctx, "DROP INDEX "+quoteIdent(p[0])); err != nil {
			return fmt.Errorf("bulk load: drop index %s: %w", p[0], err)
		}
		b.dropped = append(b.dropped, IndexDef{Name: p[0], DDL: p[1]})
	}
	return t.searchBulkStart(ctx) // search.go
}

// finish rebuilds the indexes a bulk load dropped and refreshes the
// planner's statistics, still inside the import transaction.
func (t *importTx) finish(ctx context.Context) error {
	if t.bulk.dropped == nil {
		return nil
	}
	if t.bulk.inserted >= deferMinRows {
		return t.deferBuilds(ctx) // index_builds.go
	}
	if pre := t.dialect.BeforeIndexBuild(); pre != "" {
		if err := t.tx.Exec(ctx, pre); err != nil {
			return fmt.Errorf("bulk load: %w", err)
		}
	}
	for _, ix := range t.bulk.dropped {
		if err := t.tx.Exec(ctx, ix.DDL); err != nil {
			return fmt.Errorf("bulk load: rebuild index %s: %w", ix.Name, err)
		}
	}
	if err := t.searchBulkFinish(ctx); err != nil { // search.go
		return err
	}
	if q := t.dialect.Analyze(); q != "" {
		if err := t.tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("bulk load: analyze devices: %w", err)
		}
	}
	return nil
}

// afterBulkLoad runs after a bulk load committed. On PostgreSQL it
// vacuums the devices table: rows fresh from COPY have no hint bits and
// the table no visibility map, so until a vacuum every index-only scan
// reads the heap, and the first query over them also writes the hint
// bits (200,000 devices: an end-of-support count 379 ms on first run,
// 45 ms on the third, 7-13 ms after VACUUM, which took 0.13 s; the
// statistics are already fresh: finish ran ANALYZE). The import has
// committed, so a failed vacuum is not its failure: autovacuum does the
// same later.
func (s *DB) afterBulkLoad(ctx context.Context) {
	if s.dialect.Name() == "postgres" {
		s.SQL.ExecContext(ctx, "VACUUM devices") //nolint:errcheck // see above
	}
}

// quoteIdent double-quotes an SQL identifier (names come from the catalog).
func quoteIdent(s string) string {
	q := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			q = append(q, '"')
		}
		q = append(q, s[i])
	}
	return string(append(q, '"'))
}

// GetMany reads the devices with the given ids in one query. A re-import
// matches most records to stored devices; reading them one point query at
// a time was most of its cost (docs/benchmarks/inventory.md).
func (t *importTx) GetMany(ctx context.Context, ids []int64) (map[int64]*inventory.Device, error) {
	return getMany(ctx, t.tx, t.dialect, ids)
}

// GetManyAsync runs GetMany on the transaction's second goroutine (pipeTx)
// so that the importer decodes the next records meanwhile.
func (t *importTx) GetManyAsync(ctx context.Context, ids []int64) func() (map[int64]*inventory.Device, error) {
	p, ok := t.tx.(*pipeTx)
	if !ok {
		m, err := t.GetMany(ctx, ids)
		return func() (map[int64]*inventory.Device, error) { return m, err }
	}
	ids = slices.Clone(ids)
	var m map[int64]*inventory.Device
	if err := p.start(func(tx Tx) (err error) {
		m, err = getMany(ctx, tx, t.dialect, ids)
		return err
	}); err != nil {
		return func() (map[int64]*inventory.Device, error) { return nil, err }
	}
	return func() (map[int64]*inventory.Device, error) {
		if err := p.wait(); err != nil {
			return nil, err
		}
		return m, nil
	}
}

func getMany(ctx context.Context, tx Tx, d Dialect, ids []int64) (map[int64]*inventory.Device, error) {
	out := make(map[int64]*inventory.Device, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ids = slices.Clone(ids)
	slices.Sort(ids) // primary-key order: neighbouring pages
	cond, arg := idsCondition(d.Name(), ids)
	q := selectDevice + " WHERE " + cond
	err := tx.Query(ctx, q, []any{arg}, func(r Row) error {
		d, err := scanDevice(r)
		if err != nil {
			return err
		}
		out[d.ID] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %d devices: %w", len(ids), err)
	}
	return out, nil
}

// pipeTx overlaps an import's bulk inserts with its decoding and merging:
// InsertDevices of a batch of devices returns at once and runs on a second
// goroutine, while the importer decodes the next batch. Every other use of
// the transaction (and the next batch) first waits for it, so the
// transaction is never used by two goroutines at once and the statements
// run in the order they were issued. An insert's error is returned by the
// next call (or by wait).
type pipeTx struct {
	Tx
	done chan error
	busy bool
	err  error // the first error of a background insert
}

func newPipeTx(tx Tx) *pipeTx { return &pipeTx{Tx: tx, done: make(chan error, 1)} }

// wait returns once no insert is running, with the first error one had.
func (p *pipeTx) wait() error {
	if p.busy {
		p.busy = false
		if err := <-p.done; err != nil && p.err == nil {
			p.err = err
		}
	}
	return p.err
}

// start runs fn with the underlying transaction on the second goroutine,
// once the previous background call is done.
func (p *pipeTx) start(fn func(Tx) error) error {
	if err := p.wait(); err != nil {
		return err
	}
	p.busy = true
	go func() { p.done <- fn(p.Tx) }()
	return nil
}

func (p *pipeTx) InsertDevices(ctx context.Context, ds []*inventory.Device) error {
	if len(ds) == 1 { // single creates: the caller names the device in the error
		if err := p.wait(); err != nil {
			return err
		}
		return p.Tx.InsertDevices(ctx, ds)
	}
	ds = slices.Clone(ds) // the caller reuses its slice
	return p.start(func(tx Tx) error { return tx.InsertDevices(ctx, ds) })
}

// rowInserter reports whether the transaction takes rows of DeviceArgs.
func (p *pipeTx) rowInserter() bool {
	_, ok := p.Tx.(RowInserter)
	return ok
}

// insertRows inserts rows of DeviceArgs on the second goroutine, like
// InsertDevices; rows must not be used by the caller afterwards.
func (p *pipeTx) insertRows(ctx context.Context, rows [][]any) error {
	ri := p.Tx.(RowInserter)
	return p.start(func(Tx) error { return ri.InsertDeviceRows(ctx, rows) })
}

func (p *pipeTx) Exec(ctx context.Context, q string, args ...any) error {
	if err := p.wait(); err != nil {
		return err
	}
	return p.Tx.Exec(ctx, q, args...)
}

func (p *pipeTx) QueryRow(ctx context.Context, q string, args ...any) Row {
	if err := p.wait(); err != nil {
		return errRow{err}
	}
	return p.Tx.QueryRow(ctx, q, args...)
}

func (p *pipeTx) Query(ctx context.Context, q string, args []any, each func(Row) error) error {
	if err := p.wait(); err != nil {
		return err
	}
	return p.Tx.Query(ctx, q, args, each)
}

func (p *pipeTx) NextIDs(ctx context.Context, n int) ([]int64, error) {
	if err := p.wait(); err != nil {
		return nil, err
	}
	return p.Tx.NextIDs(ctx, n)
}

// errRow is a Row whose Scan reports err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// Identity catch-up. The importer reads the identities of every stored
// device before its transaction (a full scan, about a second at 1,000,000
// devices, that other writers need not wait for); inside the transaction,
// with other writers kept out, it reads only the devices written since
// (IdentitiesSince), and the number of devices, which shows deletions.
//
// SQLite: writers are serialised and stamp updated_at (store.Now) while
// they hold the write lock, so a write committed after the mark was read
// carries a stamp no earlier than any stamp the mark saw. The mark is the
// latest updated_at cut to the second ("2026-11-28T21:00:05"): every stamp
// of that second or later compares >= to it as text whatever its fraction
// (RFC 3339 with trimmed zeros does not sort as text within a second), and
// the clock may step back by up to a second.
//
// PostgreSQL: writers run concurrently and stamp updated_at in any order,
// so the mark is the oldest transaction id still running when it is taken
// (pg_snapshot_xmin): every row version written by a transaction that
// commits after the mark has an xmin (its transaction's or a
// subtransaction's id) at or after it, that is age(xmin) <= (this
// transaction's id) - mark once this transaction has an id (age counts
// from it). That is exact for any row version less than 2^31 transactions
// old; older rows may be reported too (age of a frozen row's old xmin
// wraps), as may rows of transactions that committed before the mark:
// reading a device again is harmless. At 1,000,000 devices the query takes
// 0.26 s (widening xmin through text instead took 1.8 s).

// sqliteMarkLen is the length of "2006-01-02T15:04:05".
const sqliteMarkLen = 19

// IdentityMark marks the present for IdentitiesSince (see above).
func (s *DB) IdentityMark(ctx context.Context) (store.IdentityMark, error) {
	q := sqliteMarkSQL
	if s.dialect.Name() == "postgres" {
		q = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text"
	}
	var m string
	if err := s.SQL.QueryRowContext(ctx, q).Scan(&m); err != nil {
		return "", fmt.Errorf("identity mark: %w", err)
	}
	if s.dialect.Name() != "postgres" {
		m = sqliteMark(m)
	}
	return store.IdentityMark(m), nil
}

// sqliteMarkSQL reads the latest stamp, which sqliteMark cuts to the
// second (SQLite's mark, see above).
const sqliteMarkSQL = "SELECT coalesce(max(updated_at), '') FROM devices"

func sqliteMark(stamp string) string { return stamp[:min(len(stamp), sqliteMarkLen)] }

// IdentitiesSince: see store.ImportTx and the comment above.
func (t *importTx) IdentitiesSince(ctx context.Context, mark store.IdentityMark, fn func(*inventory.Device) error) (int64, error) {
	q, arg := "SELECT "+identityColumns+" FROM devices WHERE updated_at >= $1", any(string(mark))
	if t.dialect.Name() == "postgres" {
		if err := t.tx.Exec(ctx, "LOCK TABLE devices IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return 0, fmt.Errorf("lock devices: %w", err)
		}
		xmin, err := strconv.ParseInt(string(mark), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("identity mark %q: %w", mark, err)
		}
		var cur int64 // this transaction's id, assigned before age() first runs
		if err := t.tx.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint").Scan(&cur); err != nil {
			return 0, fmt.Errorf("transaction id: %w", err)
		}
		q, arg = "SELECT "+identityColumns+" FROM devices WHERE age(xmin) <= $1", cur-xmin
	}
	if err := t.tx.Query(ctx, q, []any{arg}, func(r Row) error {
		d, err := scanIdentity(r)
		if err != nil {
			return err
		}
		return fn(d)
	}); err != nil {
		return 0, fmt.Errorf("devices written since the identity scan: %w", err)
	}
	var n int64
	if err := t.tx.QueryRow(ctx, "SELECT count(*) FROM devices").Scan(&n); err != nil {
		return 0, fmt.Errorf("count devices: %w", err)
	}
	return n, nil
}

// ScanIdentities streams identity fields of every device, in id order.
func (t *importTx) ScanIdentities(ctx context.Context, fn func(*inventory.Device) error) error {
	return t.tx.Query(ctx, "SELECT "+identityColumns+" FROM devices ORDER BY id", nil, func(r Row) error {
		d, err := scanIdentity(r)
		if err != nil {
			return err
		}
		return fn(d)
	})
}
