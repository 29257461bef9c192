package store

import (
	"context"
	"time"
)

// OIDCStore links the identities of an OpenID Connect provider (issuer +
// subject, stable across renames) to MedWarden accounts. Every driver
// implements it (sqldb oidc_store.go).
type OIDCStore interface {
	// OIDCUser returns the id of the account linked to an identity
	// (ErrNotFound).
	OIDCUser(ctx context.Context, issuer, subject string) (int64, error)
	// LinkOIDC links an identity to an account (ErrExists when linked).
	LinkOIDC(ctx context.Context, issuer, subject string, userID int64, at time.Time) error
	// TouchOIDC records a sign-in with the identity.
	TouchOIDC(ctx context.Context, issuer, subject string, at time.Time) error
}
