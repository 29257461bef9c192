package feeds

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/advisory/nvd"
	"github.com/medwarden/medwarden/internal/feeds/bundle"
	"github.com/medwarden/medwarden/internal/store"
)

// Bundle file names.
const (
	bundleKEV  = "kev/known_exploited_vulnerabilities.json"
	bundleEPSS = "epss/epss_scores.csv.gz"
	bundleNVD  = "nvd/cves.json"
)

// WriteBundle packs every successfully imported feed of the store into a
// signed bundle written to w, and returns its manifest.
func WriteBundle(ctx context.Context, st store.AdvisoryStore, w io.Writer, priv ed25519.PrivateKey, now time.Time) (*bundle.Manifest, error) {
	list, err := st.ListFeeds(ctx)
	if err != nil {
		return nil, err
	}
	m := bundle.Manifest{Created: now.UTC()}
	files := map[string][]byte{}
	csafFeeds := map[string]int{} // feed name → index in m.Feeds
	for _, f := range list {
		if f.ImportedAt.IsZero() {
			continue // never imported: nothing to pack
		}
		bf := bundle.Feed{Name: f.Name, Kind: f.Kind, Source: f.Source, FeedDate: f.FeedDate, ImportedAt: f.ImportedAt, Version: f.Version, Items: f.Items}
		switch f.Kind {
		case store.FeedKEV:
			c, err := st.KEV(ctx)
			if err != nil {
				return nil, fmt.Errorf("bundle kev: %w", err)
			}
			if files[bundleKEV], err = encodeKEV(c); err != nil {
				return nil, err
			}
			bf.Files = []string{bundleKEV}
		case store.FeedEPSS:
			e, err := st.EPSS(ctx)
			if err != nil {
				return nil, fmt.Errorf("bundle epss: %w", err)
			}
			if files[bundleEPSS], err = encodeEPSS(e); err != nil {
				return nil, err
			}
			bf.Files = []string{bundleEPSS}
		case store.FeedNVD:
			b, err := encodeNVD(ctx, st)
			if err != nil {
				return nil, err
			}
			files[bundleNVD] = b
			bf.Files = []string{bundleNVD}
		case store.FeedOSV:
			b, err := encodeOSV(ctx, st) // osv.go
			if err != nil {
				return nil, err
			}
			files[bundleOSV] = b
			bf.Files = []string{bundleOSV}
		case store.FeedCSAF:
			p := "csaf/" + strconv.Itoa(len(csafFeeds)+1) + ".jsonl"
			csafFeeds[f.Name] = len(m.Feeds)
			files[p] = nil
			bf.Files = []string{p}
		default:
			continue
		}
		m.Feeds = append(m.Feeds, bf)
	}
	if len(csafFeeds) > 0 {
		feedOf := map[string]string{}
		q := store.AdvisoryQuery{Limit: 1000}
		for {
			page, err := st.ListAdvisories(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("bundle advisories: %w", err)
			}
			for _, a := range page.Advisories {
				feedOf[a.ID] = a.Feed
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		bufs := map[string]*bytes.Buffer{}
		err := st.ScanAdvisories(ctx, func(a *advisory.Advisory) error {
			i, ok := csafFeeds[feedOf[a.ID]]
			if !ok {
				return nil // a feed that never completed an import
			}
			p := m.Feeds[i].Files[0]
			if bufs[p] == nil {
				bufs[p] = &bytes.Buffer{}
			}
			b, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("advisory %s: %w", a.ID, err)
			}
			bufs[p].Write(b)
			bufs[p].WriteByte('\n')
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("bundle advisories: %w", err)
		}
		for p, b := range bufs {
			files[p] = b.Bytes()
		}
	}
	if len(m.Feeds) == 0 {
		return nil, fmt.Errorf("bundle: the store has no imported feed")
	}
	if err := bundle.Write(w, m, files, priv); err != nil {
		return nil, err
	}
	return &m, nil
}

// encodeKEV writes a catalog in CISA's own JSON format.
func encodeKEV(c *kev.Catalog) ([]byte, error) {
	type entry struct {
		CVEID             string   `json:"cveID"`
		VendorProject     string   `json:"vendorProject"`
		Product           string   `json:"product"`
		VulnerabilityName string   `json:"vulnerabilityName"`
		DateAdded         string   `json:"dateAdded"`
		ShortDescription  string   `json:"shortDescription"`
		RequiredAction    string   `json:"requiredAction"`
		DueDate           string   `json:"dueDate"`
		Ransomware        string   `json:"knownRansomwareCampaignUse"`
		Notes             string   `json:"notes"`
		CWEs              []string `json:"cwes"`
	}
	out := struct {
		Title           string  `json:"title"`
		CatalogVersion  string  `json:"catalogVersion"`
		DateReleased    string  `json:"dateReleased"`
		Count           int     `json:"count"`
		Vulnerabilities []entry `json:"vulnerabilities"`
	}{c.Title, c.CatalogVersion, c.DateReleased.UTC().Format(time.RFC3339Nano), len(c.Entries), []entry{}}
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	for _, e := range c.Entries {
		cwes := e.CWEs
		if cwes == nil {
			cwes = []string{}
		}
		out.Vulnerabilities = append(out.Vulnerabilities, entry{e.CVEID, e.VendorProject, e.Product, e.VulnerabilityName, day(e.DateAdded),
			e.ShortDescription, e.RequiredAction, day(e.DueDate), e.KnownRansomwareCampaignUse, e.Notes, cwes})
	}
	return json.MarshalIndent(out, "", "  ")
}

// encodeEPSS writes scores in FIRST's CSV format, gzipped.
func encodeEPSS(e *epss.File) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	w := bufio.NewWriter(gz)
	if e.ModelVersion != "" || !e.ScoreDate.IsZero() {
		fmt.Fprintf(w, "#model_version:%s,score_date:%s\n", e.ModelVersion, e.ScoreDate.UTC().Format(time.RFC3339))
	}
	w.WriteString("cve,epss,percentile\n")
	for _, s := range e.Scores {
		w.WriteString(s.CVE)
		w.WriteByte(',')
		w.WriteString(strconv.FormatFloat(s.EPSS, 'f', -1, 64))
		w.WriteByte(',')
		w.WriteString(strconv.FormatFloat(s.Percentile, 'f', -1, 64))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeNVD writes the stored records as one NVD API 2.0 response page.
func encodeNVD(ctx context.Context, st store.AdvisoryStore) ([]byte, error) {
	var items []json.RawMessage
	err := st.ScanNVD(ctx, func(id string, raw []byte) error {
		b, err := json.Marshal(struct {
			CVE json.RawMessage `json:"cve"`
		}{json.RawMessage(raw)})
		if err != nil {
			return fmt.Errorf("nvd %s: %w", id, err)
		}
		items = append(items, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bundle nvd: %w", err)
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	return json.Marshal(struct {
		ResultsPerPage  int               `json:"resultsPerPage"`
		StartIndex      int               `json:"startIndex"`
		TotalResults    int               `json:"totalResults"`
		Format          string            `json:"format"`
		Version         string            `json:"version"`
		Vulnerabilities []json.RawMessage `json:"vulnerabilities"`
	}{len(items), 0, len(items), "NVD_CVE", "2.0", items})
}

// ImportBundle verifies a bundle against the trusted keys and loads every
// feed in it in one transaction: all feeds land, or none. Feed dates are
// the bundle's (a bundle of old data stays old).
func (im *Importer) ImportBundle(ctx context.Context, r io.Reader, name string, trusted []ed25519.PublicKey) ([]*Result, error) {
	m, files, err := bundle.Read(r, name, trusted, 0)
	if err != nil {
		return nil, err
	}
	type loaded struct {
		f    bundle.Feed
		kev  *kev.Catalog
		epss *epss.File
		nvd  []*nvd.CVE
		adv  []*advisory.Advisory
		osv  []osvParsed // osv.go
	}
	var ls []loaded
	for i, f := range m.Feeds {
		l := loaded{f: f}
		if len(f.Files) != 1 {
			return nil, fmt.Errorf("bundle %s /feeds/%d: %w: want one file, got %d", name, i, bundle.ErrMalformed, len(f.Files))
		}
		data, where := files[f.Files[0]], fmt.Sprintf("%s!%s", name, f.Files[0])
		switch f.Kind {
		case store.FeedKEV:
			l.kev, err = kev.Parse(bytes.NewReader(data), where, im.opts.MaxFeedFile)
		case store.FeedEPSS:
			l.epss, err = epss.Parse(bytes.NewReader(data), where, im.opts.MaxFeedFile)
		case store.FeedNVD:
			var nf *nvd.Feed
			if nf, err = nvd.Parse(bytes.NewReader(data), where, im.opts.MaxFeedFile); err == nil {
				l.nvd = nf.CVEs
			}
		case store.FeedCSAF:
			l.adv, err = decodeAdvisories(data, where)
		case store.FeedOSV:
			var ins []osvInput
			var total int64
			if ins, err = osvRecords(data, where, &total, nil); err == nil {
				l.osv, _, err = parseOSV(ins)
			}
		default:
			err = fmt.Errorf("unknown feed kind %q", f.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("bundle %s /feeds/%d (%s): %w", name, i, f.Name, err)
		}
		ls = append(ls, l)
	}
	var results []*Result
	err = im.st.ImportFeeds(ctx, func(tx store.FeedTx) error {
		for _, l := range ls {
			res := &Result{Feed: l.f.Name, Kind: l.f.Kind, Source: name, FeedDate: l.f.FeedDate}
			switch {
			case l.kev != nil:
				if err := tx.ReplaceKEV(ctx, l.kev); err != nil {
					return err
				}
				res.Imported = len(l.kev.Entries)
			case l.epss != nil:
				if err := tx.ReplaceEPSS(ctx, l.epss); err != nil {
					return err
				}
				res.Imported = len(l.epss.Scores)
			case l.f.Kind == store.FeedOSV:
				if err := putOSV(ctx, tx, l.osv); err != nil {
					return err
				}
				res.Imported = len(l.osv)
			case l.f.Kind == store.FeedNVD:
				for _, c := range l.nvd {
					if err := tx.PutNVD(ctx, c.ID, c.LastModified, c.Raw); err != nil {
						return err
					}
				}
				res.Imported = len(l.nvd)
			default:
				for _, a := range l.adv {
					if err := tx.PutAdvisory(ctx, a, l.f.Name); err != nil {
						return err
					}
				}
				res.Imported = len(l.adv)
			}
			src := l.f.Source
			if src == "" {
				src = name
			}
			if err := tx.SetFeed(ctx, store.FeedStatus{Name: l.f.Name, Kind: l.f.Kind, Source: "bundle " + name + " (from " + src + ")",
				FeedDate: l.f.FeedDate, Version: l.f.Version, Items: int64(res.Imported)}); err != nil {
				return err
			}
			results = append(results, res)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bundle %s: store: %w", name, err)
	}
	return results, nil
}

func decodeAdvisories(data []byte, where string) ([]*advisory.Advisory, error) {
	var out []*advisory.Advisory
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	for i := 1; ; i++ {
		var a advisory.Advisory
		err := dec.Decode(&a)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s record %d: %w", where, i, err)
		}
		if a.ID == "" {
			return nil, fmt.Errorf("%s record %d: advisory without id", where, i)
		}
		out = append(out, &a)
	}
}
