package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/ingest/batch"
	"github.com/medwarden/medwarden/internal/inventory"
)

// Audit actions of sensor ingestion, one entry per device a batch changes.
const (
	// ActionCreate: the batch saw a device the inventory did not hold and
	// created it (for review). After is {"batch", "device"}.
	ActionCreate = "device.create"
	// ActionObserve: the batch changed observed values of a device. Before
	// is {"observed": {field: the previous observation or null}}; after is
	// {"batch", "observed": {field: the new observation}}.
	ActionObserve = "device.observe"
	// ActionConflict is ActionObserve where a changed observed value
	// differs from the device's intended value; after also lists those
	// "conflicts" (field, intended, observed).
	ActionConflict = "device.conflict"
)

// A last-seen or first-seen time that moved is not audited: it changes on
// every pass of a device and is no value anyone set; the applied batch
// itself is recorded (sensor_batches: sensor, sequence, time).

// change is what one batch did to one device.
type change struct {
	dev    *inventory.Device
	create bool
	fields []string                          // changed observed fields, in order
	before map[string]*inventory.Observation // the value before the batch (nil: none)
}

// observed notes that field's observed value of dev changed from old
// (had: there was one). ch may be nil (nothing to note).
func (ch *change) observed(dev *inventory.Device, field string, old inventory.Observation, had bool) {
	if ch == nil {
		return
	}
	ch.dev = dev
	if slices.Contains(ch.fields, field) {
		return // the first value before this batch is kept
	}
	ch.fields = append(ch.fields, field)
	if had {
		ch.before[field] = &old
	} else {
		ch.before[field] = nil
	}
}

// changes are a batch's device changes, in the order they happened.
type changes struct {
	list []*change
	byID map[int64]*change // existing devices (a device may occur twice in a batch)
}

func newChanges() *changes { return &changes{byID: map[int64]*change{}} }

// created notes a device the batch creates (its ID is set at insert).
func (cs *changes) created(dev *inventory.Device) {
	cs.list = append(cs.list, &change{dev: dev, create: true})
}

// of returns the change record of an existing device.
func (cs *changes) of(dev *inventory.Device) *change {
	ch := cs.byID[dev.ID]
	if ch == nil {
		ch = &change{dev: dev, before: map[string]*inventory.Observation{}}
		cs.byID[dev.ID] = ch
		cs.list = append(cs.list, ch)
	}
	return ch
}

type createdAfter struct {
	Batch  string            `json:"batch"`
	Device *inventory.Device `json:"device"`
}

type observedBefore struct {
	Observed map[string]*inventory.Observation `json:"observed"`
}

type observedAfter struct {
	Batch     string                           `json:"batch"`
	Observed  map[string]inventory.Observation `json:"observed"`
	Conflicts []inventory.Conflict             `json:"conflicts,omitempty"`
}

// entries are the audit entries of the changes, by actor a at time at.
func (cs *changes) entries(a audit.Actor, at time.Time, batchID string) ([]*audit.Entry, error) {
	out := make([]*audit.Entry, 0, len(cs.list))
	for _, ch := range cs.list {
		object := "device/" + strconv.FormatInt(ch.dev.ID, 10)
		var (
			e   *audit.Entry
			err error
		)
		switch {
		case ch.create:
			e, err = audit.New(a, at, ActionCreate, object, nil, createdAfter{Batch: batchID, Device: ch.dev})
		case len(ch.fields) > 0:
			after := observedAfter{Batch: batchID, Observed: make(map[string]inventory.Observation, len(ch.fields))}
			for _, f := range ch.fields {
				after.Observed[f] = ch.dev.Observed[f]
			}
			for _, c := range ch.dev.Conflicts() {
				if slices.Contains(ch.fields, c.Field) {
					after.Conflicts = append(after.Conflicts, c)
				}
			}
			action := ActionObserve
			if len(after.Conflicts) > 0 {
				action = ActionConflict
			}
			e, err = audit.New(a, at, action, object, observedBefore{Observed: ch.before}, after)
		default:
			continue // only seen again (last-seen time)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// actorOf is who sent b: the actor ctx carries, else b's sensor.
func actorOf(ctx context.Context, b *batch.Batch) audit.Actor {
	if a, ok := audit.ActorFrom(ctx); ok {
		return a
	}
	return audit.Actor{Name: "sensor:" + b.SensorID, Kind: audit.KindSensor, Source: "-"}
}

// A bus message from the API carries who sent the batch (the
// authenticated sensor or token, and its address) on a first line before
// the batch: "medwarden-sender {"name":…,"kind":…,"source":…}\n".
// Messages without it (a sensor publishing to NATS directly, or queued
// by an older server) are attributed to the batch's sensor id.
const (
	senderPrefix   = "medwarden-sender "
	maxSenderBytes = 4 << 10
)

// errSender is wrapped by every error about the sender line.
var errSender = errors.New("bad sender line")

type sender struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Source string `json:"source"`
}

// withSender prefixes data (an encoded batch) with a's sender line.
func withSender(a audit.Actor, data []byte) []byte {
	h, _ := json.Marshal(sender(a)) // strings only: cannot fail
	out := make([]byte, 0, len(senderPrefix)+len(h)+1+len(data))
	out = append(out, senderPrefix...)
	out = append(out, h...)
	out = append(out, '\n')
	return append(out, data...)
}

// splitSender returns the sender of a bus message (ok false when it has
// no sender line) and the batch after it.
func splitSender(msg []byte) (a audit.Actor, data []byte, ok bool, err error) {
	if !bytes.HasPrefix(msg, []byte(senderPrefix)) {
		return audit.Actor{}, msg, false, nil
	}
	rest := msg[len(senderPrefix):]
	nl := bytes.IndexByte(rest[:min(len(rest), maxSenderBytes+1)], '\n')
	if nl < 0 {
		return audit.Actor{}, nil, false, fmt.Errorf("%w: no end of line within %d bytes", errSender, maxSenderBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(rest[:nl]))
	dec.DisallowUnknownFields()
	var s sender
	if err := dec.Decode(&s); err != nil {
		return audit.Actor{}, nil, false, fmt.Errorf("%w: %w", errSender, err)
	}
	if dec.More() {
		return audit.Actor{}, nil, false, fmt.Errorf("%w: more than one JSON value", errSender)
	}
	if s.Name == "" || s.Kind == "" {
		return audit.Actor{}, nil, false, fmt.Errorf("%w: name and kind are required", errSender)
	}
	return audit.Actor(s), rest[nl+1:], true, nil
}
