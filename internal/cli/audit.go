package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/store"
)

func auditVerb() *Verb {
	return &Verb{
		Name:    "audit",
		Summary: "verify the hash-chained audit log, or export it for a SIEM (JSON lines, syslog)",
		Usage:   "verify [--expect-head HASH] | export [--format jsonl|syslog] [--after SEQ] [--out FILE]  [--data DIR | --db URL]",
		Help: `Every change by a person, API token or sensor is appended to the audit log,
where each entry's hash covers the previous entry's hash and the entry's
canonical JSON (docs/SECURITY.md).

  verify   recomputes the whole chain; prints the number of entries and the
           head hash, or names the first entry that was edited, deleted,
           inserted or reordered (exit code 1). Record the head hash
           elsewhere (a ticket, the SIEM): with --expect-head a later verify
           also proves that no entry was cut off the end since.
  export   writes entries after --after (default all) as JSON lines or as
           RFC 5424 syslog lines (facility 13 "log audit", severity notice,
           structured data [medwarden@32473 …], the entry's JSON as the
           message), to --out or standard output, checking the chain as it
           goes (a broken chain fails the export after writing).`,
		Run: runAudit,
	}
}

func runAudit(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	format := fs.String("format", "jsonl", "export format: jsonl or syslog")
	after := fs.Int64("after", 0, "export only entries with a sequence number above this")
	out := fs.String("out", "", "export to this file (written atomically) instead of standard output")
	head := fs.String("expect-head", "", "verify: the head hash recorded earlier must still be in the chain (detects truncation)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || (rest[0] != "verify" && rest[0] != "export") {
		return usageErr("want one subcommand: verify or export")
	}
	sub := rest[0]
	if sub == "export" && *format != "jsonl" && *format != "syslog" {
		return usageErr("--format %q: want jsonl or syslog", *format)
	}
	if *after < 0 {
		return usageErr("--after must be 0 or more")
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	sec, ok := st.(store.SecurityStore)
	if !ok {
		return fmt.Errorf("store %s keeps no audit log", st.Dialect())
	}
	v := audit.NewVerifier()
	headSeen := *head == ""
	check := func(e *audit.Entry) error {
		if err := v.Add(e); err != nil {
			return err
		}
		if e.Hash == *head {
			headSeen = true
		}
		return nil
	}
	if sub == "verify" {
		if err := sec.ScanAudit(ctx, 0, check); err != nil {
			return fmt.Errorf("audit log %s: %w", sf.config().Describe(), err)
		}
		if !headSeen {
			return fmt.Errorf("audit log %s: %w: the expected head %.16s… is not in the chain of %d entries (entries were removed from the end, or the log was replaced)",
				sf.config().Describe(), audit.ErrTampered, *head, v.Count())
		}
		fmt.Fprintf(env.Stdout, "audit log intact: %d entries\nhead: %s\n", v.Count(), v.Head())
		return nil
	}
	host, _ := os.Hostname()
	var broken error
	err = writeAtomic(*out, env.Stdout, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		err := sec.ScanAudit(ctx, 0, func(e *audit.Entry) error {
			if broken == nil {
				if err := check(e); err != nil {
					broken = err
				}
			}
			if e.Seq <= *after {
				return nil
			}
			if *format == "syslog" {
				return audit.WriteSyslog(bw, host, e)
			}
			return audit.WriteJSONL(bw, e)
		})
		if err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	if broken != nil {
		return fmt.Errorf("exported, but the audit log is not intact: %w", broken)
	}
	return nil
}
