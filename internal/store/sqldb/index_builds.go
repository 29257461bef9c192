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

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

// deferMinRows is the smallest bulk load whose index builds are deferred
// past its commit; smaller ones rebuild inside their transaction (a
// variable for tests). At 100,000 devices the rebuild takes a few seconds.
var deferMinRows int64 = 100_000

// Steps of deferred_index_builds (migration 0017).
const (
	buildIndex   = "index"
	buildTrigger = "trigger"
	buildSearch  = "search"
	buildAnalyze = "analyze"
)

// Build order (seq): the updated_at index first (the findings watcher and
// the search cache read it after every write) and PostgreSQL's trigram
// index (the longest build, overlapped with the others), then the other
// list indexes, the SQLite search index, and the planner statistics last.
const (
	seqFirst   = 0
	seqIndex   = 1
	seqSearch  = 1000
	seqAnalyze = 2000
)

// statisticsStep names the planner-statistics step (PostgreSQL).
const statisticsStep = "devices statistics"

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
		case "devices_updated", "devices_search": // devices_search: PostgreSQL's GIN
			seq = seqFirst
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
// takes a lock that lets other index builds and readers through): the
// trigram index, a single-threaded GIN build as long as all the others
// together, starts first and overlaps them. SQLite builds one at a time
// (one writer).
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
				mu.Unlock()
				start := time.Now()
				kind, err := s.buildStep(ctx, name)
				if err != nil {
					fail(fmt.Errorf("build %s: %w", name, err))
					return
				}
				if kind == buildSearch {
					s.searchReset() // search_cache.go: entries built without the index
					s.trigrams.mu.Lock()
					s.trigrams.n = nil // estimates of the index as it was
					s.trigrams.mu.Unlock()
				}
				left := 0
				if progress != nil && kind != "" {
					rest, err := s.PendingIndexes(ctx)
					if err != nil {
						fail(err)
						return
					}
					left = len(rest)
				}
				mu.Lock()
				delete(claimed, name)
				if progress != nil && kind != "" {
					label := name
					switch kind {
					case buildSearch:
						label = "search index"
					case buildAnalyze:
						label = "statistics"
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
	if err := s.SQL.QueryRowContext(ctx, "SELECT kind FROM deferred_index_builds WHERE name = $1", name).Scan(&kind); err != nil {
		if errors.Is(err, sql.ErrNoRows) || isNoRows(err) {
			return "", nil
		}
		return "", err
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
	done := false
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
			if err := searchFill(ctx, tx); err != nil {
				return err
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
		default:
			return fmt.Errorf("unknown kind %q", kind)
		}
		done = true
		return tx.Exec(ctx, "DELETE FROM deferred_index_builds WHERE name = $1", name)
	})
	if err != nil || !done {
		return "", err
	}
	return kind, nil
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
