package cli

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

var errStoreBusy = errors.New("store busy")

func backupVerb() *Verb {
	return &Verb{
		Name:    "backup",
		Summary: "write an online, consistent copy of the SQLite store to a file (PostgreSQL: prints the pg_dump command)",
		Usage:   "--out FILE [--force] [--data DIR | --db URL]",
		Help: `Copies the embedded SQLite database with VACUUM INTO: the copy is one
consistent snapshot even while 'medwarden serve' keeps writing, and is
compacted. It is written beside FILE, checked (integrity_check, schema
version) and renamed into place, so FILE is either the complete backup or
untouched. An existing FILE is only replaced with --force. The backup is
itself audited (action store.backup). Prints the file's size and SHA-256.

For PostgreSQL (--db postgres://…) MedWarden does not copy the database:
it prints the pg_dump command to use and exits with code 1.`,
		Run: runBackup,
	}
}

func restoreVerb() *Verb {
	return &Verb{
		Name:    "restore",
		Summary: "replace the SQLite store with a backup after checking it",
		Usage:   "FILE [--force] [--data DIR | --db sqlite:PATH]",
		Help: `Checks that FILE is a MedWarden database (integrity_check, the MedWarden
tables, a schema version this binary can migrate: not newer than its own)
and that its audit log chain is intact, then replaces the store with it.

It refuses while 'medwarden serve' runs on the store (stop it first), and
refuses to replace a store that holds any device, account or audit entry
unless --force is given; the replaced database is then kept beside it as
medwarden.db.pre-restore-TIMESTAMP. Stale -wal and -shm files are removed.
The restore is appended to the restored audit log (action store.restore).

For PostgreSQL use pg_restore (docs/SECURITY.md).`,
		Run: runRestore,
	}
}

// sqlitePath is the database file the flags select, or ok=false for PostgreSQL.
func sqlitePath(sf *storeFlags) (string, bool) {
	switch {
	case strings.HasPrefix(sf.dsn, "postgres://"), strings.HasPrefix(sf.dsn, "postgresql://"):
		return "", false
	case strings.HasPrefix(sf.dsn, "sqlite:"):
		return strings.TrimPrefix(strings.TrimPrefix(sf.dsn, "sqlite:"), "//"), true
	}
	return filepath.Join(sf.dataDir, sqlite.FileName), true
}

func runBackup(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	out := fs.String("out", "", "backup file to write")
	force := fs.Bool("force", false, "replace an existing backup file")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q (the file goes in --out)", rest[0])
	}
	if *out == "" || *out == "-" {
		return usageErr("--out FILE is required")
	}
	dbPath, ok := sqlitePath(sf)
	if !ok {
		fmt.Fprintf(env.Stdout, "PostgreSQL stores are backed up with pg_dump, for example:\n\n  pg_dump --format=custom --no-owner --file %s '%s'\n\nand restored with:\n\n  pg_restore --clean --if-exists --no-owner --dbname '%s' %s\n",
			*out, sf.config().Describe(), sf.config().Describe(), *out)
		return fmt.Errorf("backup: %s is PostgreSQL; use pg_dump as shown", sf.config().Describe())
	}
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("backup: no store at %s: %w", dbPath, err)
	}
	if _, err := os.Stat(*out); err == nil && !*force {
		return fmt.Errorf("%w: %s exists; use --force to replace it", ErrBadInput, *out)
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	db, ok := st.(*sqldb.DB)
	if !ok {
		return fmt.Errorf("backup: unexpected store type %T", st)
	}
	abs, _ := filepath.Abs(*out)
	if err := recorder.Record(audit.WithActor(ctx, cliActor(env)), db, "store.backup", "file:"+abs, nil, nil); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	os.Remove(tmpName) // VACUUM INTO wants a path that does not exist
	defer os.Remove(tmpName)
	start := time.Now()
	if _, err := db.SQL.ExecContext(ctx, "VACUUM INTO $1", tmpName); err != nil {
		return fmt.Errorf("backup %s: %w", dbPath, err)
	}
	info, err := inspectBackup(ctx, tmpName)
	if err != nil {
		return fmt.Errorf("backup written but failed its check: %w", err)
	}
	if err := os.Chmod(tmpName, 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := syncFile(tmpName); err != nil {
		return err
	}
	if err := os.Rename(tmpName, *out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	syncDir(filepath.Dir(*out))
	sum, size, err := fileSHA256(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "backup %s: %d bytes in %s, schema %d, %d devices, %d accounts, %d audit entries\nsha256 %s\n",
		*out, size, time.Since(start).Round(time.Millisecond), info.schema, info.devices, info.users, info.audit, sum)
	return nil
}

type backupInfo struct {
	schema                int
	devices, users, audit int64
	auditHead             string
}

// inspectBackup opens a database file read-only and checks it is an
// intact MedWarden store this binary can use.
func inspectBackup(ctx context.Context, path string) (*backupInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 16)
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || string(head) != "SQLite format 3\x00" {
		return nil, fmt.Errorf("%w: %s is not an SQLite database", ErrBadInput, path)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		return nil, fmt.Errorf("%w: %s fails integrity_check: %s %v", ErrBadInput, path, check, err)
	}
	info := &backupInfo{}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
		return nil, fmt.Errorf("%w: %s is not a MedWarden database (no schema_migrations table)", ErrBadInput, path)
	}
	info.schema = int(v.Int64)
	if info.schema < 1 {
		return nil, fmt.Errorf("%w: %s has no applied MedWarden migration", ErrBadInput, path)
	}
	if info.schema > store.SchemaVersion() {
		return nil, fmt.Errorf("%w: %s is at schema version %d, newer than this binary's %d: restore it with a newer medwarden", ErrBadInput, path, info.schema, store.SchemaVersion())
	}
	for _, c := range []struct {
		table string
		n     *int64
	}{{"devices", &info.devices}, {"users", &info.users}} {
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+c.table).Scan(c.n); err != nil {
			return nil, fmt.Errorf("%w: %s lacks the MedWarden table %s", ErrBadInput, path, c.table)
		}
	}
	if info.schema >= 4 {
		v := audit.NewVerifier()
		rows, err := db.QueryContext(ctx, "SELECT seq, at, actor, actor_kind, source, action, object, before, after, prev_hash, hash FROM audit_log ORDER BY seq")
		if err != nil {
			return nil, fmt.Errorf("%s audit log: %w", path, err)
		}
		defer rows.Close()
		for rows.Next() {
			var e audit.Entry
			var at, before, after string
			if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.ActorKind, &e.Source, &e.Action, &e.Object, &before, &after, &e.PrevHash, &e.Hash); err != nil {
				return nil, fmt.Errorf("%s audit log: %w", path, err)
			}
			if e.Time, err = time.Parse(audit.TimeLayout, at); err != nil {
				return nil, fmt.Errorf("%w: %s audit entry %d: bad time %q", audit.ErrTampered, path, e.Seq, at)
			}
			e.Before, e.After = []byte(before), []byte(after)
			if err := v.Add(&e); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("%s audit log: %w", path, err)
		}
		info.audit, info.auditHead = v.Count(), v.Head()
	}
	return info, nil
}

func runRestore(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	force := fs.Bool("force", false, "replace a store that holds data (it is kept as .pre-restore-TIMESTAMP)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErr("restore needs exactly one backup FILE")
	}
	src := rest[0]
	dbPath, ok := sqlitePath(sf)
	if !ok {
		return fmt.Errorf("%w: %s is PostgreSQL: restore with pg_restore --clean --if-exists --no-owner --dbname URL FILE (docs/SECURITY.md)", ErrBadInput, sf.config().Describe())
	}
	info, err := inspectBackup(ctx, src)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	release, err := lockStore(dbPath)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer release()
	var kept string
	if _, err := os.Stat(dbPath); err == nil {
		n, err := storeContent(ctx, dbPath)
		if err != nil {
			return fmt.Errorf("restore: existing store %s: %w", dbPath, err)
		}
		if n > 0 && !*force {
			return fmt.Errorf("%w: %s holds data (%d devices, accounts and audit entries); use --force to replace it (it is kept beside it)", ErrBadInput, dbPath, n)
		}
		kept = dbPath + ".pre-restore-" + time.Now().UTC().Format("20060102T150405Z")
	}
	tmp, err := os.CreateTemp(filepath.Dir(dbPath), "."+filepath.Base(dbPath)+".restore-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	in, err := os.Open(src)
	if err != nil {
		tmp.Close()
		return fmt.Errorf("restore: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), in)
	in.Close()
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: copy %s: %w", src, err)
	}
	if _, err := inspectBackup(ctx, tmpName); err != nil {
		return fmt.Errorf("restore: copy of %s failed its check: %w", src, err)
	}
	if kept != "" {
		if err := os.Rename(dbPath, kept); err != nil {
			return fmt.Errorf("restore: keep the old store: %w", err)
		}
		for _, sfx := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(dbPath + sfx); err == nil {
				if err := os.Rename(dbPath+sfx, kept+sfx); err != nil {
					return fmt.Errorf("restore: keep the old store: %w", err)
				}
			}
		}
	}
	if err := os.Rename(tmpName, dbPath); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	syncDir(filepath.Dir(dbPath))
	st, err := sf.open(ctx) // migrates an older backup to this binary's schema
	if err != nil {
		return fmt.Errorf("restore: open the restored store: %w", err)
	}
	defer st.Close()
	if sec, ok := st.(store.SecurityStore); ok {
		abs, _ := filepath.Abs(src)
		if err := recorder.Record(audit.WithActor(ctx, cliActor(env)), sec, "store.restore", "file:"+abs, nil,
			map[string]any{"sha256": hex.EncodeToString(h.Sum(nil)), "schema": info.schema, "devices": info.devices, "audit_head": info.auditHead}); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stdout, "restored %s into %s: schema %d, %d devices, %d accounts, %d audit entries (chain intact)\n",
		src, dbPath, info.schema, info.devices, info.users, info.audit)
	if kept != "" {
		fmt.Fprintf(env.Stdout, "the previous store is kept as %s\n", kept)
	}
	return nil
}

// storeContent counts what an existing store holds (devices, accounts,
// audit entries); 0 means it may be replaced without --force.
func storeContent(ctx context.Context, path string) (int64, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var total int64
	for _, t := range []string{"devices", "users", "audit_log"} {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue
			}
			return 0, err
		}
		total += n
	}
	return total, nil
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename durable; errors are ignored where directories
// cannot be synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() //nolint:errcheck // best effort (not supported everywhere)
		d.Close()
	}
}
