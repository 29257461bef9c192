package cli

import (
	"context"
	"flag"

	"github.com/medwarden/medwarden/internal/audit/recorder"

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

// openAudited opens the store with every change written to the audit log,
// attributed to the actor Run put in ctx (the operating-system user).
func (sf *storeFlags) openAudited(ctx context.Context) (store.Store, error) {
	st, err := sf.open(ctx)
	if err != nil {
		return nil, err
	}
	rec, err := recorder.Wrap(st, nil)
	if err != nil {
		st.Close()
		return nil, err
	}
	return rec, nil
}
