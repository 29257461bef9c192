package sqldb

// Free-text device search (store.DeviceQuery.Search): a trigram index over
// the searchable text of every device, created by migration
// 0010_device_search.sql.
//
//   - SQLite: devices_search, an FTS5 table (tokenize=trigram, contentless,
//     detail=none) holding, per device (rowid = devices.id), the searchable
//     columns joined by newlines. Triggers devices_search_ai/_au/_ad on
//     devices keep it in step with every INSERT, UPDATE and DELETE.
//   - PostgreSQL: devices_search, a GIN pg_trgm index on search_text, a
//     stored generated column of devices holding the same joined text,
//     lower-cased (when the pg_trgm extension cannot be created, the
//     migration logs a warning and search runs unindexed, with the same
//     results).
//
// On SQLite a search is first asked of the search cache (search_cache.go:
// the exact set of matching devices per text, kept current), and takes
// the index paths below only when the cache does not serve the store
// (device ids beyond searchCacheMaxID) or is off (tests).
//
// The index only narrows the candidates: a device is returned when one of
// the columns matches the search text as a case-insensitive substring
// (LIKE/ILIKE), exactly as without the index, so both drivers and both
// paths give the same answers (storetest "list_search").
//
// CONTRACT WITH THE BULK IMPORT PATH (devices_bulk.go)
//
// Every ordinary write keeps the index current with no code in the write
// path (triggers; the PostgreSQL index is maintained by the database). A
// bulk load that dropped the devices indexes must, inside its transaction:
//
//  1. call t.searchBulkStart(ctx) right after dropping the indexes
//     (beforeInsert). On SQLite it drops the three triggers, so the rows
//     loaded from then on are not indexed one by one; on PostgreSQL it
//     does nothing (devices_search is one of the devices indexes the bulk
//     path drops and rebuilds from IndexCatalog already).
//  2. call t.searchBulkFinish(ctx) in finish(), after rebuilding the
//     indexes. On SQLite it empties devices_search and fills it from every
//     device in one INSERT … SELECT, then recreates the triggers (from the
//     definitions searchBulkStart read from sqlite_schema); on PostgreSQL
//     it does nothing.
//
// Cost (measured; docs/benchmarks/inventory.md): the SQLite fill is about
// 2.6 CPU-s per 100,000 devices (pure-Go SQLite, ~150 trigrams a device),
// and merging its segments into one 0.66 CPU-s more (see searchBulkFinish);
// PostgreSQL's GIN build is part of the bulk index rebuild.
//
// Both are no-ops when the store has no search index (a database that has
// not run 0010) and safe to call when searchBulkStart was not called
// (searchBulkFinish then does nothing). Being DDL and DML inside the
// import transaction, a rejected, cancelled or killed import leaves the
// index and triggers exactly as before.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/store"
)

// searchBulk is an import transaction's state of the search index.
type searchBulk struct {
	triggers [][2]string // dropped SQLite triggers: name, CREATE statement
	dropped  bool
}

// searchTriggers lists the SQLite triggers that maintain devices_search.
const searchTriggers = `SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'devices' AND name LIKE 'devices\_search\_%' ESCAPE '\' ORDER BY name`

// searchBulkStart stops row-by-row maintenance of the search index for the
// rest of a bulk load (SQLite: drops the triggers; see the contract above).
func (t *importTx) searchBulkStart(ctx context.Context) error {
	if t.dialect.Name() != "sqlite" || t.search.dropped {
		return nil
	}
	var js string
	if err := t.tx.QueryRow(ctx, `SELECT coalesce(json_group_array(json_array(name, sql)), '[]') FROM (`+searchTriggers+`)`).Scan(&js); err != nil {
		return fmt.Errorf("bulk load: list search triggers: %w", err)
	}
	var defs [][2]string
	if err := json.Unmarshal([]byte(js), &defs); err != nil {
		return fmt.Errorf("bulk load: list search triggers: %w", err)
	}
	for _, d := range defs {
		if err := t.tx.Exec(ctx, "DROP TRIGGER "+quoteIdent(d[0])); err != nil {
			return fmt.Errorf("bulk load: drop trigger %s: %w", d[0], err)
		}
	}
	t.search = searchBulk{triggers: defs, dropped: true}
	return nil
}

// searchBulkFinish rebuilds the search index in one pass and restores its
// triggers (SQLite; see the contract above).
func (t *importTx) searchBulkFinish(ctx context.Context) error {
	if !t.search.dropped || len(t.search.triggers) == 0 {
		return nil
	}
	// delete-all empties a contentless table without reading it (DELETE
	// read every row: 0.36 CPU-s per 100,000 devices); no incremental
	// merges while filling (3.3 -> 2.6 CPU-s per 100,000 devices), merging
	// resumes after. Then optimize merges the fill's segments into one
	// (+0.66 CPU-s per 100,000 devices on 2.2 for the fill): left as
	// several segments of one level, FTS5's automerge merged them a slice
	// at a time during the device writes that followed (each flushes a
	// segment), about 1.5 ms of CPU per write for the first thousands of
	// API writes after an import (bench/load.sh: the merge was 23 % of
	// serve's CPU under the mixed load, 1.4 % after).
	if err := searchFill(ctx, t.tx); err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	for _, d := range t.search.triggers {
		if err := t.tx.Exec(ctx, d[1]); err != nil {
			return fmt.Errorf("bulk load: recreate trigger %s: %w", d[0], err)
		}
	}
	t.search = searchBulk{}
	return nil
}

// searchFill empties the SQLite search index and fills it from every
// device, in tx (searchBulkFinish; a deferred build, index_builds.go).
func searchFill(ctx context.Context, tx Tx) error {
	return searchExec(ctx, tx, "fill search index",
		searchEmpty, searchMergeOff,
		"INSERT INTO devices_search(rowid, t) SELECT id, "+searchTextSQLite("")+" FROM devices",
		searchMergeOn, "INSERT INTO devices_search(devices_search) VALUES('optimize')")
}

// Statements of a search-index fill (searchFill; the deferred fill of
// index_builds.go): empty it without reading it, stop FTS5's incremental
// merges while filling, resume them after.
var (
	searchEmpty    = "INSERT INTO devices_search(devices_search) VALUES('delete-all')"
	searchMergeOff = "INSERT INTO devices_search(devices_search, rank) VALUES('automerge', 0)"
	searchMergeOn  = "INSERT INTO devices_search(devices_search, rank) VALUES('automerge', " + strconv.Itoa(searchAutomerge) + ")"
)

// searchExec runs statements without arguments in tx; what names the work
// in an error.
func searchExec(ctx context.Context, tx Tx, what string, stmts ...string) error {
	for _, q := range stmts {
		if err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// searchColumns are the columns the search text is matched against
// (store.DeviceQuery.Search), in the order they are joined.
var searchColumns = []string{"asset_id", "vendor", "model", "device_type", "hostname", "serial", "site",
	"location", "department", "macs", "ips"}

// searchTextSQLite is the SQLite expression of a device's searchable text:
// the search columns of row alias row ("new", or "" for the table) joined
// by newlines. Migration 0010's triggers use the same expression.
func searchTextSQLite(row string) string {
	if row != "" {
		row += "."
	}
	var b strings.Builder
	for i, c := range searchColumns {
		if i > 0 {
			b.WriteString(" || char(10) || ")
		}
		fmt.Fprintf(&b, "coalesce(%s%s, '')", row, c)
	}
	return b.String()
}

// minIndexedSearch is the shortest search text (in characters) the trigram
// index can narrow; shorter texts are matched against every device.
const minIndexedSearch = 3

// searchCond is how a list query selects the devices matching a search.
type searchCond struct {
	// text is the search text.
	text string
	// exact is true for exactly the matching devices: some search column
	// contains the text (LIKE/ILIKE, case-insensitive).
	exact string
	// index (PostgreSQL), when not empty, is a condition the trigram index
	// serves that every matching device meets: search_text contains the
	// folded search text.
	index string
	// pattern is the LIKE pattern: the text, escaped, between '%'.
	pattern string
	// ftsQuery (SQLite), when not empty, is the FTS5 query whose rows are
	// a superset of the matching devices (each trigram of the text, ANDed;
	// searchPage narrows it to the rarest trigram).
	ftsQuery string
	// trigrams (SQLite) are the distinct trigrams of the text, quoted for
	// an FTS5 query.
	trigrams []string
}

// searchWhere builds the conditions for free-text search text; arg adds a
// query parameter and returns its placeholder.
func (s *DB) searchWhere(text string, arg func(any) string) searchCond {
	pattern := "%" + escapeLike(text) + "%"
	p := arg(pattern)
	ors := make([]string, 0, len(searchColumns))
	for _, c := range searchColumns {
		ors = append(ors, fmt.Sprintf("%s %s %s ESCAPE '\\'", c, s.dialect.ILike(), p))
	}
	sc := searchCond{text: text, exact: "(" + strings.Join(ors, " OR ") + ")", pattern: pattern}
	if utf8.RuneCountInString(text) < minIndexedSearch {
		return sc
	}
	switch s.dialect.Name() {
	case "postgres":
		if !s.searchTable {
			break
		}
		// search_text is the search columns joined by newlines and
		// lower-cased (migration 0010); ILIKE is LIKE on lower() of both.
		// A substring of the joined text lies inside one column unless it
		// contains the separator, so the joined text alone is exact then.
		sc.index = "search_text LIKE lower(" + p + ") ESCAPE '\\'"
		if !strings.Contains(text, "\n") {
			sc.exact = sc.index
		}
	case "sqlite":
		if s.searchTable {
			sc.trigrams = ftsTrigrams(text)
			sc.ftsQuery = strings.Join(sc.trigrams, " AND ")
		}
	}
	return sc
}

// ftsTrigrams returns the distinct trigrams of text, each quoted as an
// FTS5 string (the trigram tokenizer folds case). A row whose text
// contains text contains each of them, so any of them, or all of them
// ANDed, selects a superset of the matching rows, which the list query
// then checks exactly.
func ftsTrigrams(text string) []string {
	r := []rune(text)
	seen := map[string]bool{}
	var out []string
	for i := 0; i+3 <= len(r); i++ {
		g := string(r[i : i+3])
		if seen[g] {
			continue
		}
		seen[g] = true
		out = append(out, `"`+strings.ReplaceAll(g, `"`, `""`)+`"`)
	}
	return out
}

// trigramStats caches, per searched trigram, an estimate of the number of
// devices whose text holds it, so that a search asks the FTS5 index for
// the rarest trigram of its text alone. The index yields the same
// superset-then-exact answer either way (see ftsTrigrams), but ANDing
// every trigram makes FTS5 step through every trigram's list, common ones
// included ("ventilator": 8 lists, 4.0 ms; its rarest trigram "ven" alone
// 0.19 ms for the same 1,706 candidates at 100,000 devices), and each
// step also pays the tombstone check of rows deleted or updated since the
// segment was written. The estimates only choose the plan: stale ones
// (at most trigramStatsTTL old) cost time, never change results.
type trigramStats struct {
	mu    sync.Mutex
	at    time.Time      // when the cache was started
	maxID int            // max(devices.id) then
	n     map[string]int // trigram -> estimated devices (see trigramCount)
}

// trigramStatsTTL is how long an estimate is used; trigramStatsMax bounds
// the number of cached trigrams (the cache restarts beyond it).
const (
	trigramStatsTTL = 30 * time.Second
	trigramStatsMax = 4096
)

// rarestTrigram returns the FTS5 query of c's rarest trigram, the
// estimated number of devices holding it (exact when below
// searchFewLimit, when the estimate was made) and the highest device id.
func (s *DB) rarestTrigram(ctx context.Context, c searchCond) (query string, estimate, maxID int, err error) {
	ts := &s.trigrams
	ts.mu.Lock()
	if ts.n == nil || time.Since(ts.at) > trigramStatsTTL || len(ts.n) > trigramStatsMax {
		ts.n, ts.at, ts.maxID = map[string]int{}, time.Now(), -1
	}
	maxID = ts.maxID
	var missing []string
	for _, g := range c.trigrams {
		if _, ok := ts.n[g]; !ok {
			missing = append(missing, g)
		}
	}
	ts.mu.Unlock()
	if maxID < 0 {
		if err := s.SQL.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM devices").Scan(&maxID); err != nil {
			return "", 0, 0, fmt.Errorf("list devices: search: highest device id: %w", err)
		}
	}
	counted := make(map[string]int, len(missing))
	for _, g := range missing {
		n, err := s.trigramCount(ctx, g, maxID)
		if err != nil {
			return "", 0, 0, err
		}
		counted[g] = n
	}
	ts.mu.Lock()
	if ts.maxID < 0 {
		ts.maxID = maxID
	}
	for g, n := range counted {
		ts.n[g] = n
	}
	estimate = -1
	for _, g := range c.trigrams {
		n, ok := ts.n[g]
		if !ok { // the cache restarted meanwhile
			n = counted[g]
		}
		if estimate < 0 || n < estimate {
			query, estimate = g, n
		}
	}
	ts.mu.Unlock()
	return query, estimate, maxID, nil
}

// trigramCount estimates the number of devices whose text holds trigram g
// (an FTS5 string): exact below searchFewLimit, counting stops there.
func (s *DB) trigramCount(ctx context.Context, g string, maxID int) (int, error) {
	sqlText := fmt.Sprintf(`SELECT count(*), coalesce(max(rowid), 0)
		FROM (SELECT rowid FROM devices_search WHERE devices_search MATCH $1 LIMIT %d) AS c`, searchFewLimit)
	var n, lastID int
	if err := s.SQL.QueryRowContext(ctx, sqlText, g).Scan(&n, &lastID); err != nil {
		return 0, fmt.Errorf("list devices: search candidates of %s: %w", g, err)
	}
	if n < searchFewLimit {
		return n, nil
	}
	// The index returns candidates in id order: the first searchFewLimit
	// of them spanning ids up to lastID suggest n*maxID/lastID in all.
	return int(int64(n) * int64(max(maxID, lastID)) / int64(max(lastID, 1))), nil
}

// searchAutomerge is FTS5's automerge setting of devices_search: a level
// of the index is merged once it holds this many segments (FTS5's default
// is 4). Every device write through the API flushes a small segment
// (FTS5 flushes at each statement savepoint), and after a bulk import the
// whole index is one big segment on level 1; with 4, the small segments
// reached that level after 16 writes and FTS5 went on re-merging the big
// segment a slice per write: flush and merge were 4-8 % of serve's CPU under
// bench/load.sh's mix (0.3 ms per write). With 16 it is 1.5 %; searches
// read more, smaller segments, and were unchanged to ~15 % dearer alone,
// within the noise, their share of the mix not larger
// (docs/benchmarks/api.md, session 4, second pass). Results do not depend
// on it.
const searchAutomerge = 16

// setSearchAutomerge stores searchAutomerge in devices_search's
// configuration when it holds another value (once per store: stores
// created before it have FTS5's default).
func setSearchAutomerge(ctx context.Context, db *sql.DB) error {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM devices_search_config WHERE k = 'automerge' AND v = $1", searchAutomerge).Scan(&n); err != nil {
		return fmt.Errorf("read automerge of devices_search: %w", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO devices_search(devices_search, rank) VALUES('automerge', $1)", searchAutomerge); err != nil {
		return fmt.Errorf("set automerge of devices_search: %w", err)
	}
	return nil
}

// hasSearchIndex reports whether the store has migration 0010's search
// index (SQLite: the devices_search table; PostgreSQL: the search_text
// column). Stores that recorded 0010 while it was a placeholder, or an
// earlier draft of it during its session, do not; search then matches
// every device's columns as before the index.
func hasSearchIndex(ctx context.Context, db *sql.DB, dialect string) (bool, error) {
	q := "SELECT count(*) FROM sqlite_schema WHERE name = 'devices_search'"
	if dialect == "postgres" {
		q = `SELECT count(*) FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'devices' AND column_name = 'search_text'`
	}
	var n int
	err := db.QueryRowContext(ctx, q).Scan(&n)
	return n > 0, err
}

// indexed reports whether the trigram index serves this search.
func (c searchCond) indexed() bool { return c.index != "" || c.ftsQuery != "" }

// searchFewLimit: a search whose rarest trigram has fewer index
// candidates than this is answered from the candidates alone without
// first walking the sort index (a variable for tests). On PostgreSQL the
// planner makes this choice itself from the statistics of the indexed
// expression (a count would scan the table: 64 ms at 1 M).
var searchFewLimit = 2000

// searchPage fills page with the first limit devices, in sort order, that
// match a search and the other conditions in where (which include
// c.exact). On SQLite, when the trigram index yields fewer than
// searchFewLimit candidates, only those are read and sorted; otherwise the
// matches are common enough that walking the sort index and checking each
// device (c.exact) reaches a page soon. On PostgreSQL the planner chooses
// between the same two plans (GIN bitmap scan and sort, or sort-index walk). Either way only ids (and sort keys) are
// sorted and the page's rows are read afterwards: sorting or copying whole
// rows cost several times more.
func (s *DB) searchPage(ctx context.Context, page *store.DevicePage, c searchCond, where []string, pos sortPos, limit int, args []any) error {
	set, ok, err := s.searchSet(ctx, c.text, c.pattern) // search_cache.go
	if err != nil {
		return err
	}
	if ok {
		return s.searchPageExact(ctx, page, c, where, pos, limit, args, set)
	}
	if c.ftsQuery == "" {
		return s.searchPageIndexed(ctx, page, c, where, pos, limit, args)
	}
	// The SQLite search index does not hold the devices written since a
	// large bulk import until its deferred rebuild (index_builds.go): then
	// every device is checked. Checked again after the page, since an
	// import may have committed meanwhile.
	pending, err := s.ftsPending(ctx)
	if err != nil {
		return err
	}
	if !pending {
		n := len(page.Devices)
		if err := s.searchPageIndexed(ctx, page, c, where, pos, limit, args); err != nil {
			return err
		}
		if pending, err = s.ftsPending(ctx); err != nil || !pending {
			return err
		}
		page.Devices = page.Devices[:n]
	}
	c.ftsQuery, c.trigrams = "", nil
	return s.searchPageIndexed(ctx, page, c, where, pos, limit, args)
}

// searchPageIndexed is searchPage without the search cache.
func (s *DB) searchPageIndexed(ctx context.Context, page *store.DevicePage, c searchCond, where []string, pos sortPos, limit int, args []any) error {
	few, budget, short, hedge := false, searchWalkBudget, 0, false
	if c.ftsQuery != "" {
		q, estimate, total, err := s.rarestTrigram(ctx, c)
		if err != nil {
			return err
		}
		c.ftsQuery = q
		few = estimate < searchFewLimit
		// Spread evenly in sort order, the matches fill a page within
		// limit*total/estimate devices; walk twice that column by column
		// before the walk with the candidate probe.
		short = 2 * limit * max(total, 1) / max(estimate, 1)
		if searchShortWalk > 0 {
			short = searchShortWalk
		}
		// Walking a device and reading a candidate cost about the same,
		// so walk at most as many devices as there are candidates (then
		// the walk and the fallback together cost at most twice the
		// cheaper of the two).
		budget = max(budget, estimate)
	}
	if c.indexed() && !few {
		// Walk at most budget devices in sort order: common matches that
		// all sort late ("philips" sorted by vendor) would otherwise walk
		// most of the table. Then take the candidates.
		// SQLite: first a short walk that reads each device's row and
		// checks its columns: matches of a common word often start soon
		// ("pump" sorted by asset_id fills a page within 151 devices).
		// When it does not fill the page, the walk tests each device's
		// id against the index's candidates first (a byte of the
		// candidate mask, without reading the row) and reads only the
		// candidates' rows: "monitor" sorted by model has its 51st match
		// at the 11,870th device (11.5 CPU-ms at 100,000 devices; 6.6
		// with a probe of a temporary table, session 3 late; about 6
		// with the mask after a mixed load, docs/benchmarks/api.md).
		// Reading 17,000 candidates for the mask costs about 4 ms, more
		// than a short walk that fills the page (the old walk: about
		// 1 us a device).
		if c.ftsQuery != "" && short < budget {
			ids, err := s.searchWalk(ctx, c, where, pos, short, limit, args, false)
			if err != nil {
				return err
			}
			if len(ids) == limit {
				return s.fillPage(ctx, page, ids)
			}
		}
		ids, err := s.searchWalk(ctx, c, where, pos, budget, limit, args, c.ftsQuery != "")
		if err != nil {
			return err
		}
		if len(ids) == limit {
			return s.fillPage(ctx, page, ids)
		}
		if ids != nil && c.ftsQuery != "" {
			few = true // the page is beyond the budget: read the candidates
		}
		if ids != nil && c.ftsQuery == "" {
			hedge = true // PostgreSQL: see below
		}
	}
	from := " FROM devices"
	switch {
	case few && c.ftsQuery != "":
		// One rowid lookup per candidate; CROSS JOIN fixes the join order
		// (the planner would otherwise walk a sort index and probe).
		args = append(slices.Clone(args), c.ftsQuery)
		from = fmt.Sprintf(" FROM (SELECT rowid AS sid FROM devices_search WHERE devices_search MATCH $%d) AS m CROSS JOIN devices ON devices.id = m.sid", len(args))
	case c.index != "":
		if c.index != c.exact {
			where = append(slices.Clone(where), c.index)
		}
		if few {
			break
		}
		// PostgreSQL, after the bounded walk: the matches without the
		// sort index (a GIN bitmap scan, or a sequential scan when they
		// are many), then sort the ids. Left to itself, the planner walks
		// the sort index for as long as it takes (4.3 s for "philips"
		// sorted by vendor at 1 M devices).
		k := "id"
		if pos.expr != "" {
			k = pos.expr
		}
		sqlText := "WITH c AS MATERIALIZED (SELECT id, " + k + " AS k FROM devices WHERE " + strings.Join(where, " AND ") +
			") SELECT id FROM c ORDER BY k " + map[bool]string{false: "ASC", true: "DESC"}[pos.desc] + ", id " +
			map[bool]string{false: "ASC", true: "DESC"}[pos.desc] + " LIMIT " + fmt.Sprint(limit)
		if !hedge {
			ids, err := s.searchIDs(ctx, sqlText, nil, "", 0, args)
			if err != nil {
				return err
			}
			return s.fillPage(ctx, page, ids)
		}
		ids, err := s.searchHedged(ctx, sqlText, where, pos.order, limit, args)
		if err != nil {
			return err
		}
		return s.fillPage(ctx, page, ids)
	}
	ids, err := s.searchIDs(ctx, "SELECT id"+from, where, pos.order, limit, args)
	if err != nil {
		return err
	}
	return s.fillPage(ctx, page, ids)
}

// searchHedgeArm, when not 0, makes searchHedged run only one of its two
// plans (1: through the index, 2: the walk), so that tests check both.
var searchHedgeArm = 0

// searchHedged (PostgreSQL) runs, on two connections at once, the two
// plans of a search whose bounded walk did not fill the page, and takes
// the first answer (cancelling the other): the matches read through the
// trigram index and sorted (cte), and the walk of the sort index on
// (where, order). Both return the same ids. Which is faster depends on
// where the matches sort, which no statistic tells: at 1,000,000 devices
// "philips" sorted by vendor took 2.0 s walking and 0.34 s through the
// index, "pump" sorted by vendor 0.12 s walking and 0.69 s through the
// index (docs/benchmarks/inventory.md, session 8). The loser's work until
// it is cancelled is the cost: at most the winner's time on a second core.
func (s *DB) searchHedged(ctx context.Context, cte string, where []string, order string, limit int, args []any) ([]int64, error) {
	switch searchHedgeArm {
	case 1:
		return s.searchIDs(ctx, cte, nil, "", 0, args)
	case 2:
		return s.searchIDs(ctx, "SELECT id FROM devices", where, order, limit, args)
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		ids []int64
		err error
	}
	answers := make(chan answer, 2)
	go func() {
		ids, err := s.searchIDs(hctx, cte, nil, "", 0, args)
		answers <- answer{ids, err}
	}()
	go func() {
		ids, err := s.searchIDs(hctx, "SELECT id FROM devices", where, order, limit, args)
		answers <- answer{ids, err}
	}()
	first := <-answers
	if first.err == nil {
		return first.ids, nil
	}
	second := <-answers // the first failed: the other may not have
	if second.err == nil {
		return second.ids, nil
	}
	return nil, first.err
}

// searchPageExact is searchPage with the exact set of matching devices
// (the search cache, SQLite): mask has a byte per device id, 1 for the
// count matching ones, in place of the LIKE condition c.exact. Few
// matches are read by id and sorted (a row read each, about 2 us); more,
// the sort index is walked and each device's byte tested, reading no row
// (the other conditions of where may read it), about 0.2 us a device:
// spread evenly, the matches fill a page within limit*len(mask)/count
// devices, so the walk is cheaper once 10*count^2 > limit*len(mask)
// (about 700 matches at 100,000 devices: "ventilator", 1,706 matches,
// 3.4-5.3 CPU-ms by id, about 1 by the walk) and below searchFewLimit.
// The walk is not bounded, as the candidate-probe walk before it was not,
// but a first page starts at the set's first device in the sort order
// once a first page without other conditions has found it (searchStart):
// matches that all sort late ("ventilator" or "philips" sorted by vendor)
// walked most of the index before it.
func (s *DB) searchPageExact(ctx context.Context, page *store.DevicePage, c searchCond, where []string, pos sortPos, limit int, args []any, set searchSetView) error {
	rest := make([]string, 0, len(where)+2)
	args = slices.Clone(args)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if set.count < searchFewLimit && 10*set.count*set.count < limit*len(set.mask) {
		// One rowid lookup per match; CROSS JOIN fixes the join order.
		sel := "SELECT id FROM (SELECT value AS sid FROM json_each(" + arg(maskIDs(set.mask, set.count)) + ")) AS m CROSS JOIN devices ON devices.id = m.sid"
		for _, w := range where {
			if w != c.exact {
				rest = append(rest, w)
			}
		}
		ids, err := s.searchIDs(ctx, sel, rest, pos.order, limit, args)
		if err != nil {
			return err
		}
		return s.fillPage(ctx, page, ids)
	}
	// First: SQLite tests the conditions in this order.
	rest = append(rest, "substr("+arg(set.mask)+", id, 1) = x'01'")
	// A first page starts at the set's first device in this order when it
	// is known (searchStart): the walk skips the devices before it.
	learn := !pos.after
	if !pos.after {
		if st, ok := set.start(pos.order); ok {
			op := ">="
			if pos.desc {
				op = "<="
			}
			rest = append(rest, s.keyCond(pos.expr, op, st.key, st.id, arg))
			learn = false
		}
	}
	for _, w := range where {
		if w != c.exact {
			rest = append(rest, w)
			learn = false // the first device found need not be the set's first
		}
	}
	key := "id"
	if pos.expr != "" {
		key = pos.expr
	}
	rows, err := s.queryCached(ctx, "SELECT id, "+key+" FROM devices WHERE "+strings.Join(rest, " AND ")+pos.order+" LIMIT "+fmt.Sprint(limit), args)
	if err != nil {
		return fmt.Errorf("list devices: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		var k any
		if err := rows.Scan(&id, &k); err != nil {
			rows.Close()
			return fmt.Errorf("list devices: %w", err)
		}
		if learn && len(ids) == 0 && k != nil { // a NULL key bounds nothing in SQL
			set.learn(pos.order, searchStart{key: k, id: id})
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list devices: %w", err)
	}
	return s.fillPage(ctx, page, ids)
}

// searchWalk returns the ids of the first limit matching devices among the
// budget devices in sort order from the page start (nil when fewer than
// budget devices remain: the walk is not bounded then). With candidates
// (SQLite), a device's id must be among the FTS5 candidates before its
// row is read and checked.
func (s *DB) searchWalk(ctx context.Context, c searchCond, where []string, pos sortPos, budget, limit int, args []any, candidates bool) ([]int64, error) {
	bounded := &pos
	if !candidates {
		var err error
		if bounded, err = s.searchWalkBound(ctx, pos, budget); err != nil || bounded == nil {
			return nil, err
		}
	}
	bargs := slices.Clone(args)
	arg := func(v any) string {
		bargs = append(bargs, v)
		return fmt.Sprintf("$%d", len(bargs))
	}
	op := "<="
	if pos.desc {
		op = ">="
	}
	var bwhere []string
	if candidates {
		// A membership test while walking the sort index: one byte per
		// device id, 1 for the index's candidates (candidateMask). First:
		// SQLite tests the conditions in this order, and the others read
		// the row. The test reads no row and no index: walking a device
		// costs its sort-index entry. (Before, "+id IN (SELECT rowid FROM
		// devices_search WHERE …)" had SQLite copy the candidates into a
		// temporary B-tree first: about 5 of the 8-12 CPU-ms of "pump" or
		// "monitor" sorted by vendor or model at 100,000 devices.)
		mask, err := s.candidateMask(ctx, c.ftsQuery)
		if err != nil {
			return nil, err
		}
		bwhere = append(bwhere, "substr("+arg(mask)+", id, 1) = x'01'")
	}
	bwhere = append(bwhere, where...)
	if c.index != "" && c.index != c.exact {
		bwhere = append(bwhere, c.index)
	}
	if !candidates {
		bwhere = append(bwhere, s.keyCond(pos.expr, op, bounded.key, bounded.id, arg))
	}
	ids, err := s.searchIDs(ctx, "SELECT id FROM devices", bwhere, pos.order, limit, bargs)
	if ids == nil && err == nil {
		ids = []int64{} // bounded, and no match within it
	}
	return ids, err
}

// candidateMask returns the FTS5 candidates of query fts as a byte per
// device id: mask[id-1] is 1 for a candidate, 0 otherwise (ids past the
// end are not candidates). The candidates come back in one value (one
// row per candidate through database/sql cost several times more).
func (s *DB) candidateMask(ctx context.Context, fts string) ([]byte, error) {
	var list string
	if err := s.SQL.QueryRowContext(ctx, "SELECT coalesce(group_concat(rowid), '') FROM devices_search WHERE devices_search MATCH $1", fts).Scan(&list); err != nil {
		return nil, fmt.Errorf("list devices: search candidates: %w", err)
	}
	var mask []byte
	for list != "" {
		var f string
		f, list, _ = strings.Cut(list, ",")
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id < 1 {
			return nil, fmt.Errorf("list devices: search candidates: bad rowid %q", f)
		}
		if id > int64(len(mask)) {
			if id > 1<<31 {
				return nil, fmt.Errorf("list devices: search candidates: rowid %d out of range", id)
			}
			mask = slices.Grow(mask, int(id)-len(mask))[:id]
		}
		mask[id-1] = 1
	}
	if mask == nil {
		mask = []byte{}
	}
	return mask, nil
}

// searchShortWalk, when not 0, fixes the length of the short walk (a
// variable for tests; 0: twice the expected distance to a full page).
var searchShortWalk = 0

// searchWalkBudget is the least number of devices, in sort order, a search
// with many index candidates checks one by one before it reads the
// candidates (SQLite walks as many as it estimates candidates; a variable
// for tests).
var searchWalkBudget = 4000

// searchWalkBound returns the sort position budget devices after the page
// start (nil when fewer remain): one index-only walk.
func (s *DB) searchWalkBound(ctx context.Context, pos sortPos, budget int) (*sortPos, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	sel := "SELECT id, id FROM devices"
	if pos.expr != "" {
		sel = "SELECT " + pos.expr + ", id FROM devices"
	}
	if pos.after {
		op := ">"
		if pos.desc {
			op = "<"
		}
		sel += " WHERE " + s.keyCond(pos.expr, op, pos.key, pos.id, arg)
	}
	sel += pos.order + fmt.Sprintf(" LIMIT 1 OFFSET %d", budget-1)
	b := &sortPos{expr: pos.expr}
	err := s.SQL.QueryRowContext(ctx, sel, args...).Scan(&b.key, &b.id)
	if errors.Is(err, sql.ErrNoRows) || isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list devices: search walk bound: %w", err)
	}
	return b, nil
}

// searchIDs runs sel (returning ids) with where, order and limit (0: sel
// is the whole query).
func (s *DB) searchIDs(ctx context.Context, sel string, where []string, order string, limit int, args []any) ([]int64, error) {
	sqlText := sel
	if len(where) > 0 {
		sqlText += " WHERE " + strings.Join(where, " AND ")
	}
	if limit > 0 {
		sqlText += order + " LIMIT " + fmt.Sprint(limit)
	}
	rows, err := s.queryCached(ctx, sqlText, args)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list devices: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return ids, nil
}
