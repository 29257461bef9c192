package sqldb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/store"
)

// advisoryCVEs returns the sorted, distinct CVE ids of an advisory.
func advisoryCVEs(a *advisory.Advisory) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range a.Vulnerabilities {
		if v.CVE != "" && !seen[v.CVE] {
			seen[v.CVE] = true
			out = append(out, v.CVE)
		}
	}
	sort.Strings(out)
	return out
}

func (t *feedTx) PutAdvisory(ctx context.Context, a *advisory.Advisory, feed string) error {
	if a == nil || a.ID == "" {
		return errors.New("put advisory: advisory has no id")
	}
	doc, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("put advisory %q: encode: %w", a.ID, err)
	}
	cves := advisoryCVEs(a)
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM advisories WHERE id = $1", a.ID); err != nil {
		return fmt.Errorf("put advisory %q: %w", a.ID, err)
	}
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM advisory_cves WHERE advisory_id = $1", a.ID); err != nil {
		return fmt.Errorf("put advisory %q: %w", a.ID, err)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO advisories (id, publisher, title, current_release, cves, feed, source, sha256, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.ID, a.Publisher.Name, a.Title, ts(a.CurrentRelease), strings.Join(cves, " "), feed, a.Source, a.SHA256, string(doc)); err != nil {
		return fmt.Errorf("put advisory %q: %w", a.ID, err)
	}
	for _, c := range cves {
		if _, err := t.tx.ExecContext(ctx, "INSERT INTO advisory_cves (cve, advisory_id) VALUES ($1, $2)", c, a.ID); err != nil {
			return fmt.Errorf("put advisory %q cve %s: %w", a.ID, c, err)
		}
	}
	return nil
}

// GetAdvisory returns one advisory by tracking id.
func (s *DB) GetAdvisory(ctx context.Context, id string) (*advisory.Advisory, error) {
	var doc string
	if err := s.SQL.QueryRowContext(ctx, "SELECT doc FROM advisories WHERE id = $1", id).Scan(&doc); err != nil {
		return nil, notFound(err, fmt.Sprintf("advisory %q", id))
	}
	var a advisory.Advisory
	if err := json.Unmarshal([]byte(doc), &a); err != nil {
		return nil, fmt.Errorf("advisory %q: decode stored document: %w", id, err)
	}
	return &a, nil
}

// ListAdvisories returns a page of advisory summaries in id order.
func (s *DB) ListAdvisories(ctx context.Context, q store.AdvisoryQuery) (*store.AdvisoryPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Cursor != "" {
		after, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil {
			return nil, &QueryError{Param: "cursor", Reason: "invalid cursor"}
		}
		where = append(where, "id > "+arg(string(after)))
	}
	if q.Publisher != "" {
		where = append(where, "lower(publisher) = "+arg(strings.ToLower(q.Publisher)))
	}
	if q.CVE != "" {
		where = append(where, "id IN (SELECT advisory_id FROM advisory_cves WHERE cve = "+arg(strings.ToUpper(q.CVE))+")")
	}
	if q.Search != "" {
		p := arg("%" + escapeLike(strings.ToLower(q.Search)) + "%")
		where = append(where, "(lower(id) LIKE "+p+" ESCAPE '\\' OR lower(title) LIKE "+p+" ESCAPE '\\')")
	}
	query := "SELECT id, title, publisher, current_release, cves, feed, source, sha256 FROM advisories"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id LIMIT " + arg(limit+1)
	rows, err := s.queryCached(ctx, query, args) // prepared once per shape (list.go)
	if err != nil {
		return nil, fmt.Errorf("list advisories: %w", err)
	}
	defer rows.Close()
	page := &store.AdvisoryPage{Advisories: []store.AdvisorySummary{}}
	for rows.Next() {
		var a store.AdvisorySummary
		var rel, cves string
		if err := rows.Scan(&a.ID, &a.Title, &a.Publisher, &rel, &cves, &a.Feed, &a.Source, &a.SHA256); err != nil {
			return nil, fmt.Errorf("list advisories: %w", err)
		}
		if a.CurrentRelease, err = parseTS(rel); err != nil {
			return nil, fmt.Errorf("advisory %q current_release: %w", a.ID, err)
		}
		a.CVEs = strings.Fields(cves)
		if a.CVEs == nil {
			a.CVEs = []string{}
		}
		page.Advisories = append(page.Advisories, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list advisories: %w", err)
	}
	if len(page.Advisories) > limit {
		page.Advisories = page.Advisories[:limit]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(page.Advisories[limit-1].ID))
	}
	return page, nil
}

// AdvisoryDigests maps every advisory id to its SHA-256.
func (s *DB) AdvisoryDigests(ctx context.Context) (map[string]string, error) {
	rows, err := s.SQL.QueryContext(ctx, "SELECT id, sha256 FROM advisories")
	if err != nil {
		return nil, fmt.Errorf("advisory digests: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, h string
		if err := rows.Scan(&id, &h); err != nil {
			return nil, fmt.Errorf("advisory digests: %w", err)
		}
		out[id] = h
	}
	return out, rows.Err()
}

// ScanAdvisories streams every advisory in id order.
func (s *DB) ScanAdvisories(ctx context.Context, fn func(*advisory.Advisory) error) error {
	rows, err := s.SQL.QueryContext(ctx, "SELECT id, doc FROM advisories ORDER BY id")
	if err != nil {
		return fmt.Errorf("scan advisories: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return fmt.Errorf("scan advisories: %w", err)
		}
		var a advisory.Advisory
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return fmt.Errorf("advisory %q: decode stored document: %w", id, err)
		}
		if err := fn(&a); err != nil {
			return err
		}
	}
	return rows.Err()
}
