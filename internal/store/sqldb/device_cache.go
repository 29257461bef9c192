package sqldb

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// A device list reads each page in two steps: a key query gives the page's
// devices as (id, revision, updated_at), in order, and the devices whose key
// is in deviceCache are taken from it; only the others are read and decoded.
// Reading and decoding the 29 columns of a row (the driver's conversions,
// provenance, dates) was two thirds of a 50-device list page's store CPU
// under bench/load.sh, where the same first pages are read again and again
// between writes (docs/benchmarks/api.md, session 6).
//
// A key names one stored version of a device exactly: every write of a
// device row (updateIn, Insert) sets a new revision and a new updated_at,
// and a deleted id that SQLite hands out again comes back with revision 1
// and a later updated_at. So a cached device is never stale: a write changes
// the key that the next list reads, and the old entry is simply not found.

// deviceKey is one stored version of a device.
type deviceKey struct {
	id, rev int64
	updated string // updated_at as stored (text, timeLayout)
}

// keyColumns are the columns of a deviceKey, in scan order.
const keyColumns = "id, revision, updated_at"

// deviceCacheGen is how many devices each of the cache's two generations
// holds: when the current one is full it becomes the previous one and the
// oldest is dropped, so between deviceCacheGen and 2*deviceCacheGen
// recently listed devices stay (about 3 KB each decoded).
const deviceCacheGen = 4096

// deviceCache holds decoded devices of recent list pages by id.
// The devices in it are never modified: get returns a copy of the struct,
// whose maps and slices (provenance, observed values, addresses) are
// shared, as ListDevices documents.
type deviceCache struct {
	mu        sync.Mutex
	cur, prev map[int64]cachedDevice
}

type cachedDevice struct {
	key deviceKey
	d   *inventory.Device
}

// lookup returns a copy of the cached device of k, or nil. The caller
// holds c.mu.
func (c *deviceCache) lookup(k deviceKey) *inventory.Device {
	e, ok := c.cur[k.id]
	if !ok {
		if e, ok = c.prev[k.id]; !ok || e.key != k {
			return nil
		}
		c.add(e) // still in use: keep it through the next turn
	} else if e.key != k {
		return nil
	}
	d := *e.d
	return &d
}

// add stores e. The caller holds c.mu.
func (c *deviceCache) add(e cachedDevice) {
	if c.cur == nil || len(c.cur) >= deviceCacheGen {
		c.prev, c.cur = c.cur, make(map[int64]cachedDevice, deviceCacheGen)
	}
	c.cur[e.key.id] = e
}

// forget drops the cached device id (deleted). Its key would not be listed
// again anyway, unless SQLite handed the id out again to a device written
// in the same nanosecond (a test's frozen clock).
func (c *deviceCache) forget(id int64) {
	c.mu.Lock()
	delete(c.cur, id)
	delete(c.prev, id)
	c.mu.Unlock()
}

// scanKeys reads the deviceKey rows of sqlText (columns keyColumns).
func (s *DB) scanKeys(ctx context.Context, sqlText string, args []any, keys []deviceKey) ([]deviceKey, error) {
	rows, err := s.queryCached(ctx, sqlText, args)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k deviceKey
		if err := rows.Scan(&k.id, &k.rev, &k.updated); err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return keys, nil
}

// queryPage appends to page the devices whose keys sqlText selects
// (columns keyColumns), in its order.
func (s *DB) queryPage(ctx context.Context, page *store.DevicePage, sqlText string, args []any) error {
	keys, err := s.scanKeys(ctx, sqlText, args, make([]deviceKey, 0, 64))
	if err != nil {
		return err
	}
	return s.pageOfKeys(ctx, page, keys)
}

// pageOfKeys appends the devices of keys to page, in order: from the cache,
// or read by id. A device deleted since its key was read is left out; one
// written since is read at its new version (and not cached: its new key is
// not the one listed).
func (s *DB) pageOfKeys(ctx context.Context, page *store.DevicePage, keys []deviceKey) error {
	start := len(page.Devices)
	var miss []int64
	s.devices.mu.Lock()
	for _, k := range keys {
		d := s.devices.lookup(k)
		if d == nil {
			miss = append(miss, k.id)
		}
		page.Devices = append(page.Devices, d)
	}
	s.devices.mu.Unlock()
	if len(miss) == 0 {
		return nil
	}
	byID, err := s.readDevices(ctx, miss)
	if err != nil {
		return err
	}
	out := page.Devices[:start]
	s.devices.mu.Lock()
	for i, k := range keys {
		d := page.Devices[start+i]
		if d == nil {
			stored := byID[k.id]
			if stored == nil {
				continue // deleted in between
			}
			if stored.Revision == k.rev && timeText(&stored.UpdatedAt) == k.updated {
				s.devices.add(cachedDevice{key: k, d: stored})
			}
			c := *stored
			d = &c
		}
		out = append(out, d)
	}
	s.devices.mu.Unlock()
	clear(page.Devices[len(out):])
	page.Devices = out
	return nil
}

// readDevices reads the devices with these ids (one query).
func (s *DB) readDevices(ctx context.Context, ids []int64) (map[int64]*inventory.Device, error) {
	cond, arg := s.idsIn(ids)
	rows, err := s.queryCached(ctx, selectDevice+" WHERE "+cond, []any{arg})
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	byID := make(map[int64]*inventory.Device, len(ids))
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		byID[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return byID, nil
}

// fillPage appends the devices with these ids to page, in this order
// (one key query, then pageOfKeys).
func (s *DB) fillPage(ctx context.Context, page *store.DevicePage, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	cond, arg := s.idsIn(ids)
	got, err := s.scanKeys(ctx, "SELECT "+keyColumns+" FROM devices WHERE "+cond, []any{arg}, make([]deviceKey, 0, len(ids)))
	if err != nil {
		return err
	}
	byID := make(map[int64]deviceKey, len(got))
	for _, k := range got {
		byID[k.id] = k
	}
	keys := got[:0]
	for _, id := range ids {
		if k, ok := byID[id]; ok { // deleted in between: left out
			keys = append(keys, k)
		}
	}
	return s.pageOfKeys(ctx, page, keys)
}

// idsIn is the condition "id is one of ids" with its one parameter ($1).
func (s *DB) idsIn(ids []int64) (string, any) {
	return idsCondition(s.dialect.Name(), ids)
}

// idsCondition is the condition "id is one of ids" in dialect with its
// one parameter ($1): an array on PostgreSQL, a JSON array (jsonIDs) read
// by json_each on SQLite.
func idsCondition(dialect string, ids []int64) (string, any) {
	if dialect == "postgres" {
		return "id = ANY($1)", ids
	}
	return "id IN (SELECT value FROM json_each($1))", jsonIDs(ids)
}

// jsonIDs writes ids as a JSON array.
func jsonIDs(ids []int64) string {
	b := make([]byte, 0, 8*len(ids)+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}
