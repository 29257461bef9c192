package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
)

func userVerb() *Verb {
	return &Verb{
		Name:    "user",
		Summary: "manage web console accounts: add, passwd, disable, enable, list",
		Usage:   "add NAME --role ROLE | passwd NAME | disable NAME | enable NAME | list  [--password-stdin] [--data DIR | --db URL]",
		Help: `Manages the local accounts of the web console in the configured store.

  add NAME --role ROLE   create an account (roles: admin, analyst,
                         clinical-engineer, auditor, viewer)
  passwd NAME            set a new password and sign the user out everywhere
  disable NAME           block sign-in and end the user's sessions
  enable NAME            allow sign-in again
  list                   print every account with role and status

add and passwd print a one-time password that must be changed at the first
sign-in. With --password-stdin the password is read from the first line of
standard input instead (at least 12 characters) and is final.`,
		Run: runUser,
	}
}

func runUser(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	roleFlag := fs.String("role", "", "role of a new account (add)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input instead of generating a one-time password")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageErr("missing subcommand (add, passwd, disable, enable or list)")
	}
	sub, rest := rest[0], rest[1:]
	want := 1
	if sub == "list" {
		want = 0
	}
	switch sub {
	case "add", "passwd", "disable", "enable", "list":
	default:
		return usageErr("unknown subcommand %q (add, passwd, disable, enable or list)", sub)
	}
	if len(rest) != want {
		if want == 0 {
			return usageErr("list takes no arguments")
		}
		return usageErr("%s needs exactly one user name", sub)
	}
	if sub != "add" && *roleFlag != "" {
		return usageErr("--role is only for add")
	}
	if *fromStdin && sub != "add" && sub != "passwd" {
		return usageErr("--password-stdin is only for add and passwd")
	}
	var role auth.Role
	if sub == "add" {
		if *roleFlag == "" {
			return usageErr("add needs --role (admin, analyst, clinical-engineer, auditor or viewer)")
		}
		if role, err = auth.ParseRole(*roleFlag); err != nil {
			return usageErr("%v", err)
		}
		if err := auth.ValidateUsername(rest[0]); err != nil {
			return fmt.Errorf("%w: %v", ErrBadInput, err)
		}
	}
	st, err := sf.openAudited(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "list" {
		return listUsers(ctx, env, st)
	}
	name := rest[0]
	password := func() (pw string, oneTime bool, err error) {
		if !*fromStdin {
			pw, err = auth.GeneratePassword()
			return pw, true, err
		}
		line, err := bufio.NewReader(io.LimitReader(env.Stdin, auth.MaxPasswordLen+2)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", false, fmt.Errorf("read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if err := auth.ValidatePassword(pw, name); err != nil {
			return "", false, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		return pw, false, nil
	}
	if sub == "add" {
		pw, oneTime, err := password()
		if err != nil {
			return err
		}
		hash, err := auth.HashPassword(pw, auth.DefaultParams)
		if err != nil {
			return err
		}
		u := &store.User{Username: name, Role: string(role), PasswordHash: hash, MustChangePassword: oneTime}
		if err := st.CreateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("%w: user %q already exists", ErrBadInput, name)
			}
			return err
		}
		fmt.Fprintf(env.Stdout, "created user %s (%s)\n", u.Username, role)
		if oneTime {
			fmt.Fprintf(env.Stdout, "one-time password: %s\n(shown once; it must be changed at the first sign-in)\n", pw)
		}
		return nil
	}
	u, err := st.GetUserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: no user named %q", ErrBadInput, name)
	}
	if err != nil {
		return err
	}
	var oneTimePW string
	switch sub {
	case "passwd":
		pw, oneTime, err := password()
		if err != nil {
			return err
		}
		if u.PasswordHash, err = auth.HashPassword(pw, auth.DefaultParams); err != nil {
			return err
		}
		u.MustChangePassword = oneTime
		if oneTime {
			oneTimePW = pw
		}
	case "disable":
		u.Disabled = true
	case "enable":
		u.Disabled = false
	}
	if err := st.UpdateUser(ctx, u); err != nil {
		return err
	}
	if sub != "enable" {
		if err := st.DeleteUserSessions(ctx, u.ID); err != nil {
			return err
		}
	}
	switch sub {
	case "passwd":
		fmt.Fprintf(env.Stdout, "password of %s changed; their sessions were ended\n", u.Username)
		if oneTimePW != "" {
			fmt.Fprintf(env.Stdout, "one-time password: %s\n(shown once; it must be changed at the next sign-in)\n", oneTimePW)
		}
	case "disable":
		fmt.Fprintf(env.Stdout, "user %s disabled; their sessions were ended\n", u.Username)
	case "enable":
		fmt.Fprintf(env.Stdout, "user %s enabled\n", u.Username)
	}
	return nil
}

func listUsers(ctx context.Context, env *Env, st store.UserStore) error {
	us, err := st.ListUsers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tROLE\tSTATUS\tLAST SIGN-IN")
	for _, u := range us {
		status := "active"
		switch {
		case u.Disabled:
			status = "disabled"
		case u.MustChangePassword:
			status = "must-change-password"
		}
		last := "never"
		if !u.LastLogin.IsZero() {
			last = u.LastLogin.UTC().Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, u.Role, status, last)
	}
	return tw.Flush()
}
