package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// DB implements store.Store over database/sql.
type DB struct {
	SQL         *sql.DB
	dialect     Dialect
	searchTable bool         // the search index of migration 0010 exists (search.go)
	trigrams    trigramStats // how common each searched trigram is (search.go)
	search      searchCache  // exact sets of searched texts (search_cache.go)
	devices     deviceCache  // decoded devices of recent list pages (device_cache.go)

	writes groupCommit // audited device writes (device_writes.go)
	builds indexBuilds // deferred index builds (index_builds.go)
}

var _ store.Store = (*DB)(nil)

// New wraps an open database and migrates it to the current schema.
func New(ctx context.Context, db *sql.DB, d Dialect) (*DB, error) {
	s := &DB{SQL: db, dialect: d}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	ok, err := hasSearchIndex(ctx, db, d.Name())
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	s.searchTable = ok
	if ok && d.Name() == "sqlite" {
		if err := setSearchAutomerge(ctx, db); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Dialect returns "sqlite" or "postgres".
func (s *DB) Dialect() string { return s.dialect.Name() }

// Close closes the database.
func (s *DB) Close() error {
	s.closeSearchCache() // search_cache.go
	return s.SQL.Close()
}

// Ping checks the database answers.
func (s *DB) Ping(ctx context.Context) error {
	var one int
	return s.SQL.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

func (s *DB) migrate(ctx context.Context) error {
	ms, err := store.Migrations(s.dialect.Name())
	if err != nil {
		return err
	}
	if _, err := s.SQL.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := s.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (s *DB) apply(ctx context.Context, m store.Migration) error {
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if err := s.dialect.Lock(ctx, tx); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = $1", m.Version).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)",
		m.Version, m.Name, store.Now().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	return tx.Commit()
}

// SchemaVersion returns the highest applied migration.
func (s *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.SQL.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}

// GetDevice returns one device by id.
// A cached prepared statement (queryCached): preparing the statement for
// each call was most of its cost (0.08 of 0.13 CPU-ms per call under
// bench/load.lua's PUT-only load, which reads each device first).
func (s *DB) GetDevice(ctx context.Context, id int64) (*inventory.Device, error) {
	rows, err := s.queryCached(ctx, selectDevice+" WHERE id = $1", []any{id})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("device %d: %w", id, store.ErrNotFound)
	}
	d, err := scanDevice(rows)
	if err != nil {
		return nil, err
	}
	return d, rows.Close()
}

// GetDeviceByAssetID returns one device by its asset id.
func (s *DB) GetDeviceByAssetID(ctx context.Context, assetID string) (*inventory.Device, error) {
	d, err := scanDevice(s.SQL.QueryRowContext(ctx, selectDevice+" WHERE asset_id = $1", assetID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("device %q: %w", assetID, store.ErrNotFound)
	}
	return d, err
}

// CountDevices counts all devices.
func (s *DB) CountDevices(ctx context.Context) (int64, error) {
	var n int64
	err := s.SQL.QueryRowContext(ctx, "SELECT count(*) FROM devices").Scan(&n)
	return n, err
}

var updateDevice = func() string {
	var sets []string
	for i, c := range deviceColumns {
		sets = append(sets, fmt.Sprintf("%s = $%d", c, i+2))
	}
	return "UPDATE devices SET " + strings.Join(sets, ", ") + " WHERE id = $1"
}()

// CreateDevice inserts a device.
func (s *DB) CreateDevice(ctx context.Context, d *inventory.Device) error {
	return s.Import(ctx, func(tx store.ImportTx) error {
		return tx.Insert(ctx, []*inventory.Device{d})
	})
}

// UpdateDevice writes d when the stored revision matches ifRevision (0: any).
func (s *DB) UpdateDevice(ctx context.Context, d *inventory.Device, ifRevision int64) error {
	err := s.dialect.Import(ctx, s.SQL, func(tx Tx) error {
		var rev int64
		if err := tx.QueryRow(ctx, "SELECT revision FROM devices WHERE id = $1", d.ID).Scan(&rev); err != nil {
			if errors.Is(err, sql.ErrNoRows) || isNoRows(err) {
				return fmt.Errorf("device %d: %w", d.ID, store.ErrNotFound)
			}
			return err
		}
		if ifRevision != 0 && rev != ifRevision {
			return fmt.Errorf("device %d is at revision %d, not %d: %w", d.ID, rev, ifRevision, store.ErrConflict)
		}
		d.Revision = rev
		return updateIn(ctx, tx, d)
	})
	if err == nil {
		s.searchWritten(d.ID) // search_cache.go
	}
	return err
}

func updateIn(ctx context.Context, tx Tx, d *inventory.Device) error {
	d.Revision++
	d.UpdatedAt = store.Now()
	args, err := DeviceArgs(d)
	if err != nil {
		return err
	}
	if err := tx.Exec(ctx, updateDevice, args...); err != nil {
		return uniqueErr(d, err)
	}
	return nil
}

func uniqueErr(d *inventory.Device, err error) error {
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "unique") || strings.Contains(msg, "duplicate key") {
		return fmt.Errorf("asset id %q: %w", d.AssetID, store.ErrExists)
	}
	return err
}

// updateChanged is updateIn for a device whose stored version old was
// read in the same transaction: it sets only the columns whose stored
// value changes, and revision and updated_at. SQLite rewrites the entries
// of every index on a column the SET list names, and the search trigger
// (migration 0010) re-indexes the device when the list names a searched
// column, whether or not the value changed: setting all 28 columns
// rewrote all the devices indexes for every edit.
func updateChanged(ctx context.Context, tx Tx, old, d *inventory.Device) error {
	d.Revision++
	d.UpdatedAt = store.Now()
	args, err := DeviceArgs(d)
	if err != nil {
		return err
	}
	was, err := DeviceArgs(old)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("UPDATE devices SET ")
	vals := []any{d.ID}
	for i, c := range deviceColumns {
		v := args[i+1]
		if c != "revision" && c != "updated_at" && v == was[i+1] {
			continue
		}
		if len(vals) > 1 {
			b.WriteString(", ")
		}
		vals = append(vals, v)
		b.WriteString(c + " = $" + strconv.Itoa(len(vals)))
	}
	b.WriteString(" WHERE id = $1")
	if err := tx.Exec(ctx, b.String(), vals...); err != nil {
		return uniqueErr(d, err)
	}
	return nil
}

// DeleteDevice removes a device when its revision matches (0: any).
func (s *DB) DeleteDevice(ctx context.Context, id int64, ifRevision int64) error {
	q, args := "DELETE FROM devices WHERE id = $1", []any{id}
	if ifRevision != 0 {
		q, args = q+" AND revision = $2", append(args, ifRevision)
	}
	res, err := s.SQL.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.GetDevice(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("device %d is not at revision %d: %w", id, ifRevision, store.ErrConflict)
	}
	s.devices.forget(id) // device_cache.go
	return nil
}

// identityColumns are the columns ScanIdentities reads.
const identityColumns = "id, asset_id, udi_di, vendor, serial, macs"

// scanIdentity reads one row of identityColumns into a new device.
func scanIdentity(r Row) (*inventory.Device, error) {
	d := new(inventory.Device)
	var asset sql.NullString
	var macs string
	if err := r.Scan(&d.ID, &asset, &d.UDIDI, &d.Vendor, &d.Serial, &macs); err != nil {
		return nil, err
	}
	d.AssetID, d.MACs = asset.String, splitAddrs(macs)
	return d, nil
}

// ScanIdentities streams identity fields of every device.
func (s *DB) ScanIdentities(ctx context.Context, fn func(*inventory.Device) error) error {
	rows, err := s.SQL.QueryContext(ctx, "SELECT "+identityColumns+" FROM devices ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanIdentity(rows)
		if err != nil {
			return err
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ScanDevices streams every device in id order.
func (s *DB) ScanDevices(ctx context.Context, fn func(*inventory.Device) error) error {
	rows, err := s.SQL.QueryContext(ctx, selectDevice+" ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return err
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Import runs fn in one transaction.
func (s *DB) Import(ctx context.Context, fn func(store.ImportTx) error) error {
	var bulk, deferred bool
	var written []int64 // devices inserted or updated, unless overflow
	var overflow bool
	err := s.dialect.Import(ctx, s.SQL, func(tx Tx) error {
		pt := newPipeTx(tx) // devices_bulk.go: inserts overlap decoding
		it := &importTx{tx: pt, dialect: s.dialect}
		err := fn(it)
		if werr := pt.wait(); err == nil {
			err = werr
		}
		if err != nil {
			return err
		}
		written, overflow = it.written, it.overflow
		if err := it.finish(ctx); err != nil {
			return err
		}
		bulk, deferred = it.bulk.dropped != nil, it.bulk.deferred
		return nil
	})
	if err == nil && bulk && !deferred { // deferred: the last build step vacuums
		s.afterBulkLoad(ctx) // devices_bulk.go
	}
	if err == nil { // search_cache.go
		if bulk || overflow {
			s.searchReset()
		} else {
			s.searchWritten(written...)
		}
	}
	return err
}

type importTx struct {
	tx      Tx
	dialect Dialect
	bulk    bulkState
	search  searchBulk // search.go
	// written lists the devices inserted or updated (for the search
	// cache, after commit); overflow once they passed searchPendingMax.
	written  []int64
	overflow bool
}

func (t *importTx) Get(ctx context.Context, id int64) (*inventory.Device, error) {
	d, err := scanDevice(t.tx.QueryRow(ctx, selectDevice+" WHERE id = $1", id))
	if err != nil && (errors.Is(err, sql.ErrNoRows) || isNoRows(err)) {
		return nil, fmt.Errorf("device %d: %w", id, store.ErrNotFound)
	}
	return d, err
}

func (t *importTx) Insert(ctx context.Context, ds []*inventory.Device) error {
	if len(ds) == 0 {
		return nil
	}
	if err := t.beforeInsert(ctx, len(ds)); err != nil {
		return err
	}
	now := store.Now()
	for _, d := range ds {
		d.Revision = 1
		if d.CreatedAt.IsZero() {
			d.CreatedAt = now
		}
		d.UpdatedAt = now
	}
	// A batch's rows are built before NextIDs, which waits for the
	// previous batch's insert: built after it, the insert goroutine would
	// idle meanwhile (a third of a bulk insert's CPU is building rows).
	p, pipelined := t.tx.(*pipeTx)
	var rows [][]any
	if pipelined && len(ds) > 1 && p.rowInserter() {
		var err error
		if rows, err = DeviceRows(ds); err != nil {
			return err
		}
	}
	ids, err := t.tx.NextIDs(ctx, len(ds))
	if err != nil {
		return fmt.Errorf("reserve device ids: %w", err)
	}
	for i, d := range ds {
		d.ID = ids[i]
		if rows != nil {
			rows[i][0] = d.ID // DeviceArgs: id first
		}
	}
	if rows != nil {
		err = p.insertRows(ctx, rows)
	} else {
		err = t.tx.InsertDevices(ctx, ds)
	}
	if err != nil {
		if len(ds) == 1 {
			return uniqueErr(ds[0], err)
		}
		return err
	}
	for _, d := range ds {
		t.noteWritten(d.ID)
	}
	return nil
}

// InsertBatch: see store.ImportTx. Measured on a 1,000,000-device
// import (docs/benchmarks/inventory.md, session 7): PostgreSQL 19.3 s at
// 2,000 devices per COPY, 16.5 s at 8,000, 18.6 s at 16,000 (each COPY
// ends with a round trip the server idles through); SQLite 14.6 s at
// 2,000, 17.0 s at 8,000.
func (t *importTx) InsertBatch() int {
	if t.dialect.Name() == "postgres" {
		return 8000
	}
	return 2000
}

func (t *importTx) Update(ctx context.Context, d *inventory.Device) error {
	if err := updateIn(ctx, t.tx, d); err != nil {
		return err
	}
	t.noteWritten(d.ID)
	return nil
}

// noteWritten records a written device for the search cache (Import).
func (t *importTx) noteWritten(id int64) {
	if t.written == nil && t.overflow {
		return
	}
	if len(t.written) >= searchPendingMax {
		t.written, t.overflow = nil, true
		return
	}
	t.written = append(t.written, id)
}

// isNoRows recognises pgx's ErrNoRows without importing pgx here.
func isNoRows(err error) bool {
	return err != nil && err.Error() == "no rows in result set"
}
