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

// insertBatch new devices are written together (COPY / multi-row INSERT).
const insertBatch = 2000

// Import reads every record from dec and writes the result to st.
func Import(ctx context.Context, st store.DeviceStore, dec inventory.Decoder, opts Options) (*Result, error) {
	now := opts.Now
	if now.IsZero() {
		now = store.Now()
	}
	res := &Result{File: opts.Source}
	existing, err := st.CountDevices(ctx)
	if err != nil {
		return res, fmt.Errorf("count devices: %w", err)
	}
	idx := inventory.NewIndexSize(int(existing))
	if err := st.ScanIdentities(ctx, func(d *inventory.Device) error {
		idx.Add(d.ID, d)
		return nil
	}); err != nil {
		return res, fmt.Errorf("read existing identities: %w", err)
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
		var pending []*inventory.Device
		touched := map[int64]int{} // device id (negative: pending) → line or record number
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
		for {
			d, err := dec.Next()
			if err == io.EOF {
				break
			}
			res.Records++
			line := res.Records
			if l, ok := dec.(liner); ok {
				line = l.Line()
			}
			if err != nil {
				if ie, ok := inventory.AsInputError(err); ok {
					addErr(ie)
					continue
				}
				return fmt.Errorf("read %s: %w", opts.Source, err)
			}
			if res.Records%insertBatch == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			id, rule, err := idx.Match(d)
			if err != nil {
				addErr(&inventory.InputError{File: opts.Source, Line: line, Reason: err.Error()})
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
				existing, err := tx.Get(ctx, id)
				if err != nil {
					return err
				}
				before := *existing
				touched[id] = line
				if changed := inventory.Apply(existing, d, prov); len(changed) > 0 {
					if res.Invalid == 0 || opts.SkipInvalid {
						if err := tx.Update(ctx, existing); err != nil {
							return fmt.Errorf("%s line %d: %w", opts.Source, line, err)
						}
					}
					idx.Remove(id, &before)
					idx.Add(id, existing)
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
				nd.Provenance = make(map[string]inventory.Provenance, len(inventory.Fields))
				for _, f := range inventory.Fields {
					if nd.Get(f) != "" {
						nd.Provenance[f] = prov
					}
				}
				nd.CreatedAt = now
				nextTemp--
				idx.Add(nextTemp, nd)
				touched[nextTemp] = line
				pending = append(pending, nd)
				res.Created++
				if len(pending) >= insertBatch {
					if err := flush(); err != nil {
						return fmt.Errorf("%s near line %d: %w", opts.Source, line, err)
					}
				}
			}
			if opts.Progress != nil && opts.ProgressEvery > 0 && res.Records%opts.ProgressEvery == 0 {
				opts.Progress(*res)
			}
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
