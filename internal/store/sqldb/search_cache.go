package sqldb

// The search cache (SQLite): per search text, the EXACT set of matching
// devices, kept current, so that a search reads no device row and
// evaluates no LIKE to find its page.
//
// What it holds. An entry per search text (the key is the text with ASCII
// letters lower-cased: SQLite's LIKE folds ASCII only, so "PUMP" and
// "pump" match the same devices) holds a byte per device id, mask[id-1]
// = 1 when some search column contains the text, exactly as the list
// query's LIKE condition (searchWhere's pattern, escapes included) says.
// The set is built by SQLite itself, with that LIKE condition, over the
// FTS5 candidates of the text's rarest trigram, or over every device for
// texts shorter than a trigram; updates are checked with the same
// condition. So the set has LIKE's semantics by construction (ASCII case
// folding only, '%', '_' and '\' in the text literal, bytes compared
// otherwise), with no Go reimplementation.
//
// How it stays exact. Before each use an entry catches up:
//
//   - First, PRAGMA data_version on a connection of the cache's own that
//     never writes: it changes when any connection of any process commits.
//     Unchanged since the entry's last catch-up (read before it), nothing
//     was committed since, and only the ids queued below are checked.
//   - Writes by any process (serve's API writes, a CLI import while serve
//     runs): SQLite serialises writers and every device write stamps
//     updated_at (store.Now) while it holds the write lock (devices_bulk.go,
//     "Identity catch-up"), so a write that commits after a read carries a
//     stamp no older than the newest stamp that read saw, less however far
//     the clock stepped back in between. The cache's feed (searchFeed,
//     shared by all entries) keeps the newest stamp it has seen and, once
//     per change of data_version, reads from the devices_updated index
//     alone (no row) the (id, updated_at) of every device stamped since
//     that stamp less searchStampMargin (the findings watcher's margin, a
//     clock stepping back by up to a second), and logs the ids of the
//     pairs it has not seen yet; each entry checks again the ids logged
//     since its last catch-up. Stamps are fixed-width text since
//     migration 0015, so text order is time order.
//   - Writes through this DB object (API writes, imports, UpdateDevice):
//     after each commit their ids are queued on every entry
//     (searchWritten) and checked again at its next use, whatever their
//     stamp (a clock that did not advance between two writes of a device
//     gives both the same stamp).
//   - A bulk import through this DB has every entry built again at its
//     next use (searchReset); one
//     by another process shows up as more changed devices than
//     searchRebuildShare of the set, and the entry is built again.
//   - Deleted devices are left in the set: every page reads only ids that
//     exist (the sort-index walk visits existing devices; the id path
//     joins devices). A reused id carries a new stamp and is checked again.
//
// The page query then runs in its own read, as before the cache (the
// trigram candidates were also read apart from the page): a device
// written between the catch-up and the page query is seen as it was at
// the catch-up. Quiescent, the pages are exactly the LIKE query's
// (storetest "search_cache", TestSearchCacheDifferential).
//
// Memory. A byte per device id up to the highest id, per text: 100 KB per
// text at 100,000 devices, 1 MB at 1,000,000. At most searchCacheEntries
// texts and searchCacheBytes bytes of sets are kept (least recently used
// dropped first), plus, per entry, the ids written since its last use (at
// most searchPendingMax: beyond, the entry is rebuilt), and, once, the
// feed's (id, stamp) pairs of the last second or so of writes and its log
// of changed ids (at most searchFeedMax: an entry whose last catch-up
// fell out of it is rebuilt). A store whose highest
// device id exceeds searchCacheMaxID is not cached (searches take the
// index paths of search.go). A set being replaced stays alive while a
// query still uses it (copy on write: up to twice an entry's size). The
// cache holds one connection of the pool (PRAGMA data_version) from its
// first use until the DB is closed.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

const (
	// searchCacheEntries bounds the number of cached texts.
	searchCacheEntries = 32
	// searchCacheBytes bounds the bytes of all cached sets (32 texts at
	// 1,000,000 devices).
	searchCacheBytes = 32 << 20
	// searchCacheMaxID: stores with a higher device id are not cached.
	searchCacheMaxID = 8 << 20
	// searchPendingMax bounds the ids queued on an entry by this DB's
	// writes; beyond, the entry is built again at its next use.
	searchPendingMax = 1 << 16
	// searchRebuildShare: a catch-up that finds more changed devices than
	// the set's length over this builds the entry again instead.
	searchRebuildShare = 8
	// searchStampMargin: how far before the newest stamp seen the
	// catch-up looks again (see above).
	searchStampMargin = time.Second
)

// searchCacheOff disables the cache (a variable for tests: the index
// paths of search.go are then taken, as on PostgreSQL).
var searchCacheOff = false

// searchCache is a DB's cache of exact search sets (SQLite).
type searchCache struct {
	mu      sync.Mutex
	entries map[string]*searchEntry
	tick    uint64
	bytes   int // sum of the entries' mask lengths

	verMu  sync.Mutex
	ver    *sql.Conn // a connection that only reads PRAGMA data_version
	verGen uint64    // how many times ver was opened (its counter restarts)

	feed searchFeed // the changed devices, read once for every entry
}

// searchFeed is the catch-up read shared by all entries: one read of the
// recently stamped devices per committed change (data_version), instead
// of one per entry and search. Each read appends the ids of the (id,
// updated_at) pairs it had not seen to log; an entry remembers how far
// into the log it has checked (its feed position) and checks the ids
// after it at its next use. Under bench/load.lua's mix, where a second of
// writes is about 900 stamps, the per-entry reads were 6 % of serve's
// CPU (session 6).
type searchFeed struct {
	mu     sync.Mutex
	epoch  uint64 // changes when the feed starts over: positions of older epochs are void
	ver    int64  // data_version read before the last read
	verGen uint64 // the connection ver was read on
	newest string // newest updated_at seen
	seen   map[int64]string
	log    []int64
	base   uint64 // feed position of log[0]
}

// searchFeedMax bounds the feed's log; an entry whose position falls out
// of it is built again (a variable for tests).
var searchFeedMax = 1 << 16

// searchFeedPos is a position in the feed.
type searchFeedPos struct{ epoch, seq uint64 }

// searchEntry is one text's exact set.
type searchEntry struct {
	key string

	// guarded by searchCache.mu
	lastUse  uint64
	size     int                // len(mask) as counted in searchCache.bytes
	pending  map[int64]struct{} // ids written through this DB since the last catch-up
	overflow bool               // pending overflowed (or a reset): build again
	dropped  bool               // evicted: not counted, not queued on

	startMu sync.Mutex
	gen     uint64                 // changes whenever a device may have joined the set or moved in a sort order
	starts  map[string]searchStart // sort order -> the set's first device in it (valid for gen)

	mu     sync.Mutex // serialises build and catch-up
	built  bool
	ver    int64         // data_version read before the last catch-up
	verGen uint64        // the connection ver was read on
	fpos   searchFeedPos // how far into the feed the set is checked
	mask   []byte        // never changed once published (copy on write)
	count  int           // bytes of mask set to 1
}

// searchStart is a sort position (sort key, id): no device of the set
// sorts before it.
type searchStart struct {
	key any
	id  int64
}

// searchSetView is what a search uses of an entry: its set as of the
// catch-up, and the entry's first positions as of that state (gen).
type searchSetView struct {
	mask  []byte
	count int
	e     *searchEntry
	gen   uint64
}

// start returns the set's first position in sort order, when known.
func (v searchSetView) start(order string) (searchStart, bool) {
	v.e.startMu.Lock()
	defer v.e.startMu.Unlock()
	st, ok := v.e.starts[order]
	return st, ok && v.e.gen == v.gen
}

// learn records st, the first device of a page walked over the whole set
// from the start of order with no other condition, as the set's first
// position in order, unless the set may have gained a device or a device
// moved since the view was taken. The position stays a bound while
// devices only leave the set (deleted, or no longer matching): every
// catch-up that finds a changed device matching moves gen on (noteMoved).
func (v searchSetView) learn(order string, st searchStart) {
	v.e.startMu.Lock()
	defer v.e.startMu.Unlock()
	if v.e.gen != v.gen {
		return
	}
	if v.e.starts == nil {
		v.e.starts = map[string]searchStart{}
	}
	v.e.starts[order] = st
}

// noteMoved forgets the first positions of e: a device may have joined
// its set, or one of its devices may sort elsewhere now.
func (e *searchEntry) noteMoved() {
	e.startMu.Lock()
	defer e.startMu.Unlock()
	e.gen++
	e.starts = nil
}

// asciiLower lower-cases ASCII letters only (as SQLite's LIKE folds).
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// searchExactSQL is searchWhere's exact condition with the pattern in
// parameter p.
func searchExactSQL(p string) string {
	ors := make([]string, 0, len(searchColumns))
	for _, c := range searchColumns {
		ors = append(ors, c+" LIKE "+p+" ESCAPE '\\'")
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// searchSet returns the exact set of devices matching text (pattern is
// its LIKE pattern), brought up to date: a byte per id (see above), how
// many are set, and the entry's first positions. ok is false when the
// cache does not serve this store.
func (s *DB) searchSet(ctx context.Context, text, pattern string) (view searchSetView, ok bool, err error) {
	if searchCacheOff || s.dialect.Name() != "sqlite" {
		return view, false, nil
	}
	c := &s.search
	key := asciiLower(text)
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*searchEntry{}
	}
	e := c.entries[key]
	if e == nil {
		e = &searchEntry{key: key}
		c.entries[key] = e
		c.evictLocked(e)
	}
	c.tick++
	e.lastUse = c.tick
	c.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	c.mu.Lock()
	pending, overflow := e.pending, e.overflow
	e.pending, e.overflow = nil, false
	c.mu.Unlock()
	rebuild := !e.built || overflow
	if !rebuild {
		rebuild, err = s.searchCatchUp(ctx, e, pattern, pending)
	}
	if err == nil && rebuild {
		err = s.searchBuild(ctx, e, text, pattern)
	}
	if err != nil {
		e.built = false // built again at the next use
		e.noteMoved()
		return view, false, err
	}
	c.mu.Lock()
	if !e.dropped {
		c.bytes += len(e.mask) - e.size
		e.size = len(e.mask)
	}
	c.evictLocked(e)
	c.mu.Unlock()
	if !e.built { // ids beyond searchCacheMaxID: not cached
		return view, false, nil
	}
	e.startMu.Lock()
	gen := e.gen
	e.startMu.Unlock()
	return searchSetView{mask: e.mask, count: e.count, e: e, gen: gen}, true, nil
}

// evictLocked drops least recently used entries other than keep while
// there are too many or their sets are too large.
func (c *searchCache) evictLocked(keep *searchEntry) {
	for len(c.entries) > searchCacheEntries || (c.bytes > searchCacheBytes && len(c.entries) > 1) {
		var old *searchEntry
		for _, e := range c.entries {
			if e != keep && (old == nil || e.lastUse < old.lastUse) {
				old = e
			}
		}
		if old == nil {
			return
		}
		delete(c.entries, old.key)
		c.bytes -= old.size
		old.size, old.dropped, old.pending = 0, true, nil
	}
}

// searchWritten queues ids written through this DB (after their commit)
// on every entry: each checks them again at its next use.
func (s *DB) searchWritten(ids ...int64) {
	c := &s.search
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.overflow {
			continue
		}
		if len(e.pending)+len(ids) > searchPendingMax {
			e.pending, e.overflow = nil, true
			continue
		}
		if e.pending == nil {
			e.pending = make(map[int64]struct{}, len(ids))
		}
		for _, id := range ids {
			e.pending[id] = struct{}{}
		}
	}
}

// searchReset has every entry built again at its next use (after a bulk
// import through this DB).
func (s *DB) searchReset() {
	c := &s.search
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		e.pending, e.overflow = nil, true
	}
}

// stampBefore returns the stamp d before stamp (as text in timeLayout;
// "" when stamp does not parse: everything is after it).
func stampBefore(stamp string, d time.Duration) string {
	t, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return ""
	}
	return t.Add(-d).UTC().Format(timeLayout)
}

// dataVersion returns SQLite's data_version on the cache's own
// connection, which writes nothing: it changes whenever any connection of
// any process commits a change to the database, and only then.
func (s *DB) dataVersion(ctx context.Context) (v int64, gen uint64, err error) {
	c := &s.search
	c.verMu.Lock()
	defer c.verMu.Unlock()
	if c.ver == nil {
		conn, err := s.SQL.Conn(context.WithoutCancel(ctx))
		if err != nil {
			return 0, 0, fmt.Errorf("list devices: search cache: connection: %w", err)
		}
		c.ver = conn
		c.verGen++
	}
	if err := c.ver.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		c.ver.Close()
		c.ver = nil
		return 0, 0, fmt.Errorf("list devices: search cache: data version: %w", err)
	}
	return v, c.verGen, nil
}

// closeSearchCache returns the cache's connection to the pool (DB.Close).
func (s *DB) closeSearchCache() {
	c := &s.search
	c.verMu.Lock()
	defer c.verMu.Unlock()
	if c.ver != nil {
		c.ver.Close()
		c.ver = nil
	}
}

// searchFeedAt brings the feed up to data_version v (read on connection
// gen, before this call) and returns its position: every device write
// committed before v was read is in the log before that position. The
// feed reads the (id, updated_at) of every device stamped since its
// newest stamp less searchStampMargin from the devices_updated index alone
// (no row), records them as its seen pairs, advances its newest stamp and
// appends the ids of the pairs it had not seen.
func (s *DB) searchFeedAt(ctx context.Context, v int64, gen uint64) (searchFeedPos, error) {
	f := &s.search.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.epoch != 0 && f.verGen == gen && f.ver == v {
		return searchFeedPos{f.epoch, f.base + uint64(len(f.log))}, nil
	}
	if f.epoch == 0 || f.verGen != gen {
		// Start over (first use, or data_version's connection was opened
		// again: its counter is not comparable): from the newest stamp,
		// less the margin. Positions of the old epoch are void.
		f.epoch++
		f.seen, f.log, f.base, f.newest = nil, nil, 0, ""
		if err := s.scanOneCached(ctx, "SELECT coalesce(max(updated_at), '') FROM devices", nil, &f.newest); err != nil {
			f.epoch++ // nobody holds a position of a half-started epoch
			return searchFeedPos{}, fmt.Errorf("list devices: search cache: newest stamp: %w", err)
		}
	}
	mark := ""
	if f.newest != "" {
		mark = stampBefore(f.newest, searchStampMargin)
	}
	var list, newest string
	if err := s.scanOneCached(ctx, `SELECT coalesce(group_concat(id || ' ' || updated_at), ''), coalesce(max(updated_at), '')
		FROM devices WHERE updated_at >= $1`, []any{mark}, &list, &newest); err != nil {
		return searchFeedPos{}, fmt.Errorf("list devices: search cache: changed devices: %w", err)
	}
	seen := make(map[int64]string, len(f.seen))
	for list != "" {
		var p string
		p, list, _ = strings.Cut(list, ",")
		idText, stamp, _ := strings.Cut(p, " ")
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || id < 1 {
			return searchFeedPos{}, fmt.Errorf("list devices: search cache: bad changed device %q", p)
		}
		if old, ok := f.seen[id]; !ok || old != stamp {
			f.log = append(f.log, id)
		}
		seen[id] = stamp
	}
	// The read covered every stamp at or after mark, so seen holds every
	// pair a later read (from a mark no earlier) can return again.
	f.seen = seen
	if newest > f.newest {
		f.newest = newest
	}
	f.ver, f.verGen = v, gen
	if over := len(f.log) - searchFeedMax; over > 0 {
		drop := max(over, searchFeedMax/4)
		f.log = append(f.log[:0], f.log[drop:]...)
		f.base += uint64(drop)
	}
	return searchFeedPos{f.epoch, f.base + uint64(len(f.log))}, nil
}

// searchFeedSince returns the ids the feed logged from position from up
// to position to (ok false when from is of another epoch or no longer in
// the log: the entry is built again).
func (s *DB) searchFeedSince(from, to searchFeedPos) (ids []int64, ok bool) {
	f := &s.search.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if from.epoch != f.epoch || to.epoch != f.epoch || from.seq < f.base || to.seq > f.base+uint64(len(f.log)) || from.seq > to.seq {
		return nil, false
	}
	return slices.Clone(f.log[from.seq-f.base : to.seq-f.base]), true
}

// searchBuild fills e with the devices matching text, from the FTS5
// candidates of its rarest trigram, or from every device. The probe runs
// first: every write committed after it is seen by the set's read or
// carries a stamp the next probe reads.
func (s *DB) searchBuild(ctx context.Context, e *searchEntry, text, pattern string) error {
	e.built, e.mask, e.count = false, nil, 0
	e.noteMoved()
	v, gen, err := s.dataVersion(ctx)
	if err != nil {
		return err
	}
	pos, err := s.searchFeedAt(ctx, v, gen)
	if err != nil {
		return err
	}
	e.ver, e.verGen, e.fpos = v, gen, pos
	var maxID int64
	if err := s.SQL.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM devices").Scan(&maxID); err != nil {
		return fmt.Errorf("list devices: search cache: highest id: %w", err)
	}
	if maxID > searchCacheMaxID {
		return nil
	}
	q, args := "SELECT coalesce(group_concat(id), '') FROM devices WHERE "+searchExactSQL("$1"), []any{pattern}
	var list string
	if s.searchTable && utf8.RuneCountInString(text) >= minIndexedSearch {
		g, _, _, err := s.rarestTrigram(ctx, searchCond{trigrams: ftsTrigrams(text)})
		if err != nil {
			return err
		}
		// NULL while the index awaits its deferred rebuild (index_builds.go):
		// asked in the same statement, so of the same snapshot as the
		// candidates.
		fts := "SELECT CASE WHEN EXISTS (SELECT 1 FROM deferred_index_builds WHERE kind = 'search') THEN NULL ELSE " +
			"(SELECT coalesce(group_concat(id), '') FROM (SELECT rowid AS sid FROM devices_search WHERE devices_search MATCH $2) AS m CROSS JOIN devices ON devices.id = m.sid WHERE " + searchExactSQL("$1") + ") END"
		var got sql.NullString
		if err := s.SQL.QueryRowContext(ctx, fts, pattern, g).Scan(&got); err != nil {
			return fmt.Errorf("list devices: search cache: build: %w", err)
		}
		if got.Valid {
			q, args = "", nil
			list = got.String
		}
	}
	if q != "" {
		if err := s.SQL.QueryRowContext(ctx, q, args...).Scan(&list); err != nil {
			return fmt.Errorf("list devices: search cache: build: %w", err)
		}
	}
	mask := make([]byte, maxID)
	n, err := setIDs(&mask, list)
	if err != nil {
		return err
	}
	e.mask, e.count, e.built = mask, n, true
	return nil
}

// setIDs sets mask[id-1] = 1 for each id of the comma-separated list,
// growing mask as needed (up to searchCacheMaxID), and returns how many
// bytes changed from 0 to 1.
func setIDs(mask *[]byte, list string) (int, error) {
	n := 0
	for list != "" {
		var f string
		f, list, _ = strings.Cut(list, ",")
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id < 1 || id > searchCacheMaxID {
			return 0, fmt.Errorf("list devices: search cache: bad id %q", f)
		}
		if id > int64(len(*mask)) {
			*mask = slices.Grow(*mask, int(id)-len(*mask))[:id]
		}
		if m := *mask; m[id-1] == 0 {
			m[id-1] = 1
			n++
		}
	}
	return n, nil
}

// searchCatchUp brings e up to date: the devices stamped since its newest
// stamp (less the margin) that it has not seen, and pending (written
// through this DB), are checked again. rebuild is true when they are too
// many: building the set again is cheaper.
func (s *DB) searchCatchUp(ctx context.Context, e *searchEntry, pattern string, pending map[int64]struct{}) (rebuild bool, err error) {
	// No commit since the last probe: nothing it would find. (Read before
	// the probe: a commit after this read shows in the next one.)
	v, gen, err := s.dataVersion(ctx)
	if err != nil {
		return false, err
	}
	var recheck []int64
	if v != e.ver || gen != e.verGen {
		pos, err := s.searchFeedAt(ctx, v, gen)
		if err != nil {
			return false, err
		}
		ids, ok := s.searchFeedSince(e.fpos, pos)
		if !ok {
			return true, nil // the feed started over or moved on: build again
		}
		recheck = ids
		e.ver, e.verGen, e.fpos = v, gen, pos
	}
	for id := range pending {
		recheck = append(recheck, id) // a repeated id is checked twice, harmlessly
	}
	if len(recheck) == 0 {
		return false, nil
	}
	if len(recheck) > max(4096, len(e.mask)/searchRebuildShare) {
		return true, nil
	}
	var match string
	if err := s.scanOneCached(ctx, `SELECT coalesce(group_concat(id), '') FROM devices
		WHERE id IN (SELECT value FROM json_each($2)) AND `+searchExactSQL("$1"), []any{pattern, jsonIDs(recheck)}, &match); err != nil {
		return false, fmt.Errorf("list devices: search cache: check changed devices: %w", err)
	}
	if match != "" {
		// A device that matches now may be new to the set or sort
		// elsewhere: the first positions are forgotten before the new
		// set is published (a page already walking the old one may still
		// learn one only while gen is unchanged).
		e.noteMoved()
	}
	mask := slices.Clone(e.mask)
	count := e.count
	for _, id := range recheck {
		if id <= int64(len(mask)) && mask[id-1] == 1 {
			mask[id-1] = 0
			count--
		}
	}
	n, err := setIDs(&mask, match)
	if err != nil {
		return false, err
	}
	e.mask, e.count = mask, count+n
	return false, nil
}

// maskIDs lists the ids set in mask as a JSON array.
func maskIDs(mask []byte, n int) string {
	b := make([]byte, 0, 8*n+2)
	b = append(b, '[')
	first := true
	for i := 0; ; {
		j := bytes.IndexByte(mask[i:], 1)
		if j < 0 {
			break
		}
		i += j
		if !first {
			b = append(b, ',')
		}
		first = false
		b = strconv.AppendInt(b, int64(i+1), 10)
		i++
	}
	return string(append(b, ']'))
}
