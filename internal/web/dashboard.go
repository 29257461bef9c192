package web

import (
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// topGroups bars are drawn per chart; the rest are summed into "other".
const topGroups = 10

type dashData struct {
	Stats         *store.DeviceStats
	Today         string
	Crit          template.HTML
	Types         template.HTML
	Sites         template.HTML
	Conflicts     int64
	ConflictsMore bool // more observed devices than were checked
	Recent        []*inventory.Device
}

// conflictCount caches the open-conflict count: it needs every observed
// device, so it is recomputed at most once a minute.
type conflictCount struct {
	n    int64
	more bool
	at   time.Time
}

// maxConflictScan bounds the devices examined for the conflict count.
const maxConflictScan = 50_000

func (h *Handler) conflicts(r *http.Request) (int64, bool, error) {
	h.dashMu.Lock()
	defer h.dashMu.Unlock()
	if c := h.dashCache; c != nil && h.now().Sub(c.at) < time.Minute {
		return c.n, c.more, nil
	}
	var n, seen int64
	more := false
	err := h.st.ScanObserved(r.Context(), func(d *inventory.Device) error {
		seen++
		if seen > maxConflictScan {
			more = true
			return errStop
		}
		if len(openConflicts(d)) > 0 {
			n++
		}
		return nil
	})
	if err != nil && err != errStop {
		return 0, false, err
	}
	h.dashCache = &conflictCount{n: n, more: more, at: h.now()}
	return n, more, nil
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	today := h.now().UTC().Format(inventory.DateLayout)
	st, err := h.st.DeviceStats(ctx, today)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	d := dashData{Stats: st, Today: today}
	var crit []bar
	for _, c := range st.ByCriticality {
		v := url.Values{"criticality": {c.Key}}
		href := "/devices?" + v.Encode()
		if c.Key == "" {
			href = "/devices?criticality=unknown"
		}
		crit = append(crit, bar{Label: critLabel(inventory.Criticality(c.Key)), N: c.N, Href: href, Class: "crit-" + orUnknown(c.Key)})
	}
	d.Crit = barChart("Devices by clinical criticality", crit)
	d.Types = barChart("Devices by type", groupBars(st.ByType, "device_type"))
	d.Sites = barChart("Devices by site", groupBars(st.BySite, "site"))
	if d.Conflicts, d.ConflictsMore, err = h.conflicts(r); err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	recent, err := h.st.ListDevices(ctx, store.DeviceQuery{Sort: "-updated_at", Limit: 8})
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	d.Recent = recent.Devices
	h.render(w, r, http.StatusOK, "dashboard", page{Title: "Dashboard", Nav: "dashboard", RC: rc, Data: d, Flash: flash(r)})
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func groupBars(cs []store.Count, field string) []bar {
	var out []bar
	var other int64
	for i, c := range cs {
		if i >= topGroups {
			other += c.N
			continue
		}
		label := c.Key
		if label == "" {
			label = "(not recorded)"
		}
		out = append(out, bar{Label: label, N: c.N, Href: "/devices?" + url.Values{field: {c.Key}}.Encode()})
	}
	if other > 0 {
		out = append(out, bar{Label: "all others", N: other, Href: "/devices?sort=" + field})
	}
	return out
}

// flashes are the status lines a redirect may ask for; arbitrary text is
// never reflected.
var flashes = map[string]string{
	"password":   "Your password was changed. Other sessions were signed out.",
	"resolved":   "Conflict resolved. The decision is recorded as an edit with your name.",
	"saved":      "View saved.",
	"deleted":    "View deleted.",
	"updated":    "User updated.",
	"view-taken": "You already have a view with that name; choose another name.",
}

func flash(r *http.Request) string { return flashes[r.URL.Query().Get("flash")] }
