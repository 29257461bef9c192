package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat"
)

func exportVerb() *Verb {
	return &Verb{
		Name:    "export",
		Summary: "export the device inventory as CSV, JSON or a FHIR R4 Bundle",
		Usage:   "--format csv|json|fhir [--out FILE] [flags]",
		Help: `Writes every device in the store. CSV uses the canonical header
(asset_id,vendor,model,version,serial,mac,ip,hostname,site,location,department,
device_type,criticality,patient_connected,phi,os,end_of_support,udi_di,zone,
end_of_life); JSON is {"devices":[...]}; fhir is a FHIR R4 Bundle of Device
resources. Every export re-imports to the same inventory.

With --out the file is written to a temporary name, synced and renamed, so a
crash never leaves half a file behind.`,
		Run: runExport,
	}
}

func runExport(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	format := fs.String("format", "csv", "output format: csv, json or fhir")
	out := fs.String("out", "", "write to this file instead of standard output")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	f, err := fileformat.ParseFormat(*format)
	if err != nil || f == fileformat.NDJSON {
		return usageErr("--format must be csv, json or fhir")
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return writeAtomic(*out, env.Stdout, func(w io.Writer) error {
		fw, err := fileformat.NewWriter(w, f)
		if err != nil {
			return err
		}
		if err := st.ScanDevices(ctx, func(d *inventory.Device) error { return fw.Write(d) }); err != nil {
			return err
		}
		return fw.Close()
	})
}

// writeAtomic writes to path via a synced temporary file and a rename, or
// to stdout when path is "".
func writeAtomic(path string, stdout io.Writer, fn func(io.Writer) error) error {
	if path == "" || path == "-" {
		return fn(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := fn(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
