package web

import (
	"context"
	"fmt"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
)

// FirstAdmin is the account created on first start.
const FirstAdmin = "admin"

// EnsureAdmin creates the first administrator when the store has no users
// and returns its one-time password (shown once; it must be changed at
// first sign-in). With users present it returns "" and changes nothing.
func EnsureAdmin(ctx context.Context, st store.UserStore, p auth.Params) (string, error) {
	n, err := st.CountUsers(ctx)
	if err != nil {
		return "", fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	pw, err := auth.GeneratePassword()
	if err != nil {
		return "", err
	}
	if p == (auth.Params{}) {
		p = auth.DefaultParams
	}
	hash, err := auth.HashPassword(pw, p)
	if err != nil {
		return "", err
	}
	if err := st.CreateUser(ctx, &store.User{Username: FirstAdmin, Role: string(auth.Admin), PasswordHash: hash, MustChangePassword: true}); err != nil {
		return "", fmt.Errorf("create first admin: %w", err)
	}
	return pw, nil
}
