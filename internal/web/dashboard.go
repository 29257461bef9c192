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
	AsOf          time.Time
	MaxAge        string
	// Refreshing: newer counts are being computed in the background.
	Refreshing bool
	// Findings and risk; F is nil until a matching run was stored.
	F         *store.FindingStats
	Bands     template.HTML
	SLA       template.HTML
	Trend     template.HTML
	Overdue   int64
	TrendDays int
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	today := h.now().UTC().Format(inventory.DateLayout)
	ds, err := h.stats(r, today)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	st := ds.stats
	d := dashData{Stats: st, Today: today, Conflicts: ds.conflicts, ConflictsMore: ds.conflictsMore, AsOf: ds.at, MaxAge: h.statsAge.String(), Refreshing: ds.refreshing}
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
	if f := ds.findings; f != nil {
		d.F = f
		var bb []bar
		for _, c := range f.DevicesByBand {
			bb = append(bb, bar{Label: c.Key, N: c.N, Href: "/findings?" + url.Values{"band": {c.Key}}.Encode(), Class: "band-" + c.Key})
		}
		d.Bands = barChart("Devices by risk band", bb)
		var sb []bar
		for _, c := range f.BySLA {
			if c.Key == "overdue" {
				d.Overdue = c.N
			}
			sb = append(sb, bar{Label: slaLabels[c.Key], N: c.N, Href: "/remediations", Class: "sla-" + c.Key})
		}
		d.SLA = barChart("Open remediations by due status", sb)
		if len(ds.trendDays) > 0 {
			d.Trend = lineChart("Devices per risk band, by day", ds.trendDays, ds.trend)
			d.TrendDays = len(ds.trendDays)
		}
	}
	d.Types = barChart("Devices by type", groupBars(st.ByType, "device_type"))
	d.Sites = barChart("Devices by site", groupBars(st.BySite, "site"))
	recent, err := h.st.ListDevices(ctx, store.DeviceQuery{Sort: "-updated_at", Limit: 8})
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	d.Recent = recent.Devices
	rep, err := h.feedReport(ctx)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	h.render(w, r, http.StatusOK, "dashboard", page{Title: "Dashboard", Nav: "dashboard", RC: rc, Data: d, Flash: flash(r), Feeds: rep})
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
	"finding":    "Finding updated. The change is in the audit log with your name.",
	"view-taken": "You already have a view with that name; choose another name.",
}

func flash(r *http.Request) string { return flashes[r.URL.Query().Get("flash")] }
