package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/pki"
	"github.com/medwarden/medwarden/internal/store"
)

// loadSensorCA loads (or on first start creates) the sensor CA kept in
// DATA/pki and prints its fingerprint.
func loadSensorCA(env *Env, sf *storeFlags) (*pki.CA, error) {
	ca, err := pki.LoadOrCreateCA(filepath.Join(sf.dataDir, "pki"), time.Now())
	if err != nil {
		return nil, err
	}
	what := "sensor CA"
	if ca.Created {
		what = "new sensor CA"
	}
	fmt.Fprintf(env.Stdout, "Sensors: %s %s (valid until %s), SHA-256 %s\n", what, filepath.Join(sf.dataDir, "pki", pki.CACertFile), ca.Cert.NotAfter.Format("2006-01-02"), ca.Fingerprint)
	return ca, nil
}

// Default lifetime of an enrolment token and the longest allowed.
const (
	defaultEnrolLife = 24 * time.Hour
	maxEnrolLife     = 30 * 24 * time.Hour
)

func sensorsVerb() *Verb {
	return &Verb{
		Name:    "sensors",
		Summary: "manage enrolled sensors: enrolment tokens, list, revoke",
		Usage:   "token --name NAME [--expires 24h] | list | revoke NAME|ID  [--data DIR | --db URL]",
		Help: `Manages the remote sensors that authenticate to 'medwarden serve' with
client certificates from its sensor CA (docs/SENSOR_ENROLMENT.md).

  token    prints a one-time enrolment token for a new sensor called NAME
           ONCE on standard output (mwe_ followed by 43 characters; only
           its SHA-256 is stored). Give it to the sensor's operator, who
           runs 'medwarden sensor enroll --server URL --token T
           --server-fingerprint FP' on the sensor within --expires
           (default 24h, at most 30 days).
  list     prints every sensor (id, name, state, current certificate expiry,
           last seen) and the enrolment tokens still pending
  revoke   revokes a sensor and every certificate it holds, at once: the
           server refuses its next request. A revoked sensor must be
           enrolled again under a new name.

Every token, enrolment, renewal and revocation is written to the audit log.`,
		Run: runSensors,
	}
}

func runSensors(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	name := fs.String("name", "", "name of the sensor to enrol, e.g. icu-span-1 (token)")
	expires := fs.Duration("expires", defaultEnrolLife, "how long the enrolment token can be used (token; at most 720h)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageErr("missing subcommand (token, list or revoke)")
	}
	sub, rest := rest[0], rest[1:]
	switch sub {
	case "token":
		if len(rest) > 0 {
			return usageErr("token takes no arguments (got %q)", rest[0])
		}
		if err := checkSensorName(*name); err != nil {
			return err
		}
		if *expires < time.Minute || *expires > maxEnrolLife {
			return usageErr("--expires must be between 1m and 720h")
		}
	case "list":
		if len(rest) > 0 {
			return usageErr("list takes no arguments (got %q)", rest[0])
		}
	case "revoke":
		if len(rest) != 1 {
			return usageErr("revoke needs exactly one sensor name or id (see 'medwarden sensors list')")
		}
	default:
		return usageErr("unknown subcommand %q (token, list or revoke)", sub)
	}
	rec, actx, err := openAudited(ctx, env, sf)
	if err != nil {
		return err
	}
	defer rec.Close()
	ss, ok := rec.Store.(store.SensorStore)
	if !ok {
		return fmt.Errorf("store %s keeps no sensors", rec.Dialect())
	}
	now := store.Now()
	switch sub {
	case "token":
		secret, err := pki.NewEnrolmentToken()
		if err != nil {
			return err
		}
		by := cliActor(env).Name
		t := &store.EnrolmentToken{Hash: pki.HashEnrolmentToken(secret), SensorName: *name, CreatedAt: now, CreatedBy: by, ExpiresAt: now.Add(*expires)}
		if err := ss.CreateEnrolmentToken(actx, t); err != nil {
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("%w: %v", ErrBadInput, err)
			}
			return err
		}
		if err := recorder.Record(actx, rec.Security(), "sensor.enrolment_token.create", "sensor-name/"+*name, nil, t); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, secret)
		fmt.Fprintf(env.Stderr, "enrolment token for sensor %q, usable once until %s.\nOn the sensor: medwarden sensor enroll --server https://SERVER:8443 --token <token> --server-fingerprint <the fingerprint 'medwarden serve' printed>\nThe token is shown only once.\n",
			*name, t.ExpiresAt.Format(time.RFC3339))
		return nil
	case "list":
		sensors, err := ss.ListSensors(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tCERT EXPIRES\tLAST SEEN\tENROLLED")
		for _, sn := range sensors {
			certs, err := ss.ListSensorCerts(ctx, sn.ID)
			if err != nil {
				return err
			}
			status, expiry := "active", "-"
			if len(certs) > 0 {
				expiry = certs[0].NotAfter.Format("2006-01-02 15:04")
				if !now.Before(certs[0].NotAfter) {
					status = "certificate expired"
				}
			}
			if !sn.RevokedAt.IsZero() {
				status = "revoked " + sn.RevokedAt.Format("2006-01-02")
			}
			seen := "never"
			if !sn.LastSeen.IsZero() {
				seen = sn.LastSeen.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s by %s\n", sn.ID, sn.Name, status, expiry, seen, sn.CreatedAt.Format("2006-01-02"), sn.CreatedBy)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		toks, err := ss.ListEnrolmentTokens(ctx)
		if err != nil {
			return err
		}
		var pending []*store.EnrolmentToken
		for _, t := range toks {
			if t.UsedAt.IsZero() && now.Before(t.ExpiresAt) {
				pending = append(pending, t)
			}
		}
		if len(pending) > 0 {
			fmt.Fprintln(env.Stdout, "\nPending enrolment tokens:")
			tw = tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tEXPIRES\tCREATED BY")
			for _, t := range pending {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", t.SensorName, t.ExpiresAt.Format("2006-01-02 15:04"), t.CreatedBy)
			}
			return tw.Flush()
		}
		return nil
	default: // revoke
		sn, err := ss.GetSensor(ctx, rest[0])
		if errors.Is(err, store.ErrNotFound) {
			sn, err = ss.GetSensorByName(ctx, rest[0])
		}
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: no sensor %q (see 'medwarden sensors list')", ErrBadInput, rest[0])
		}
		if err != nil {
			return err
		}
		if err := ss.RevokeSensor(actx, sn.ID, now); err != nil {
			return err
		}
		if err := recorder.Record(actx, rec.Security(), "sensor.revoke", "sensor/"+sn.ID, sn, map[string]any{"name": sn.Name, "revoked_at": now}); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "sensor %s (%s) revoked with all its certificates\n", sn.Name, sn.ID)
		return nil
	}
}

func checkSensorName(n string) error {
	if n == "" {
		return usageErr("token needs --name (e.g. icu-span-1)")
	}
	if len(n) > 64 || strings.Trim(strings.ToLower(n), "abcdefghijklmnopqrstuvwxyz0123456789-_.") != "" {
		return usageErr("--name %q: use up to 64 letters, digits, '-', '_' or '.'", n)
	}
	return nil
}

// sensorEnrolVerb is 'medwarden sensor enroll' (the sensor verb hands its
// "enroll" subcommand here) and also answers as 'medwarden sensor-enroll'.
func sensorEnrolVerb() *Verb {
	return &Verb{
		Name:    "sensor-enroll",
		Summary: "enrol this sensor with a server: exchange a one-time token for a client certificate",
		Usage:   "--server https://HOST:PORT --token mwe_… [--server-fingerprint FP] [--out DIR] | --renew [--out DIR]",
		Help: `Run on the sensor machine ('medwarden sensor enroll' is the same).
Generates an ECDSA P-256 key here (it never leaves this machine), sends a
certificate request with the one-time enrolment token an administrator
made with 'medwarden sensors token', and keeps in --out (default
./medwarden-sensor, mode 0700): sensor.key (0600), sensor.crt (valid 30
days), ca.crt and server.json (the server URL and pinned fingerprint).

--server-fingerprint pins the server's TLS certificate: give the SHA-256
fingerprint 'medwarden serve' printed (colons optional). Without it the
server's certificate must chain to a root this machine trusts.

--renew asks the server for a new certificate (and key) with the current
one, before it expires; the sensor does this by itself when a third of
its life is left (docs/SENSOR_ENROLMENT.md).`,
		Run: runSensorEnrol,
	}
}

func runSensorEnrol(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	server := fs.String("server", "", "https://HOST:PORT of 'medwarden serve'")
	token := fs.String("token", "", "the one-time enrolment token (mwe_…); or set MEDWARDEN_ENROL_TOKEN")
	fp := fs.String("server-fingerprint", "", "SHA-256 fingerprint of the server's TLS certificate, as 'medwarden serve' prints it")
	out := fs.String("out", "medwarden-sensor", "directory for the sensor's key and certificates")
	renew := fs.Bool("renew", false, "renew the certificate in --out now, authenticated by the current one")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	if *renew {
		resp, err := pki.Renew(ctx, *out)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "sensor %s (%s): new certificate %s valid until %s\n", resp.Name, resp.SensorID, resp.Serial, resp.NotAfter.Format(time.RFC3339))
		return nil
	}
	if *token == "" {
		*token = env.Getenv("MEDWARDEN_ENROL_TOKEN")
	}
	if *server == "" || *token == "" {
		return usageErr("enrolment needs --server and --token")
	}
	resp, err := pki.Enrol(ctx, pki.EnrolOptions{Server: *server, Token: strings.TrimSpace(*token), Fingerprint: *fp, Dir: *out})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "enrolled as sensor %s (%s); certificate %s valid until %s; credentials in %s\n",
		resp.Name, resp.SensorID, resp.Serial, resp.NotAfter.Format(time.RFC3339), *out)
	return nil
}
