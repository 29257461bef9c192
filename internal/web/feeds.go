package web

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/feeds/bundle"
)

// DefaultMaxFeedUpload bounds one feed file uploaded on the Feeds page
// (an NVD year file or a signed bundle is the largest).
const DefaultMaxFeedUpload = 512 << 20

// maxKeyFile bounds the uploaded public key of a bundle.
const maxKeyFile = 16 << 10

// feedReport is the freshness of every feed, computed by the same rules as
// 'medwarden feeds status' (feeds.Status). It is a handful of rows, so it
// is read on every page that depends on feeds.
func (h *Handler) feedReport(ctx context.Context) (*feeds.Report, error) {
	list, err := h.st.ListFeeds(ctx)
	if err != nil {
		return nil, fmt.Errorf("feed status: %w", err)
	}
	return feeds.Status(list, feeds.StatusOptions{Now: h.now(), MaxAge: h.maxFeedAge}), nil
}

// feedKinds are the choices of the import form; "" detects the kind from
// the content like 'medwarden feeds import'.
var feedKinds = []choice{
	{Value: "", Label: "Detect from the content"},
	{Value: feeds.KindCSAF, Label: "CSAF 2.0 advisory (JSON)"},
	{Value: feeds.KindKEV, Label: "CISA KEV catalog (JSON)"},
	{Value: feeds.KindEPSS, Label: "EPSS scores (CSV or CSV.gz)"},
	{Value: feeds.KindNVD, Label: "NVD CVE records (JSON)"},
	{Value: "bundle", Label: "Signed offline bundle (needs the publisher's public key)"},
}

type feedsData struct {
	Report  *feeds.Report
	Kinds   []choice
	Kind    string
	MaxSize string
	Keys    int // trusted bundle keys configured at start

	// The outcome of an import just made.
	Done     bool
	Error    string
	File     string
	KeyPrint string
	Results  []*feeds.Result
}

func (h *Handler) feedsData(ctx context.Context) (feedsData, error) {
	rep, err := h.feedReport(ctx)
	if err != nil {
		return feedsData{}, err
	}
	return feedsData{Report: rep, Kinds: feedKinds, MaxSize: humanBytes(h.maxFeedUp), Keys: len(h.bundleKeys)}, nil
}

func (h *Handler) feedsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	d, err := h.feedsData(r.Context())
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	h.render(w, r, http.StatusOK, "feeds", page{Title: "Feeds", Nav: "feeds", RC: rc, Data: d, Feeds: d.Report})
}

// importer returns the feed importer the CLI uses, built once (compiling
// the CSAF schemas is not free).
func (h *Handler) importer() (*feeds.Importer, error) {
	h.feedOnce.Do(func() {
		h.feedImp, h.feedErr = feeds.NewImporter(h.st, feeds.Options{Logger: h.log})
	})
	return h.feedImp, h.feedErr
}

// feedUpload imports one uploaded feed file with feeds.Importer, exactly
// as 'medwarden feeds import FILE' would: the kind is detected from the
// content (or forced), a feed's data lands in one transaction or not at
// all, and a failed import is recorded on the feed while its last good
// data stays. Imports run one at a time.
func (h *Handler) feedUpload(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	d, err := h.feedsData(ctx)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	d.Done = true
	kind := r.PostFormValue("kind")
	if !validKind(kind) {
		kind = ""
	}
	d.Kind = kind
	fail := func(status int, msg string) {
		d.Error = msg
		h.render(w, r, status, "feeds", page{Title: "Feeds", Nav: "feeds", RC: rc, Data: d, Feeds: d.Report})
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		fail(http.StatusBadRequest, "Choose a feed file to import.")
		return
	}
	defer f.Close()
	d.File = cleanFileName(fh.Filename)

	h.feedMu.Lock()
	defer h.feedMu.Unlock()
	im, err := h.importer()
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	if kind == "bundle" {
		keys := append([]ed25519.PublicKey(nil), h.bundleKeys...)
		if kf, kh, err := r.FormFile("key"); err == nil {
			b, err := io.ReadAll(io.LimitReader(kf, maxKeyFile+1))
			kf.Close()
			if err != nil || len(b) > maxKeyFile {
				fail(http.StatusBadRequest, "The public key file could not be read or is larger than 16 KiB.")
				return
			}
			pub, err := bundle.ParsePublicKey(b, cleanFileName(kh.Filename))
			if err != nil {
				fail(http.StatusBadRequest, err.Error())
				return
			}
			keys = append(keys, pub)
			d.KeyPrint = bundle.Fingerprint(pub)
		}
		if len(keys) == 0 {
			fail(http.StatusBadRequest, "A signed bundle is only imported when its signature verifies: choose the publisher's public key file (the .pub written by 'medwarden feeds keygen').")
			return
		}
		res, err := im.ImportBundle(ctx, f, d.File, keys)
		if err != nil {
			h.log.Warn("feed bundle import failed", "file", d.File, "user", rc.User.Username, "err", err)
			fail(http.StatusUnprocessableEntity, "Nothing was imported: "+err.Error())
			return
		}
		h.feedImported(w, r, rc, d, res)
		return
	}
	// The importer reads from a path and names a CSAF feed after it: a
	// fixed spool directory keeps "csaf:<dir>/<file name>" stable when the
	// same file is uploaded again.
	dir := filepath.Join(h.tempDir, "medwarden-feed-uploads")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		h.serverError(w, r, rc, fmt.Errorf("spool feed upload: %w", err))
		return
	}
	p := filepath.Join(dir, d.File)
	if err := spool(p, f); err != nil {
		h.serverError(w, r, rc, fmt.Errorf("spool feed upload: %w", err))
		return
	}
	defer os.Remove(p)
	res, err := im.Import(ctx, p, kind)
	clean := func(s string) string { return strings.ReplaceAll(s, dir+string(filepath.Separator), "") }
	if err != nil && !errors.Is(err, feeds.ErrRejected) {
		h.log.Warn("feed import failed", "file", d.File, "user", rc.User.Username, "err", err)
		fail(http.StatusUnprocessableEntity, "Nothing was imported: "+clean(err.Error()))
		return
	}
	if res != nil {
		for i := range res.Rejected {
			res.Rejected[i].Location = clean(res.Rejected[i].Location)
		}
	}
	if err != nil {
		d.Error = fmt.Sprintf("%d advisories were rejected (listed below); the valid ones were imported.", len(res.Rejected))
	}
	h.feedImported(w, r, rc, d, []*feeds.Result{res})
}

func (h *Handler) feedImported(w http.ResponseWriter, r *http.Request, rc *reqCtx, d feedsData, res []*feeds.Result) {
	h.dropStats()
	h.log.Info("feed imported", "file", d.File, "user", rc.User.Username, "feeds", len(res))
	d.Results = res
	rep, err := h.feedReport(r.Context())
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	d.Report = rep
	h.render(w, r, http.StatusOK, "feeds", page{Title: "Feeds", Nav: "feeds", RC: rc, Data: d, Feeds: rep})
}

func validKind(k string) bool {
	for _, c := range feedKinds {
		if c.Value == k {
			return true
		}
	}
	return false
}

func spool(p string, r io.Reader) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(p)
		return err
	}
	return f.Close()
}

// feedState classes and labels for the templates.
func feedStateClass(s string) string {
	if s == feeds.StateOK {
		return "ok"
	}
	return "bad"
}

// feedMuT groups the feed-import state of a Handler.
type feedMuT struct {
	feedMu   sync.Mutex
	feedOnce sync.Once
	feedImp  *feeds.Importer
	feedErr  error
}
