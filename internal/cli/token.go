package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
)

func tokenVerb() *Verb {
	return &Verb{
		Name:    "token",
		Summary: "manage REST API tokens: create, list, revoke",
		Usage:   "create --user NAME --scope LIST [--expires 90d] [--name LABEL] | list [--user NAME] | revoke ID  [--data DIR | --db URL]",
		Help: `Manages the bearer tokens of the REST API (docs/SECURITY.md).

  create   prints a new token ONCE on standard output (mwt_ followed by 43
           characters); only its SHA-256 is stored, so it cannot be shown
           again. Send it as "Authorization: Bearer mwt_…".
  list     prints every token (never the secret): id, user, name, scopes,
           expiry, last use and whether it is revoked or expired
  revoke   stops a token at once

Scopes are area:read or area:write for the areas devices, imports,
advisories, feeds, findings, users and metrics, plus audit:read; area:*
names both levels and * every scope the user's role allows. A token can
never exceed its user's role: create refuses such scopes, and a token
whose user is later given a lesser role or disabled loses them at once.
Every create and revoke is written to the audit log.`,
		Run: runToken,
	}
}

// cliActor is who the audit log names for changes made at this terminal.
func cliActor(env *Env) audit.Actor {
	name := env.Getenv("USER")
	if u, err := user.Current(); err == nil && name == "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	return audit.Actor{Name: "os:" + name, Kind: audit.KindUser, Source: "cli"}
}

// openAudited opens the store wrapped so that its changes are audited as
// made by the person at the terminal.
func openAudited(ctx context.Context, env *Env, sf *storeFlags) (*recorder.Store, context.Context, error) {
	st, err := sf.open(ctx)
	if err != nil {
		return nil, ctx, err
	}
	rec, err := recorder.Wrap(st, nil)
	if err != nil {
		st.Close()
		return nil, ctx, err
	}
	return rec, audit.WithActor(ctx, cliActor(env)), nil
}

func runToken(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	userName := fs.String("user", "", "account the token acts as (create; filter for list)")
	scopeList := fs.String("scope", "", "comma-separated scopes, e.g. devices:read,imports:write (create)")
	expires := fs.String("expires", "90d", "lifetime: 90d, 12h, 30m; at most 366d (create)")
	name := fs.String("name", "", "label to recognise the token by, e.g. 'cmms-sync' (create)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageErr("missing subcommand (create, list or revoke)")
	}
	sub, rest := rest[0], rest[1:]
	switch sub {
	case "create":
		if len(rest) > 0 {
			return usageErr("create takes no arguments (got %q)", rest[0])
		}
		if *userName == "" || *scopeList == "" {
			return usageErr("create needs --user and --scope")
		}
	case "list":
		if len(rest) > 0 {
			return usageErr("list takes no arguments (got %q)", rest[0])
		}
	case "revoke":
		if len(rest) != 1 {
			return usageErr("revoke needs exactly one token id (see 'medwarden token list')")
		}
	default:
		return usageErr("unknown subcommand %q (create, list or revoke)", sub)
	}
	st, actx, err := openAudited(ctx, env, sf)
	if err != nil {
		return err
	}
	defer st.Close()
	now := store.Now()
	switch sub {
	case "create":
		life, err := auth.ParseLifetime(*expires)
		if err != nil {
			return usageErr("--expires: %v", err)
		}
		scopes, err := auth.ParseScopes(*scopeList)
		if err != nil {
			return usageErr("--scope: %v", err)
		}
		u, err := st.GetUserByName(ctx, *userName)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: no user %q (see 'medwarden user list')", ErrBadInput, *userName)
		}
		if err != nil {
			return err
		}
		if u.Disabled {
			return fmt.Errorf("%w: user %q is disabled", ErrBadInput, u.Username)
		}
		role, err := auth.ParseRole(u.Role)
		if err != nil {
			return fmt.Errorf("user %q: %w", u.Username, err)
		}
		if strings.TrimSpace(*scopeList) == "*" || strings.Contains(*scopeList, ":*") {
			// wildcards mean "as much as the role allows" within what was named
			var keep []auth.Scope
			for _, s := range scopes {
				if role.Allows(s) {
					keep = append(keep, s)
				}
			}
			if len(keep) == 0 {
				return fmt.Errorf("%w: role %s allows none of %s", ErrBadInput, role, *scopeList)
			}
			scopes = keep
		}
		if err := role.CheckScopes(scopes); err != nil {
			return fmt.Errorf("%w: user %q: %v", ErrBadInput, u.Username, err)
		}
		label := *name
		if label == "" {
			label = "token for " + u.Username
		}
		if len(label) > 100 {
			return usageErr("--name is longer than 100 characters")
		}
		secret, err := auth.NewAPIToken()
		if err != nil {
			return err
		}
		t := &store.APIToken{UserID: u.ID, Name: label, Hash: auth.HashToken(secret), CreatedAt: now, ExpiresAt: now.Add(life)}
		for _, s := range scopes {
			t.Scopes = append(t.Scopes, string(s))
		}
		if err := st.CreateToken(actx, t); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, secret)
		fmt.Fprintf(env.Stderr, "token %d for %s (%s), scopes %s, expires %s\nThe token is shown only once: store it in a secret manager now.\n",
			t.ID, u.Username, label, strings.Join(t.Scopes, ","), t.ExpiresAt.Format(time.RFC3339))
		return nil
	case "list":
		var uid int64
		if *userName != "" {
			u, err := st.GetUserByName(ctx, *userName)
			if err != nil {
				return fmt.Errorf("%w: no user %q", ErrBadInput, *userName)
			}
			uid = u.ID
		}
		ts, err := st.ListTokens(ctx, uid)
		if err != nil {
			return err
		}
		names := map[int64]string{}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tNAME\tSCOPES\tEXPIRES\tLAST USED\tSTATUS")
		for _, t := range ts {
			if _, ok := names[t.UserID]; !ok {
				names[t.UserID] = "?"
				if u, err := st.GetUser(ctx, t.UserID); err == nil {
					names[t.UserID] = u.Username
				}
			}
			status := "active"
			switch {
			case !t.RevokedAt.IsZero():
				status = "revoked " + t.RevokedAt.Format("2006-01-02")
			case !now.Before(t.ExpiresAt):
				status = "expired"
			}
			last := "never"
			if !t.LastUsed.IsZero() {
				last = t.LastUsed.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, names[t.UserID], t.Name, strings.Join(t.Scopes, ","),
				t.ExpiresAt.Format("2006-01-02 15:04"), last, status)
		}
		return tw.Flush()
	default: // revoke
		id, err := strconv.ParseInt(strings.TrimPrefix(rest[0], "#"), 10, 64)
		if err != nil || id <= 0 {
			return usageErr("token id %q is not a number (see 'medwarden token list')", rest[0])
		}
		if err := st.RevokeToken(actx, id, now); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: no token %d", ErrBadInput, id)
			}
			return err
		}
		fmt.Fprintf(env.Stdout, "token %d revoked\n", id)
		return nil
	}
}
