package store

import (
	"context"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/inventory"
)

// Edge is one aggregated communication edge of one interval: who talked to
// whom over which protocol, port and application, how much, and when. The
// key is (Bucket, SrcMAC, SrcIP, DstMAC, DstIP, Proto, Port, App); sensors
// send partial buckets and UpsertEdges adds them up.
type Edge struct {
	ID     int64     `json:"id"`
	Bucket time.Time `json:"bucket"` // start of the interval (UTC)
	// Interval is the bucket length (1 h by default).
	Interval  time.Duration `json:"-"`
	SrcMAC    string        `json:"src_mac,omitempty"`
	SrcIP     string        `json:"src_ip,omitempty"`
	SrcDevice int64         `json:"src_device,omitempty"` // inventory id; 0 when not a known device
	DstMAC    string        `json:"dst_mac,omitempty"`
	DstIP     string        `json:"dst_ip,omitempty"`
	DstDevice int64         `json:"dst_device,omitempty"`
	Proto     string        `json:"proto"` // tcp, udp, icmp, icmpv6, ip-N
	Port      int           `json:"port"`  // server port; 0 for port-less protocols
	App       string        `json:"app"`   // dissector name; "" when none matched
	Packets   int64         `json:"packets"`
	Bytes     int64         `json:"bytes"`
	FirstSeen time.Time     `json:"first_seen"`
	LastSeen  time.Time     `json:"last_seen"`
	Sensor    string        `json:"sensor"` // the sensor that sent the first part
}

// EdgeQuery selects a page of edges, newest bucket first.
type EdgeQuery struct {
	Device int64     // edges from or to this device (0: all)
	App    string    // exact application ("" : all)
	From   time.Time // buckets starting at or after From (zero: no bound)
	To     time.Time // buckets starting before To (zero: no bound)
	Limit  int       // default 100, at most 1000
	Cursor string    // opaque, from EdgePage.Next
}

// EdgePage is one page of edges.
type EdgePage struct {
	Edges []Edge `json:"edges"`
	Next  string `json:"next,omitempty"`
}

// SensorBatch is the record that a sensor batch was applied (ingest
// dedupe: a batch is applied at most once per (Sensor, Seq)).
type SensorBatch struct {
	Sensor       string
	Seq          uint64
	ReceivedAt   time.Time
	Devices      int // observed devices in the batch
	Edges        int
	Observations int
}

// EdgeStore keeps communication edges and the sensor batches applied
// (sensor_store.go in sqldb).
type EdgeStore interface {
	// ListEdges returns a page of edges matching q.
	ListEdges(ctx context.Context, q EdgeQuery) (*EdgePage, error)
	// CountEdges counts all stored edge rows.
	CountEdges(ctx context.Context) (int64, error)
	// InboundPeers counts, per registered device, the distinct hosts seen
	// connecting to it (edges whose last packet is at or after since): the
	// risk model's observed exposure. Devices with no inbound edge are absent.
	InboundPeers(ctx context.Context, since time.Time) (map[int64]int, error)
	// LastBatches returns the newest applied batch of every sensor.
	LastBatches(ctx context.Context) ([]SensorBatch, error)
	// Ingest runs fn in one transaction: device changes, edges and the
	// batch record land together or not at all.
	Ingest(ctx context.Context, fn func(IngestTx) error) error
}

// IngestTx is what applying a sensor batch may do inside its transaction.
type IngestTx interface {
	ImportTx
	// ClaimBatch records b; it returns false (and records nothing) when a
	// batch with the same sensor and sequence was applied before.
	ClaimBatch(ctx context.Context, b SensorBatch) (bool, error)
	// DeviceByAddr returns the id of the lowest-id device holding the MAC
	// address (when mac is not "") or else the IP address; 0 when none.
	// On PostgreSQL the device row is locked for the transaction.
	DeviceByAddr(ctx context.Context, mac, ip string) (int64, error)
	// FindDevice is DeviceByAddr returning the whole device (nil when none),
	// in one statement.
	FindDevice(ctx context.Context, mac, ip string) (*inventory.Device, error)
	// UpsertEdges adds each edge's packets and bytes to the stored edge of
	// the same key (widening first/last seen), or inserts it.
	UpsertEdges(ctx context.Context, es []Edge) error
	// AppendAudit chains es, in order, after the last audit entry and
	// inserts them in this transaction: they commit with the changes they
	// describe, or not at all. (The transaction holds the audit log's
	// append lock from its start, so no other entry comes in between.)
	AppendAudit(ctx context.Context, es []*audit.Entry) error
}
