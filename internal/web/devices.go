package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/csvfile"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqldb"
)

var errStop = errors.New("stop")

// Page sizes offered; the store caps at 1000.
var pageSizes = []int{25, 50, 100, 200}

// maxBack is how many earlier cursors the list keeps for "Previous".
const maxBack = 30

// primaryFilters are shown first; the other fields sit under "More filters".
var primaryFilters = []string{"site", "department", "device_type", "vendor", "criticality"}

type filterInput struct {
	Field, Label, Value string
	Choices             []choice // a select when set
}

type choice struct{ Value, Label string }

type column struct {
	Field, Label, Href string
	Sorted             string // "ascending", "descending" or ""
}

type devicesData struct {
	// Building is how many index builds a large import left pending
	// (lists answer, slower, until they are done).
	Building  int
	Query     string
	Primary   []filterInput
	More      []filterInput
	MoreOpen  bool
	EOSBefore string
	Sort      string
	Limit     int
	Sizes     []int
	Columns   []column
	Devices   []*inventory.Device
	Next      string // URL of the next page
	Prev      string // URL of the previous page
	First     string // URL of the first page ("" on it)
	Active    []string
	CSV       string
	Views     []*store.SavedView
	Current   string // encoded query of this list (for saving a view)
	Error     string
}

func boolChoices() []choice {
	return []choice{{"", "Any"}, {"true", "Yes"}, {"false", "No"}}
}

func critChoices() []choice {
	out := []choice{{"", "Any"}}
	for _, c := range inventory.Criticalities {
		out = append(out, choice{string(c), critLabel(c)})
	}
	return append(out, choice{"unknown", "Unknown"})
}

// listQuery turns the URL query of /devices into a store query.
func listQuery(v url.Values) (store.DeviceQuery, []string) {
	q := store.DeviceQuery{Filters: map[string]string{}, Search: strings.TrimSpace(v.Get("q")), Sort: v.Get("sort"),
		Cursor: v.Get("cursor"), EOSBefore: strings.TrimSpace(v.Get("eos_before"))}
	var active []string
	for _, f := range inventory.Fields {
		val := strings.TrimSpace(v.Get(f))
		if val == "" {
			continue
		}
		if f == "criticality" && strings.EqualFold(val, "unknown") {
			q.Filters[f] = ""
		} else {
			q.Filters[f] = val
		}
		active = append(active, fieldLabel(f)+": "+val)
	}
	if q.Search != "" {
		active = append(active, "Search: "+q.Search)
	}
	if q.EOSBefore != "" {
		active = append(active, "End of support before "+q.EOSBefore)
	}
	q.Limit = 50
	if n, err := strconv.Atoi(v.Get("limit")); err == nil && slices.Contains(pageSizes, n) {
		q.Limit = n
	}
	return q, active
}

// keep is the query without paging state.
func keep(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if k == "cursor" || k == "back" || k == "flash" || len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
			continue
		}
		if k == "q" || k == "sort" || k == "limit" || k == "eos_before" || k == "conflicts" || slices.Contains(inventory.Fields, k) {
			out.Set(k, vs[0])
		}
	}
	return out
}

func (h *Handler) devices(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	v := r.URL.Query()
	q, active := listQuery(v)
	base := keep(v)
	d := devicesData{Query: q.Search, EOSBefore: q.EOSBefore, Sort: q.Sort, Limit: q.Limit, Sizes: pageSizes, Active: active}
	for _, f := range inventory.Fields {
		fi := filterInput{Field: f, Label: fieldLabel(f), Value: v.Get(f)}
		switch f {
		case "criticality":
			fi.Choices = critChoices()
		case "patient_connected", "phi":
			fi.Choices = boolChoices()
		}
		if slices.Contains(primaryFilters, f) {
			d.Primary = append(d.Primary, fi)
		} else {
			d.More = append(d.More, fi)
			if fi.Value != "" {
				d.MoreOpen = true
			}
		}
	}
	slices.SortStableFunc(d.Primary, func(a, b filterInput) int {
		return slices.Index(primaryFilters, a.Field) - slices.Index(primaryFilters, b.Field)
	})
	sortField, desc := strings.CutPrefix(q.Sort, "-")
	for _, f := range []string{"asset_id", "vendor", "model", "device_type", "version", "site", "department", "criticality", "end_of_support", "updated_at"} {
		c := column{Field: f, Label: fieldLabel(f)}
		nv := cloneValues(base)
		switch {
		case sortField == f && !desc:
			c.Sorted = "ascending"
			nv.Set("sort", "-"+f)
		case sortField == f:
			c.Sorted = "descending"
			nv.Set("sort", f)
		case f == "criticality" || f == "updated_at":
			nv.Set("sort", "-"+f) // most critical / newest first is what people want first
		default:
			nv.Set("sort", f)
		}
		c.Href = "/devices?" + nv.Encode()
		d.Columns = append(d.Columns, c)
	}
	d.Current = base.Encode()
	d.CSV = "/devices.csv?" + d.Current
	views, err := h.st.ListViews(r.Context(), rc.User.ID)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	d.Views = views
	if pending, err := h.st.PendingIndexes(r.Context()); err == nil {
		d.Building = len(pending)
	}
	if v.Get("conflicts") == "open" {
		h.conflictList(w, r, rc, d)
		return
	}
	page, err := h.st.ListDevices(r.Context(), q)
	var qe *sqldb.QueryError
	switch {
	case errors.As(err, &qe):
		d.Error = fmt.Sprintf("The filter %s is not valid: %s.", fieldLabel(qe.Param), qe.Reason)
		h.render(w, r, http.StatusBadRequest, "devices", pageOf(rc, d, r))
		return
	case err != nil:
		h.serverError(w, r, rc, err)
		return
	}
	d.Devices = page.Devices
	back := splitBack(v.Get("back"))
	if page.Next != "" {
		nv := cloneValues(base)
		nv.Set("cursor", page.Next)
		if q.Cursor != "" {
			nb := append(slices.Clone(back), q.Cursor)
			if len(nb) > maxBack {
				nb = nb[len(nb)-maxBack:]
			}
			nv.Set("back", strings.Join(nb, "."))
		} else {
			nv.Set("back", "-") // "-" marks the first page
		}
		d.Next = "/devices?" + nv.Encode()
	}
	if q.Cursor != "" {
		d.First = "/devices?" + base.Encode()
		if len(back) > 0 && back[len(back)-1] != "-" {
			pv := cloneValues(base)
			pv.Set("cursor", back[len(back)-1])
			if len(back) > 1 {
				pv.Set("back", strings.Join(back[:len(back)-1], "."))
			} else {
				pv.Set("back", "-")
			}
			d.Prev = "/devices?" + pv.Encode()
		} else {
			d.Prev = d.First
		}
	}
	h.render(w, r, http.StatusOK, "devices", pageOf(rc, d, r))
}

// maxConflictList bounds the conflict list (it is not paged).
const maxConflictList = 1000

// conflictList lists devices with open provenance conflicts (the
// dashboard's count, explained).
func (h *Handler) conflictList(w http.ResponseWriter, r *http.Request, rc *reqCtx, d devicesData) {
	d.Active = append(d.Active, "open provenance conflicts")
	d.Current = "conflicts=open"
	d.CSV = ""
	err := h.st.ScanObserved(r.Context(), func(dev *inventory.Device) error {
		if len(openConflicts(dev)) > 0 {
			d.Devices = append(d.Devices, dev)
		}
		if len(d.Devices) >= maxConflictList {
			d.Error = fmt.Sprintf("Only the first %d devices with conflicts are listed.", maxConflictList)
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		h.serverError(w, r, rc, err)
		return
	}
	h.render(w, r, http.StatusOK, "devices", pageOf(rc, d, r))
}

func pageOf(rc *reqCtx, d devicesData, r *http.Request) page {
	return page{Title: "Devices", Nav: "devices", RC: rc, Data: d, Flash: flash(r)}
}

func splitBack(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ".")
	if len(parts) > maxBack {
		parts = parts[len(parts)-maxBack:]
	}
	return parts
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+2)
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// devicesCSV streams every device the list's filters select, in the
// canonical inventory columns (re-importable), with spreadsheet formula
// injection neutralised.
func (h *Handler) devicesCSV(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q, _ := listQuery(r.URL.Query())
	q.Limit, q.Cursor = 1000, ""
	ctx := r.Context()
	first, err := h.st.ListDevices(ctx, q)
	var qe *sqldb.QueryError
	if errors.As(err, &qe) {
		h.errorPage(w, r, rc, http.StatusBadRequest, "Invalid filter", fmt.Sprintf("The filter %s is not valid: %s.", fieldLabel(qe.Param), qe.Reason))
		return
	}
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="medwarden-devices.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cols := append(slices.Clone(csvfile.Header), csvfile.ExtraHeader...)
	if err := cw.Write(cols); err != nil {
		return
	}
	row := make([]string, len(cols))
	page := first
	for {
		for _, d := range page.Devices {
			for i, f := range cols {
				row[i] = csvSafe(csvCell(d, f))
			}
			if err := cw.Write(row); err != nil {
				return
			}
		}
		if page.Next == "" || ctx.Err() != nil {
			break
		}
		q.Cursor = page.Next
		if page, err = h.st.ListDevices(ctx, q); err != nil {
			h.log.Error("csv export", "err", err)
			break
		}
	}
	cw.Flush()
}

func csvCell(d *inventory.Device, f string) string {
	switch f {
	case "patient_connected", "phi":
		switch d.Get(f) {
		case "true":
			return "yes"
		case "false":
			return "no"
		}
		return ""
	}
	return d.Get(f)
}

// csvSafe stops spreadsheets from running a cell as a formula (OWASP CSV
// injection): cells starting with = + @ tab or CR, or - not followed by a
// digit, get a leading apostrophe.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + s
	case '-':
		if len(s) == 1 || s[1] < '0' || s[1] > '9' {
			return "'" + s
		}
	}
	return s
}

// maxViews bounds the saved views per user.
const maxViews = 50

func (h *Handler) saveView(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	qv, err := url.ParseQuery(r.PostFormValue("query"))
	if err != nil || name == "" || len([]rune(name)) > 80 {
		h.errorPage(w, r, rc, http.StatusBadRequest, "View not saved", "Give the view a name of 1 to 80 characters.")
		return
	}
	ctx := r.Context()
	views, err := h.st.ListViews(ctx, rc.User.ID)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	if len(views) >= maxViews {
		h.errorPage(w, r, rc, http.StatusBadRequest, "View not saved", fmt.Sprintf("You have %d saved views, the most allowed; delete one first.", maxViews))
		return
	}
	query := keep(qv).Encode()
	err = h.st.SaveView(ctx, &store.SavedView{UserID: rc.User.ID, Name: name, Query: query})
	if errors.Is(err, store.ErrExists) {
		http.Redirect(w, r, "/devices?"+withFlash(query, "view-taken"), http.StatusSeeOther)
		return
	}
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	http.Redirect(w, r, "/devices?"+withFlash(query, "saved"), http.StatusSeeOther)
}

func withFlash(query, f string) string {
	if query == "" {
		return "flash=" + f
	}
	return query + "&flash=" + f
}

func (h *Handler) deleteView(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.errorPage(w, r, rc, http.StatusNotFound, "No such view", "That saved view does not exist.")
		return
	}
	err = h.st.DeleteView(r.Context(), rc.User.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, rc, http.StatusNotFound, "No such view", "That saved view does not exist or belongs to someone else.")
		return
	}
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	http.Redirect(w, r, "/devices?flash=deleted", http.StatusSeeOther)
}
