package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

var _ store.OIDCStore = (*DB)(nil)

// OIDCUser returns the account linked to an OIDC identity.
func (s *DB) OIDCUser(ctx context.Context, issuer, subject string) (int64, error) {
	var id int64
	if err := s.SQL.QueryRowContext(ctx, "SELECT user_id FROM oidc_identities WHERE issuer = $1 AND subject = $2", issuer, subject).Scan(&id); err != nil {
		return 0, notFound(err, fmt.Sprintf("oidc identity %s %q", issuer, subject))
	}
	return id, nil
}

// LinkOIDC links an OIDC identity to an account.
func (s *DB) LinkOIDC(ctx context.Context, issuer, subject string, userID int64, at time.Time) error {
	if _, err := s.SQL.ExecContext(ctx, "INSERT INTO oidc_identities (issuer, subject, user_id, created_at, last_login) VALUES ($1, $2, $3, $4, $4)",
		issuer, subject, userID, ts(at)); err != nil {
		if isUnique(err) {
			return fmt.Errorf("oidc identity %s %q: %w", issuer, subject, store.ErrExists)
		}
		return fmt.Errorf("link oidc identity %s %q: %w", issuer, subject, err)
	}
	return nil
}

// TouchOIDC records a sign-in with an OIDC identity.
func (s *DB) TouchOIDC(ctx context.Context, issuer, subject string, at time.Time) error {
	if _, err := s.SQL.ExecContext(ctx, "UPDATE oidc_identities SET last_login = $3 WHERE issuer = $1 AND subject = $2", issuer, subject, ts(at)); err != nil {
		return fmt.Errorf("touch oidc identity %s %q: %w", issuer, subject, err)
	}
	return nil
}
