// Package app wires the running system from configuration: it opens the
// store, builds services and mounts HTTP. It holds no domain logic.
package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// DefaultDataDir is where the embedded database lives unless --data says otherwise.
const DefaultDataDir = "./medwarden-data"

// StoreConfig selects the database: DSN when set (postgres://… or
// sqlite:PATH), else the SQLite file inside DataDir.
type StoreConfig struct {
	DataDir string
	DSN     string
}

// Validate checks the configuration names one usable database.
func (c StoreConfig) Validate() error {
	if c.DSN == "" && c.DataDir == "" {
		return fmt.Errorf("store: neither --data nor --db is set")
	}
	if c.DSN != "" && !isPostgres(c.DSN) && !strings.HasPrefix(c.DSN, "sqlite:") {
		return fmt.Errorf("store: --db %q: want postgres://…, postgresql://… or sqlite:PATH", redactDSN(c.DSN))
	}
	return nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// OpenStore opens and migrates the configured store.
func OpenStore(ctx context.Context, c StoreConfig) (store.Store, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	switch {
	case isPostgres(c.DSN):
		return postgres.Open(ctx, c.DSN)
	case strings.HasPrefix(c.DSN, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(strings.TrimPrefix(c.DSN, "sqlite:"), "//"))
	}
	return sqlite.Open(ctx, filepath.Join(c.DataDir, sqlite.FileName))
}

// Describe says which store a config opens, without secrets.
func (c StoreConfig) Describe() string {
	if c.DSN != "" {
		return redactDSN(c.DSN)
	}
	return "sqlite:" + filepath.Join(c.DataDir, sqlite.FileName)
}

// redactDSN hides a password in a URL-style DSN.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	cred := dsn[scheme+3 : at]
	if user, _, ok := strings.Cut(cred, ":"); ok {
		return dsn[:scheme+3] + user + ":xxxxx" + dsn[at:]
	}
	return dsn
}
