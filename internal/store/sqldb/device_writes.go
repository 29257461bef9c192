package sqldb

// Audited device writes with group commit.
//
// A device created, edited or deleted through the API or the console is
// one change plus one audit entry. Written apart (the change, then
// AppendAudit), each took two transactions and two fsyncs, a crash between
// them kept the change without its entry, and under load the writers
// queued one by one on SQLite's write lock: about 340 writes/s with a p99
// of 1 s on the 2-core test machine.
//
// Here the change and its entry go into one transaction, and concurrent
// writers share it: a caller queues its write; if no group is being
// committed, a goroutine starts that takes everything queued (up to
// maxGroupWrites), runs each write (one that fails — conflict, unknown
// device, duplicate asset id — leaves nothing and is reported to its
// caller alone; see commitGroup), appends each successful write's audit
// entry to the hash chain, commits once (one fsync with synchronous=FULL)
// and only then acknowledges every caller. Writes that arrive meanwhile
// form the next group; the goroutine ends when the queue is empty. An
// acknowledged write has been committed, so it survives SIGKILL; a write
// whose group failed to commit is reported failed to its caller, and is not
// in the store, nor is its audit entry.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// maxGroupWrites bounds the writes committed together.
const maxGroupWrites = 128

// groupTimeout bounds one group's transaction.
const groupTimeout = 30 * time.Second

// deviceEntry builds the audit entry of a device write from the device
// before (nil for a creation) and after (nil for a deletion). It runs
// inside the transaction, after the change, so before is the stored
// device the change replaced.
type deviceEntry = func(before, after *inventory.Device) (*audit.Entry, error)

type writeKind int

const (
	writeCreate writeKind = iota
	writeUpdate
	writeDelete
)

type deviceWrite struct {
	ctx   context.Context
	kind  writeKind
	d     *inventory.Device // create, update
	id    int64             // delete
	ifRev int64             // update, delete: 0 means any revision
	entry deviceEntry
	err   error
	done  chan struct{}
}

// groupCommit is the queue of device writes waiting for a transaction.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*deviceWrite
	running bool
}

// CreateDeviceAudited inserts d and the audit entry entry(nil, d) in one
// transaction shared with concurrent writes (see the top of this file).
func (s *DB) CreateDeviceAudited(ctx context.Context, d *inventory.Device, entry func(before, after *inventory.Device) (*audit.Entry, error)) error {
	return s.submitWrite(ctx, &deviceWrite{kind: writeCreate, d: d, entry: entry})
}

// UpdateDeviceAudited writes d when the stored revision matches ifRevision
// (0: any) and appends entry(stored, d), in one shared transaction.
func (s *DB) UpdateDeviceAudited(ctx context.Context, d *inventory.Device, ifRevision int64, entry func(before, after *inventory.Device) (*audit.Entry, error)) error {
	return s.submitWrite(ctx, &deviceWrite{kind: writeUpdate, d: d, ifRev: ifRevision, entry: entry})
}

// DeleteDeviceAudited removes device id when its revision matches
// ifRevision (0: any) and appends entry(stored, nil), in one shared
// transaction.
func (s *DB) DeleteDeviceAudited(ctx context.Context, id, ifRevision int64, entry func(before, after *inventory.Device) (*audit.Entry, error)) error {
	return s.submitWrite(ctx, &deviceWrite{kind: writeDelete, id: id, ifRev: ifRevision, entry: entry})
}

// submitWrite queues w and waits until its group has committed (or w
// failed). A caller that goes away still waits: the answer says whether
// the write is in the store.
func (s *DB) submitWrite(ctx context.Context, w *deviceWrite) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.ctx, w.done = ctx, make(chan struct{})
	g := &s.writes
	g.mu.Lock()
	g.queue = append(g.queue, w)
	start := !g.running
	g.running = true
	g.mu.Unlock()
	if start {
		go s.commitGroups()
	}
	<-w.done
	return w.err
}

// commitGroups commits queued writes, group by group, until none is left.
func (s *DB) commitGroups() {
	g := &s.writes
	for {
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		n := min(len(g.queue), maxGroupWrites)
		group := make([]*deviceWrite, n)
		copy(group, g.queue)
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()
		s.commitGroup(group)
	}
}

// commitGroup runs group in one transaction and then answers each write.
//
// Writes are not wrapped in savepoints: on SQLite a savepoint makes the
// FTS5 search index (migration 0010) flush its pending terms to a new
// segment, which cost 1.6 of 5.5 CPU-seconds of a POST-only load. A write
// refused before it changes anything (unknown device, stale revision) is
// answered alone; a write whose statement fails (a duplicate asset id)
// aborts the transaction, gets its error, and the others run again in a
// new one. Any other failure (I/O, disk full) fails the whole group: none
// of it was committed.
func (s *DB) commitGroup(group []*deviceWrite) {
	live := group[:0:0]
	for _, w := range group {
		if err := w.ctx.Err(); err != nil { // the caller left before its write began
			w.err = err
			close(w.done)
			continue
		}
		w.err = nil
		live = append(live, w)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	culprit := -1
	err := s.dialect.Import(ctx, s.SQL, func(tx Tx) error {
		if s.dialect.Name() == "postgres" { // as AppendAudit: one appender at a time
			if err := tx.Exec(ctx, "LOCK TABLE audit_log IN EXCLUSIVE MODE"); err != nil {
				return fmt.Errorf("lock audit log: %w", err)
			}
		}
		seq, prev, err := auditHead(ctx, tx)
		if err != nil {
			return err
		}
		for i, w := range live {
			e, wrote, err := s.applyWrite(ctx, tx, w)
			if err == nil {
				if err = audit.Seal(e, seq, prev); err == nil {
					err = insertAudit(ctx, tx, e)
				}
				wrote = true
			}
			switch {
			case err == nil:
				seq, prev = e.Seq, e.Hash
			case !wrote:
				w.err = err // refused; nothing of it in the transaction
			default:
				culprit = i
				return err
			}
		}
		return nil
	})
	if err != nil && culprit >= 0 && errors.Is(err, store.ErrExists) {
		bad := live[culprit]
		bad.err = err
		close(bad.done)
		rest := append(live[:culprit:culprit], live[culprit+1:]...)
		s.commitGroup(rest) // smaller each time: ends
		return
	}
	if err == nil { // the search cache checks them again (search_cache.go)
		var ids []int64
		for _, w := range live {
			switch {
			case w.err != nil:
			case w.kind == writeDelete:
				s.devices.forget(w.id) // device_cache.go
			default:
				ids = append(ids, w.d.ID)
			}
		}
		s.searchWritten(ids...)
	}
	for _, w := range live {
		if err != nil {
			w.err = fmt.Errorf("device write not committed: %w", err)
		}
		close(w.done)
	}
}

// applyWrite makes w's change in tx and returns its audit entry (not yet
// sealed). wrote says whether tx may hold part of the write when err is
// set (then the transaction must not commit).
func (s *DB) applyWrite(ctx context.Context, tx Tx, w *deviceWrite) (e *audit.Entry, wrote bool, err error) {
	it := &importTx{tx: tx, dialect: s.dialect}
	var before, after *inventory.Device
	switch w.kind {
	case writeCreate:
		wrote = true
		if err := it.Insert(ctx, []*inventory.Device{w.d}); err != nil {
			return nil, true, err
		}
		if err := it.finish(ctx); err != nil {
			return nil, true, err
		}
		after = w.d
	case writeUpdate:
		old, err := it.Get(ctx, w.d.ID)
		if err != nil {
			return nil, false, err
		}
		if w.ifRev != 0 && old.Revision != w.ifRev {
			return nil, false, fmt.Errorf("device %d is at revision %d, not %d: %w", w.d.ID, old.Revision, w.ifRev, store.ErrConflict)
		}
		w.d.Revision = old.Revision
		if err := updateChanged(ctx, tx, old, w.d); err != nil {
			return nil, true, err
		}
		before, after = old, w.d
	case writeDelete:
		old, err := it.Get(ctx, w.id)
		if err != nil {
			return nil, false, err
		}
		if w.ifRev != 0 && old.Revision != w.ifRev {
			return nil, false, fmt.Errorf("device %d is not at revision %d: %w", w.id, w.ifRev, store.ErrConflict)
		}
		if err := tx.Exec(ctx, "DELETE FROM devices WHERE id = $1", w.id); err != nil {
			return nil, true, err
		}
		before = old
	default:
		return nil, false, errors.New("unknown device write")
	}
	if e, err = w.entry(before, after); err == nil && e == nil {
		err = errors.New("device write: no audit entry")
	}
	return e, true, err
}
