package cli

import (
	"context"
	"flag"

	"github.com/medwarden/medwarden/internal/app"
	"github.com/medwarden/medwarden/internal/store"
)

// storeFlags are the --data and --db flags every verb that touches the store takes.
type storeFlags struct {
	dataDir string
	dsn     string
}

func addStoreFlags(fs *flag.FlagSet, env *Env) *storeFlags {
	sf := &storeFlags{}
	fs.StringVar(&sf.dataDir, "data", app.DefaultDataDir, "directory of the embedded SQLite database")
	fs.StringVar(&sf.dsn, "db", env.Getenv("MEDWARDEN_DB"), "database URL (postgres://user@host:5432/db or sqlite:PATH); overrides --data; default $MEDWARDEN_DB")
	return sf
}

func (sf *storeFlags) config() app.StoreConfig {
	return app.StoreConfig{DataDir: sf.dataDir, DSN: sf.dsn}
}

func (sf *storeFlags) open(ctx context.Context) (store.Store, error) {
	return app.OpenStore(ctx, sf.config())
}
