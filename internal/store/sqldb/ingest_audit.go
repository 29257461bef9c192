package sqldb

import (
	"context"
	"fmt"
	"strings"

	"github.com/medwarden/medwarden/internal/audit"
)

// auditRowsPerInsert bounds one multi-row INSERT into audit_log (11
// parameters a row; SQLite allows 32,766 per statement).
const auditRowsPerInsert = 200

// AppendAudit chains es after the last audit entry inside the ingest
// transaction, so a sensor's device changes and their audit entries
// commit together. The transaction already excludes other appenders: on
// PostgreSQL Ingest locked the audit log first; on SQLite it holds the
// only write lock.
func (t *ingestTx) AppendAudit(ctx context.Context, es []*audit.Entry) error {
	if len(es) == 0 {
		return nil
	}
	seq, prev, err := auditHead(ctx, t.tx)
	if err != nil {
		return fmt.Errorf("append %d audit entries: %w", len(es), err)
	}
	for _, e := range es {
		if err := audit.Seal(e, seq, prev); err != nil {
			return fmt.Errorf("append audit %s %s: %w", e.Action, e.Object, err)
		}
		seq, prev = e.Seq, e.Hash
	}
	for start := 0; start < len(es); start += auditRowsPerInsert {
		chunk := es[start:min(start+auditRowsPerInsert, len(es))]
		var q strings.Builder
		q.WriteString("INSERT INTO audit_log (seq, at, actor, actor_kind, source, action, object, before, after, prev_hash, hash) VALUES ")
		args := make([]any, 0, 11*len(chunk))
		for i, e := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11)
			args = append(args, auditArgs(e)...)
		}
		if err := t.tx.Exec(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("append audit entries %d-%d: %w", chunk[0].Seq, chunk[len(chunk)-1].Seq, err)
		}
	}
	return nil
}
