package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/inventory"
)

// page is what every template gets.
type page struct {
	Title string
	Nav   string // active navigation entry
	RC    *reqCtx
	CSRF  string
	Data  any
	// Flash is a one-line status message ("Saved view …").
	Flash string
	// Feeds, on every page whose content depends on feeds, is their
	// freshness: the layout states each feed's date and warns loudly when
	// one is missing, failed or stale.
	Feeds *feeds.Report
}

// CanWrite and IsAdmin drive what the layout offers.
func (p page) CanWrite() bool { return p.RC != nil && p.RC.Role.Can(auth.PermWrite) }

// IsAdmin reports whether the user may open settings.
func (p page) IsAdmin() bool { return p.RC != nil && p.RC.Role.Can(auth.PermAdmin) }

// CanAudit reports whether the user may read the audit log (auditor, admin).
func (p page) CanAudit() bool { return p.RC != nil && p.RC.Role.Can(auth.PermAudit) }

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"day": func(d *inventory.Date) string {
		if d == nil {
			return ""
		}
		return d.String()
	},
	"num": func(n any) string {
		var v int64
		switch x := n.(type) {
		case int:
			v = int64(x)
		case int64:
			v = x
		default:
			return fmt.Sprint(n)
		}
		s := strconv.FormatInt(v, 10)
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		if neg {
			s = "-" + s
		}
		return s
	},
	"label":     fieldLabel,
	"roleLabel": func(r string) string { return auth.Role(r).Label() },
	"critClass": func(c inventory.Criticality) string {
		if c == "" {
			return "crit-unknown"
		}
		return "crit-" + string(c)
	},
	"critLabel": critLabel,
	"query":     func(v url.Values) string { return v.Encode() },
	// viewHref is the device list of a saved view; the query was
	// re-encoded by url.Values when it was saved.
	"viewHref":   func(q string) string { return "/devices?" + q },
	"stateClass": feedStateClass,
	"feedDate": func(f feeds.FeedAge) string {
		if f.FeedDate.IsZero() {
			return "undated"
		}
		return f.FeedDate.UTC().Format("2006-01-02")
	},
	"advHref":    func(id string) string { return "/advisories/" + url.PathEscape(id) },
	"join":       strings.Join,
	"pct":        func(f float64) float64 { return f * 100 },
	"stateLabel": stateLabel,
	"signed":     func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"score":      func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
}

func critLabel(c inventory.Criticality) string {
	if c == "" {
		return "Unknown"
	}
	s := strings.ReplaceAll(string(c), "-", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// fieldLabels name device fields for people.
var fieldLabels = map[string]string{
	"asset_id": "Asset ID", "vendor": "Manufacturer", "model": "Model", "version": "Software version",
	"serial": "Serial number", "mac": "MAC addresses", "ip": "IP addresses", "hostname": "Hostname",
	"site": "Site", "location": "Location", "department": "Department", "device_type": "Device type",
	"criticality": "Clinical criticality", "patient_connected": "Patient-connected", "phi": "Handles PHI",
	"os": "Operating system", "end_of_support": "End of support", "udi_di": "UDI-DI", "zone": "Network zone",
	"end_of_life": "End of life", "updated_at": "Last changed", "id": "Record number",
}

func fieldLabel(f string) string {
	if l, ok := fieldLabels[f]; ok {
		return l
	}
	return f
}

var pageNames = []string{"login", "dashboard", "devices", "device", "imports", "import", "users", "password", "error", "created",
	"feeds", "advisories", "advisory", "audit", "findings", "finding"}

func (h *Handler) parseTemplates() error {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("web: parse layout: %w", err)
	}
	h.pages = make(map[string]*template.Template, len(pageNames))
	for _, n := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return err
		}
		pats := []string{"templates/" + n + ".html"}
		if n == "device" {
			pats = append(pats, "templates/device_sbom.html") // SBOM section (device_sbom.go)
			// network peers (device_peers.go)
			pats = append(pats, "templates/device_peers.html")
		}
		if _, err := t.ParseFS(templateFS, pats...); err != nil {
			return fmt.Errorf("web: parse template %s: %w", n, err)
		}
		h.pages[n] = t
	}
	if _, err := fs.Stat(staticFS, "static/app.css"); err != nil {
		return fmt.Errorf("web: static assets missing: %w", err)
	}
	return nil
}

// render writes a page; a template failure becomes a 500 before anything is sent.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if p.RC != nil && p.RC.Session != nil {
		p.CSRF = p.RC.Session.CSRFToken
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		h.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // client went away
}

type errorData struct {
	Status  int
	Heading string
	Detail  string
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, heading, detail string) {
	h.render(w, r, status, "error", page{Title: heading, RC: rc, Data: errorData{Status: status, Heading: heading, Detail: detail}})
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error) {
	h.log.Error("console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	h.errorPage(w, r, rc, http.StatusInternalServerError, "Something went wrong",
		"The server could not complete the request. The error was logged; try again, and tell your administrator if it persists.")
}

func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
		h.errorPage(w, r, nil, http.StatusNotFound, "Page not found", "There is no page at "+r.URL.Path+".")
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	h.static.ServeHTTP(w, r)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
