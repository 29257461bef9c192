package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/sbom/osv"
	"github.com/medwarden/medwarden/internal/sboms"
	"github.com/medwarden/medwarden/internal/store"
)

// sbomSubcommands are the sbom subcommands that work on the store.
var sbomSubcommands = map[string]func(context.Context, *Env, *flag.FlagSet, []string) error{
	"attach":  runSBOMAttach,
	"list":    runSBOMList,
	"show":    runSBOMShow,
	"diff":    runSBOMDiff,
	"export":  runSBOMExport,
	"rematch": runSBOMRematch,
}

func sbomFormatFlag(fs *flag.FlagSet) *string {
	return fs.String("format", "table", "output format: table or json")
}

func checkTableJSON(f string) error {
	if f != "table" && f != "json" {
		return usageErr("--format must be table or json, not %q", f)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func sbomID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usageErr("%q is not an SBOM id (see 'medwarden sbom list')", s)
	}
	return id, nil
}

func sbomNotFound(err error, id int64) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: no SBOM with id %d (see 'medwarden sbom list')", ErrBadInput, id)
	}
	return err
}

// sbomMatchers loads the stored OSV and NVD records and CSAF VEX
// documents; OSV records from --osv replace the stored ones.
func sbomMatchers(ctx context.Context, st store.Store, osvPath string) (sboms.Matchers, sboms.Stats, error) {
	m, stats, err := sboms.StoredMatchers(ctx, st)
	if err != nil {
		return m, stats, err
	}
	if osvPath != "" {
		recs, err := loadOSV(ctx, osvPath)
		if err != nil {
			return m, stats, err
		}
		m.OSV = osv.NewIndex(recs)
		stats.OSV = m.OSV.Len()
	}
	return m, stats, nil
}

func subjectText(s store.SBOMSubject) string {
	if s.DeviceID != 0 {
		a := s.AssetID
		if a == "" {
			a = "#" + strconv.FormatInt(s.DeviceID, 10)
		}
		return "device " + a
	}
	return s.Vendor + " " + s.Model + " " + s.FirmwareVersion
}

func runSBOMAttach(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	vendor := fs.String("vendor", "", "device vendor (manufacturer) the SBOM covers, with --model and --version")
	model := fs.String("model", "", "device model the SBOM covers")
	version := fs.String("version", "", "firmware/software version the SBOM covers")
	asset := fs.String("asset", "", "asset id of the one device the SBOM covers (instead of --vendor/--model/--version)")
	note := fs.String("note", "", "free-text note kept with this version (where the SBOM came from)")
	osvPath := fs.String("osv", "", "OSV records to match PURLs against instead of the stored OSV feed: a directory of *.json, a .zip, or one .json")
	allowInvalid := fs.Bool("allow-invalid", false, "attach an SBOM that violates its schema (the problems are kept in the count)")
	maxSize := fs.Int64("max-size", sbom.DefaultMaxBytes, "largest SBOM accepted, in bytes")
	format := sbomFormatFlag(fs)
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkTableJSON(*format); err != nil {
		return err
	}
	if len(files) != 1 {
		return usageErr("attach takes exactly one SBOM file")
	}
	byModel := *vendor != "" || *model != "" || *version != ""
	if byModel == (*asset != "") {
		return usageErr("give either --vendor, --model and --version (every device of that model and firmware), or --asset (one device)")
	}
	if byModel && (strings.TrimSpace(*vendor) == "" || strings.TrimSpace(*model) == "" || strings.TrimSpace(*version) == "") {
		return usageErr("--vendor, --model and --version are all required")
	}
	raw, err := readSBOMFile(env, files[0], *maxSize)
	if err != nil {
		return err
	}
	st, err := sf.openAudited(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	subject := store.SBOMSubject{Vendor: strings.TrimSpace(*vendor), Model: strings.TrimSpace(*model), FirmwareVersion: strings.TrimSpace(*version)}
	if *asset != "" {
		d, err := st.GetDeviceByAssetID(ctx, *asset)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: no device with asset id %q", ErrBadInput, *asset)
		}
		if err != nil {
			return err
		}
		subject = store.SBOMSubject{DeviceID: d.ID}
	}
	m, stats, err := sbomMatchers(ctx, st, *osvPath)
	if err != nil {
		return err
	}
	in, doc, err := sboms.Analyze(raw, files[0], sbom.Options{MaxBytes: *maxSize}, m)
	if err != nil {
		var ie *sbom.InputError
		if errors.As(err, &ie) {
			return fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		return err
	}
	if !doc.Valid() && !*allowInvalid {
		var b strings.Builder
		for i, p := range doc.Problems {
			if i == 5 {
				fmt.Fprintf(&b, "\n  … and %d more (see 'medwarden sbom check %s')", len(doc.Problems)-5, files[0])
				break
			}
			fmt.Fprintf(&b, "\n  %s", p)
		}
		return fmt.Errorf("%w: %s is not valid %s %s (attach it anyway with --allow-invalid):%s", ErrBadInput, files[0], doc.Format, doc.SpecVersion, b.String())
	}
	in.Subject = subject
	in.AttachedBy = cliActor(env).Name
	in.Note = *note
	v, existing, err := st.AttachSBOM(ctx, in)
	if err != nil {
		return err
	}
	if !existing {
		if rec, ok := st.(*recorder.Store); ok {
			summary := map[string]any{"sbom": v.ID, "subject": v.Subject, "version": v.Version, "sha256": v.SHA256, "file": files[0]}
			if err := recorder.Record(ctx, rec.Security(), "sbom.attach", "sbom/"+strconv.FormatInt(v.ID, 10), nil, summary); err != nil {
				return err
			}
		}
	}
	if *format == "json" {
		return writeJSON(env.Stdout, map[string]any{"sbom": v, "existing": existing, "matched": stats})
	}
	if existing {
		fmt.Fprintf(env.Stdout, "unchanged: %s is already SBOM %d (version %d of %s)\n", files[0], v.ID, v.Version, subjectText(v.Subject))
		return nil
	}
	fmt.Fprintf(env.Stdout, "attached SBOM %d: version %d of %s (%s %s, %d components, quality %d)\n",
		v.ID, v.Version, subjectText(v.Subject), v.Format, v.SpecVersion, v.Components, v.Quality)
	fmt.Fprintf(env.Stdout, "vulnerabilities: %d open, %d suppressed by VEX, %d need review; %s\n", v.OpenVulns, v.Suppressed, v.NeedsReview, stats.Note())
	return nil
}

func readSBOMFile(env *Env, name string, limit int64) ([]byte, error) {
	var r io.Reader = env.Stdin
	size := int64(-1) // unknown: standard input
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	raw, err := sbom.ReadSized(r, size, limit) // one buffer of the file's size, not a growing one
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%w: %s is larger than --max-size %d bytes", ErrBadInput, name, limit)
	}
	return raw, nil
}

func runSBOMList(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	vendor := fs.String("vendor", "", "only this vendor (case-insensitive)")
	model := fs.String("model", "", "only this model (case-insensitive)")
	version := fs.String("version", "", "only this firmware version")
	asset := fs.String("asset", "", "only SBOMs attached to this device")
	latest := fs.Bool("latest", false, "only the newest version of each model/firmware or device")
	limit := fs.Int("limit", 100, "at most this many (newest first)")
	format := sbomFormatFlag(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkTableJSON(*format); err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("list takes no arguments")
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	q := store.SBOMQuery{Vendor: *vendor, Model: *model, FirmwareVersion: *version, Latest: *latest, Limit: *limit}
	if *asset != "" {
		d, err := st.GetDeviceByAssetID(ctx, *asset)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: no device with asset id %q", ErrBadInput, *asset)
		}
		if err != nil {
			return err
		}
		q.DeviceID = d.ID
	}
	page, err := st.ListSBOMs(ctx, q)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(env.Stdout, page.SBOMs)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSUBJECT\tVERSION\tFORMAT\tCOMPONENTS\tOPEN\tSUPPRESSED\tREVIEW\tATTACHED")
	for _, v := range page.SBOMs {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s %s\t%d\t%d\t%d\t%d\t%s\n", v.ID, subjectText(v.Subject), v.Version, v.Format, v.SpecVersion,
			v.Components, v.OpenVulns, v.Suppressed, v.NeedsReview, v.AttachedAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func oneID(fs *flag.FlagSet, args []string, what string) (int64, error) {
	rest, err := parseFlags(fs, args)
	if err != nil {
		return 0, err
	}
	if len(rest) != 1 {
		return 0, usageErr("%s takes one SBOM id", what)
	}
	return sbomID(rest[0])
}

func runSBOMShow(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	format := sbomFormatFlag(fs)
	id, err := oneID(fs, args, "show")
	if err != nil {
		return err
	}
	if err := checkTableJSON(*format); err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.GetSBOM(ctx, id)
	if err != nil {
		return sbomNotFound(err, id)
	}
	comps, err := st.SBOMComponents(ctx, id)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(env.Stdout, map[string]any{"sbom": v, "components": comps})
	}
	fmt.Fprintf(env.Stdout, "SBOM %d: version %d of %s, %s %s, sha256 %s, attached %s by %s\n", v.ID, v.Version, subjectText(v.Subject),
		v.Format, v.SpecVersion, v.SHA256, v.AttachedAt.Format("2006-01-02 15:04"), v.AttachedBy)
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tVERSION\tTYPE\tVULNERABILITY\tSTATUS\tBY\tCONFIDENCE\tWHY")
	for _, c := range comps {
		if len(c.Vulns) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t\t\t\t\n", c.Name, c.Version, c.Type)
			continue
		}
		for _, x := range c.Vulns {
			status := x.Status
			if x.NeedsReview {
				status += " (needs review)"
			}
			why := x.Justification
			if x.Detail != "" {
				why = strings.TrimSpace(why + " " + x.Detail)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s/%s\t%s\t%s\n", c.Name, c.Version, c.Type, x.ID, status, x.Source, x.Method, x.Confidence, why)
		}
	}
	return tw.Flush()
}

func runSBOMDiff(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	format := sbomFormatFlag(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkTableJSON(*format); err != nil {
		return err
	}
	if len(rest) != 2 {
		return usageErr("diff takes two SBOM ids: the older and the newer")
	}
	a, err := sbomID(rest[0])
	if err != nil {
		return err
	}
	b, err := sbomID(rest[1])
	if err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ca, err := st.SBOMComponents(ctx, a)
	if err != nil {
		return sbomNotFound(err, a)
	}
	cb, err := st.SBOMComponents(ctx, b)
	if err != nil {
		return sbomNotFound(err, b)
	}
	d := sboms.Compare(a, ca, b, cb)
	if *format == "json" {
		return writeJSON(env.Stdout, d)
	}
	w := env.Stdout
	fmt.Fprintf(w, "SBOM %d -> %d: %d added, %d removed, %d changed version, %d unchanged; vulnerabilities %d new, %d gone\n",
		a, b, len(d.Added), len(d.Removed), len(d.Changed), d.Unchanged, len(d.VulnsAdded), len(d.VulnsRemoved))
	for _, c := range d.Added {
		fmt.Fprintf(w, "+ %s %s\n", c.Name, c.Version)
	}
	for _, c := range d.Removed {
		fmt.Fprintf(w, "- %s %s\n", c.Name, c.Version)
	}
	for _, c := range d.Changed {
		fmt.Fprintf(w, "~ %s %s -> %s\n", c.Name, c.FromVersion, c.Version)
	}
	for _, v := range d.VulnsAdded {
		fmt.Fprintf(w, "+ %s in %s (%s, %s)\n", v.ID, v.Component, v.Source, v.Status)
	}
	for _, v := range d.VulnsRemoved {
		fmt.Fprintf(w, "- %s in %s: %s\n", v.ID, v.Component, v.Detail)
	}
	return nil
}

func runSBOMExport(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	format := fs.String("format", "cyclonedx", "export format: cyclonedx (CycloneDX 1.6 JSON with VEX) or original (the bytes as uploaded)")
	out := fs.String("out", "-", "write to this file instead of standard output")
	id, err := oneID(fs, args, "export")
	if err != nil {
		return err
	}
	if *format != "cyclonedx" && *format != "original" {
		return usageErr("--format must be cyclonedx or original, not %q", *format)
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var data []byte
	if *format == "original" {
		if data, err = st.SBOMRaw(ctx, id); err != nil {
			return sbomNotFound(err, id)
		}
	} else {
		v, err := st.GetSBOM(ctx, id)
		if err != nil {
			return sbomNotFound(err, id)
		}
		comps, err := st.SBOMComponents(ctx, id)
		if err != nil {
			return err
		}
		if data, err = sboms.ExportCycloneDX(v, comps, store.Now()); err != nil {
			return err
		}
		data = append(data, '\n')
	}
	if *out == "-" {
		_, err = env.Stdout.Write(data)
		return err
	}
	return writeFileAtomic(*out, data)
}

// writeFileAtomic writes data to path through a temporary file, fsync and
// rename, so a reader never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(dirOf(path), ".medwarden-sbom-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i+1]
	}
	return "."
}

func runSBOMRematch(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	osvPath := fs.String("osv", "", "OSV records to match PURLs against instead of the stored OSV feed: a directory of *.json, a .zip, or one .json")
	all := fs.Bool("all", false, "re-match the latest version of every SBOM")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *all == (len(rest) > 0) {
		return usageErr("give SBOM ids or --all")
	}
	var ids []int64
	for _, a := range rest {
		id, err := sbomID(a)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if *all {
		q := store.SBOMQuery{Latest: true, Limit: 1000}
		for {
			page, err := st.ListSBOMs(ctx, q)
			if err != nil {
				return err
			}
			for _, v := range page.SBOMs {
				ids = append(ids, v.ID)
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
	}
	m, stats, err := sbomMatchers(ctx, st, *osvPath)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := sboms.Rematch(ctx, st, id, sbom.Options{}, m)
		if err != nil {
			return sbomNotFound(err, id)
		}
		fmt.Fprintf(env.Stdout, "SBOM %d (%s): %d open, %d suppressed, %d need review\n", v.ID, subjectText(v.Subject), v.OpenVulns, v.Suppressed, v.NeedsReview)
	}
	fmt.Fprintf(env.Stdout, "%d SBOMs re-matched; %s\n", len(ids), stats.Note())
	return nil
}
