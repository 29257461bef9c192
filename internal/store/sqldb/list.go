package sqldb

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// filterColumn maps a field name to its column and whether it is compared
// case-insensitively (text) or exactly.
var filterColumn = map[string]struct {
	col  string
	fold bool
}{
	"asset_id": {"asset_id", false}, "vendor": {"vendor", true}, "model": {"model", true},
	"device_type": {"device_type", true}, "version": {"version", true}, "serial": {"serial", false},
	"udi_di": {"udi_di", false}, "hostname": {"hostname", true}, "site": {"site", true},
	"location": {"location", true}, "department": {"department", true}, "criticality": {"criticality", false},
	"zone": {"zone", true}, "os": {"os", true}, "end_of_support": {"end_of_support", false},
	"end_of_life": {"end_of_life", false},
}

// sortColumn maps sort fields to the expression the indexes serve.
func (s *DB) sortExpr(field string) (string, bool) {
	switch field {
	case "", "id":
		return "", true
	case "criticality":
		return "criticality_rank", true
	case "end_of_support", "updated_at", "asset_id":
		return field, true
	}
	if fc, ok := filterColumn[field]; ok && slices.Contains(store.SortFields, field) {
		if fc.fold {
			return s.dialect.Fold(fc.col), true
		}
		return fc.col, true
	}
	return "", false
}

// QueryError is a bad list query, naming the parameter.
type QueryError struct {
	Param, Reason string
}

func (e *QueryError) Error() string { return fmt.Sprintf("query parameter %q: %s", e.Param, e.Reason) }

// ListDevices returns one page of devices.
func (s *DB) ListDevices(ctx context.Context, q store.DeviceQuery) (*store.DevicePage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 1000 {
		limit = 1000
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	keys := make([]string, 0, len(q.Filters))
	for k := range q.Filters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, f := range keys {
		v := q.Filters[f]
		switch f {
		case "mac":
			m, err := inventory.NormalizeMAC(v)
			if err != nil {
				return nil, &QueryError{Param: f, Reason: err.Error()}
			}
			where = append(where, "macs LIKE "+arg("%;"+m+";%"))
			continue
		case "ip":
			ip, err := inventory.NormalizeIP(v)
			if err != nil {
				return nil, &QueryError{Param: f, Reason: err.Error()}
			}
			where = append(where, "ips LIKE "+arg("%;"+ip+";%"))
			continue
		case "patient_connected", "phi":
			b, err := parseBool(v)
			if err != nil {
				return nil, &QueryError{Param: f, Reason: err.Error()}
			}
			where = append(where, f+" = "+arg(b))
			continue
		case "criticality":
			c, err := inventory.ParseCriticality(v)
			if err != nil {
				return nil, &QueryError{Param: f, Reason: err.Error()}
			}
			where = append(where, "criticality_rank = "+arg(c.Rank()))
			continue
		}
		fc, ok := filterColumn[f]
		if !ok {
			return nil, &QueryError{Param: f, Reason: "not a device field"}
		}
		if fc.fold {
			where = append(where, s.dialect.Fold(fc.col)+" = "+s.dialect.FoldParam(arg(v)))
		} else {
			where = append(where, fc.col+" = "+arg(v))
		}
	}
	if q.EOSBefore != "" {
		if _, err := inventory.ParseDate(q.EOSBefore); err != nil {
			return nil, &QueryError{Param: "eos_before", Reason: err.Error()}
		}
		// "> ''" rather than "<> ''": one index range that starts after
		// the devices without a date (a "<>" filter read and skipped all
		// of them, 57,000 heap rows at 1 M devices, 280 ms on PostgreSQL).
		where = append(where, "end_of_support > '' AND end_of_support < "+arg(q.EOSBefore))
	}
	var search searchCond
	if t := strings.TrimSpace(q.Search); t != "" {
		switch {
		case !utf8.ValidString(t): // PostgreSQL refuses it; SQLite would match bytes inside characters
			return nil, &QueryError{Param: "q", Reason: "search text is not valid UTF-8"}
		case strings.ContainsRune(t, 0): // no device text holds one; SQLite's LIKE and FTS5 stop at it
			return nil, &QueryError{Param: "q", Reason: "search text contains a NUL character"}
		}
		search = s.searchWhere(t, arg) // search.go
		where = append(where, search.exact)
	}
	field, desc := strings.CutPrefix(q.Sort, "-")
	expr, ok := s.sortExpr(field)
	if !ok {
		return nil, &QueryError{Param: "sort", Reason: fmt.Sprintf("cannot sort by %q (one of %s)", field, strings.Join(store.SortFields, ", "))}
	}
	op, dir := ">", "ASC"
	if desc {
		op, dir = "<", "DESC"
	}
	filters := len(where) // conditions before this point select rows; the cursor only positions
	pos := sortPos{expr: expr, desc: desc}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return nil, &QueryError{Param: "cursor", Reason: "invalid cursor"}
		}
		var v any = c.Key
		if expr == "criticality_rank" {
			var n int
			fmt.Sscan(c.Key, &n)
			v = n
		}
		pos.after, pos.key, pos.id = true, v, c.ID
		where = append(where, s.keyCond(expr, op, v, c.ID, arg))
	}
	order := " ORDER BY id " + dir
	if expr != "" {
		order = fmt.Sprintf(" ORDER BY %s %s, id %s", expr, dir, dir)
	}
	page := &store.DevicePage{Devices: make([]*inventory.Device, 0, limit+1)}
	// Phase 1: walk the sort index for at most scanBudget rows and filter
	// them. When the filters are not selective this finds the page after
	// a few hundred rows, where "filter, then sort every match" would sort
	// a large share of the table. When it finds less than a page, phase 2
	// runs the plain query, which is then cheap because the filters are
	// selective.
	// When the sort field is itself filtered (eos_before sorted by
	// end_of_support, site=X sorted by site), its index already serves the
	// filter as a range: phase 1 would only add work.
	_, sortFiltered := q.Filters[field]
	if field == "end_of_support" && q.EOSBefore != "" {
		sortFiltered = true
	}
	if search.exact != "" {
		// A search has its own two ways (search.go): the index's
		// candidates when they are few, else a walk in sort order.
		pos.order = order
		if err := s.searchPage(ctx, page, search, where, pos, limit+1, args); err != nil {
			return nil, err
		}
	} else if filters > 0 && !sortFiltered && !indexServes(q, field) {
		inner := selectDevice
		if len(where) > filters {
			inner += " WHERE " + strings.Join(where[filters:], " AND ")
		}
		inner += order + fmt.Sprintf(" LIMIT %d", scanBudget)
		sqlText := "SELECT " + keyColumns + " FROM (" + inner + ") AS d WHERE " + strings.Join(where[:filters], " AND ") + order + " LIMIT " + fmt.Sprint(limit+1)
		if err := s.queryPage(ctx, page, sqlText, args); err != nil {
			return nil, err
		}
		if len(page.Devices) <= limit {
			page.Devices = page.Devices[:0]
		}
	}
	if len(page.Devices) == 0 && search.exact == "" {
		// Phase 2: every match, in sort order.
		sqlText := "SELECT " + keyColumns + " FROM devices"
		if len(where) > 0 {
			sqlText += " WHERE " + strings.Join(where, " AND ")
		}
		sqlText += order + " LIMIT " + fmt.Sprint(limit+1)
		if err := s.queryPage(ctx, page, sqlText, args); err != nil {
			return nil, err
		}
	}
	if len(page.Devices) > limit {
		page.Devices = page.Devices[:limit]
		last := page.Devices[limit-1]
		key := ""
		switch {
		case field == "criticality":
			key = fmt.Sprint(last.Criticality.Rank())
		case field == "updated_at":
			key = last.UpdatedAt.UTC().Format(timeLayout)
		case expr != "":
			key = last.Get(field)
		}
		page.Next = encodeCursor(cursor{Key: key, ID: last.ID})
	}
	return page, nil
}

// sortPos is a list's order and where its page starts.
type sortPos struct {
	expr  string // sort expression ("": id)
	desc  bool
	order string // the ORDER BY clause
	after bool   // a cursor: the page starts after (key, id)
	key   any
	id    int64
}

// keyCond is the condition "(expr, id) op (key, id)" with parameters added
// by arg ("id op id" when sorted by id).
func (s *DB) keyCond(expr, op string, key any, id int64, arg func(any) string) string {
	if expr == "" {
		return "id " + op + " " + arg(id)
	}
	if expr == nullableSort {
		return s.nullableKeyCond(expr, op, key, id, arg)
	}
	p := arg(key)
	if strings.HasPrefix(expr, "lower(") {
		p = s.dialect.FoldParam(p)
	}
	cond := fmt.Sprintf("(%s, id) %s (%s, %s)", expr, op, p, arg(id))
	if strings.Contains(expr, " COLLATE ") {
		// SQLite uses a row-value comparison on a collated column as a
		// bound of the index range only with a plain comparison of the
		// column beside it. Without it a cursor page, or a bounded search
		// walk, scanned the index from its start or to its end (a short
		// search walk by model: 7 CPU-ms instead of under 1 at 100,000).
		cond = fmt.Sprintf("%s %s= %s AND %s", expr, strings.TrimSuffix(op, "="), p, cond)
	}
	return cond
}

// nullableSort is the one sort expression whose column holds NULL:
// asset_id, NULL for a device without a tag (so that UNIQUE allows many;
// never ""), and so a cursor key "" (or a NULL read back) stands for NULL.
const nullableSort = "asset_id"

// nullableKeyCond is keyCond for nullableSort. A row-value comparison
// with a NULL is NULL, so "(asset_id, id) > (k, id)" alone drops every
// untagged device on one side of the cursor: paging by asset_id lost
// them (storetest "list_pages_null_keys"). Each database orders NULL at
// one end: SQLite as the least value (first ascending, last
// descending), PostgreSQL as the greatest (last ascending, first
// descending); the condition follows the database's own ORDER BY.
func (s *DB) nullableKeyCond(expr, op string, key any, id int64, arg func(any) string) string {
	greater := strings.HasPrefix(op, ">")
	nullLeast := s.dialect.Name() != "postgres"
	if k, _ := key.(string); key == nil || k == "" {
		// the position is inside the NULL keys, ordered by id
		inNulls := fmt.Sprintf("(%s IS NULL AND id %s %s)", expr, op, arg(id))
		if greater == nullLeast { // the non-NULL keys all lie on this side
			return fmt.Sprintf("(%s OR %s IS NOT NULL)", inNulls, expr)
		}
		return inNulls
	}
	cond := fmt.Sprintf("(%s, id) %s (%s, %s)", expr, op, arg(key), arg(id))
	if greater == nullLeast {
		return cond // the NULL keys lie on the other side
	}
	return fmt.Sprintf("(%s OR %s IS NULL)", cond, expr)
}

// compositeSorts: filter field → sort fields for which a (filter, sort, id)
// index exists (migrations 0009, 0010, 0013, 0014). A list filtered by the
// field and sorted by one of these is a single index range scan.
var compositeSorts = map[string][]string{
	"site":        {"asset_id", "updated_at", "vendor", "model"},                              // 0009, 0010, 0013
	"device_type": {"version", "end_of_support", "model", "vendor", "asset_id", "updated_at"}, // 0009, 0010, 0013, 0014
	"criticality": {"end_of_support", "vendor"},
}

// idIndexed are the filter fields with a (field, id) index (migration 0001):
// filtered and sorted by id, such a list is an index range scan.
var idIndexed = []string{"site", "vendor", "device_type", "department", "criticality", "end_of_support",
	"model", "hostname", "version"}

// indexServes reports whether one index serves one of q's equality filters
// together with the sort: then phase 1 (walking the sort index and
// filtering) would only add work.
func indexServes(q store.DeviceQuery, sortField string) bool {
	for f := range q.Filters {
		if (sortField == "" || sortField == "id") && slices.Contains(idIndexed, f) {
			return true
		}
		if slices.Contains(compositeSorts[f], sortField) {
			return true
		}
	}
	return false
}

// scanBudget is how many rows in sort order phase 1 of a filtered list
// examines before falling back to the filter indexes.
const scanBudget = 4000

// stmtCache holds the prepared list statements by database and SQL text:
// parsing the 29-column SELECT again for every page was a tenth of the
// CPU of a 50-device list request (serve profile, docs/benchmarks/api.md).
// The shapes are few (filters and sort in a fixed order); once the cache
// holds stmtCacheSize, further texts are run unprepared (closing cached
// statements could close one another request is about to run).
var stmtCache struct {
	sync.Mutex
	m map[stmtKey]*sql.Stmt
}

type stmtKey struct {
	db   *sql.DB
	text string
}

const stmtCacheSize = 256

// queryCached runs sqlText as a cached prepared statement.
func (s *DB) queryCached(ctx context.Context, sqlText string, args []any) (*sql.Rows, error) {
	k := stmtKey{s.SQL, sqlText}
	stmtCache.Lock()
	st, ok := stmtCache.m[k]
	full := len(stmtCache.m) >= stmtCacheSize
	stmtCache.Unlock()
	if ok {
		return st.QueryContext(ctx, args...)
	}
	if full {
		return s.SQL.QueryContext(ctx, sqlText, args...)
	}
	st, err := s.SQL.PrepareContext(ctx, sqlText)
	if err != nil {
		return nil, err
	}
	stmtCache.Lock()
	if old, ok := stmtCache.m[k]; ok { // prepared meanwhile by another request
		stmtCache.Unlock()
		st.Close()
		return old.QueryContext(ctx, args...)
	}
	if stmtCache.m == nil {
		stmtCache.m = make(map[stmtKey]*sql.Stmt)
	}
	if len(stmtCache.m) < stmtCacheSize {
		stmtCache.m[k] = st
	} else {
		defer st.Close() // after the rows are read: closed with them
	}
	stmtCache.Unlock()
	return st.QueryContext(ctx, args...)
}

// scanOneCached runs sqlText as queryCached does and scans its one row
// into dest (sql.ErrNoRows when there is none).
func (s *DB) scanOneCached(ctx context.Context, sqlText string, args []any, dest ...any) error {
	rows, err := s.queryCached(ctx, sqlText, args)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

type cursor struct {
	Key string `json:"k,omitempty"`
	ID  int64  `json:"i"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, err
	}
	err = json.Unmarshal(b, &c)
	return c, err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1":
		return true, nil
	case "false", "no", "n", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}
