// Package ingest applies sensor batches on the server: it consumes them
// from the bus and, in one store transaction per batch, records the batch
// (so a redelivered or resent batch is applied once), merges observed
// devices into the inventory as observed values (inventory.ApplyObserved:
// intended values are never overwritten; unknown devices are created with
// only their addresses as values, for review) and adds the batch's edges
// to the stored per-interval edges. Every device the batch creates or
// whose observed values it changes gets an audit entry in the same
// transaction (audit.go). Only after the commit is the bus message
// acknowledged.
package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/bus"
	"github.com/medwarden/medwarden/internal/ingest/batch"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// ConsumerName is the durable bus consumer of the ingesters: every server
// uses the same name, so each batch goes to one of them.
const ConsumerName = "medwarden-ingest"

// LastSeenStep: a device's last-seen time is written when it moved by at
// least this much (or when anything else changed), not on every batch.
const LastSeenStep = 15 * time.Minute

// Store is what ingestion needs.
type Store interface {
	store.EdgeStore
}

// Service applies batches.
type Service struct {
	st  Store
	log *slog.Logger
	// OnChanged, when set, is called after a commit with the ids of the
	// devices the batch created or changed (e.g. the findings service's
	// DevicesChanged). Errors are its own to report.
	OnChanged func(ctx context.Context, ids []int64)

	applied, duplicates, rejected, failed atomic.Int64
	w                                     waiters
}

// New returns a service on st. log may be nil.
func New(st Store, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, log: log.With("subsystem", "ingest")}
}

// Result says what applying one batch did.
type Result struct {
	Batch     string  `json:"batch"`     // sensor/seq
	Duplicate bool    `json:"duplicate"` // applied before: nothing done
	Created   []int64 `json:"created"`   // new devices (for review)
	Updated   []int64 `json:"updated"`   // devices whose observed values changed
	Conflicts int     `json:"conflicts"` // fields of these devices whose observed value differs from the intended one
	Edges     int     `json:"edges"`
}

// Counters are the service's totals since start.
type Counters struct {
	Applied, Duplicates, Rejected, Failed int64
}

// Counters returns the totals.
func (s *Service) Counters() Counters {
	return Counters{s.applied.Load(), s.duplicates.Load(), s.rejected.Load(), s.failed.Load()}
}

// Apply applies b (already validated) in one transaction. The audit
// entries name the actor ctx carries (audit.WithActor: the sensor or token
// that sent the batch, and its address); without one, the batch's sensor
// id with source "-".
func (s *Service) Apply(ctx context.Context, b *batch.Batch) (*Result, error) {
	res := &Result{Batch: b.ID()}
	now := store.Now()
	err := s.st.Ingest(ctx, func(tx store.IngestTx) error {
		*res = Result{Batch: b.ID()}
		ok, err := tx.ClaimBatch(ctx, store.SensorBatch{Sensor: b.SensorID, Seq: b.Seq, ReceivedAt: now,
			Devices: len(b.Devices), Edges: len(b.Edges), Observations: b.Observations()})
		if err != nil {
			return err
		}
		if !ok {
			res.Duplicate = true
			return nil
		}
		a := applier{tx: tx, b: b, now: now, byIP: map[string]int64{}, byMAC: map[string]int64{}, res: res, changes: newChanges()}
		if err := a.devices(ctx); err != nil {
			return err
		}
		if err := a.edges(ctx); err != nil {
			return err
		}
		es, err := a.changes.entries(actorOf(ctx, b), now, b.ID())
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, es)
	})
	if err != nil {
		s.failed.Add(1)
		return nil, fmt.Errorf("apply batch %s: %w", b.ID(), err)
	}
	if res.Duplicate {
		s.duplicates.Add(1)
		return res, nil
	}
	s.applied.Add(1)
	if s.OnChanged != nil && len(res.Created)+len(res.Updated) > 0 {
		s.OnChanged(ctx, slices.Concat(res.Created, res.Updated))
	}
	return res, nil
}

type applier struct {
	tx    store.IngestTx
	b     *batch.Batch
	now   time.Time
	byIP  map[string]int64 // addresses of this batch's devices
	byMAC map[string]int64
	res   *Result
	// changes are the device changes to audit.
	changes *changes
}

// match finds the inventory device of an observed device: by MAC; else
// by IP when the device holding that IP has no MAC that contradicts.
func (a *applier) match(ctx context.Context, d *batch.Device) (*inventory.Device, error) {
	if d.MAC != "" {
		dev, err := a.tx.FindDevice(ctx, d.MAC, "")
		if err != nil || dev != nil {
			return dev, err
		}
	}
	for _, ip := range d.IPs {
		dev, err := a.tx.FindDevice(ctx, "", ip)
		if err != nil {
			return nil, err
		}
		if dev == nil {
			continue
		}
		if d.MAC == "" || len(dev.MACs) == 0 {
			return dev, nil
		}
		// The address now belongs to another MAC (DHCP reuse): not this device.
	}
	return nil, nil
}

func (a *applier) devices(ctx context.Context) error {
	var (
		created    []*inventory.Device
		createdFor []*batch.Device
		pending    = map[string]*inventory.Device{} // new devices of this batch by MAC
	)
	for i := range a.b.Devices {
		d := &a.b.Devices[i]
		if dev := pending[d.MAC]; d.MAC != "" && dev != nil {
			a.observe(dev, d, nil) // the same new device twice in one batch
			continue
		}
		dev, err := a.match(ctx, d)
		if err != nil {
			return fmt.Errorf("device %d (%s): %w", i, cmpOr(d.MAC, d.IPs), err)
		}
		if dev == nil {
			dev = a.newDevice(d)
			a.observe(dev, d, nil)
			a.changes.created(dev)
			created, createdFor = append(created, dev), append(createdFor, d)
			if d.MAC != "" {
				pending[d.MAC] = dev
			}
			continue
		}
		if a.observe(dev, d, a.changes.of(dev)) {
			if err := a.tx.Update(ctx, dev); err != nil {
				return fmt.Errorf("update device %d: %w", dev.ID, err)
			}
			if !slices.Contains(a.res.Updated, dev.ID) {
				a.res.Updated = append(a.res.Updated, dev.ID)
				a.res.Conflicts += len(dev.Conflicts())
			}
		}
		a.remember(d, dev.ID)
	}
	if len(created) == 0 {
		return nil
	}
	if err := a.tx.Insert(ctx, created); err != nil {
		return fmt.Errorf("create %d observed devices: %w", len(created), err)
	}
	for k, dev := range created {
		a.res.Created = append(a.res.Created, dev.ID)
		a.remember(createdFor[k], dev.ID)
	}
	return nil
}

func cmpOr(mac string, ips []string) string {
	if mac != "" {
		return mac
	}
	return strings.Join(ips, ",")
}

func (a *applier) remember(d *batch.Device, id int64) {
	if d.MAC != "" {
		a.byMAC[d.MAC] = id
	}
	for _, ip := range d.IPs {
		a.byIP[ip] = id
	}
}

// newDevice is an unknown device: its addresses are its only values
// (provenance "observed"), everything else is observed, for review.
func (a *applier) newDevice(d *batch.Device) *inventory.Device {
	p := inventory.Provenance{Kind: inventory.SourceObserved, Source: a.b.SensorID, At: a.now}
	dev := &inventory.Device{Provenance: map[string]inventory.Provenance{}}
	if d.MAC != "" {
		dev.MACs = []string{d.MAC}
		dev.Provenance["mac"] = p
	}
	if len(d.IPs) > 0 {
		dev.IPs = slices.Clone(d.IPs)
		dev.Provenance["ip"] = p
	}
	return dev
}

// observe records d's observed values on dev and reports whether dev
// changed (and must be written). Observed values that changed are noted
// in ch (nil for a device this batch creates: it is audited whole).
func (a *applier) observe(dev *inventory.Device, d *batch.Device, ch *change) bool {
	changed := false
	var first, last time.Time
	for _, o := range d.Observed {
		value, ok := reconcile(dev, o)
		if !ok {
			continue
		}
		at := o.LastSeen
		if at.IsZero() {
			at = a.b.End
		}
		old, had := dev.Observed[o.Field]
		if inventory.ApplyObserved(dev, o.Field, inventory.Observation{Value: value, Source: a.b.SensorID, At: at, Confidence: o.Confidence}) {
			changed = true
			ch.observed(dev, o.Field, old, had)
		}
		if !o.FirstSeen.IsZero() && (first.IsZero() || o.FirstSeen.Before(first)) {
			first = o.FirstSeen
		}
		if o.LastSeen.After(last) {
			last = o.LastSeen
		}
	}
	if last.IsZero() {
		last = a.b.End
	}
	if first.IsZero() {
		first = last
	}
	if dev.FirstSeen == nil || first.Before(*dev.FirstSeen) {
		f := first.UTC()
		dev.FirstSeen = &f
		changed = true
	}
	if dev.LastSeen == nil || last.Sub(*dev.LastSeen) >= LastSeenStep || changed && last.After(*dev.LastSeen) {
		l := last.UTC()
		dev.LastSeen = &l
		changed = true
	}
	return changed
}

// reconcile decides what of an observation to record on a device that may
// hold an intended value for the field (see docs/SENSOR.md "What the
// server records"):
//   - device_type: the sensor's classes ("patient-monitor") are coarser
//     than a register's taxonomy ("vital-signs-monitor"), so they are kept
//     only for devices without a type;
//   - vendor: a vendor known only from the MAC's registry owner (the NIC's
//     maker, often not the device's) is kept only for devices without a
//     vendor; the same maker under its longer registry name is recorded
//     under the intended spelling (no conflict);
//   - os, model: an observed value that is a less specific form of the
//     intended one ("Windows" for "Windows 10 Enterprise 22H2") is
//     consistent and recorded under the intended spelling.
func reconcile(dev *inventory.Device, o batch.Observed) (string, bool) {
	intended := dev.Get(o.Field)
	if intended == "" {
		return o.Value, true
	}
	switch o.Field {
	case "device_type":
		return "", false
	case "vendor":
		if sameVendor(intended, o.Value) {
			return intended, true
		}
		if ouiOnly(o.Evidence) {
			return "", false
		}
	case "os", "model":
		if wordPrefix(intended, o.Value) {
			return intended, true
		}
	}
	return o.Value, true
}

func ouiOnly(evidence []string) bool {
	for _, e := range evidence {
		if e != "oui" && !strings.HasPrefix(e, "oui") {
			return false
		}
	}
	return true
}

// wordPrefix reports whether short is, ignoring case, the start of long
// up to a word boundary.
func wordPrefix(long, short string) bool {
	l, s := strings.ToLower(strings.TrimSpace(long)), strings.ToLower(strings.TrimSpace(short))
	if s == "" || !strings.HasPrefix(l, s) {
		return false
	}
	return len(l) == len(s) || !isWordByte(l[len(s)])
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

func sameVendor(intended, observed string) bool {
	a, b := inventory.VendorKey(intended), inventory.VendorKey(observed)
	if a == "" || b == "" {
		return false
	}
	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}

// resolve names the device behind an edge end: by IP (this batch's
// devices first, then the inventory), else by MAC when there is no IP.
func (a *applier) resolve(ctx context.Context, mac, ip string) (int64, error) {
	if ip != "" {
		if id, ok := a.byIP[ip]; ok {
			return id, nil
		}
		id, err := a.tx.DeviceByAddr(ctx, "", ip)
		if err == nil {
			a.byIP[ip] = id
		}
		return id, err
	}
	if mac == "" {
		return 0, nil
	}
	if id, ok := a.byMAC[mac]; ok {
		return id, nil
	}
	id, err := a.tx.DeviceByAddr(ctx, mac, "")
	if err == nil {
		a.byMAC[mac] = id
	}
	return id, err
}

func (a *applier) edges(ctx context.Context) error {
	iv := time.Duration(a.b.EdgeIntervalS) * time.Second
	es := make([]store.Edge, 0, len(a.b.Edges))
	for i, e := range a.b.Edges {
		src, err := a.resolve(ctx, e.SrcMAC, e.SrcIP)
		if err != nil {
			return fmt.Errorf("edge %d: %w", i, err)
		}
		dst, err := a.resolve(ctx, e.DstMAC, e.DstIP)
		if err != nil {
			return fmt.Errorf("edge %d: %w", i, err)
		}
		es = append(es, store.Edge{Bucket: e.Bucket, Interval: iv, SrcMAC: e.SrcMAC, SrcIP: e.SrcIP, SrcDevice: src,
			DstMAC: e.DstMAC, DstIP: e.DstIP, DstDevice: dst, Proto: e.Proto, Port: e.Port, App: e.App,
			Packets: int64(e.Packets), Bytes: int64(e.Bytes), FirstSeen: e.FirstSeen, LastSeen: e.LastSeen, Sensor: a.b.SensorID})
	}
	a.res.Edges = len(es)
	return a.tx.UpsertEdges(ctx, es)
}

// Retry delays after a failed apply (the store is down or busy): the
// message is nacked and comes back after this long, doubling to MaxRetryDelay.
const (
	RetryDelay    = time.Second
	MaxRetryDelay = time.Minute
)

// Run consumes batches from c until ctx ends: decode, apply, then ack. A
// message that is not a valid batch is acknowledged (dropped) and logged,
// since no retry can fix it; a batch that fails to apply is nacked and
// retried.
func (s *Service) Run(ctx context.Context, c bus.Consumer) error {
	for {
		d, err := c.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, bus.ErrClosed) {
				return nil
			}
			s.log.Warn("bus consumer", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(RetryDelay):
			}
			continue
		}
		s.Handle(ctx, d)
	}
}

// Handle applies one delivery and acks or nacks it.
func (s *Service) Handle(ctx context.Context, d bus.Delivery) {
	m := d.Message()
	a, data, hasSender, err := splitSender(m.Data)
	var b *batch.Batch
	if err == nil {
		b, err = batch.Decode(bytes.NewReader(data), "bus message "+m.ID)
	}
	if err != nil {
		s.rejected.Add(1)
		s.log.Error("dropping a message that is not a valid sensor batch", "id", m.ID, "err", err)
		if err := d.Ack(ctx); err != nil {
			s.log.Warn("ack", "id", m.ID, "err", err)
		}
		return
	}
	actx := ctx
	if hasSender {
		actx = audit.WithActor(ctx, a)
	}
	res, err := s.Apply(actx, b)
	if err != nil {
		delay := min(RetryDelay<<min(d.Attempt()-1, 6), MaxRetryDelay)
		s.log.Error("apply sensor batch; will retry", "id", m.ID, "attempt", d.Attempt(), "retry_in", delay, "err", err)
		if err := d.Nak(context.WithoutCancel(ctx), delay); err != nil {
			s.log.Warn("nak", "id", m.ID, "err", err)
		}
		return
	}
	if err := d.Ack(context.WithoutCancel(ctx)); err != nil {
		// The batch is stored; a redelivery will be recognised as a duplicate.
		s.log.Warn("ack", "id", m.ID, "err", err)
	}
	status := StatusApplied
	if res.Duplicate {
		status = StatusDuplicate
	}
	s.notify(m.ID, status)
	s.log.Debug("sensor batch applied", "id", m.ID, "duplicate", res.Duplicate, "created", len(res.Created),
		"updated", len(res.Updated), "conflicts", res.Conflicts, "edges", res.Edges)
}
