// Package audit is MedWarden's tamper-evident audit trail: every change by
// a person, an API token or a sensor becomes an Entry, and entries form a
// hash chain: each entry's hash covers the previous entry's hash and the
// canonical JSON of the entry. Editing, deleting or reordering stored
// entries breaks the chain, and Verify says where. The package is pure:
// the store appends and reads entries.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors.
var (
	// ErrTampered: the chain is broken (an entry was edited, deleted,
	// inserted or reordered).
	ErrTampered = errors.New("audit log tampered")
)

// Actor kinds.
const (
	KindUser   = "user"   // a person signed in to the console, or at the CLI
	KindToken  = "token"  // an API token (Actor is "user/token-id")
	KindSensor = "sensor" // a sensor
	KindSystem = "system" // MedWarden itself (first start, migrations)
)

// GenesisHash is the "previous hash" of the first entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Actor is who made a change and from where.
type Actor struct {
	Name   string // user name, "user/token:ID" or sensor name
	Kind   string // KindUser, KindToken, KindSensor, KindSystem
	Source string // client IP address, or "cli"
}

type actorKey struct{}

// WithActor returns ctx carrying the actor of the changes made under it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries; ok is false when none does.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// Entry is one audited change.
type Entry struct {
	Seq       int64     `json:"seq"` // 1, 2, 3… with no gaps
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	ActorKind string    `json:"actor_kind"`
	Source    string    `json:"source"`
	// Action is "object.verb": device.create, device.update,
	// device.delete, import.run, user.create, user.update, token.create,
	// token.revoke.
	Action string `json:"action"`
	Object string `json:"object"` // "device/42", "user/alice", "token/7"
	// Before and After are the object's JSON before and after the change
	// (null for creations and deletions respectively; a summary for imports).
	Before   json.RawMessage `json:"before"`
	After    json.RawMessage `json:"after"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`

	// canonical is Before and After as New made them, already canonical
	// JSON: while they still hold the same bytes, ComputeHash hashes them
	// as they are instead of decoding and encoding them again (a device
	// write's entry: two of the four canonical passes it cost).
	canonical [2]json.RawMessage
}

// New builds an entry for actor a (not yet chained: the store sets Seq,
// PrevHash and Hash when it appends). before and after are marshalled to
// JSON; nil becomes null.
func New(a Actor, at time.Time, action, object string, before, after any) (*Entry, error) {
	e := &Entry{Time: at.UTC(), Actor: a.Name, ActorKind: a.Kind, Source: a.Source, Action: action, Object: object}
	var err error
	if e.Before, err = marshal(before); err != nil {
		return nil, fmt.Errorf("audit %s %s: before: %w", action, object, err)
	}
	if e.After, err = marshal(after); err != nil {
		return nil, fmt.Errorf("audit %s %s: after: %w", action, object, err)
	}
	e.canonical = [2]json.RawMessage{e.Before, e.After}
	return e, nil
}

// canonicalAs returns raw as canonical JSON: raw itself when it holds the
// same bytes as c, which New made canonical.
func canonicalAs(c, raw json.RawMessage) (json.RawMessage, error) {
	if c != nil && bytes.Equal(c, raw) {
		return raw, nil
	}
	return canonicalJSON(raw)
}

func marshal(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("null"), nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return canonicalJSON(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return canonicalJSON(b)
}

// canonicalJSON re-encodes a JSON value with object keys sorted, no
// insignificant white space and numbers kept as written, so the same
// value always hashes the same whatever produced it.
func canonicalJSON(b []byte) (json.RawMessage, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return json.RawMessage("null"), nil
	}
	if out, ok := appendCanonical(make([]byte, 0, len(b)), b); ok { // canonical.go
		return out, nil
	}
	return canonicalSlow(b)
}

// canonicalSlow is canonicalJSON by decoding into maps and marshalling.
func canonicalSlow(b []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	if dec.More() {
		return nil, errors.New("canonical json: more than one value")
	}
	out, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	return out, nil
}

// hashed is what the hash covers: every field but Hash, in a fixed order.
type hashed struct {
	Seq       int64           `json:"seq"`
	Time      string          `json:"time"`
	Actor     string          `json:"actor"`
	ActorKind string          `json:"actor_kind"`
	Source    string          `json:"source"`
	Action    string          `json:"action"`
	Object    string          `json:"object"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
}

// TimeLayout is how entry times are written (and hashed): fixed width UTC.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// ComputeHash returns the hex SHA-256 over prevHash, a newline and the
// canonical JSON of e (all fields but PrevHash and Hash).
func ComputeHash(prevHash string, e *Entry) (string, error) {
	before, err := canonicalAs(e.canonical[0], e.Before)
	if err != nil {
		return "", fmt.Errorf("entry %d before: %w", e.Seq, err)
	}
	after, err := canonicalAs(e.canonical[1], e.After)
	if err != nil {
		return "", fmt.Errorf("entry %d after: %w", e.Seq, err)
	}
	b, err := json.Marshal(hashed{Seq: e.Seq, Time: e.Time.UTC().Format(TimeLayout), Actor: e.Actor, ActorKind: e.ActorKind,
		Source: e.Source, Action: e.Action, Object: e.Object, Before: before, After: after})
	if err != nil {
		return "", fmt.Errorf("entry %d: %w", e.Seq, err)
	}
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write([]byte{'\n'})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Seal chains e after the entry (prevSeq, prevHash): it sets Seq,
// PrevHash and Hash. Use prevSeq 0 and GenesisHash for the first entry.
func Seal(e *Entry, prevSeq int64, prevHash string) error {
	e.Seq = prevSeq + 1
	e.PrevHash = prevHash
	h, err := ComputeHash(prevHash, e)
	if err != nil {
		return err
	}
	e.Hash = h
	return nil
}

// Verifier checks a chain entry by entry, in stored order.
type Verifier struct {
	n        int64
	prevHash string
}

// NewVerifier starts a check at the beginning of the log.
func NewVerifier() *Verifier { return &Verifier{prevHash: GenesisHash} }

// Add checks the next entry. The error wraps ErrTampered and names the
// entry and what is wrong with it.
func (v *Verifier) Add(e *Entry) error {
	want := v.n + 1
	switch {
	case e.Seq != want:
		return fmt.Errorf("%w: entry at position %d has sequence number %d, want %d (an entry was deleted, inserted or reordered)", ErrTampered, want, e.Seq, want)
	case e.PrevHash != v.prevHash:
		return fmt.Errorf("%w: entry %d: previous hash %.16s… does not match entry %d's hash %.16s… (an entry was deleted, replaced or reordered)", ErrTampered, e.Seq, e.PrevHash, want-1, v.prevHash)
	}
	h, err := ComputeHash(e.PrevHash, e)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTampered, err)
	}
	if h != e.Hash {
		return fmt.Errorf("%w: entry %d (%s %s at %s): content does not match its hash (the entry was edited)", ErrTampered, e.Seq, e.Action, e.Object, e.Time.UTC().Format(time.RFC3339))
	}
	v.n, v.prevHash = e.Seq, e.Hash
	return nil
}

// Count is how many entries verified so far.
func (v *Verifier) Count() int64 { return v.n }

// Head is the hash of the last verified entry (GenesisHash when none).
// Recording it outside MedWarden (a ticket, a SIEM) lets a later
// verification detect that entries were cut off the end.
func (v *Verifier) Head() string { return v.prevHash }
