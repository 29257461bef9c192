package sqldb

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

var _ store.EdgeStore = (*DB)(nil)

// edgeTimeLayout has fixed-width nanoseconds, so text order is time order.
const edgeTimeLayout = "2006-01-02T15:04:05.000000000Z"

func edgeTime(t time.Time) string { return t.UTC().Format(edgeTimeLayout) }

func parseEdgeTime(s string) (time.Time, error) {
	return time.Parse(edgeTimeLayout, s)
}

// Ingest runs fn in one transaction (the dialect's import transaction, so
// new devices take the bulk path). On PostgreSQL the transaction first
// locks the audit log, as device writes do (device_writes.go): its audit
// entries are appended at the end (ingest_audit.go), and taking the lock
// after device rows would deadlock with a device write holding the lock
// and waiting for one of those rows.
func (s *DB) Ingest(ctx context.Context, fn func(store.IngestTx) error) error {
	return s.dialect.Import(ctx, s.SQL, func(tx Tx) error {
		if s.dialect.Name() == "postgres" {
			if err := tx.Exec(ctx, "LOCK TABLE audit_log IN EXCLUSIVE MODE"); err != nil {
				return fmt.Errorf("ingest: lock audit log: %w", err)
			}
		}
		return fn(&ingestTx{importTx: importTx{tx: tx}, lock: s.dialect.Name() == "postgres"})
	})
}

type ingestTx struct {
	importTx
	lock bool // SELECT ... FOR UPDATE (postgres)
}

func (t *ingestTx) ClaimBatch(ctx context.Context, b store.SensorBatch) (bool, error) {
	if b.Sensor == "" {
		return false, errors.New("claim batch: no sensor id")
	}
	if b.Seq > 1<<63-1 {
		return false, fmt.Errorf("claim batch %s/%d: sequence out of range", b.Sensor, b.Seq)
	}
	at := b.ReceivedAt
	if at.IsZero() {
		at = store.Now()
	}
	var seq int64
	err := t.tx.QueryRow(ctx, `INSERT INTO sensor_batches(sensor, seq, received_at, devices, edges, observations)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sensor, seq) DO NOTHING RETURNING seq`,
		b.Sensor, int64(b.Seq), edgeTime(at), b.Devices, b.Edges, b.Observations).Scan(&seq)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sql.ErrNoRows) || isNoRows(err):
		return false, nil
	default:
		return false, fmt.Errorf("claim batch %s/%d: %w", b.Sensor, b.Seq, err)
	}
}

func (t *ingestTx) DeviceByAddr(ctx context.Context, mac, ip string) (int64, error) {
	col, v := "macs", mac
	if mac == "" {
		col, v = "ips", ip
	}
	if v == "" {
		return 0, nil
	}
	q := "SELECT id FROM devices WHERE " + col + " LIKE $1 ORDER BY id LIMIT 1"
	if t.lock {
		q += " FOR UPDATE"
	}
	var id int64
	err := t.tx.QueryRow(ctx, q, "%;"+likeEscape(v)+";%").Scan(&id)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) || isNoRows(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("find device by %s %s: %w", col, v, err)
	}
	return id, nil
}

func (t *ingestTx) FindDevice(ctx context.Context, mac, ip string) (*inventory.Device, error) {
	col, v := "macs", mac
	if mac == "" {
		col, v = "ips", ip
	}
	if v == "" {
		return nil, nil
	}
	q := selectDevice + " WHERE " + col + " LIKE $1 ORDER BY id LIMIT 1"
	if t.lock {
		q += " FOR UPDATE"
	}
	d, err := scanDevice(t.tx.QueryRow(ctx, q, "%;"+likeEscape(v)+";%"))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) || isNoRows(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("find device by %s %s: %w", col, v, err)
	}
	return d, nil
}

// likeEscape neutralises LIKE wildcards in an address (addresses are
// normalised and never hold them, but a bad batch must not widen a match).
func likeEscape(s string) string {
	return strings.NewReplacer("%", "", "_", "").Replace(s)
}

const upsertEdge = `INSERT INTO edges(bucket, interval_s, src_mac, src_ip, src_device, dst_mac, dst_ip, dst_device,
	proto, port, app, packets, bytes, first_seen, last_seen, sensor)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
	ON CONFLICT (bucket, src_mac, src_ip, dst_mac, dst_ip, proto, port, app) DO UPDATE SET
	packets = edges.packets + excluded.packets,
	bytes = edges.bytes + excluded.bytes,
	first_seen = CASE WHEN excluded.first_seen < edges.first_seen THEN excluded.first_seen ELSE edges.first_seen END,
	last_seen = CASE WHEN excluded.last_seen > edges.last_seen THEN excluded.last_seen ELSE edges.last_seen END,
	src_device = COALESCE(excluded.src_device, edges.src_device),
	dst_device = COALESCE(excluded.dst_device, edges.dst_device)`

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

func (t *ingestTx) UpsertEdges(ctx context.Context, es []store.Edge) error {
	for i := range es {
		e := &es[i]
		if e.Packets < 0 || e.Bytes < 0 {
			return fmt.Errorf("upsert edge %d: negative counters", i)
		}
		iv := int64(e.Interval / time.Second)
		if iv <= 0 {
			iv = 3600
		}
		if err := t.tx.Exec(ctx, upsertEdge, edgeTime(e.Bucket), iv, e.SrcMAC, e.SrcIP, nullID(e.SrcDevice),
			e.DstMAC, e.DstIP, nullID(e.DstDevice), e.Proto, e.Port, e.App, e.Packets, e.Bytes,
			edgeTime(e.FirstSeen), edgeTime(e.LastSeen), e.Sensor); err != nil {
			return fmt.Errorf("upsert edge %s %s→%s %s/%d: %w", edgeTime(e.Bucket), e.SrcIP, e.DstIP, e.Proto, e.Port, err)
		}
	}
	return nil
}

const selectEdge = `SELECT id, bucket, interval_s, src_mac, src_ip, src_device, dst_mac, dst_ip, dst_device,
	proto, port, app, packets, bytes, first_seen, last_seen, sensor FROM edges`

// ListEdges returns edges newest bucket first (then by id), keyset-paged.
func (s *DB) ListEdges(ctx context.Context, q store.EdgeQuery) (*store.EdgePage, error) {
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Device != 0 {
		p := arg(q.Device)
		where = append(where, "(src_device = "+p+" OR dst_device = "+p+")")
	}
	if q.App != "" {
		where = append(where, "app = "+arg(q.App))
	}
	if !q.From.IsZero() {
		where = append(where, "bucket >= "+arg(edgeTime(q.From)))
	}
	if !q.To.IsZero() {
		where = append(where, "bucket < "+arg(edgeTime(q.To)))
	}
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		b, idText, ok := strings.Cut(string(raw), "|")
		id, perr := strconv.ParseInt(idText, 10, 64)
		if _, terr := parseEdgeTime(b); err != nil || !ok || perr != nil || terr != nil {
			return nil, &QueryError{Param: "cursor", Reason: "invalid cursor"}
		}
		pb, pid := arg(b), arg(id)
		where = append(where, "(bucket < "+pb+" OR (bucket = "+pb+" AND id < "+pid+"))")
	}
	query := selectEdge
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY bucket DESC, id DESC LIMIT " + strconv.Itoa(limit+1)
	rows, err := s.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list edges: %w", err)
	}
	defer rows.Close()
	page := &store.EdgePage{Edges: []store.Edge{}}
	for rows.Next() {
		var (
			e                   store.Edge
			bucket, first, last string
			iv                  int64
			src, dst            sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &bucket, &iv, &e.SrcMAC, &e.SrcIP, &src, &e.DstMAC, &e.DstIP, &dst,
			&e.Proto, &e.Port, &e.App, &e.Packets, &e.Bytes, &first, &last, &e.Sensor); err != nil {
			return nil, fmt.Errorf("list edges: %w", err)
		}
		e.SrcDevice, e.DstDevice = src.Int64, dst.Int64
		e.Interval = time.Duration(iv) * time.Second
		var perr error
		for _, p := range []struct {
			dst *time.Time
			s   string
		}{{&e.Bucket, bucket}, {&e.FirstSeen, first}, {&e.LastSeen, last}} {
			if *p.dst, err = parseEdgeTime(p.s); err != nil {
				perr = err
			}
		}
		if perr != nil {
			return nil, fmt.Errorf("list edges: edge %d: bad time: %w", e.ID, perr)
		}
		page.Edges = append(page.Edges, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list edges: %w", err)
	}
	if len(page.Edges) > limit {
		page.Edges = page.Edges[:limit]
		last := page.Edges[limit-1]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(edgeTime(last.Bucket) + "|" + strconv.FormatInt(last.ID, 10)))
	}
	return page, nil
}

// CountEdges counts the stored edge rows.
func (s *DB) CountEdges(ctx context.Context) (int64, error) {
	var n int64
	if err := s.SQL.QueryRowContext(ctx, "SELECT count(*) FROM edges").Scan(&n); err != nil {
		return 0, fmt.Errorf("count edges: %w", err)
	}
	return n, nil
}

// InboundPeers counts the distinct sources (MAC and address) of the edges
// that reach each registered device since the given time.
func (s *DB) InboundPeers(ctx context.Context, since time.Time) (map[int64]int, error) {
	rows, err := s.SQL.QueryContext(ctx, `SELECT dst_device, count(DISTINCT src_mac || '/' || src_ip) FROM edges
		WHERE dst_device IS NOT NULL AND last_seen >= $1 AND (src_device IS NULL OR src_device <> dst_device)
		GROUP BY dst_device`, edgeTime(since))
	if err != nil {
		return nil, fmt.Errorf("inbound peers: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("inbound peers: %w", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbound peers: %w", err)
	}
	return out, nil
}

// LastBatches returns the newest applied batch of every sensor, by sensor.
func (s *DB) LastBatches(ctx context.Context) ([]store.SensorBatch, error) {
	rows, err := s.SQL.QueryContext(ctx, `SELECT b.sensor, b.seq, b.received_at, b.devices, b.edges, b.observations
		FROM sensor_batches b JOIN (SELECT sensor, max(seq) AS seq FROM sensor_batches GROUP BY sensor) m
		ON b.sensor = m.sensor AND b.seq = m.seq ORDER BY b.sensor`)
	if err != nil {
		return nil, fmt.Errorf("last sensor batches: %w", err)
	}
	defer rows.Close()
	var out []store.SensorBatch
	for rows.Next() {
		var (
			b   store.SensorBatch
			seq int64
			at  string
		)
		if err := rows.Scan(&b.Sensor, &seq, &at, &b.Devices, &b.Edges, &b.Observations); err != nil {
			return nil, fmt.Errorf("last sensor batches: %w", err)
		}
		b.Seq = uint64(seq)
		b.ReceivedAt, _ = parseEdgeTime(at)
		out = append(out, b)
	}
	return out, rows.Err()
}
