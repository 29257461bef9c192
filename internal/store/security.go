package store

import (
	"context"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
)

// APIToken is a bearer token of the REST API. Only the SHA-256 of the
// secret is stored: a copy of the database yields no usable token.
type APIToken struct {
	ID        int64
	UserID    int64
	Name      string // label given at creation
	Hash      string // hex SHA-256 of the token
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	LastUsed  time.Time // zero when never used
	RevokedAt time.Time // zero unless revoked
}

// SecurityStore keeps API tokens and the audit log. Every driver
// implements it (sqldb token_store.go and audit_store.go); callers get it
// with a type assertion on Store until it joins the Store interface.
type SecurityStore interface {
	// CreateToken inserts t and sets its ID.
	CreateToken(ctx context.Context, t *APIToken) error
	// GetTokenByHash returns the token with this hash (ErrNotFound).
	GetTokenByHash(ctx context.Context, hash string) (*APIToken, error)
	// GetToken returns one token by id (ErrNotFound).
	GetToken(ctx context.Context, id int64) (*APIToken, error)
	// ListTokens lists tokens, of one user when userID > 0, by id.
	ListTokens(ctx context.Context, userID int64) ([]*APIToken, error)
	// RevokeToken marks a token revoked at the given time (ErrNotFound).
	RevokeToken(ctx context.Context, id int64, at time.Time) error
	// TouchToken records a use of the token.
	TouchToken(ctx context.Context, id int64, at time.Time) error

	// AppendAudit chains e after the last entry (sets Seq, PrevHash, Hash)
	// and stores it, atomically with respect to other appends.
	AppendAudit(ctx context.Context, e *audit.Entry) error
	// ScanAudit streams entries with Seq > after in stored order (by seq).
	ScanAudit(ctx context.Context, after int64, fn func(*audit.Entry) error) error
	// ListAudit returns up to limit entries with Seq > after (limit 1–1000).
	ListAudit(ctx context.Context, after int64, limit int) ([]*audit.Entry, error)
}
