package sqldb

// Free-text device search (store.DeviceQuery.Search): a trigram index over
// the searchable text of every device, created by migration
// 0010_device_search.sql.
//
//   - SQLite: devices_search, an FTS5 table (tokenize=trigram, contentless,
//     detail=none) holding, per device (rowid = devices.id), the searchable
//     columns joined by newlines. Triggers devices_search_ai/_au/_ad on
//     devices keep it in step with every INSERT, UPDATE and DELETE.
//   - PostgreSQL: devices_search, a GIN pg_trgm index on the same joined
//     text, an ordinary expression index of the devices table (when the
//     pg_trgm extension cannot be created, the migration logs a warning and
//     search runs unindexed, with the same results).
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
// Both are no-ops when the store has no search index (a database that has
// not run 0010) and safe to call when searchBulkStart was not called
// (searchBulkFinish then does nothing). Being DDL and DML inside the
// import transaction, a rejected, cancelled or killed import leaves the
// index and triggers exactly as before.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
	if err := t.tx.Exec(ctx, "DELETE FROM devices_search"); err != nil {
		return fmt.Errorf("bulk load: empty search index: %w", err)
	}
	if err := t.tx.Exec(ctx, "INSERT INTO devices_search(rowid, t) SELECT id, "+searchTextSQLite("")+" FROM devices"); err != nil {
		return fmt.Errorf("bulk load: fill search index: %w", err)
	}
	for _, d := range t.search.triggers {
		if err := t.tx.Exec(ctx, d[1]); err != nil {
			return fmt.Errorf("bulk load: recreate trigger %s: %w", d[0], err)
		}
	}
	t.search = searchBulk{}
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
