package oidc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

// NoPassword is the password hash of accounts created by single sign-on:
// it is not a valid argon2id hash, so password sign-in always fails.
const NoPassword = "!sso"

// ErrTakenName is returned when the provider's user name belongs to a
// local account that is not linked to this identity: signing in as it
// would take the account over, so an administrator must decide.
var ErrTakenName = errors.New("a local account already has this user name; an administrator must rename it or remove it")

// Users is what provisioning needs of the store.
type Users interface {
	GetUser(ctx context.Context, id int64) (*store.User, error)
	GetUserByName(ctx context.Context, name string) (*store.User, error)
	CreateUser(ctx context.Context, u *store.User) error
	UpdateUser(ctx context.Context, u *store.User) error
}

// Provision returns the account of a verified identity: the linked one,
// with its role set to the mapped role (the provider is the source of
// truth), or a new account without password, linked to the identity. A
// disabled account stays disabled. created reports a new account.
func Provision(ctx context.Context, users Users, links store.OIDCStore, id *Identity, now time.Time) (u *store.User, created bool, err error) {
	uid, err := links.OIDCUser(ctx, id.Issuer, id.Subject)
	switch {
	case err == nil:
		u, err = users.GetUser(ctx, uid)
		if err != nil {
			return nil, false, fmt.Errorf("linked account %d: %w", uid, err)
		}
		if u.Disabled {
			return nil, false, fmt.Errorf("account %q is disabled", u.Username)
		}
		u.Role, u.LastLogin = string(id.Role), now
		if err := users.UpdateUser(ctx, u); err != nil {
			return nil, false, err
		}
		if err := links.TouchOIDC(ctx, id.Issuer, id.Subject, now); err != nil {
			return nil, false, err
		}
		return u, false, nil
	case !errors.Is(err, store.ErrNotFound):
		return nil, false, err
	}
	if _, err := users.GetUserByName(ctx, id.Username); err == nil {
		return nil, false, fmt.Errorf("%q: %w", id.Username, ErrTakenName)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	u = &store.User{Username: id.Username, Role: string(id.Role), PasswordHash: NoPassword, LastLogin: now}
	if err := users.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, false, fmt.Errorf("%q: %w", id.Username, ErrTakenName)
		}
		return nil, false, err
	}
	if err := links.LinkOIDC(ctx, id.Issuer, id.Subject, u.ID, now); err != nil {
		return nil, false, err
	}
	return u, true, nil
}
