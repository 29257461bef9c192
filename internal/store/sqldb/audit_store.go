package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/medwarden/medwarden/internal/audit"
)

const selectAudit = "SELECT seq, at, actor, actor_kind, source, action, object, before, after, prev_hash, hash FROM audit_log"

func scanAudit(r Row) (*audit.Entry, error) {
	var e audit.Entry
	var at, before, after string
	if err := r.Scan(&e.Seq, &at, &e.Actor, &e.ActorKind, &e.Source, &e.Action, &e.Object, &before, &after, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	t, err := parseTS(at)
	if err != nil {
		return nil, fmt.Errorf("audit entry %d time: %w", e.Seq, err)
	}
	e.Time, e.Before, e.After = t, json.RawMessage(before), json.RawMessage(after)
	return &e, nil
}

// AppendAudit chains e after the last stored entry and inserts it in one
// transaction that excludes concurrent appends (SQLite: BEGIN IMMEDIATE;
// PostgreSQL: an exclusive table lock, which readers do not wait for).
func (s *DB) AppendAudit(ctx context.Context, e *audit.Entry) error {
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if s.dialect.Name() == "postgres" {
		if _, err := tx.ExecContext(ctx, "LOCK TABLE audit_log IN EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("append audit %s: lock: %w", e.Action, err)
		}
	}
	seq, prev, err := auditHeadSQL(ctx, tx)
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	if err := audit.Seal(e, seq, prev); err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	if _, err := tx.ExecContext(ctx, insertAuditSQL, auditArgs(e)...); err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append audit %s: commit: %w", e.Action, err)
	}
	return nil
}

const (
	lastAuditSQL   = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
	insertAuditSQL = `INSERT INTO audit_log (seq, at, actor, actor_kind, source, action, object, before, after, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
)

func auditArgs(e *audit.Entry) []any {
	return []any{e.Seq, e.Time.UTC().Format(audit.TimeLayout), e.Actor, e.ActorKind, e.Source, e.Action, e.Object,
		string(e.Before), string(e.After), e.PrevHash, e.Hash}
}

// auditHeadSQL returns the last entry's sequence number and hash (0 and
// the genesis hash when the log is empty).
func auditHeadSQL(ctx context.Context, tx *sql.Tx) (int64, string, error) {
	var seq int64
	prev := audit.GenesisHash
	err := tx.QueryRowContext(ctx, lastAuditSQL).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("last entry: %w", err)
	}
	return seq, prev, nil
}

// auditHead is auditHeadSQL inside a driver transaction (device_writes.go).
func auditHead(ctx context.Context, tx Tx) (int64, string, error) {
	var seq int64
	prev := audit.GenesisHash
	err := tx.QueryRow(ctx, lastAuditSQL).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) && !isNoRows(err) {
		return 0, "", fmt.Errorf("audit log: last entry: %w", err)
	}
	return seq, prev, nil
}

// insertAudit appends a sealed entry inside a driver transaction.
func insertAudit(ctx context.Context, tx Tx, e *audit.Entry) error {
	if err := tx.Exec(ctx, insertAuditSQL, auditArgs(e)...); err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	return nil
}

// ScanAudit streams entries after a sequence number in seq order.
func (s *DB) ScanAudit(ctx context.Context, after int64, fn func(*audit.Entry) error) error {
	rows, err := s.SQL.QueryContext(ctx, selectAudit+" WHERE seq > $1 ORDER BY seq", after)
	if err != nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ListAudit returns a page of entries after a sequence number.
func (s *DB) ListAudit(ctx context.Context, after int64, limit int) ([]*audit.Entry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.SQL.QueryContext(ctx, selectAudit+" WHERE seq > $1 ORDER BY seq LIMIT $2", after, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []*audit.Entry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
