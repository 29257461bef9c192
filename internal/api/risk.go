package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/risk"
	"github.com/medwarden/medwarden/internal/store"
)

// Clinical risk under /api/v1/risk: per device (list and one device with
// its findings and factors), the register (aggregates by site, department,
// device type and vendor, with the dashboard figures) and the trend (the
// daily register snapshots). Every answer carries the feed report.

// deviceRiskSorts are the sort keys of GET /api/v1/risk/devices.
var deviceRiskSorts = []string{"score", "findings", "asset_id"}

var deviceRiskParams = []string{"band", "kev", "min_score", "site", "department", "device_type", "vendor", "sort", "limit", "cursor", "max_feed_age"}

func (s *Server) listDeviceRisk(w http.ResponseWriter, r *http.Request) {
	qv, ok := params(w, r, deviceRiskParams...)
	if !ok {
		return
	}
	fs, ok := s.findingStore(w, r)
	if !ok {
		return
	}
	q := store.DeviceRiskQuery{Site: qv.Get("site"), Department: qv.Get("department"), DeviceType: qv.Get("device_type"),
		Vendor: qv.Get("vendor"), Cursor: qv.Get("cursor")}
	if q.Band, ok = parseBand(w, r, qv); !ok {
		return
	}
	if q.KEV, ok = parseBoolParam(w, r, qv, "kev"); !ok {
		return
	}
	if v := qv.Get("min_score"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0 && f <= 100) {
			paramErr(w, r, "min_score", v, "a number from 0 to 100")
			return
		}
		q.MinScore = f
	}
	if q.Sort, ok = parseSort(w, r, qv, deviceRiskSorts); !ok {
		return
	}
	if q.Limit, ok = parseLimit(w, r, qv); !ok {
		return
	}
	page, err := fs.ListDeviceRisk(r.Context(), q)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	rep, ok := s.feedsFor(w, r, qv)
	if !ok {
		return
	}
	list := page.Devices
	if list == nil {
		list = []*store.DeviceRisk{}
	}
	resp := map[string]any{"devices": list, "feeds": rep}
	setNext(w, r, resp, page.Next)
	writeJSON(w, http.StatusOK, resp)
}

// deviceRiskView is one device's risk with its active findings.
type deviceRiskView struct {
	*store.DeviceRisk
	Device   deviceSummary    `json:"device"`
	Findings []*store.Finding `json:"active_findings"`
	// MoreFindings is the cursor of further findings (GET
	// /api/v1/findings?device_id=ID&cursor=...) when there are more than
	// the 1000 listed.
	MoreFindings string `json:"more_findings,omitempty"`
	Feeds        any    `json:"feeds"`
}

// deviceSummary names the device a risk is about.
type deviceSummary struct {
	ID               int64  `json:"id"`
	AssetID          string `json:"asset_id"`
	Vendor           string `json:"vendor,omitempty"`
	Model            string `json:"model,omitempty"`
	Version          string `json:"version,omitempty"`
	DeviceType       string `json:"device_type,omitempty"`
	Site             string `json:"site,omitempty"`
	Department       string `json:"department,omitempty"`
	Location         string `json:"location,omitempty"`
	Criticality      string `json:"criticality,omitempty"`
	Zone             string `json:"zone,omitempty"`
	PatientConnected *bool  `json:"patient_connected,omitempty"`
}

func summarise(d *inventory.Device) deviceSummary {
	return deviceSummary{ID: d.ID, AssetID: d.AssetID, Vendor: d.Vendor, Model: d.Model, Version: d.Version, DeviceType: d.DeviceType,
		Site: d.Site, Department: d.Department, Location: d.Location, Criticality: string(d.Criticality), Zone: d.Zone, PatientConnected: d.PatientConnected}
}

func (s *Server) getDeviceRisk(w http.ResponseWriter, r *http.Request) {
	qv, ok := params(w, r, "max_feed_age")
	if !ok {
		return
	}
	fs, ok := s.findingStore(w, r)
	if !ok {
		return
	}
	d, ok := s.deviceByPath(w, r)
	if !ok {
		return
	}
	dr, err := fs.GetDeviceRisk(r.Context(), d.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// no active finding: score 0, band info
		dr = &store.DeviceRisk{DeviceID: d.ID, AssetID: d.AssetID, Band: string(risk.BandInfo), Factors: json.RawMessage("[]"), Actions: json.RawMessage("[]"),
			Site: d.Site, Department: d.Department, DeviceType: d.DeviceType, Vendor: d.Vendor}
	case err != nil:
		s.storeError(w, r, err)
		return
	}
	page, err := fs.ListFindings(r.Context(), store.FindingQuery{DeviceID: d.ID, Limit: 1000})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	active := make([]*store.Finding, 0, len(page.Findings))
	for _, f := range page.Findings {
		if f.Workflow.State != store.StateFalsePositive && f.Workflow.State != store.StateResolved {
			active = append(active, f)
		}
	}
	rep, ok := s.feedsFor(w, r, qv)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, deviceRiskView{DeviceRisk: dr, Device: summarise(d), Findings: active, MoreFindings: page.Next, Feeds: rep})
}

// registerView is GET /api/v1/risk/register.
type registerView struct {
	risk.Register
	// Summary is the dashboard's figures (findings by band, state and SLA,
	// KEV, top devices), with ?summary=true.
	Summary *store.FindingStats `json:"summary,omitempty"`
	Feeds   any                 `json:"feeds"`
}

// registerSource gives the current risk register (findings.Service).
type registerSource interface {
	Register(ctx context.Context) (risk.Register, error)
}

// getRegister aggregates the current device risk of the whole inventory
// (every device counts, affected or not) by site, department, device type
// and vendor.
func (s *Server) getRegister(w http.ResponseWriter, r *http.Request) {
	qv, ok := params(w, r, "summary", "max_feed_age")
	if !ok {
		return
	}
	fs, ok := s.findingStore(w, r)
	if !ok {
		return
	}
	withSummary, ok := parseBoolParam(w, r, qv, "summary")
	if !ok {
		return
	}
	ctx := r.Context()
	// the dashboard figures are a store aggregate over every finding
	// (0.8 CPU-s at 100k devices): only on request
	var stats *store.FindingStats
	var err error
	if withSummary != nil && *withSummary {
		stats, err = fs.FindingStats(ctx, store.FindingStatsOptions{Today: s.now().UTC().Format("2006-01-02"), DueSoonDays: s.acceptancePolicy().DueSoonDays})
		if err != nil {
			s.storeError(w, r, err)
			return
		}
	}
	// the findings service holds the assessed fleet in memory: its register
	// is current and cheap; without it, read the inventory and device risk
	if src, ok := s.workflow.(registerSource); ok {
		reg, err := src.Register(ctx)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		rep, ok := s.feedsFor(w, r, qv)
		if !ok {
			return
		}
		writeJSON(w, http.StatusOK, registerView{Register: reg, Summary: stats, Feeds: rep})
		return
	}
	risks := map[int64]*store.DeviceRisk{}
	q := store.DeviceRiskQuery{Limit: 1000, Sort: "asset_id"}
	for {
		page, err := fs.ListDeviceRisk(ctx, q)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		for _, dr := range page.Devices {
			risks[dr.DeviceID] = dr
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	var items []risk.Assessed
	err = s.st.ScanDevices(ctx, func(d *inventory.Device) error {
		a := risk.Assessed{AssetID: d.AssetID, Site: d.Site, Department: d.Department, DeviceType: d.DeviceType, Vendor: d.Vendor, Band: risk.BandInfo}
		if dr := risks[d.ID]; dr != nil {
			a.Score, a.Band, a.Findings, a.KEV = dr.Score, risk.Band(dr.Band), dr.Findings, dr.KEV
		}
		items = append(items, a)
		return nil
	})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	rep, ok := s.feedsFor(w, r, qv)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, registerView{Register: risk.BuildRegister(items), Summary: stats, Feeds: rep})
}

// trendGroups are the register groupings GET /api/v1/risk/trend can add
// to each day's totals.
var trendGroups = map[string]string{"site": "by_site", "department": "by_department", "device_type": "by_device_type", "vendor": "by_vendor"}

// trendPoint is one day of the trend.
type trendPoint struct {
	Day   string          `json:"day"`
	Total json.RawMessage `json:"total"`
	// Groups is the day's rows of the asked grouping (?group=site, ...).
	Groups json.RawMessage `json:"groups,omitempty"`
}

func (s *Server) getTrend(w http.ResponseWriter, r *http.Request) {
	qv, ok := params(w, r, "from", "to", "group", "max_feed_age")
	if !ok {
		return
	}
	fs, ok := s.findingStore(w, r)
	if !ok {
		return
	}
	from, ok := parseDay(w, r, qv, "from")
	if !ok {
		return
	}
	to, ok := parseDay(w, r, qv, "to")
	if !ok {
		return
	}
	if from != "" && to != "" && to < from {
		paramErr(w, r, "to", to, "on or after from ("+from+")")
		return
	}
	group := qv.Get("group")
	member, known := trendGroups[group]
	if group != "" && !known {
		paramErr(w, r, "group", group, "one of site, department, device_type, vendor")
		return
	}
	snaps, err := fs.ListRiskSnapshots(r.Context(), from, to)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	points := make([]trendPoint, 0, len(snaps))
	for _, sn := range snaps {
		var reg map[string]json.RawMessage
		if err := json.Unmarshal(sn.Register, &reg); err != nil {
			s.storeError(w, r, fmt.Errorf("risk snapshot of %s is not a register: %w", sn.Day, err))
			return
		}
		p := trendPoint{Day: sn.Day, Total: reg["total"]}
		if member != "" {
			p.Groups = reg[member]
		}
		points = append(points, p)
	}
	rep, ok := s.feedsFor(w, r, qv)
	if !ok {
		return
	}
	resp := map[string]any{"from": from, "to": to, "days": points, "feeds": rep}
	if group != "" {
		resp["group"] = strings.ToLower(group)
	}
	writeJSON(w, http.StatusOK, resp)
}
