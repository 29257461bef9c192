package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/csaf"
	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/advisory/nvd"
	"github.com/medwarden/medwarden/internal/store"
)

// Kinds an input can be forced to (Options/Import kind argument).
const (
	KindAuto = ""
	KindKEV  = store.FeedKEV
	KindEPSS = store.FeedEPSS
	KindNVD  = store.FeedNVD
	KindCSAF = store.FeedCSAF
)

// maxAdvisoriesPerFeed bounds one feed index (a hostile index cannot make
// the importer fetch without end).
const maxAdvisoriesPerFeed = 200000

// maxFeedBytes bounds the advisory bytes one feed import holds in memory
// before its transaction (accepted documents are written together).
const maxFeedBytes = 2 << 30

// Options configure an Importer.
type Options struct {
	// AllowHosts are the only hosts URLs may name (exact host names).
	AllowHosts []string
	// AllowNets are internal address ranges fetches may reach (a
	// hospital's own mirror). Other private, loopback and link-local
	// destinations are refused after name resolution (ssrf.go), except
	// IP literals named in AllowHosts.
	AllowNets []netip.Prefix
	// Keys are trusted OpenPGP keys (--openpgp-key), besides the
	// fingerprint-pinned keys of provider metadata.
	Keys openpgp.EntityList
	// RequireSignature rejects advisories that have no verifiable signature.
	RequireSignature bool
	// MaxDocument bounds one advisory or index; MaxFeedFile one KEV/EPSS/NVD file.
	MaxDocument, MaxFeedFile int64
	// Client is the HTTP client (tests); nil builds one with timeouts.
	Client *http.Client
	Logger *slog.Logger
}

// Importer imports feeds into a store.
type Importer struct {
	st   store.AdvisoryStore
	v    *csaf.Validator
	opts Options
	log  *slog.Logger
}

// NewImporter builds an importer.
func NewImporter(st store.AdvisoryStore, opts Options) (*Importer, error) {
	if opts.MaxDocument <= 0 {
		opts.MaxDocument = DefaultMaxDocument
	}
	if opts.MaxFeedFile <= 0 {
		opts.MaxFeedFile = DefaultMaxFeedFile
	}
	v, err := csaf.NewValidator(csaf.Options{MaxSize: opts.MaxDocument})
	if err != nil {
		return nil, fmt.Errorf("csaf validator: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Importer{st: st, v: v, opts: opts, log: log}, nil
}

// Rejection is an advisory that was not imported, and why.
type Rejection struct {
	Location string `json:"location"`
	Reason   string `json:"reason"`
}

// Result is the outcome of importing one input.
type Result struct {
	Feed     string    `json:"feed"`
	Kind     string    `json:"kind"`
	Source   string    `json:"source"`
	FeedDate time.Time `json:"feed_date,omitzero"`
	// Imported were written; Unchanged were already stored with the same
	// SHA-256 (or not changed since the last sync per changes.csv).
	Imported  int         `json:"imported"`
	Unchanged int         `json:"unchanged"`
	Rejected  []Rejection `json:"rejected,omitempty"`
	Warnings  []string    `json:"warnings,omitempty"`
}

// ErrRejected is returned (wrapped) when some advisories of a feed were rejected.
var ErrRejected = errors.New("advisories rejected")

// Import imports one input: a file, a directory, a provider tree or a URL.
// kind forces the input kind (KindAuto detects it from the content).
// Accepted content of a feed is written in one transaction; when some
// advisories are rejected (bad hash, bad signature, invalid CSAF) the
// others are imported and the error wraps ErrRejected.
func (im *Importer) Import(ctx context.Context, loc, kind string) (*Result, error) {
	f := newFetcher(im.opts.Client, im.opts.AllowHosts, im.opts.AllowNets, im.opts.MaxDocument)
	res, err := im.importLoc(ctx, f, loc, kind)
	if err != nil {
		name, k := feedNameFor(loc, kind, res)
		if rerr := im.st.RecordFeedError(ctx, store.FeedStatus{Name: name, Kind: k, Source: loc}, err.Error()); rerr != nil {
			im.log.Warn("record feed error", "feed", name, "err", rerr)
		}
		return res, err
	}
	if len(res.Rejected) > 0 {
		msg := fmt.Sprintf("%d advisories rejected; first: %s: %s", len(res.Rejected), res.Rejected[0].Location, res.Rejected[0].Reason)
		if rerr := im.st.RecordFeedError(ctx, store.FeedStatus{Name: res.Feed, Kind: res.Kind, Source: res.Source}, msg); rerr != nil {
			im.log.Warn("record feed error", "feed", res.Feed, "err", rerr)
		}
		return res, fmt.Errorf("%s: %d of %d: %w", loc, len(res.Rejected), len(res.Rejected)+res.Imported+res.Unchanged, ErrRejected)
	}
	return res, nil
}

func feedNameFor(loc, kind string, res *Result) (string, string) {
	if res != nil && res.Feed != "" {
		return res.Feed, res.Kind
	}
	switch kind {
	case KindKEV, KindEPSS, KindNVD, KindOSV:
		return kind, kind
	}
	return "csaf:" + absLoc(loc), store.FeedCSAF
}

func absLoc(loc string) string {
	if isURL(loc) {
		return loc
	}
	if a, err := filepath.Abs(loc); err == nil {
		return a
	}
	return loc
}

func (im *Importer) importLoc(ctx context.Context, f *fetcher, loc, kind string) (*Result, error) {
	if !isURL(loc) {
		st, err := os.Stat(loc)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", loc, err)
		}
		if st.IsDir() {
			if kind == KindNVD {
				return im.importNVDDir(ctx, loc)
			}
			if kind == KindOSV {
				return im.importOSVDir(ctx, loc) // osv.go
			}
			return im.importDir(ctx, f, loc)
		}
	} else if strings.HasSuffix(loc, "/") {
		return im.importDirectoryIndex(ctx, f, loc, loc, "csaf:"+loc, nil)
	}
	limit := im.opts.MaxDocument
	if kind == KindKEV || kind == KindEPSS || kind == KindNVD || kind == KindOSV || !strings.HasSuffix(strings.ToLower(loc), ".json") {
		limit = im.opts.MaxFeedFile
	}
	data, err := f.get(ctx, loc, limit)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", loc, err)
	}
	if kind == KindAuto {
		kind = detect(data)
	}
	switch kind {
	case KindKEV:
		return im.importKEV(ctx, data, loc)
	case KindEPSS:
		return im.importEPSS(ctx, data, loc)
	case KindNVD:
		return im.importNVD(ctx, [][]byte{data}, []string{loc}, loc)
	case KindOSV:
		var total int64
		ins, err := osvRecords(data, loc, &total, nil)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", loc, err)
		}
		return im.importOSV(ctx, ins, loc)
	case kindProvider:
		return im.importProvider(ctx, f, loc, data)
	case kindAggregator:
		return im.importAggregator(ctx, f, loc, data)
	case kindROLIE:
		entries, date, err := ParseROLIE(bytes.NewReader(data), loc)
		if err != nil {
			return nil, err
		}
		return im.importEntries(ctx, f, loc, "csaf:"+absLoc(loc), entries, date, nil)
	case KindCSAF:
		return im.importEntries(ctx, f, loc, "csaf:"+absLoc(loc), []Entry{{URL: loc}}, time.Time{}, map[string][]byte{loc: data})
	case kindBundle:
		return nil, fmt.Errorf("import %s: this is a signed bundle: import it with --trusted-key", loc)
	}
	return nil, fmt.Errorf("import %s: unrecognised content: not CSAF, a provider/aggregator/ROLIE index, KEV JSON, EPSS CSV, NVD JSON or OSV records (force a kind with --kev, --epss or --nvd)", loc)
}

const (
	kindProvider   = "provider"
	kindAggregator = "aggregator"
	kindROLIE      = "rolie"
	kindBundle     = "bundle"
)

// detect tells the kind of an input from its first bytes.
func detect(data []byte) string {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return ""
		}
		head := make([]byte, 512)
		n, _ := io.ReadFull(zr, head)
		if n >= 262 && string(head[257:262]) == "ustar" {
			return kindBundle
		}
		if looksEPSS(head[:n]) {
			return KindEPSS
		}
		return ""
	}
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return KindOSV // a zip of OSV records (osv.dev's <ecosystem>/all.zip)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if looksEPSS(trimmed) {
		return KindEPSS
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return ""
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return KindCSAF // let the CSAF validator say precisely what is wrong
	}
	switch {
	case top["document"] != nil:
		return KindCSAF
	case top["catalogVersion"] != nil:
		return KindKEV
	case top["canonical_url"] != nil && top["distributions"] != nil:
		return kindProvider
	case top["aggregator"] != nil:
		return kindAggregator
	case top["feed"] != nil:
		return kindROLIE
	case top["resultsPerPage"] != nil || top["cve"] != nil:
		return KindNVD
	case top["id"] != nil && top["published"] != nil && top["lastModified"] != nil:
		return KindNVD
	case top["id"] != nil && top["modified"] != nil && (top["affected"] != nil || top["schema_version"] != nil):
		return KindOSV
	}
	return ""
}

func looksEPSS(b []byte) bool {
	return bytes.HasPrefix(b, []byte("#model_version")) || bytes.HasPrefix(b, []byte("cve,epss"))
}

func (im *Importer) importKEV(ctx context.Context, data []byte, loc string) (*Result, error) {
	c, err := kev.Parse(bytes.NewReader(data), loc, im.opts.MaxFeedFile)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", loc, err)
	}
	res := &Result{Feed: store.FeedKEV, Kind: store.FeedKEV, Source: absLoc(loc), FeedDate: c.DateReleased, Imported: len(c.Entries)}
	err = im.st.ImportFeeds(ctx, func(tx store.FeedTx) error {
		if err := tx.ReplaceKEV(ctx, c); err != nil {
			return err
		}
		return tx.SetFeed(ctx, store.FeedStatus{Name: res.Feed, Kind: res.Kind, Source: res.Source, FeedDate: c.DateReleased, Version: c.CatalogVersion, Items: int64(len(c.Entries))})
	})
	if err != nil {
		return nil, fmt.Errorf("import %s: store: %w", loc, err)
	}
	return res, nil
}

func (im *Importer) importEPSS(ctx context.Context, data []byte, loc string) (*Result, error) {
	e, err := epss.Parse(bytes.NewReader(data), loc, im.opts.MaxFeedFile)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", loc, err)
	}
	res := &Result{Feed: store.FeedEPSS, Kind: store.FeedEPSS, Source: absLoc(loc), FeedDate: e.ScoreDate, Imported: len(e.Scores)}
	if e.ScoreDate.IsZero() {
		res.Warnings = append(res.Warnings, "the EPSS file has no score date (no #model_version comment): its age cannot be told")
	}
	err = im.st.ImportFeeds(ctx, func(tx store.FeedTx) error {
		if err := tx.ReplaceEPSS(ctx, e); err != nil {
			return err
		}
		return tx.SetFeed(ctx, store.FeedStatus{Name: res.Feed, Kind: res.Kind, Source: res.Source, FeedDate: e.ScoreDate, Version: e.ModelVersion, Items: int64(len(e.Scores))})
	})
	if err != nil {
		return nil, fmt.Errorf("import %s: store: %w", loc, err)
	}
	return res, nil
}

func (im *Importer) importNVDDir(ctx context.Context, dir string) (*Result, error) {
	var datas [][]byte
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.EqualFold(filepath.Ext(p), ".json") {
			return nil
		}
		b, err := readFile(p, im.opts.MaxFeedFile)
		if err != nil {
			return err
		}
		datas, names = append(datas, b), append(names, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", dir, err)
	}
	return im.importNVD(ctx, datas, names, dir)
}

func (im *Importer) importNVD(ctx context.Context, datas [][]byte, names []string, loc string) (*Result, error) {
	var cves []*nvd.CVE
	for i, d := range datas {
		feed, err := nvd.Parse(bytes.NewReader(d), names[i], im.opts.MaxFeedFile)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", loc, err)
		}
		cves = append(cves, feed.CVEs...)
	}
	res := &Result{Feed: store.FeedNVD, Kind: store.FeedNVD, Source: absLoc(loc), Imported: len(cves)}
	for _, c := range cves {
		if c.LastModified.After(res.FeedDate) {
			res.FeedDate = c.LastModified
		}
	}
	err := im.st.ImportFeeds(ctx, func(tx store.FeedTx) error {
		for _, c := range cves {
			if err := tx.PutNVD(ctx, c.ID, c.LastModified, c.Raw); err != nil {
				return err
			}
		}
		return tx.SetFeed(ctx, store.FeedStatus{Name: res.Feed, Kind: res.Kind, Source: res.Source, FeedDate: res.FeedDate, Items: int64(len(cves))})
	})
	if err != nil {
		return nil, fmt.Errorf("import %s: store: %w", loc, err)
	}
	return res, nil
}

// importDir imports a local directory: a provider tree when it holds a
// provider-metadata.json, a CSAF directory distribution when it holds
// changes.csv or index.txt, else every *.json file under it.
func (im *Importer) importDir(ctx context.Context, f *fetcher, dir string) (*Result, error) {
	for _, cand := range []string{"provider-metadata.json", filepath.Join(".well-known", "csaf", "provider-metadata.json")} {
		p := filepath.Join(dir, cand)
		if _, err := os.Stat(p); err == nil {
			data, err := readFile(p, im.opts.MaxDocument)
			if err != nil {
				return nil, fmt.Errorf("import %s: %w", dir, err)
			}
			return im.importProvider(ctx, f, p, data)
		}
	}
	feed := "csaf:" + absLoc(dir)
	if fileExists(filepath.Join(dir, "changes.csv")) || fileExists(filepath.Join(dir, "index.txt")) {
		return im.importDirectoryIndex(ctx, f, dir+string(filepath.Separator), dir, feed, nil)
	}
	var entries []Entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".json") {
			entries = append(entries, Entry{URL: p})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", dir, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].URL < entries[j].URL })
	return im.importEntries(ctx, f, dir, feed, entries, time.Time{}, nil)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// importDirectoryIndex imports a CSAF directory distribution (base ends in
// "/" or the path separator) through its changes.csv, else its index.txt.
func (im *Importer) importDirectoryIndex(ctx context.Context, f *fetcher, base, source, feed string, keys openpgp.EntityList) (*Result, error) {
	if keys == nil {
		keys = im.opts.Keys
	}
	entries, err := im.readDirectoryIndex(ctx, f, base)
	if err != nil {
		return nil, err
	}
	var date time.Time
	for _, e := range entries {
		if e.Updated.After(date) {
			date = e.Updated
		}
	}
	return im.importEntriesKeys(ctx, f, source, feed, entries, date, nil, keys)
}

func (im *Importer) readDirectoryIndex(ctx context.Context, f *fetcher, base string) ([]Entry, error) {
	join := func(name string) string {
		if isURL(base) {
			return base + name
		}
		return filepath.Join(base, name)
	}
	data, err := f.get(ctx, join("changes.csv"), im.opts.MaxFeedFile)
	var entries []Entry
	switch {
	case err == nil:
		entries, err = ParseChanges(bytes.NewReader(data), join("changes.csv"))
	case errors.Is(err, ErrAbsent):
		data, err = f.get(ctx, join("index.txt"), im.opts.MaxFeedFile)
		if err != nil {
			return nil, fmt.Errorf("directory %s: neither changes.csv nor index.txt: %w", base, err)
		}
		entries, err = ParseIndex(bytes.NewReader(data), join("index.txt"))
	}
	if err != nil {
		return nil, err
	}
	for i := range entries {
		entries[i].URL = join(entries[i].URL)
	}
	return entries, nil
}

func (im *Importer) importAggregator(ctx context.Context, f *fetcher, loc string, data []byte) (*Result, error) {
	agg, err := ParseAggregator(bytes.NewReader(data), loc)
	if err != nil {
		return nil, err
	}
	total := &Result{Feed: "csaf:" + absLoc(loc), Kind: store.FeedCSAF, Source: absLoc(loc), FeedDate: agg.LastUpdated}
	var errs []error
	for _, p := range agg.Providers {
		u, err := resolve(loc, p.Metadata.URL)
		if err == nil {
			var res *Result
			// Forced to a provider: an aggregator listing itself (or
			// another aggregator) cannot make the import recurse.
			res, err = im.Import(ctx, u, kindProvider)
			if res != nil {
				total.Imported += res.Imported
				total.Unchanged += res.Unchanged
				total.Rejected = append(total.Rejected, res.Rejected...)
				total.Warnings = append(total.Warnings, res.Warnings...)
			}
		}
		if err != nil && !errors.Is(err, ErrRejected) {
			errs = append(errs, fmt.Errorf("provider %s: %w", p.Metadata.URL, err))
		}
	}
	total.Rejected = nil // already recorded against each provider feed
	return total, errors.Join(errs...)
}

func (im *Importer) importProvider(ctx context.Context, f *fetcher, loc string, data []byte) (*Result, error) {
	pm, err := ParseProviderMetadata(bytes.NewReader(data), loc)
	if err != nil {
		return nil, err
	}
	if !isURL(loc) {
		// A local mirror: URLs under the canonical URL's directory are files here.
		f.mirrorURL = pm.CanonicalURL[:strings.LastIndex(pm.CanonicalURL, "/")+1]
		f.mirrorDir = filepath.Dir(loc)
	}
	res := &Result{Feed: "csaf:" + pm.CanonicalURL, Kind: store.FeedCSAF, Source: absLoc(loc), FeedDate: pm.LastUpdated}
	keys, warns := im.providerKeys(ctx, f, loc, pm)
	var entries []Entry
	var newest time.Time
	for i, d := range pm.Distributions {
		if d.ROLIE != nil && len(d.ROLIE.Feeds) > 0 {
			for _, rf := range d.ROLIE.Feeds {
				u, err := resolve(loc, rf.URL)
				if err != nil {
					return nil, fmt.Errorf("provider %s at /distributions/%d/rolie: %w", loc, i, err)
				}
				b, err := f.get(ctx, u, im.opts.MaxFeedFile)
				if err != nil {
					return nil, fmt.Errorf("provider %s: rolie feed: %w", loc, err)
				}
				es, upd, err := ParseROLIE(bytes.NewReader(b), u)
				if err != nil {
					return nil, err
				}
				for j := range es {
					if es[j].URL, err = resolve(u, es[j].URL); err != nil {
						return nil, fmt.Errorf("rolie feed %s entry %d: %w", u, j, err)
					}
					for _, p := range []*string{&es[j].SHA256URL, &es[j].SHA512URL, &es[j].SignatureURL} {
						if *p != "" {
							if *p, err = resolve(u, *p); err != nil {
								return nil, fmt.Errorf("rolie feed %s entry %d: %w", u, j, err)
							}
						}
					}
				}
				entries = append(entries, es...)
				if upd.After(newest) {
					newest = upd
				}
			}
			continue
		}
		base, err := resolve(loc, d.DirectoryURL)
		if err != nil {
			return nil, fmt.Errorf("provider %s at /distributions/%d/directory_url: %w", loc, i, err)
		}
		if !strings.HasSuffix(base, "/") {
			base += "/"
		}
		es, err := im.readDirectoryIndex(ctx, f, base)
		if err != nil {
			return nil, err
		}
		entries = append(entries, es...)
	}
	if res.FeedDate.IsZero() {
		res.FeedDate = newest
	}
	out, err := im.importEntriesKeys(ctx, f, absLoc(loc), res.Feed, entries, res.FeedDate, nil, keys)
	if out != nil {
		out.Warnings = append(warns, out.Warnings...)
	}
	return out, err
}

// providerKeys fetches the provider's OpenPGP keys and keeps those whose
// fingerprint equals the pinned one.
func (im *Importer) providerKeys(ctx context.Context, f *fetcher, loc string, pm *ProviderMetadata) (openpgp.EntityList, []string) {
	keys := append(openpgp.EntityList(nil), im.opts.Keys...)
	var warns []string
	for i, k := range pm.Keys {
		if k.URL == "" {
			continue
		}
		u, err := resolve(loc, k.URL)
		if err == nil {
			var b []byte
			if b, err = f.get(ctx, u, 1<<20); err == nil {
				var el openpgp.EntityList
				if el, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(b)); err == nil {
					want := strings.ToLower(strings.ReplaceAll(k.Fingerprint, " ", ""))
					found := false
					for _, e := range el {
						if hex.EncodeToString(e.PrimaryKey.Fingerprint) == want {
							keys = append(keys, e)
							found = true
						}
					}
					if !found {
						err = fmt.Errorf("no key with the pinned fingerprint %s", k.Fingerprint)
					}
				}
			}
		}
		if err != nil {
			warns = append(warns, fmt.Sprintf("provider %s /public_openpgp_keys/%d not used: %v", loc, i, err))
		}
	}
	return keys, warns
}

func (im *Importer) importEntries(ctx context.Context, f *fetcher, source, feed string, entries []Entry, date time.Time, prefetched map[string][]byte) (*Result, error) {
	return im.importEntriesKeys(ctx, f, source, feed, entries, date, prefetched, im.opts.Keys)
}

// importEntriesKeys fetches, checks and stores the advisories of one feed.
func (im *Importer) importEntriesKeys(ctx context.Context, f *fetcher, source, feed string, entries []Entry, date time.Time, prefetched map[string][]byte, keys openpgp.EntityList) (*Result, error) {
	if len(entries) > maxAdvisoriesPerFeed {
		return nil, fmt.Errorf("feed %s lists %d advisories, more than the limit of %d", source, len(entries), maxAdvisoriesPerFeed)
	}
	res := &Result{Feed: feed, Kind: store.FeedCSAF, Source: absLoc(source), FeedDate: date}
	digests, err := im.st.AdvisoryDigests(ctx)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", source, err)
	}
	stored := make(map[string]bool, len(digests))
	for _, h := range digests {
		stored[h] = true
	}
	// Incremental sync: entries not changed since the last clean import are skipped.
	var since time.Time
	if fl, err := im.st.ListFeeds(ctx); err == nil {
		for _, s := range fl {
			if s.Name == feed && !s.ImportedAt.IsZero() && s.LastError == "" {
				since = s.FeedDate
			}
		}
	}
	var accepted []*advisory.Advisory
	var held int64
	seenID := map[string]string{}
	var newest time.Time
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !since.IsZero() && !e.Updated.IsZero() && !e.Updated.After(since) {
			res.Unchanged++
			continue
		}
		a, n, unchanged, warn, err := im.fetchAdvisory(ctx, f, e, prefetched, stored, keys)
		if warn != "" {
			res.Warnings = append(res.Warnings, warn)
		}
		if err != nil {
			var rej *rejectError
			if errors.As(err, &rej) {
				res.Rejected = append(res.Rejected, Rejection{Location: e.URL, Reason: rej.reason})
				continue
			}
			return nil, err
		}
		if unchanged {
			res.Unchanged++
			continue
		}
		if prev, dup := seenID[a.ID]; dup {
			res.Rejected = append(res.Rejected, Rejection{Location: e.URL, Reason: fmt.Sprintf("tracking id %s is also used by %s", a.ID, prev)})
			continue
		}
		seenID[a.ID] = e.URL
		if held += n; held > maxFeedBytes {
			return nil, fmt.Errorf("feed %s: more than %d bytes of advisories in one import; import its directories separately", source, int64(maxFeedBytes))
		}
		if a.CurrentRelease.After(newest) {
			newest = a.CurrentRelease
		}
		accepted = append(accepted, a)
	}
	if res.FeedDate.IsZero() {
		res.FeedDate = newest
		if res.FeedDate.IsZero() && !since.IsZero() {
			res.FeedDate = since
		}
	}
	res.Imported = len(accepted)
	err = im.st.ImportFeeds(ctx, func(tx store.FeedTx) error {
		for _, a := range accepted {
			if err := tx.PutAdvisory(ctx, a, feed); err != nil {
				return err
			}
		}
		return tx.SetFeed(ctx, store.FeedStatus{Name: feed, Kind: store.FeedCSAF, Source: res.Source, FeedDate: res.FeedDate,
			Items: int64(res.Imported + res.Unchanged)})
	})
	if err != nil {
		return nil, fmt.Errorf("import %s: store: %w", source, err)
	}
	return res, nil
}

type rejectError struct{ reason string }

func (e *rejectError) Error() string { return e.reason }

func reject(format string, args ...any) error {
	return &rejectError{reason: fmt.Sprintf(format, args...)}
}

// fetchAdvisory reads one advisory and checks its hashes and signature.
// A failed check is a *rejectError; other errors abort the feed.
func (im *Importer) fetchAdvisory(ctx context.Context, f *fetcher, e Entry, prefetched map[string][]byte, stored map[string]bool, keys openpgp.EntityList) (a *advisory.Advisory, size int64, unchanged bool, warn string, err error) {
	data, ok := prefetched[e.URL]
	if !ok {
		if data, err = f.get(ctx, e.URL, im.opts.MaxDocument); err != nil {
			if errors.Is(err, ErrAbsent) || errors.Is(err, ErrHostNotAllowed) {
				return nil, 0, false, "", reject("%v", err)
			}
			return nil, 0, false, "", err
		}
	}
	sum256 := sha256.Sum256(data)
	hex256 := hex.EncodeToString(sum256[:])
	sum512 := sha512.Sum512(data)
	checks := []struct {
		url, ext, got string
	}{{e.SHA256URL, ".sha256", hex256}, {e.SHA512URL, ".sha512", hex.EncodeToString(sum512[:])}}
	for _, c := range checks {
		u := c.url
		if u == "" {
			u = e.URL + c.ext
		}
		b, err := f.get(ctx, u, 4096)
		if errors.Is(err, ErrAbsent) {
			continue
		}
		if err != nil {
			return nil, 0, false, "", reject("hash file %s: %v", u, err)
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			return nil, 0, false, "", reject("hash file %s is empty", u)
		}
		if want := strings.ToLower(fields[0]); want != c.got {
			return nil, 0, false, "", reject("%s mismatch: %s says %s, the document hashes to %s", strings.TrimPrefix(c.ext, "."), u, want, c.got)
		}
	}
	sigURL := e.SignatureURL
	if sigURL == "" {
		sigURL = e.URL + ".asc"
	}
	sig, err := f.get(ctx, sigURL, 64<<10)
	switch {
	case errors.Is(err, ErrAbsent):
		if im.opts.RequireSignature {
			return nil, 0, false, "", reject("no OpenPGP signature (%s) and --require-signature is set", sigURL)
		}
	case err != nil:
		return nil, 0, false, "", reject("signature %s: %v", sigURL, err)
	case len(keys) == 0:
		if im.opts.RequireSignature {
			return nil, 0, false, "", reject("signature %s cannot be checked: no trusted OpenPGP key (--openpgp-key or pinned provider keys)", sigURL)
		}
		warn = fmt.Sprintf("%s: signature not checked: no trusted OpenPGP key", e.URL)
	default:
		if _, err := openpgp.CheckArmoredDetachedSignature(keys, bytes.NewReader(data), bytes.NewReader(sig), nil); err != nil {
			return nil, 0, false, "", reject("bad OpenPGP signature %s: %v", sigURL, err)
		}
	}
	if stored[hex256] {
		return nil, 0, true, warn, nil
	}
	adv, rep, err := im.v.ParseAdvisory(bytes.NewReader(data), e.URL)
	if err != nil {
		return nil, 0, false, warn, reject("read: %v", err)
	}
	if adv == nil || !rep.Valid {
		msg := "not a CSAF document"
		if rep != nil && len(rep.Errors) > 0 {
			msg = fmt.Sprintf("invalid CSAF (%d errors), first: %s", len(rep.Errors), rep.Errors[0].Error())
		}
		return nil, 0, false, warn, reject("%s", msg)
	}
	adv.Source = e.URL
	return adv, int64(len(data)), false, warn, nil
}
