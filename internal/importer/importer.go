// Package importer loads inventory files into the store: it decodes,
// validates, merges each record with the device it identifies (the rules of
// inventory.Index) and writes everything in one transaction. A file with
// any bad record is rejected whole, with every problem listed, unless the
// caller asks to skip invalid records.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// ErrRejected: the file had invalid records and nothing was written.
var ErrRejected = errors.New("import rejected")

var errDryRun = errors.New("dry run")

// MaxListedErrors bounds the problems kept in a Result; the rest are counted.
const MaxListedErrors = 10000

// Options tune one import.
type Options struct {
	// Source names the file in provenance ("cmms-2026-11.csv").
	Source string
	// SkipInvalid imports the good records and reports the bad ones,
	// instead of rejecting the whole file.
	SkipInvalid bool
	// DryRun validates and merges in a transaction that is always rolled
	// back: the Result says what would happen, and nothing is written.
	DryRun bool
	// Now stamps provenance; zero means store.Now().
	Now time.Time
	// Progress, when set, is called every ProgressEvery records.
	Progress      func(Result)
	ProgressEvery int
}

// Result says what an import did.
type Result struct {
	File      string                  `json:"file"`
	Format    string                  `json:"format,omitempty"`
	Records   int                     `json:"records"`
	Created   int                     `json:"created"`
	Updated   int                     `json:"updated"`
	Unchanged int                     `json:"unchanged"`
	Invalid   int                     `json:"invalid"`
	Errors    []*inventory.InputError `json:"errors,omitempty"`
	// MoreErrors counts problems beyond MaxListedErrors.
	MoreErrors int      `json:"more_errors,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
	// Written is false when nothing reached the store (rejected, failed or
	// a dry run).
	Written bool `json:"written"`
}

// liner is implemented by decoders that know the line of the last record.
type liner interface{ Line() int }

// lookAhead records are decoded before they are merged, so that the stored
// devices they match are read with one query.
const lookAhead = 1000

// record is one decoded record waiting to be merged.
type record struct {
	d    *inventory.Device
	err  error
	line int
	n    int // the record's number in the file
}

// Import reads every record from dec and writes the result to st.
func Import(ctx context.Context, st store.DeviceStore, dec inventory.Decoder, opts Options) (*Result, error) {
	now := opts.Now
	if now.IsZero() {
		now = store.Now()
	}
	res := &Result{File: opts.Source}
	// The identities of the stored devices are read before the transaction,
	// so that other writers need not wait for a full scan; the transaction
	// then catches up with what was written meanwhile (catchUp).
	mark, err := st.IdentityMark(ctx)
	if err != nil {
		return res, err
	}
	existing, err := st.CountDevices(ctx)
	if err != nil {
		return res, fmt.Errorf("count devices: %w", err)
	}
	idx := inventory.NewIndexSize(int(existing))
	scanned := make([]int64, 0, existing) // ids in the index, ascending
	if err := st.ScanIdentities(ctx, func(d *inventory.Device) error {
		idx.Add(d.ID, d)
		scanned = append(scanned, d.ID)
		return nil
	}); err != nil {
		return res, fmt.Errorf("read existing identities: %w", err)
	}
	if afterScan != nil {
		afterScan(ctx)
	}
	prov := inventory.Provenance{Kind: inventory.SourceImported, Source: opts.Source, At: now}
	addErr := func(e *inventory.InputError) {
		res.Invalid++
		if len(res.Errors) < MaxListedErrors {
			res.Errors = append(res.Errors, e)
		} else {
			res.MoreErrors++
		}
	}
	err = st.Import(ctx, func(tx store.ImportTx) error {
		n, err := catchUp(ctx, tx, mark, &idx, scanned)
		if err != nil {
			return err
		}
		existing, scanned = n, nil
		// New devices are written insertBatch at a time (COPY / multi-row
		// INSERT), as many as suit the store.
		insertBatch := max(1, tx.InsertBatch())
		var newProv provenanceMaps
		var pending []*inventory.Device
		touched := map[int64]int{} // stored device id → line or record number
		var newLines []int         // new device -id-1 → line or record number
		nextTemp := int64(0)
		flush := func() error {
			if len(pending) == 0 || (res.Invalid > 0 && !opts.SkipInvalid) {
				pending = pending[:0]
				return nil
			}
			if err := tx.Insert(ctx, pending); err != nil {
				return err
			}
			pending = pending[:0]
			return nil
		}
		// Records are read lookAhead at a time, so that the stored devices
		// they match are read in one query instead of one query per record,
		// and that read overlaps decoding: while batch k is merged, the
		// devices batch k+1 matches are being read (GetManyAsync). Each
		// record is still merged in file order exactly as before: Match runs
		// again against the index as the records before it left it, and a
		// device the look-ahead did not predict (a key changed by an earlier
		// record) is read on its own. A device read before batch k was merged
		// is still current when batch k+1 uses it: batch k only writes the
		// devices it matched, and a second record for one of those is
		// rejected as a duplicate, not merged.
		readBatch := func(batch []record) ([]record, bool) {
			batch = batch[:0]
			for len(batch) < lookAhead {
				d, err := dec.Next()
				if err == io.EOF {
					return batch, true
				}
				res.Records++
				line := res.Records
				if l, ok := dec.(liner); ok {
					line = l.Line()
				}
				batch = append(batch, record{d: d, err: err, line: line, n: res.Records})
			}
			return batch, false
		}
		var ids []int64
		prefetch := func(batch []record) func() (map[int64]*inventory.Device, error) {
			if existing == 0 || len(batch) == 0 {
				return func() (map[int64]*inventory.Device, error) { return nil, nil }
			}
			ids = ids[:0]
			for _, r := range batch {
				if r.err == nil {
					if id, _, err := idx.Match(r.d); err == nil && id > 0 {
						ids = append(ids, id)
					}
				}
			}
			return tx.GetManyAsync(ctx, ids)
		}
		batch, eof := readBatch(make([]record, 0, lookAhead))
		spare := make([]record, 0, lookAhead)
		fetched := prefetch(batch)
		for len(batch) > 0 {
			var next []record
			if !eof {
				next, eof = readBatch(spare)
			}
			stored, err := fetched()
			if err != nil {
				return err
			}
			fetched = prefetch(next)
			for _, r := range batch {
				n, d, line := r.n, r.d, r.line
				if err := r.err; err != nil {
					if ie, ok := inventory.AsInputError(err); ok {
						addErr(ie)
						continue
					}
					return fmt.Errorf("read %s: %w", opts.Source, err)
				}
				if n%insertBatch == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				id, rule, err := idx.Match(d)
				if err != nil {
					addErr(&inventory.InputError{File: opts.Source, Line: line, Reason: err.Error()})
					continue
				}
				if id < 0 {
					first := newLines[-id-1]
					addErr(&inventory.InputError{File: opts.Source, Line: line, Column: rule,
						Value: d.Get(ruleField(rule)), Reason: fmt.Sprintf("same device as record at line %d (matched by %s)", first, rule)})
					continue
				}
				if id != 0 {
					if first, dup := touched[id]; dup {
						addErr(&inventory.InputError{File: opts.Source, Line: line, Column: rule,
							Value: d.Get(ruleField(rule)), Reason: fmt.Sprintf("same device as record at line %d (matched by %s)", first, rule)})
						continue
					}
				}
				if id > 0 {
					cur := stored[id]
					if cur == nil {
						if cur, err = tx.Get(ctx, id); err != nil {
							return err
						}
					}
					before := *cur
					touched[id] = line
					if changed := inventory.Apply(cur, d, prov); len(changed) > 0 {
						if res.Invalid == 0 || opts.SkipInvalid {
							if err := tx.Update(ctx, cur); err != nil {
								return fmt.Errorf("%s line %d: %w", opts.Source, line, err)
							}
						}
						idx.Remove(id, &before)
						idx.Add(id, cur)
						res.Updated++
					} else {
						res.Unchanged++
					}
				} else {
					// A new device: the decoded record is fresh, so it is used as
					// is, with one provenance entry per non-empty field (the same
					// result as Apply onto an empty device, without its copying).
					nd := d
					nd.ID, nd.Revision = 0, 0
					nd.Provenance = newProv.of(nd, prov)
					nd.CreatedAt = now
					nextTemp--
					idx.Add(nextTemp, nd)
					newLines = append(newLines, line)
					pending = append(pending, nd)
					res.Created++
					if len(pending) >= insertBatch {
						if err := flush(); err != nil {
							return fmt.Errorf("%s near line %d: %w", opts.Source, line, err)
						}
					}
				}
				if opts.Progress != nil && opts.ProgressEvery > 0 && n%opts.ProgressEvery == 0 {
					p := *res
					p.Records = n
					opts.Progress(p)
				}
			}
			batch, spare = next, batch
		}
		if w, ok := dec.(interface{ Warnings() []string }); ok {
			res.Warnings = w.Warnings()
		}
		if res.Invalid > 0 && !opts.SkipInvalid {
			return ErrRejected
		}
		if err := flush(); err != nil {
			return err
		}
		if opts.DryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return res, nil
	}
	if err != nil {
		res.Created, res.Updated, res.Unchanged = 0, 0, 0
		if errors.Is(err, ErrRejected) {
			return res, fmt.Errorf("%w: %s has %d invalid record(s); nothing was written", ErrRejected, opts.Source, res.Invalid)
		}
		return res, err
	}
	res.Written = true
	return res, nil
}

// provenanceMaps hands out the provenance of new devices: one entry per
// non-empty field, all the same. Devices with the same non-empty fields
// (most rows of a file) share one map, which nothing modifies: a new
// device is only read until the import ends, and its own map was 2 KB
// allocated per row, a quarter of a large import's garbage.
type provenanceMaps struct {
	byFields map[uint32]map[string]inventory.Provenance
}

// maxSharedProvenance bounds the shared maps (files with more shapes of
// empty fields get a map per device beyond it).
const maxSharedProvenance = 1024

func (m *provenanceMaps) of(d *inventory.Device, prov inventory.Provenance) map[string]inventory.Provenance {
	if len(inventory.Fields) > 32 { // the set no longer fits: a map each
		p := make(map[string]inventory.Provenance, len(inventory.Fields))
		for _, f := range inventory.Fields {
			if d.Has(f) {
				p[f] = prov
			}
		}
		return p
	}
	var set uint32
	for i, f := range inventory.Fields {
		if d.Has(f) {
			set |= 1 << i
		}
	}
	if p, ok := m.byFields[set]; ok {
		return p
	}
	p := make(map[string]inventory.Provenance, len(inventory.Fields))
	for i, f := range inventory.Fields {
		if set&(1<<i) != 0 {
			p[f] = prov
		}
	}
	if m.byFields == nil {
		m.byFields = map[uint32]map[string]inventory.Provenance{}
	}
	if len(m.byFields) < maxSharedProvenance {
		m.byFields[set] = p
	}
	return p
}

// afterScan, when set (tests), runs between the identity scan and the
// import transaction.
var afterScan func(context.Context)

// catchUp brings the identity index, built from a scan before the
// transaction, up to the transaction's view: other writers are kept out
// from here on, the devices written since the scan are indexed again, and
// when devices were deleted meanwhile (the count says so) the index is
// rebuilt from a scan inside the transaction. It returns the number of
// stored devices.
func catchUp(ctx context.Context, tx store.ImportTx, mark store.IdentityMark, idx **inventory.Index, scanned []int64) (int64, error) {
	if !slices.IsSorted(scanned) {
		slices.Sort(scanned)
	}
	var changed []*inventory.Device
	n, err := tx.IdentitiesSince(ctx, mark, func(d *inventory.Device) error {
		changed = append(changed, d)
		return nil
	})
	if err != nil {
		return 0, err
	}
	stale := map[int64]bool{}
	added := 0
	for _, d := range changed {
		if _, ok := slices.BinarySearch(scanned, d.ID); ok {
			stale[d.ID] = true
		} else {
			added++
		}
	}
	if n != int64(len(scanned)+added) {
		x := inventory.NewIndexSize(int(n))
		if err := tx.ScanIdentities(ctx, func(d *inventory.Device) error {
			x.Add(d.ID, d)
			return nil
		}); err != nil {
			return 0, fmt.Errorf("read identities again: %w", err)
		}
		*idx = x
		return n, nil
	}
	(*idx).RemoveIDs(stale)
	for _, d := range changed {
		(*idx).Add(d.ID, d)
	}
	return n, nil
}

// ruleField maps a merge rule name to the field whose value it matched on.
func ruleField(rule string) string {
	switch rule {
	case "asset_id", "serial":
		return rule
	case "mac":
		return "mac"
	case "udi":
		return "udi_di"
	case "vendor+serial":
		return "serial"
	}
	return ""
}
