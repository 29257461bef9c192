package sqldb

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

var _ store.SBOMStore = (*DB)(nil)

// maxSBOMRaw bounds the decompressed size of a stored SBOM read back.
const maxSBOMRaw = 1 << 30

// sbomSubjectKey is the unique key of what an SBOM is attached to. Vendor,
// model and firmware version compare case-insensitively.
func sbomSubjectKey(s store.SBOMSubject) string {
	if s.DeviceID != 0 {
		return "device:" + strconv.FormatInt(s.DeviceID, 10)
	}
	return "model:" + strings.ToLower(strings.TrimSpace(s.Vendor)) + "\x1f" +
		strings.ToLower(strings.TrimSpace(s.Model)) + "\x1f" + strings.ToLower(strings.TrimSpace(s.FirmwareVersion))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AttachSBOM stores the document (deduplicated by SHA-256) and attaches it
// as the subject's next version, in one transaction.
func (s *DB) AttachSBOM(ctx context.Context, in *store.SBOMAttach) (*store.SBOMVersion, bool, error) {
	if in == nil || in.SHA256 == "" || len(in.Raw) == 0 {
		return nil, false, errors.New("attach sbom: no document")
	}
	sub := in.Subject
	if sub.DeviceID == 0 && (strings.TrimSpace(sub.Vendor) == "" || strings.TrimSpace(sub.Model) == "" || strings.TrimSpace(sub.FirmwareVersion) == "") {
		return nil, false, errors.New("attach sbom: a device, or a vendor, model and firmware version, is required")
	}
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("attach sbom: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if sub.DeviceID != 0 {
		var vendor, model, version sql.NullString
		err := tx.QueryRowContext(ctx, "SELECT vendor, model, version FROM devices WHERE id = $1", sub.DeviceID).Scan(&vendor, &model, &version)
		if err != nil {
			return nil, false, notFound(err, fmt.Sprintf("attach sbom: device %d", sub.DeviceID))
		}
		sub.Vendor, sub.Model, sub.FirmwareVersion = vendor.String, model.String, version.String
	}
	key := sbomSubjectKey(in.Subject)
	var docID int64
	err = tx.QueryRowContext(ctx, "SELECT id FROM sbom_documents WHERE sha256 = $1", in.SHA256).Scan(&docID)
	switch {
	case err == nil:
	case errors.Is(err, sql.ErrNoRows) || isNoRows(err):
		if docID, err = s.insertSBOMDocument(ctx, tx, in); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, fmt.Errorf("attach sbom: %w", err)
	}
	var last sql.NullInt64
	var lastDoc, lastID sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT v.version, v.document_id, v.id FROM sbom_versions v WHERE v.subject = $1
		ORDER BY v.version DESC LIMIT 1`, key).Scan(&last, &lastDoc, &lastID); err != nil && !errors.Is(err, sql.ErrNoRows) && !isNoRows(err) {
		return nil, false, fmt.Errorf("attach sbom: latest version: %w", err)
	}
	if lastDoc.Valid && lastDoc.Int64 == docID {
		if err := tx.Commit(); err != nil {
			return nil, false, fmt.Errorf("attach sbom: %w", err)
		}
		v, err := s.GetSBOM(ctx, lastID.Int64)
		return v, true, err
	}
	var dev any
	if sub.DeviceID != 0 {
		dev = sub.DeviceID
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO sbom_versions (subject, device_id, vendor, model, fw_version, version, document_id, attached_at, attached_by, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		key, dev, sub.Vendor, sub.Model, sub.FirmwareVersion, last.Int64+1, docID, ts(store.Now()), in.AttachedBy, in.Note).Scan(&id); err != nil {
		if isUnique(err) {
			return nil, false, fmt.Errorf("attach sbom: a concurrent upload took version %d: %w", last.Int64+1, store.ErrConflict)
		}
		return nil, false, fmt.Errorf("attach sbom: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("attach sbom: %w", err)
	}
	v, err := s.GetSBOM(ctx, id)
	return v, false, err
}

func (s *DB) insertSBOMDocument(ctx context.Context, tx *sql.Tx, in *store.SBOMAttach) (int64, error) {
	gz := in.RawGzip
	if gz == nil {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		if _, err := zw.Write(in.Raw); err != nil {
			return 0, fmt.Errorf("attach sbom: compress: %w", err)
		}
		if err := zw.Close(); err != nil {
			return 0, fmt.Errorf("attach sbom: compress: %w", err)
		}
		gz = buf.Bytes()
	}
	var id int64
	now := ts(store.Now())
	if err := tx.QueryRowContext(ctx, `INSERT INTO sbom_documents (sha256, format, spec_version, serial, name, size, valid, problems, quality, raw_gz, created_at, matched_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		in.SHA256, in.Format, in.SpecVersion, in.Serial, in.Name, int64(len(in.Raw)), b2i(in.Valid), in.Problems, in.Quality, gz, now, now).Scan(&id); err != nil {
		return 0, fmt.Errorf("attach sbom: insert document: %w", err)
	}
	// multi-row INSERTs (sqlTx.insertRows): a 100 MB SBOM has 100,000
	// components, one statement per row was a third of the attach
	rows := make([][]any, 0, len(in.Components))
	for _, c := range in.Components {
		hashes := "[]"
		if len(c.Hashes) > 0 {
			b, _ := json.Marshal(c.Hashes)
			hashes = string(b)
		}
		rows = append(rows, []any{id, c.Index, c.Ref, c.Type, c.Name, c.Group, c.Version, c.PURL, c.CPE, c.Supplier, hashes})
	}
	if err := s.bulk(tx).insertRows(ctx, "INSERT INTO sbom_components (document_id, idx, ref, type, name, grp, version, purl, cpe, supplier, hashes) VALUES ", 11, rows); err != nil {
		return 0, fmt.Errorf("attach sbom: components: %w", err)
	}
	if err := s.insertSBOMVulns(ctx, tx, id, in.Vulns); err != nil {
		return 0, err
	}
	return id, nil
}

func (s *DB) insertSBOMVulns(ctx context.Context, tx *sql.Tx, docID int64, vulns []store.SBOMVuln) error {
	seen := map[string]bool{}
	rows := make([][]any, 0, len(vulns))
	for _, v := range vulns {
		k := strconv.Itoa(v.Index) + "\x00" + v.ID + "\x00" + v.Source
		if seen[k] {
			continue
		}
		seen[k] = true
		rows = append(rows, []any{docID, v.Index, v.ID, v.Source, v.Method, strings.Join(v.Aliases, " "), v.Status,
			b2i(v.Suppressed), v.Justification, v.Detail, v.Confidence, b2i(v.NeedsReview), v.CVSS, v.CVSSVector, v.CVSSVersion, v.Summary,
			fixedColumn(v)})
	}
	if err := s.bulk(tx).insertRows(ctx, `INSERT INTO sbom_vulns (document_id, idx, vuln_id, source, method, aliases, status, suppressed, justification,
		detail, confidence, needs_review, cvss, cvss_vector, cvss_version, summary, fixed) VALUES `, 17, rows); err != nil {
		return fmt.Errorf("sbom vulnerabilities of document %d: %w", docID, err)
	}
	return nil
}

// fixedColumn is the sbom_vulns.fixed value of v: the fixed version, ""
// when the matcher found none published (NoFix), NULL when it was not
// determined (statements, matches stored before migration 0016).
func fixedColumn(v store.SBOMVuln) any {
	switch {
	case v.Fixed != "":
		return v.Fixed
	case v.NoFix:
		return ""
	}
	return nil
}

// ReplaceSBOMVulns replaces a document's vulnerabilities in one transaction.
func (s *DB) ReplaceSBOMVulns(ctx context.Context, documentID int64, vulns []store.SBOMVuln) error {
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("replace sbom vulnerabilities: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	res, err := tx.ExecContext(ctx, "UPDATE sbom_documents SET matched_at = $1 WHERE id = $2", ts(store.Now()), documentID)
	if err != nil {
		return fmt.Errorf("replace sbom vulnerabilities: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sbom document %d: %w", documentID, store.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM sbom_vulns WHERE document_id = $1", documentID); err != nil {
		return fmt.Errorf("replace sbom vulnerabilities: %w", err)
	}
	if err := s.insertSBOMVulns(ctx, tx, documentID, vulns); err != nil {
		return err
	}
	return tx.Commit()
}

const selectSBOMVersion = `SELECT v.id, v.device_id, coalesce(d.asset_id, ''), v.vendor, v.model, v.fw_version, v.version, v.document_id,
	doc.sha256, doc.format, doc.spec_version, doc.serial, doc.name, doc.size, doc.valid, doc.problems, doc.quality,
	v.attached_at, v.attached_by, v.note, doc.matched_at,
	(SELECT count(*) FROM sbom_components c WHERE c.document_id = v.document_id),
	(SELECT count(*) FROM sbom_vulns x WHERE x.document_id = v.document_id AND x.suppressed = 0),
	(SELECT count(*) FROM sbom_vulns x WHERE x.document_id = v.document_id AND x.suppressed = 1),
	(SELECT count(*) FROM sbom_vulns x WHERE x.document_id = v.document_id AND x.needs_review = 1)
	FROM sbom_versions v JOIN sbom_documents doc ON doc.id = v.document_id LEFT JOIN devices d ON d.id = v.device_id`

const latestSBOM = "v.version = (SELECT max(w.version) FROM sbom_versions w WHERE w.subject = v.subject)"

func scanSBOMVersion(r interface{ Scan(...any) error }) (*store.SBOMVersion, error) {
	var v store.SBOMVersion
	var dev sql.NullInt64
	var valid int
	var at, matched string
	if err := r.Scan(&v.ID, &dev, &v.Subject.AssetID, &v.Subject.Vendor, &v.Subject.Model, &v.Subject.FirmwareVersion, &v.Version, &v.DocumentID,
		&v.SHA256, &v.Format, &v.SpecVersion, &v.Serial, &v.Name, &v.Size, &valid, &v.Problems, &v.Quality,
		&at, &v.AttachedBy, &v.Note, &matched, &v.Components, &v.OpenVulns, &v.Suppressed, &v.NeedsReview); err != nil {
		return nil, err
	}
	v.Subject.DeviceID = dev.Int64
	v.Valid = valid != 0
	var err error
	if v.AttachedAt, err = parseTS(at); err != nil {
		return nil, fmt.Errorf("sbom %d attached_at: %w", v.ID, err)
	}
	if v.MatchedAt, err = parseTS(matched); err != nil {
		return nil, fmt.Errorf("sbom %d matched_at: %w", v.ID, err)
	}
	return &v, nil
}

// GetSBOM returns one attached version.
func (s *DB) GetSBOM(ctx context.Context, id int64) (*store.SBOMVersion, error) {
	v, err := scanSBOMVersion(s.SQL.QueryRowContext(ctx, selectSBOMVersion+" WHERE v.id = $1", id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("sbom %d", id))
	}
	return v, nil
}

// ListSBOMs returns attached versions, newest first, with a cursor.
func (s *DB) ListSBOMs(ctx context.Context, q store.SBOMQuery) (*store.SBOMPage, error) {
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
		after, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || after <= 0 {
			return nil, &QueryError{Param: "cursor", Reason: "invalid cursor"}
		}
		where = append(where, "v.id < "+arg(after))
	}
	if q.DeviceID != 0 {
		where = append(where, "v.device_id = "+arg(q.DeviceID))
	}
	if q.Vendor != "" {
		where = append(where, "lower(v.vendor) = "+arg(strings.ToLower(q.Vendor)))
	}
	if q.Model != "" {
		where = append(where, "lower(v.model) = "+arg(strings.ToLower(q.Model)))
	}
	if q.FirmwareVersion != "" {
		where = append(where, "v.fw_version = "+arg(q.FirmwareVersion))
	}
	if q.Latest {
		where = append(where, latestSBOM)
	}
	query := selectSBOMVersion
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY v.id DESC LIMIT " + arg(limit+1)
	page := &store.SBOMPage{SBOMs: []store.SBOMVersion{}}
	if err := s.collectSBOMs(ctx, query, args, &page.SBOMs); err != nil {
		return nil, err
	}
	if len(page.SBOMs) > limit {
		page.SBOMs = page.SBOMs[:limit]
		page.Next = strconv.FormatInt(page.SBOMs[limit-1].ID, 10)
	}
	return page, nil
}

func (s *DB) collectSBOMs(ctx context.Context, query string, args []any, out *[]store.SBOMVersion) error {
	rows, err := s.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("list sboms: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanSBOMVersion(rows)
		if err != nil {
			return fmt.Errorf("list sboms: %w", err)
		}
		*out = append(*out, *v)
	}
	return rows.Err()
}

// SBOMsForDevice returns the latest device-level and model-level versions
// covering d.
func (s *DB) SBOMsForDevice(ctx context.Context, d *inventory.Device) ([]store.SBOMVersion, error) {
	out := []store.SBOMVersion{}
	model := sbomSubjectKey(store.SBOMSubject{Vendor: d.Vendor, Model: d.Model, FirmwareVersion: d.Version})
	// Device-level first, then model-level.
	query := selectSBOMVersion + " WHERE (v.subject = $1 OR v.subject = $2) AND " + latestSBOM + " ORDER BY v.device_id IS NULL, v.id DESC"
	err := s.collectSBOMs(ctx, query, []any{sbomSubjectKey(store.SBOMSubject{DeviceID: d.ID}), model}, &out)
	return out, err
}

// SBOMRaw returns the original bytes of the version's document.
func (s *DB) SBOMRaw(ctx context.Context, id int64) ([]byte, error) {
	var gz []byte
	if err := s.SQL.QueryRowContext(ctx, `SELECT doc.raw_gz FROM sbom_versions v JOIN sbom_documents doc ON doc.id = v.document_id WHERE v.id = $1`, id).Scan(&gz); err != nil {
		return nil, notFound(err, fmt.Sprintf("sbom %d", id))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("sbom %d: stored document: %w", id, err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxSBOMRaw))
	if err != nil {
		return nil, fmt.Errorf("sbom %d: stored document: %w", id, err)
	}
	return raw, nil
}

const selectSBOMComponent = "SELECT c.document_id, c.idx, c.ref, c.type, c.name, c.grp, c.version, c.purl, c.cpe, c.supplier, c.hashes FROM sbom_components c"

func scanSBOMComponent(r interface{ Scan(...any) error }) (int64, store.SBOMComponent, error) {
	var c store.SBOMComponent
	var doc int64
	var hashes string
	if err := r.Scan(&doc, &c.Index, &c.Ref, &c.Type, &c.Name, &c.Group, &c.Version, &c.PURL, &c.CPE, &c.Supplier, &hashes); err != nil {
		return 0, c, err
	}
	if hashes != "" && hashes != "[]" {
		if err := json.Unmarshal([]byte(hashes), &c.Hashes); err != nil {
			return 0, c, fmt.Errorf("sbom document %d component %d hashes: %w", doc, c.Index, err)
		}
	}
	return doc, c, nil
}

// SBOMComponents returns the components of a version's document with
// their vulnerabilities.
func (s *DB) SBOMComponents(ctx context.Context, id int64) ([]store.SBOMComponent, error) {
	var docID int64
	if err := s.SQL.QueryRowContext(ctx, "SELECT document_id FROM sbom_versions WHERE id = $1", id).Scan(&docID); err != nil {
		return nil, notFound(err, fmt.Sprintf("sbom %d", id))
	}
	rows, err := s.SQL.QueryContext(ctx, selectSBOMComponent+" WHERE c.document_id = $1 ORDER BY c.idx", docID)
	if err != nil {
		return nil, fmt.Errorf("sbom %d components: %w", id, err)
	}
	defer rows.Close()
	out := []store.SBOMComponent{}
	pos := map[int]int{}
	for rows.Next() {
		_, c, err := scanSBOMComponent(rows)
		if err != nil {
			return nil, fmt.Errorf("sbom %d components: %w", id, err)
		}
		pos[c.Index] = len(out)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sbom %d components: %w", id, err)
	}
	vulns, err := s.sbomVulns(ctx, "document_id = $1", docID)
	if err != nil {
		return nil, err
	}
	for _, v := range vulns {
		if i, ok := pos[v.Index]; ok {
			out[i].Vulns = append(out[i].Vulns, v)
		}
	}
	return out, nil
}

func (s *DB) sbomVulns(ctx context.Context, where string, args ...any) ([]store.SBOMVuln, error) {
	rows, err := s.SQL.QueryContext(ctx, `SELECT idx, vuln_id, source, method, aliases, status, suppressed, justification, detail, confidence, needs_review,
		cvss, cvss_vector, cvss_version, summary, fixed
		FROM sbom_vulns WHERE `+where+" ORDER BY idx, vuln_id, source", args...)
	if err != nil {
		return nil, fmt.Errorf("sbom vulnerabilities: %w", err)
	}
	defer rows.Close()
	var out []store.SBOMVuln
	for rows.Next() {
		var v store.SBOMVuln
		var aliases string
		var sup, review int
		var fixed sql.NullString
		if err := rows.Scan(&v.Index, &v.ID, &v.Source, &v.Method, &aliases, &v.Status, &sup, &v.Justification, &v.Detail, &v.Confidence, &review,
			&v.CVSS, &v.CVSSVector, &v.CVSSVersion, &v.Summary, &fixed); err != nil {
			return nil, fmt.Errorf("sbom vulnerabilities: %w", err)
		}
		v.Fixed, v.NoFix = fixed.String, fixed.Valid && fixed.String == ""
		if aliases != "" {
			v.Aliases = strings.Fields(aliases)
		}
		v.Suppressed, v.NeedsReview = sup != 0, review != 0
		out = append(out, v)
	}
	return out, rows.Err()
}

// ListComponents searches components across stored documents, in
// (document, index) order.
func (s *DB) ListComponents(ctx context.Context, q store.ComponentQuery) (*store.ComponentPage, error) {
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
		d, i, ok := strings.Cut(q.Cursor, ".")
		doc, err1 := strconv.ParseInt(d, 10, 64)
		idx, err2 := strconv.Atoi(i)
		if !ok || err1 != nil || err2 != nil {
			return nil, &QueryError{Param: "cursor", Reason: "invalid cursor"}
		}
		pd, pi := arg(doc), arg(idx)
		where = append(where, "(c.document_id > "+pd+" OR (c.document_id = "+pd+" AND c.idx > "+pi+"))")
	}
	if q.Name != "" {
		where = append(where, s.dialect.Fold("c.name")+" = "+s.dialect.FoldParam(arg(q.Name)))
	}
	if q.PURLPrefix != "" {
		where = append(where, "c.purl LIKE "+arg(escapeLike(q.PURLPrefix)+"%")+" ESCAPE '\\'")
	}
	if q.Vuln != "" {
		where = append(where, "EXISTS (SELECT 1 FROM sbom_vulns x WHERE x.document_id = c.document_id AND x.idx = c.idx AND x.vuln_id = "+arg(q.Vuln)+")")
	}
	if q.Vulnerable {
		where = append(where, "EXISTS (SELECT 1 FROM sbom_vulns x WHERE x.document_id = c.document_id AND x.idx = c.idx AND x.suppressed = 0)")
	}
	query := selectSBOMComponent
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY c.document_id, c.idx LIMIT " + arg(limit+1)
	rows, err := s.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list components: %w", err)
	}
	page := &store.ComponentPage{Components: []store.ComponentHit{}}
	for rows.Next() {
		doc, c, err := scanSBOMComponent(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list components: %w", err)
		}
		page.Components = append(page.Components, store.ComponentHit{DocumentID: doc, Component: c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list components: %w", err)
	}
	if len(page.Components) > limit {
		page.Components = page.Components[:limit]
		last := page.Components[limit-1]
		page.Next = strconv.FormatInt(last.DocumentID, 10) + "." + strconv.Itoa(last.Component.Index)
	}
	versions := map[int64][]int64{}
	for i := range page.Components {
		h := &page.Components[i]
		if _, ok := versions[h.DocumentID]; !ok {
			ids, err := s.sbomIDsOf(ctx, h.DocumentID)
			if err != nil {
				return nil, err
			}
			versions[h.DocumentID] = ids
		}
		h.SBOMIDs = versions[h.DocumentID]
		vs, err := s.sbomVulns(ctx, "document_id = $1 AND idx = $2", h.DocumentID, h.Component.Index)
		if err != nil {
			return nil, err
		}
		h.Component.Vulns = vs
	}
	return page, nil
}

func (s *DB) sbomIDsOf(ctx context.Context, docID int64) ([]int64, error) {
	rows, err := s.SQL.QueryContext(ctx, "SELECT id FROM sbom_versions WHERE document_id = $1 ORDER BY id", docID)
	if err != nil {
		return nil, fmt.Errorf("sbom document %d versions: %w", docID, err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

var _ store.OSVFeedTx = (*feedTx)(nil)

// PutOSV inserts or replaces one OSV record inside a feed import.
func (t *feedTx) PutOSV(ctx context.Context, id, ecosystem string, modified time.Time, raw []byte) error {
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM osv_records WHERE id = $1", id); err != nil {
		return fmt.Errorf("put osv %s: %w", id, err)
	}
	if _, err := t.tx.ExecContext(ctx, "INSERT INTO osv_records (id, modified, ecosystem, doc) VALUES ($1, $2, $3, $4)",
		id, ts(modified), ecosystem, string(raw)); err != nil {
		return fmt.Errorf("put osv %s: %w", id, err)
	}
	return nil
}

// ScanOSV streams every stored OSV record in id order.
func (s *DB) ScanOSV(ctx context.Context, fn func(id string, raw []byte) error) error {
	rows, err := s.SQL.QueryContext(ctx, "SELECT id, doc FROM osv_records ORDER BY id")
	if err != nil {
		return fmt.Errorf("scan osv: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return fmt.Errorf("scan osv: %w", err)
		}
		if err := fn(id, []byte(doc)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SBOMMark is the number of attached versions with the newest attach and
// match times (see store.SBOMStore).
func (s *DB) SBOMMark(ctx context.Context) (string, error) {
	var n int64
	var attached, matched string
	if err := s.SQL.QueryRowContext(ctx, "SELECT count(*), coalesce(max(attached_at), '') FROM sbom_versions").Scan(&n, &attached); err != nil {
		return "", fmt.Errorf("sbom mark: %w", err)
	}
	if err := s.SQL.QueryRowContext(ctx, "SELECT coalesce(max(matched_at), '') FROM sbom_documents").Scan(&matched); err != nil {
		return "", fmt.Errorf("sbom mark: %w", err)
	}
	return strconv.FormatInt(n, 10) + "|" + attached + "|" + matched, nil
}
