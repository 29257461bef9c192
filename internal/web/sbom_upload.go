package web

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/sbom/quality"
	"github.com/medwarden/medwarden/internal/sboms"
	"github.com/medwarden/medwarden/internal/store"
)

// maxSBOMProblemRows and maxSBOMVulnRows bound the lists shown after an
// upload; the API and 'medwarden sbom check' give them all.
const (
	maxSBOMProblemRows = 20
	maxSBOMVulnRows    = 200
)

// sbomUploadForm is the subject and options typed into the form.
type sbomUploadForm struct {
	Vendor, Model, FirmwareVersion, AssetID, Note string
	AllowInvalid                                  bool
}

type sbomUploadVuln struct {
	ID, Component, Version, Status, Source, Method, Confidence string
	Suppressed, NeedsReview                                    bool
}

type sbomUploadData struct {
	Form    sbomUploadForm
	MaxSize string

	// The outcome of an upload just made.
	Done     bool
	Error    string
	File     string
	Format   string
	Spec     string
	Problems []sbom.Problem // first maxSBOMProblemRows
	More     int            // problems not shown
	V        *store.SBOMVersion
	Existing bool
	Missing  []quality.Missing
	Vulns    []sbomUploadVuln // first maxSBOMVulnRows, open ones first
	MoreV    int
	// DeviceHref is the device page (a device's own SBOM) or the device
	// list filtered to the vendor, model and firmware version.
	DeviceHref string
}

// routeSBOMUpload registers the "Attach an SBOM" page: GET shows the form
// (prefilled from the query, as linked from a device page), POST attaches
// the file exactly as POST /api/v1/sboms does.
func (h *Handler) routeSBOMUpload() {
	t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/sbom_upload.html")
	if err != nil { // the template is embedded: a failure is a build bug
		panic(fmt.Sprintf("web: parse template sbom_upload: %v", err))
	}
	h.pages["sbom_upload"] = t
	h.route(Route{Method: "GET", Path: "/sboms/upload", Perm: auth.PermRead}, h.sbomUploadPage)
	h.route(Route{Method: "POST", Path: "/sboms/upload", Perm: auth.PermWrite, MaxBody: sbom.DefaultMaxBytes + 64<<10}, h.sbomUpload)
}

func (h *Handler) sbomUploadPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	d := sbomUploadData{MaxSize: humanBytes(sbom.DefaultMaxBytes), Form: sbomUploadForm{
		Vendor: q.Get("vendor"), Model: q.Get("model"), FirmwareVersion: q.Get("firmware_version"), AssetID: q.Get("asset_id")}}
	h.render(w, r, http.StatusOK, "sbom_upload", page{Title: "Attach an SBOM", Nav: "imports", RC: rc, Data: d})
}

// sbomUpload parses, validates, scores and matches the uploaded SBOM with
// sboms.Analyze against the stored NVD, OSV and CSAF VEX data and stores
// it as the next version of its subject (an identical file is not stored
// twice). A file that cannot be read, or that violates its schema unless
// "attach anyway" is ticked, stores nothing.
func (h *Handler) sbomUpload(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	f := sbomUploadForm{
		Vendor: strings.TrimSpace(r.PostFormValue("vendor")), Model: strings.TrimSpace(r.PostFormValue("model")),
		FirmwareVersion: strings.TrimSpace(r.PostFormValue("firmware_version")), AssetID: strings.TrimSpace(r.PostFormValue("asset_id")),
		Note: strings.TrimSpace(r.PostFormValue("note")), AllowInvalid: r.PostFormValue("allow_invalid") == "1",
	}
	d := sbomUploadData{Form: f, MaxSize: humanBytes(sbom.DefaultMaxBytes), Done: true}
	fail := func(status int, msg string) {
		d.Error = msg
		h.render(w, r, status, "sbom_upload", page{Title: "Attach an SBOM", Nav: "imports", RC: rc, Data: d})
	}
	file, fh, err := r.FormFile("file")
	if err != nil {
		fail(http.StatusBadRequest, "Choose an SBOM file to attach.")
		return
	}
	defer file.Close()
	d.File = cleanFileName(fh.Filename)

	// The subject: one device by asset id, or a vendor, model and firmware version.
	var sub store.SBOMSubject
	byModel := f.Vendor != "" || f.Model != "" || f.FirmwareVersion != ""
	switch {
	case f.AssetID != "" && byModel:
		fail(http.StatusBadRequest, "Give either an asset id or a manufacturer, model and firmware version, not both. Nothing was stored.")
		return
	case f.AssetID != "":
		dev, err := h.st.GetDeviceByAssetID(ctx, f.AssetID)
		if errors.Is(err, store.ErrNotFound) {
			fail(http.StatusBadRequest, fmt.Sprintf("No device has the asset id %q. Nothing was stored.", f.AssetID))
			return
		}
		if err != nil {
			h.serverError(w, r, rc, err)
			return
		}
		sub = store.SBOMSubject{DeviceID: dev.ID}
		d.DeviceHref = "/devices/" + strconv.FormatInt(dev.ID, 10)
	case f.Vendor == "" || f.Model == "" || f.FirmwareVersion == "":
		fail(http.StatusBadRequest, "Give the manufacturer, model and firmware version the SBOM describes (or one device's asset id). Nothing was stored.")
		return
	default:
		sub = store.SBOMSubject{Vendor: f.Vendor, Model: f.Model, FirmwareVersion: f.FirmwareVersion}
		d.DeviceHref = "/devices?" + url.Values{"vendor": {f.Vendor}, "model": {f.Model}, "version": {f.FirmwareVersion}}.Encode()
	}

	raw, err := io.ReadAll(io.LimitReader(file, sbom.DefaultMaxBytes+1))
	if err != nil {
		fail(http.StatusBadRequest, fmt.Sprintf("%s could not be read: %v. Nothing was stored.", d.File, err))
		return
	}
	if len(raw) > sbom.DefaultMaxBytes {
		fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("%s is larger than the limit of %s. Nothing was stored.", d.File, d.MaxSize))
		return
	}
	m, _, err := sboms.CachedMatchers(ctx, h.st) // loaded once per feed import
	if err != nil {
		h.serverError(w, r, rc, fmt.Errorf("sbom upload: load matchers: %w", err))
		return
	}
	in, doc, err := sboms.Analyze(raw, d.File, sbom.Options{}, m)
	if err != nil {
		var ie *sbom.InputError
		if errors.As(err, &ie) {
			fail(http.StatusUnprocessableEntity, "Nothing was stored: "+err.Error())
			return
		}
		h.serverError(w, r, rc, err)
		return
	}
	d.Format, d.Spec = string(doc.Format), doc.SpecVersion
	d.Problems = doc.Problems
	if len(d.Problems) > maxSBOMProblemRows {
		d.More = len(d.Problems) - maxSBOMProblemRows
		d.Problems = d.Problems[:maxSBOMProblemRows]
	}
	d.Missing = quality.Evaluate(doc).Missing
	if !doc.Valid() && !f.AllowInvalid {
		fail(http.StatusUnprocessableEntity, fmt.Sprintf("%s is not valid %s %s (%d schema problems, listed below). Nothing was stored. Fix the file, or tick \"attach anyway\" to store it with its problems.",
			d.File, doc.Format, doc.SpecVersion, len(doc.Problems)))
		return
	}
	in.Subject = sub
	in.AttachedBy = rc.User.Username
	in.Note = f.Note
	v, existing, err := h.st.AttachSBOM(ctx, in)
	if err != nil {
		h.serverError(w, r, rc, fmt.Errorf("sbom upload: attach %s: %w", d.File, err))
		return
	}
	if !existing {
		if sec, ok := h.st.(store.SecurityStore); ok {
			summary := map[string]any{"sbom": v.ID, "subject": v.Subject, "version": v.Version, "sha256": v.SHA256, "file": d.File}
			if err := recorder.Record(ctx, sec, "sbom.attach", "sbom/"+strconv.FormatInt(v.ID, 10), nil, summary); err != nil {
				h.serverError(w, r, rc, err)
				return
			}
		}
	}
	h.log.Info("sbom attached", "file", d.File, "sbom", v.ID, "existing", existing, "user", rc.User.Username)
	d.V, d.Existing = v, existing
	d.Vulns, d.MoreV = uploadVulns(in)
	h.render(w, r, http.StatusOK, "sbom_upload", page{Title: "Attach an SBOM", Nav: "imports", RC: rc, Data: d})
}

// uploadVulns lists the vulnerabilities found at upload, open ones first.
func uploadVulns(in *store.SBOMAttach) ([]sbomUploadVuln, int) {
	var open, closed []sbomUploadVuln
	for _, x := range in.Vulns {
		u := sbomUploadVuln{ID: x.ID, Status: x.Status, Source: x.Source, Method: x.Method, Confidence: x.Confidence,
			Suppressed: x.Suppressed, NeedsReview: x.NeedsReview}
		if x.Index >= 0 && x.Index < len(in.Components) {
			u.Component, u.Version = in.Components[x.Index].Name, in.Components[x.Index].Version
		}
		if x.Suppressed {
			closed = append(closed, u)
		} else {
			open = append(open, u)
		}
	}
	all := append(open, closed...)
	if len(all) > maxSBOMVulnRows {
		return all[:maxSBOMVulnRows], len(all) - maxSBOMVulnRows
	}
	return all, 0
}
