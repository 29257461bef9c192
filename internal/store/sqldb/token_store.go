package sqldb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

var _ store.SecurityStore = (*DB)(nil)

const selectToken = "SELECT id, user_id, name, hash, scopes, created_at, expires_at, last_used, revoked_at FROM api_tokens"

func scanToken(r Row) (*store.APIToken, error) {
	var t store.APIToken
	var scopes, created, expires, used, revoked string
	if err := r.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &scopes, &created, &expires, &used, &revoked); err != nil {
		return nil, err
	}
	t.Scopes = strings.Fields(scopes)
	for _, f := range []struct {
		name string
		s    string
		t    *time.Time
	}{{"created_at", created, &t.CreatedAt}, {"expires_at", expires, &t.ExpiresAt}, {"last_used", used, &t.LastUsed}, {"revoked_at", revoked, &t.RevokedAt}} {
		v, err := parseTS(f.s)
		if err != nil {
			return nil, fmt.Errorf("api token %d %s: %w", t.ID, f.name, err)
		}
		*f.t = v
	}
	return &t, nil
}

// CreateToken inserts an API token.
func (s *DB) CreateToken(ctx context.Context, t *store.APIToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = store.Now()
	}
	err := s.SQL.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, hash, scopes, created_at, expires_at, last_used, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		t.UserID, t.Name, t.Hash, strings.Join(t.Scopes, " "), ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.LastUsed), ts(t.RevokedAt)).Scan(&t.ID)
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("api token %q: %w", t.Name, store.ErrExists)
		}
		return fmt.Errorf("create api token %q: %w", t.Name, err)
	}
	return nil
}

// GetTokenByHash returns the token with this hash.
func (s *DB) GetTokenByHash(ctx context.Context, hash string) (*store.APIToken, error) {
	t, err := scanToken(s.SQL.QueryRowContext(ctx, selectToken+" WHERE hash = $1", hash))
	if err != nil {
		return nil, notFound(err, "api token")
	}
	return t, nil
}

// GetToken returns one token by id.
func (s *DB) GetToken(ctx context.Context, id int64) (*store.APIToken, error) {
	t, err := scanToken(s.SQL.QueryRowContext(ctx, selectToken+" WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("api token %d", id))
	}
	return t, nil
}

// ListTokens lists tokens (of one user when userID > 0) by id.
func (s *DB) ListTokens(ctx context.Context, userID int64) ([]*store.APIToken, error) {
	q, args := selectToken+" ORDER BY id", []any{}
	if userID > 0 {
		q, args = selectToken+" WHERE user_id = $1 ORDER BY id", []any{userID}
	}
	rows, err := s.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var out []*store.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken marks a token revoked; revoking twice keeps the first time.
func (s *DB) RevokeToken(ctx context.Context, id int64, at time.Time) error {
	res, err := s.SQL.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = CASE WHEN revoked_at = '' THEN $2 ELSE revoked_at END WHERE id = $1", id, ts(at))
	if err != nil {
		return fmt.Errorf("revoke api token %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("api token %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// TouchToken records the last use of a token.
func (s *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.SQL.ExecContext(ctx, "UPDATE api_tokens SET last_used = $2 WHERE id = $1", id, ts(at))
	if err != nil {
		return fmt.Errorf("touch api token %d: %w", id, err)
	}
	return nil
}
