package feeds

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/sbom/osv"
	"github.com/medwarden/medwarden/internal/store"
)

// KindOSV is the OSV records feed (https://ossf.github.io/osv-schema/):
// one record, a directory of records, or a zip of them as osv.dev exports
// per ecosystem (<ecosystem>/all.zip). Records are matched against SBOM
// components by Package URL (internal/sbom/osv).
const KindOSV = store.FeedOSV

// maxOSVRecords bounds the records of one OSV import (osv.dev's largest
// ecosystem export holds a few hundred thousand).
const maxOSVRecords = 2_000_000

type osvInput struct {
	name string
	raw  []byte
}

// osvRecords reads the records of one input: a zip of *.json records, or
// one JSON record. The decompressed total is bounded by maxFeedBytes.
func osvRecords(data []byte, name string, total *int64, out []osvInput) ([]osvInput, error) {
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		*total += int64(len(data))
		return append(out, osvInput{name, data}), nil
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() || !strings.EqualFold(filepath.Ext(zf.Name), ".json") {
			continue
		}
		if len(out) >= maxOSVRecords {
			return nil, fmt.Errorf("%s: more than %d OSV records", name, maxOSVRecords)
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("%s!%s: %w", name, zf.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, osv.MaxRecordBytes+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s!%s: %w", name, zf.Name, err)
		}
		*total += int64(len(b))
		if *total > maxFeedBytes {
			return nil, fmt.Errorf("%s: OSV records larger than %d bytes in total", name, int64(maxFeedBytes))
		}
		out = append(out, osvInput{name + "!" + zf.Name, b})
	}
	return out, nil
}

// importOSVDir imports every *.json and *.zip under dir as one OSV import.
func (im *Importer) importOSVDir(ctx context.Context, dir string) (*Result, error) {
	var ins []osvInput
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ext := strings.ToLower(filepath.Ext(p))
		if d.IsDir() || (ext != ".json" && ext != ".zip") {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := readFile(p, im.opts.MaxFeedFile)
		if err != nil {
			return err
		}
		ins, err = osvRecords(b, p, &total, ins)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", dir, err)
	}
	return im.importOSV(ctx, ins, dir)
}

type osvParsed struct {
	rec *osv.Record
	raw []byte
	mod time.Time
}

// parseOSV parses every record; the first invalid one is the error. It
// also returns the newest modification time.
func parseOSV(ins []osvInput) ([]osvParsed, time.Time, error) {
	var newest time.Time
	out := make([]osvParsed, 0, len(ins))
	for _, in := range ins {
		r, err := osv.Parse(bytes.NewReader(in.raw), in.name)
		if err != nil {
			return nil, newest, err
		}
		mod, _ := time.Parse(time.RFC3339Nano, r.Modified)
		if mod.After(newest) {
			newest = mod
		}
		out = append(out, osvParsed{r, in.raw, mod})
	}
	return out, newest, nil
}

// putOSV writes parsed records inside a feed transaction.
func putOSV(ctx context.Context, tx store.FeedTx, recs []osvParsed) error {
	otx, ok := tx.(store.OSVFeedTx)
	if !ok {
		return fmt.Errorf("this store cannot keep OSV records")
	}
	for i, p := range recs {
		if i%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		eco := ""
		if len(p.rec.Affected) > 0 {
			eco = p.rec.Affected[0].Package.Ecosystem
		}
		if err := otx.PutOSV(ctx, p.rec.ID, eco, p.mod, p.raw); err != nil {
			return err
		}
	}
	return nil
}

// importOSV parses every record and writes them in one transaction: one
// invalid record rejects the whole import (nothing is matched against part
// of a feed).
func (im *Importer) importOSV(ctx context.Context, ins []osvInput, loc string) (*Result, error) {
	res := &Result{Feed: store.FeedOSV, Kind: store.FeedOSV, Source: absLoc(loc)}
	recs, newest, err := parseOSV(ins)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", loc, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("import %s: no OSV records (*.json) found", loc)
	}
	res.FeedDate = newest
	err = im.st.ImportFeeds(ctx, func(tx store.FeedTx) error {
		if err := putOSV(ctx, tx, recs); err != nil {
			return err
		}
		return tx.SetFeed(ctx, store.FeedStatus{Name: res.Feed, Kind: res.Kind, Source: res.Source, FeedDate: res.FeedDate, Items: int64(len(recs))})
	})
	if err != nil {
		return nil, fmt.Errorf("import %s: store: %w", loc, err)
	}
	res.Imported = len(recs)
	return res, nil
}

// bundleOSV is the OSV feed's file in a signed bundle: a zip of the
// records, as osv.dev exports them.
const bundleOSV = "osv/all.zip"

// encodeOSV packs every stored OSV record into a zip.
func encodeOSV(ctx context.Context, st store.AdvisoryStore) ([]byte, error) {
	sc, ok := st.(interface {
		ScanOSV(ctx context.Context, fn func(id string, raw []byte) error) error
	})
	if !ok {
		return nil, fmt.Errorf("bundle osv: this store keeps no OSV records")
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := sc.ScanOSV(ctx, func(id string, raw []byte) error {
		w, err := zw.Create(id + ".json")
		if err != nil {
			return err
		}
		_, err = w.Write(raw)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bundle osv: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("bundle osv: %w", err)
	}
	return buf.Bytes(), nil
}
