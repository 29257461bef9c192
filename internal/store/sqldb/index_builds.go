package sqldb

// Deferred index builds. A bulk load drops the devices table's secondary
// indexes (and, on SQLite, the search index's triggers) inside its
// transaction (devices_bulk.go). A small one builds them again before it
// commits. A large one (at least deferMinRows inserted devices) instead
// records each dropped index in deferred_index_builds, in the same
// transaction, and commits without them; BuildIndexes then builds them one
// transaction each. Rebuilding the 23 list indexes and the search index of
// 1,000,000 devices is most of a large import's time (about 80 % on
// SQLite, docs/benchmarks/inventory.md), so the devices are committed,
// durable and readable that much sooner.
//
// While a build is pending every answer is the same as with the index,
// only slower: a list the missing index would serve scans the table
// (SQL's answer does not depend on indexes), and a search skips the
// SQLite search index, which the dropped triggers no longer keep current
// (ftsPending), and checks every device instead. PostgreSQL's search
// index is an ordinary index: its queries only lose speed.
//
// Crash safety: the rows are written and deleted in the transactions that
// drop and build the indexes, so after any crash the table names exactly
// what is missing, and the next BuildIndexes (the next `medwarden import`
// or `serve`) builds it. Several builders may run at once (two processes):
// each takes a step's row inside the step's transaction (SQLite: the write
// lock; PostgreSQL: FOR UPDATE) and skips it when another built it first.
// The one exception is PostgreSQL's trigram index, built CONCURRENTLY
// outside a transaction (buildConcurrently says how it stays safe).

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

// deferMinRows is the smallest bulk load whose index builds are deferred
// past its commit; smaller ones rebuild inside their transaction (a
// variable for tests). At 100,000 devices the builds take about 10 s on a
// 2-core VM (docs/benchmarks/inventory.md), which an import may wait for.
var deferMinRows int64 = 100_000

// Steps of deferred_index_builds (migration 0017).
const (
	buildIndex   = "index"
	buildTrigger = "trigger"
	buildSearch  = "search"
	buildMerge   = "merge"
	buildAnalyze = "analyze"
)

// Build order (seq): the updated_at index first (the findings watcher and
// the search cache read it after every write), then the other list
// indexes, the search index (SQLite's FTS5 fill and merge; PostgreSQL's
// GIN trigram index, built CONCURRENTLY), and the planner statistics last.
const (
	seqFirst   = 0
	seqIndex   = 1
	seqSearch  = 1000
	seqMerge   = 1500
	seqAnalyze = 2000
)

// afterBuildTx, when set (tests), runs after each transaction of
// BuildIndexes, with the step's name.
var afterBuildTx func(step string)

// statisticsStep names the planner-statistics step (PostgreSQL);
// mergeStep the merge of the SQLite search index's segments.
const (
	statisticsStep = "devices statistics"
	mergeStep      = "devices_search merge"
)

// insertDeferred records one deferred step; a step already recorded (an
// earlier import's, not built yet) is kept.
const insertDeferred = `INSERT INTO deferred_index_builds (name, kind, ddl, seq) VALUES ($1, $2, $3, $4)
	ON CONFLICT (name) DO NOTHING`

// deferBuilds records the indexes (and search triggers) this bulk load
// dropped instead of building them before its commit.
func (t *importTx) deferBuilds(ctx context.Context) error {
	for i, ix := range t.bulk.dropped {
		seq := seqIndex + i
		switch ix.Name {
		case "devices_updated":
			seq = seqFirst
		case "devices_search": // PostgreSQL's GIN, built concurrently after the B-trees
			seq = seqSearch
		}
		if err := t.tx.Exec(ctx, insertDeferred, ix.Name, buildIndex, ix.DDL, seq); err != nil {
			return fmt.Errorf("bulk load: defer index %s: %w", ix.Name, err)
		}
	}
	if t.search.dropped && len(t.search.triggers) > 0 {
		for i, tr := range t.search.triggers {
			if err := t.tx.Exec(ctx, insertDeferred, tr[0], buildTrigger, tr[1], seqSearch+1+i); err != nil {
				return fmt.Errorf("bulk load: defer trigger %s: %w", tr[0], err)
			}
		}
		if err := t.tx.Exec(ctx, insertDeferred, "devices_search", buildSearch, "", seqSearch); err != nil {
			return fmt.Errorf("bulk load: defer search index: %w", err)
		}
		t.search = searchBulk{}
	}
	if t.dialect.Analyze() != "" {
		if err := t.tx.Exec(ctx, insertDeferred, statisticsStep, buildAnalyze, "", seqAnalyze); err != nil {
			return fmt.Errorf("bulk load: defer statistics: %w", err)
		}
	}
	t.bulk.deferred = true
	return nil
}

// indexBuilds serialises BuildIndexes within one process (other processes
// are kept out per step, see above).
type indexBuilds struct{ sync.Mutex }

// PendingIndexes: see store.DeviceStore.
func (s *DB) PendingIndexes(ctx context.Context) ([]string, error) {
	var names []string
	rows, err := s.SQL.QueryContext(ctx, "SELECT name FROM deferred_index_builds WHERE kind <> $1 ORDER BY seq, name", buildTrigger)
	if err != nil {
		return nil, fmt.Errorf("pending index builds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("pending index builds: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending index builds: %w", err)
	}
	return names, nil
}

// BuildIndexes: see store.DeviceStore and the comment above. On
// PostgreSQL two steps run at once, on two connections (CREATE INDEX
// takes a lock that lets other index builds and readers through, but not
// writers: each B-tree holds device writes for a few seconds). The GIN
// trigram index, a single-threaded build as long as all the B-trees
// together, comes after them and is built CONCURRENTLY (buildConcurrently),
// so device writes go on while it runs. SQLite builds one at a time (one
// writer).
func (s *DB) BuildIndexes(ctx context.Context, progress func(store.IndexBuild)) error {
	s.builds.Lock()
	defer s.builds.Unlock()
	workers := 1
	if s.dialect.Name() == "postgres" {
		workers = 2
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		claimed = map[string]bool{}
		began   = map[string]time.Time{} // a step's first transaction (steps of several)
		first   error
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
		cancel()
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				pending, err := s.PendingIndexes(ctx)
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				name := ""
				for _, p := range pending {
					if !claimed[p] {
						name = p
						break
					}
				}
				// The statistics step comes last: left to whichever
				// worker finishes the last index.
				if name == "" || name == statisticsStep && len(claimed) > 0 {
					mu.Unlock()
					return
				}
				claimed[name] = true
				if _, ok := began[name]; !ok {
					began[name] = time.Now()
				}
				start := began[name]
				mu.Unlock()
				kind, err := s.buildStep(ctx, name)
				if err != nil {
					fail(fmt.Errorf("build %s: %w", name, err))
					return
				}
				if afterBuildTx != nil {
					afterBuildTx(name)
				}
				if kind == buildSearch {
					s.searchReset() // search_cache.go: entries built without the index
					s.trigrams.mu.Lock()
					s.trigrams.n = nil // estimates of the index as it was
					s.trigrams.mu.Unlock()
				}
				left := 0
				if progress != nil && kind != "" {
					// Counted even when the run is being stopped: every
					// step done is reported.
					rest, err := s.PendingIndexes(context.WithoutCancel(ctx))
					if err != nil {
						fail(err)
						return
					}
					left = len(rest)
				}
				mu.Lock()
				delete(claimed, name)
				if kind != "" {
					delete(began, name)
				}
				if progress != nil && kind != "" {
					label := name
					switch kind {
					case buildSearch:
						label = "search index"
					case buildAnalyze:
						label = "statistics"
					case buildMerge:
						label = "search index merge"
					}
					progress(store.IndexBuild{Name: label, Took: time.Since(start), Left: left})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// buildStep builds the step name in its own transaction and returns its
// kind ("" when another builder did it first).
func (s *DB) buildStep(ctx context.Context, name string) (kind string, err error) {
	var ddl string
	if err := s.SQL.QueryRowContext(ctx, "SELECT kind, ddl FROM deferred_index_builds WHERE name = $1", name).Scan(&kind, &ddl); err != nil {
		if errors.Is(err, sql.ErrNoRows) || isNoRows(err) {
			return "", nil
		}
		return "", err
	}
	if kind == buildIndex && s.dialect.Name() == "postgres" && concurrentDDL(ddl) != "" {
		built, err := s.buildConcurrently(ctx, name, ddl)
		if err != nil || !built {
			return "", err
		}
		return kind, nil
	}
	if kind == buildAnalyze {
		// PostgreSQL: VACUUM cannot run in a transaction. It sets the
		// visibility map of the freshly copied rows (index-only scans
		// read the heap until then; afterBulkLoad) and ANALYZE gathers
		// the statistics of the indexes' expressions, now they exist.
		// Done twice by two builders, it is only done twice.
		if _, err := s.SQL.ExecContext(ctx, "VACUUM (ANALYZE) devices"); err != nil {
			return "", err
		}
		_, err := s.SQL.ExecContext(ctx, "DELETE FROM deferred_index_builds WHERE name = $1", name)
		return kind, err
	}
	done, more := false, false // done: the transaction did the step's work (all of it unless more)
	err = s.dialect.Import(ctx, s.SQL, func(tx Tx) error {
		lock := ""
		if s.dialect.Name() == "postgres" {
			lock = " FOR UPDATE"
		}
		var ddl string
		if err := tx.QueryRow(ctx, "SELECT kind, ddl FROM deferred_index_builds WHERE name = $1"+lock, name).Scan(&kind, &ddl); err != nil {
			if errors.Is(err, sql.ErrNoRows) || isNoRows(err) {
				return nil // built by another process meanwhile
			}
			return err
		}
		switch kind {
		case buildIndex:
			if pre := s.dialect.BeforeIndexBuild(); pre != "" {
				if err := tx.Exec(ctx, pre); err != nil {
					return err
				}
			}
			if err := tx.Exec(ctx, ddl); err != nil {
				return err
			}
		case buildSearch:
			var err error
			if more, err = searchFillChunk(ctx, tx, name, ddl); err != nil || more {
				done = more
				return err // the row stays: the next call fills on
			}
			var triggers [][2]string
			if err := tx.Query(ctx, "SELECT name, ddl FROM deferred_index_builds WHERE kind = $1 ORDER BY seq, name", []any{buildTrigger}, func(r Row) error {
				var t [2]string
				if err := r.Scan(&t[0], &t[1]); err != nil {
					return err
				}
				triggers = append(triggers, t)
				return nil
			}); err != nil {
				return err
			}
			for _, t := range triggers {
				if err := tx.Exec(ctx, t[1]); err != nil {
					return fmt.Errorf("recreate trigger %s: %w", t[0], err)
				}
			}
			if err := tx.Exec(ctx, "DELETE FROM deferred_index_builds WHERE kind = $1", buildTrigger); err != nil {
				return err
			}
			// The fill left one segment per chunk: merged in steps of
			// their own (buildMerge), with the index in use meanwhile.
			if err := tx.Exec(ctx, "DELETE FROM deferred_index_builds WHERE name = $1", mergeStep); err != nil {
				return err // a merge left by an earlier fill starts over
			}
			if err := tx.Exec(ctx, insertDeferred, mergeStep, buildMerge, "", seqMerge); err != nil {
				return err
			}
		case buildMerge:
			var err error
			if more, err = searchMergeStep(ctx, tx, name, ddl); err != nil || more {
				done = more
				return err
			}
		default:
			return fmt.Errorf("unknown kind %q", kind)
		}
		done = true
		return tx.Exec(ctx, "DELETE FROM deferred_index_builds WHERE name = $1", name)
	})
	if err != nil || !done || more {
		return "", err // a chunk of a step is not reported
	}
	return kind, nil
}

// buildLockKey is the advisory lock of a concurrent build ($1: the step's
// key), per schema: stores in other schemas of the same database (tests)
// do not wait for each other.
const buildLockKey = "hashtext(current_schema() || ' ' || $1)"

// buildLockPoll is how often a builder asks again for a step another
// builder holds.
const buildLockPoll = 500 * time.Millisecond

// concurrentDDL returns the CREATE INDEX CONCURRENTLY IF NOT EXISTS form
// of a PostgreSQL GIN index's definition (pg_indexes.indexdef), or "" for
// any other index: those are built in a transaction, which blocks device
// writes for the few seconds a B-tree takes, where the trigram index
// takes about a minute at 1,000,000 devices.
func concurrentDDL(ddl string) string {
	const plain = "CREATE INDEX "
	if !strings.HasPrefix(ddl, plain) || !strings.Contains(ddl, " USING gin ") {
		return ""
	}
	return "CREATE INDEX CONCURRENTLY IF NOT EXISTS " + ddl[len(plain):]
}

// buildConcurrently builds the PostgreSQL index name with CREATE INDEX
// CONCURRENTLY, which cannot run in a transaction and so cannot delete its
// deferred_index_builds row atomically with the build:
//
//   - Two builders: a session advisory lock on the step's name, taken on
//     the connection that builds, keeps a second one waiting (as FOR
//     UPDATE does for the other steps, but polling: see below); it then
//     finds the row gone and reports false.
//   - A build interrupted midway (cancel, crash, lost connection) leaves
//     an INVALID index, which queries ignore: the next run drops it and
//     builds again.
//   - Interrupted after the build and before the row's delete: the next
//     run finds the index valid (IF NOT EXISTS) and deletes the row.
//
// A connection whose lock could not be released is closed rather than put
// back in the pool.
func (s *DB) buildConcurrently(ctx context.Context, name, ddl string) (built bool, err error) {
	conn, err := s.SQL.Conn(ctx)
	if err != nil {
		return false, err
	}
	key := "medwarden deferred index " + name // with the schema: see buildLockKey
	locked := false
	defer func() {
		if locked {
			if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+buildLockKey+")", key); uerr != nil {
				conn.Raw(func(any) error { return driver.ErrBadConn }) // closes it
			}
		}
		conn.Close()
	}()
	// Polled, not waited for: a session waiting in pg_advisory_lock is a
	// running statement, which the other builder's CREATE INDEX
	// CONCURRENTLY waits for in turn (a deadlock PostgreSQL would break by
	// failing one of them).
	for {
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock("+buildLockKey+")", key).Scan(&locked); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn }) // it may hold the lock
			return false, err
		}
		if locked {
			break
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(buildLockPoll):
		}
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM deferred_index_builds WHERE name = $1", name).Scan(&n); err != nil || n == 0 {
		return false, err // n == 0: built by another process meanwhile
	}
	var valid bool
	switch err := conn.QueryRowContext(ctx, `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`, name).Scan(&valid); {
	case errors.Is(err, sql.ErrNoRows) || isNoRows(err):
	case err != nil:
		return false, err
	case !valid:
		if _, err := conn.ExecContext(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+quoteIdent(name)); err != nil {
			return false, fmt.Errorf("drop the invalid index left by an interrupted build: %w", err)
		}
	}
	// The session form of the transaction's settings (SET LOCAL), reset
	// before the connection goes back to the pool.
	if pre := strings.Replace(s.dialect.BeforeIndexBuild(), "SET LOCAL ", "SET ", 1); pre != "" {
		if _, err := conn.ExecContext(ctx, pre); err != nil {
			return false, err
		}
	}
	_, err = conn.ExecContext(ctx, concurrentDDL(ddl))
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "RESET ALL"); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return false, err
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM deferred_index_builds WHERE name = $1", name); err != nil {
		return false, err
	}
	return true, nil
}

// The SQLite search index is filled searchFillChunk devices per
// transaction (about 3 s at 1,000,000 devices: writers wait at most that
// long, under the 10 s busy timeout, where one transaction for the whole
// fill held them up for about a minute). Its triggers stay dropped and
// searches do not use it until the last transaction, so a device written
// meanwhile is only checked when the fill ends: that transaction indexes
// again every device stamped since the fill began (the identity mark of
// devices_bulk.go: every write after it carries a stamp no older), then
// recreates the triggers. A device deleted after its chunk leaves its
// rowid in the index, which searches never return (they read devices);
// its id, if reused, carries a new stamp and is indexed again.
var searchFillChunkSize int64 = 50_000

// searchFillState is the search step's progress, kept in its ddl column.
type searchFillState struct {
	Next int64  `json:"next"` // devices with id <= Next are filled
	Mark string `json:"mark"` // updated_at when the fill began (cut to the second)
}

// searchFillChunk runs one transaction of the fill of step name (state in
// ddl) and reports whether more remain; when none do it has indexed the
// devices written meanwhile, and the caller recreates the triggers.
func searchFillChunk(ctx context.Context, tx Tx, name, ddl string) (more bool, err error) {
	var st searchFillState
	if ddl == "" {
		if err := searchExec(ctx, tx, "search index", searchEmpty, searchMergeOff); err != nil {
			return false, err
		}
		if err := tx.QueryRow(ctx, sqliteMarkSQL).Scan(&st.Mark); err != nil {
			return false, err
		}
		st.Mark = sqliteMark(st.Mark)
	} else if err := json.Unmarshal([]byte(ddl), &st); err != nil {
		return false, fmt.Errorf("search index state %q: %w", ddl, err)
	}
	var maxID int64
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM devices").Scan(&maxID); err != nil {
		return false, err
	}
	text := searchTextSQLite("")
	if st.Next < maxID {
		to := min(st.Next+searchFillChunkSize, maxID)
		if err := tx.Exec(ctx, "INSERT INTO devices_search(rowid, t) SELECT id, "+text+" FROM devices WHERE id > $1 AND id <= $2", st.Next, to); err != nil {
			return false, fmt.Errorf("fill search index: %w", err)
		}
		st.Next = to
		b, _ := json.Marshal(st)
		return true, tx.Exec(ctx, "UPDATE deferred_index_builds SET ddl = $1 WHERE name = $2", string(b), name)
	}
	// Devices written since the fill began: indexed again (their old
	// text, if a chunk took it, deleted first).
	for _, q := range []string{
		"DELETE FROM devices_search WHERE rowid IN (SELECT id FROM devices WHERE updated_at >= $1 AND id <= $2)",
		"INSERT INTO devices_search(rowid, t) SELECT id, " + text + " FROM devices WHERE updated_at >= $1 AND id <= $2",
	} {
		if err := tx.Exec(ctx, q, st.Mark, st.Next); err != nil {
			return false, fmt.Errorf("search index: devices written during the fill: %w", err)
		}
	}
	return false, searchExec(ctx, tx, "search index", searchMergeOn)
}

// searchMergePages bounds one merge transaction (FTS5 'merge' pages).
const searchMergePages = 4000

// searchMergeStep merges some of the search index's segments in one
// transaction and reports whether more merging remains. FTS5's 'merge'
// with a negative page count starts an incremental optimize (every
// segment into one), positive counts continue it; one that changes fewer
// than 2 rows found nothing left to do. ddl is "" before the first step.
func searchMergeStep(ctx context.Context, tx Tx, name, ddl string) (more bool, err error) {
	var before, after int64
	if err := tx.QueryRow(ctx, "SELECT total_changes()").Scan(&before); err != nil {
		return false, err
	}
	pages := searchMergePages
	if ddl == "" {
		pages = -pages
	}
	if err := tx.Exec(ctx, "INSERT INTO devices_search(devices_search, rank) VALUES('merge', $1)", pages); err != nil {
		return false, fmt.Errorf("merge search index: %w", err)
	}
	if err := tx.QueryRow(ctx, "SELECT total_changes()").Scan(&after); err != nil {
		return false, err
	}
	if ddl == "" {
		if err := tx.Exec(ctx, "UPDATE deferred_index_builds SET ddl = 'started' WHERE name = $1", name); err != nil {
			return false, err
		}
		return true, nil
	}
	return after-before >= 2, nil
}

// ftsPending reports whether the SQLite search index awaits its deferred
// rebuild: its triggers are dropped, so it does not hold the devices
// written since, and searches must not narrow by it.
func (s *DB) ftsPending(ctx context.Context) (bool, error) {
	if !s.searchTable || s.dialect.Name() != "sqlite" {
		return false, nil
	}
	var n int
	if err := s.SQL.QueryRowContext(ctx, ftsPendingSQL).Scan(&n); err != nil {
		return false, fmt.Errorf("list devices: search index state: %w", err)
	}
	return n > 0, nil
}

// ftsPendingSQL counts the pending search-index rebuilds (0 or 1).
const ftsPendingSQL = "SELECT count(*) FROM deferred_index_builds WHERE kind = 'search'"
