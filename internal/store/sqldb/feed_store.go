package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/store"
)

// feedTx implements store.FeedTx over one database/sql transaction.
type feedTx struct {
	tx *sql.Tx
}

var _ store.FeedTx = (*feedTx)(nil)

// ImportFeeds runs fn in one transaction: all of its writes land or none.
func (s *DB) ImportFeeds(ctx context.Context, fn func(store.FeedTx) error) error {
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin feed import: %w", err)
	}
	if err := fn(&feedTx{tx: tx}); err != nil {
		tx.Rollback() //nolint:errcheck // the error that matters is err
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit feed import: %w", err)
	}
	return nil
}

// insertRows inserts rows in multi-row INSERTs of at most batch rows.
func (t *feedTx) insertRows(ctx context.Context, prefix string, cols int, rows [][]any) error {
	const maxParams = 900 // under SQLite's and PostgreSQL's limits; larger statements are slower on SQLite
	batch := max(1, maxParams/cols)
	for start := 0; start < len(rows); start += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+batch, len(rows))
		var b strings.Builder
		b.WriteString(prefix)
		args := make([]any, 0, (end-start)*cols)
		for i, r := range rows[start:end] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for j := range r {
				if j > 0 {
					b.WriteByte(',')
				}
				args = append(args, r[j])
				b.WriteString("$" + strconv.Itoa(len(args)))
			}
			b.WriteByte(')')
		}
		if _, err := t.tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// kevMeta is the catalog header kept in the feed row.
type kevMeta struct {
	Title          string    `json:"title"`
	CatalogVersion string    `json:"catalog_version"`
	DateReleased   time.Time `json:"date_released"`
}

func (t *feedTx) ReplaceKEV(ctx context.Context, c *kev.Catalog) error {
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM kev_entries"); err != nil {
		return fmt.Errorf("replace kev: %w", err)
	}
	rows := make([][]any, 0, len(c.Entries))
	seen := map[string]bool{}
	for i := range c.Entries {
		e := &c.Entries[i]
		if seen[e.CVEID] {
			continue // the catalog lists each CVE once; keep the first if not
		}
		seen[e.CVEID] = true
		doc, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("replace kev %s: %w", e.CVEID, err)
		}
		rows = append(rows, []any{e.CVEID, string(doc)})
	}
	if err := t.insertRows(ctx, "INSERT INTO kev_entries (cve_id, doc) VALUES ", 2, rows); err != nil {
		return fmt.Errorf("replace kev: %w", err)
	}
	meta, err := json.Marshal(kevMeta{Title: c.Title, CatalogVersion: c.CatalogVersion, DateReleased: c.DateReleased})
	if err != nil {
		return err
	}
	return t.upsertFeed(ctx, store.FeedStatus{Name: store.FeedKEV, Kind: store.FeedKEV}, string(meta), false)
}

func (t *feedTx) ReplaceEPSS(ctx context.Context, f *epss.File) error {
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM epss_scores"); err != nil {
		return fmt.Errorf("replace epss: %w", err)
	}
	rows := make([][]any, 0, len(f.Scores))
	seen := make(map[string]bool, len(f.Scores))
	for _, sc := range f.Scores {
		if seen[sc.CVE] {
			continue
		}
		seen[sc.CVE] = true
		rows = append(rows, []any{sc.CVE, sc.EPSS, sc.Percentile})
	}
	if err := t.insertRows(ctx, "INSERT INTO epss_scores (cve, epss, percentile) VALUES ", 3, rows); err != nil {
		return fmt.Errorf("replace epss: %w", err)
	}
	return nil
}

func (t *feedTx) PutNVD(ctx context.Context, id string, lastModified time.Time, raw []byte) error {
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM nvd_cves WHERE id = $1", id); err != nil {
		return fmt.Errorf("put nvd %s: %w", id, err)
	}
	if _, err := t.tx.ExecContext(ctx, "INSERT INTO nvd_cves (id, last_modified, doc) VALUES ($1, $2, $3)", id, ts(lastModified), string(raw)); err != nil {
		return fmt.Errorf("put nvd %s: %w", id, err)
	}
	return nil
}

func (t *feedTx) SetFeed(ctx context.Context, f store.FeedStatus) error {
	if f.ImportedAt.IsZero() {
		f.ImportedAt = store.Now()
	}
	return t.upsertFeed(ctx, f, "", true)
}

// upsertFeed writes a feed row. full=false only stores meta (creating the
// row when missing); full=true writes every status column and clears the error.
func (t *feedTx) upsertFeed(ctx context.Context, f store.FeedStatus, meta string, full bool) error {
	var n int
	if err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM feeds WHERE name = $1", f.Name).Scan(&n); err != nil {
		return fmt.Errorf("feed %q: %w", f.Name, err)
	}
	if n == 0 {
		if _, err := t.tx.ExecContext(ctx, "INSERT INTO feeds (name, kind, source) VALUES ($1, $2, $3)", f.Name, f.Kind, f.Source); err != nil {
			return fmt.Errorf("feed %q: %w", f.Name, err)
		}
	}
	var err error
	if full {
		_, err = t.tx.ExecContext(ctx, `UPDATE feeds SET kind = $2, source = $3, imported_at = $4, feed_date = $5, version = $6,
			items = $7, last_error = '', error_at = '' WHERE name = $1`,
			f.Name, f.Kind, f.Source, ts(f.ImportedAt), ts(f.FeedDate), f.Version, f.Items)
	} else {
		_, err = t.tx.ExecContext(ctx, "UPDATE feeds SET meta = $2 WHERE name = $1", f.Name, meta)
	}
	if err != nil {
		return fmt.Errorf("feed %q: %w", f.Name, err)
	}
	return nil
}

// RecordFeedError notes a failed import outside any import transaction.
func (s *DB) RecordFeedError(ctx context.Context, f store.FeedStatus, msg string) error {
	return s.ImportFeeds(ctx, func(tx store.FeedTx) error {
		t := tx.(*feedTx)
		var n int
		if err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM feeds WHERE name = $1", f.Name).Scan(&n); err != nil {
			return fmt.Errorf("feed %q: %w", f.Name, err)
		}
		if n == 0 {
			if _, err := t.tx.ExecContext(ctx, "INSERT INTO feeds (name, kind, source) VALUES ($1, $2, $3)", f.Name, f.Kind, f.Source); err != nil {
				return fmt.Errorf("feed %q: %w", f.Name, err)
			}
		}
		if _, err := t.tx.ExecContext(ctx, "UPDATE feeds SET last_error = $2, error_at = $3 WHERE name = $1", f.Name, msg, ts(store.Now())); err != nil {
			return fmt.Errorf("feed %q: %w", f.Name, err)
		}
		return nil
	})
}

// ListFeeds returns every feed's status by name.
func (s *DB) ListFeeds(ctx context.Context) ([]store.FeedStatus, error) {
	rows, err := s.queryCached(ctx, "SELECT name, kind, source, imported_at, feed_date, version, items, last_error, error_at FROM feeds ORDER BY name", nil)
	if err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	defer rows.Close()
	out := []store.FeedStatus{}
	for rows.Next() {
		var f store.FeedStatus
		var imp, date, errAt string
		if err := rows.Scan(&f.Name, &f.Kind, &f.Source, &imp, &date, &f.Version, &f.Items, &f.LastError, &errAt); err != nil {
			return nil, fmt.Errorf("list feeds: %w", err)
		}
		for _, p := range []struct {
			in  string
			out *time.Time
		}{{imp, &f.ImportedAt}, {date, &f.FeedDate}, {errAt, &f.ErrorAt}} {
			if *p.out, err = parseTS(p.in); err != nil {
				return nil, fmt.Errorf("feed %q: %w", f.Name, err)
			}
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// KEV returns the stored catalog.
func (s *DB) KEV(ctx context.Context) (*kev.Catalog, error) {
	var meta string
	if err := s.SQL.QueryRowContext(ctx, "SELECT meta FROM feeds WHERE name = $1", store.FeedKEV).Scan(&meta); err != nil {
		return nil, notFound(err, "kev catalog")
	}
	if meta == "" {
		return nil, fmt.Errorf("kev catalog: %w", store.ErrNotFound)
	}
	var m kevMeta
	if err := json.Unmarshal([]byte(meta), &m); err != nil {
		return nil, fmt.Errorf("kev catalog header: %w", err)
	}
	c := &kev.Catalog{Title: m.Title, CatalogVersion: m.CatalogVersion, DateReleased: m.DateReleased, Entries: []kev.Entry{}}
	rows, err := s.SQL.QueryContext(ctx, "SELECT cve_id, doc FROM kev_entries ORDER BY cve_id")
	if err != nil {
		return nil, fmt.Errorf("kev entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("kev entries: %w", err)
		}
		var e kev.Entry
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			return nil, fmt.Errorf("kev entry %s: %w", id, err)
		}
		c.Entries = append(c.Entries, e)
	}
	c.Count = len(c.Entries)
	return c, rows.Err()
}

// EPSS returns the stored scores with the model version and score date.
func (s *DB) EPSS(ctx context.Context) (*epss.File, error) {
	var version, date, imported string
	if err := s.SQL.QueryRowContext(ctx, "SELECT version, feed_date, imported_at FROM feeds WHERE name = $1", store.FeedEPSS).Scan(&version, &date, &imported); err != nil {
		return nil, notFound(err, "epss scores")
	}
	if imported == "" {
		return nil, fmt.Errorf("epss scores: %w", store.ErrNotFound)
	}
	f := &epss.File{ModelVersion: version, Scores: []epss.Score{}}
	var err error
	if f.ScoreDate, err = parseTS(date); err != nil {
		return nil, fmt.Errorf("epss score date: %w", err)
	}
	rows, err := s.SQL.QueryContext(ctx, "SELECT cve, epss, percentile FROM epss_scores ORDER BY cve")
	if err != nil {
		return nil, fmt.Errorf("epss scores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sc epss.Score
		if err := rows.Scan(&sc.CVE, &sc.EPSS, &sc.Percentile); err != nil {
			return nil, fmt.Errorf("epss scores: %w", err)
		}
		f.Scores = append(f.Scores, sc)
	}
	return f, rows.Err()
}

// ScanNVD streams every NVD record in id order.
func (s *DB) ScanNVD(ctx context.Context, fn func(id string, raw []byte) error) error {
	rows, err := s.SQL.QueryContext(ctx, "SELECT id, doc FROM nvd_cves ORDER BY id")
	if err != nil {
		return fmt.Errorf("scan nvd: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return fmt.Errorf("scan nvd: %w", err)
		}
		if err := fn(id, []byte(doc)); err != nil {
			return err
		}
	}
	return rows.Err()
}
