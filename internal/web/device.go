package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// openConflicts are the conflicts nobody has decided yet. Keeping the
// intended value records an "edited" provenance; a conflict stays closed
// until a sensor reports something newer than that decision.
func openConflicts(d *inventory.Device) []inventory.Conflict {
	var out []inventory.Conflict
	for _, c := range d.Conflicts() {
		if p, ok := d.Provenance[c.Field]; ok && p.Kind == inventory.SourceEdited && !p.At.Before(c.Observed.At) {
			continue
		}
		out = append(out, c)
	}
	return out
}

type fieldRow struct {
	Field, Label, Value string
	Prov                *inventory.Provenance
	Obs                 *inventory.Observation
	Conflict            bool
}

type deviceData struct {
	D         *inventory.Device
	Rows      []fieldRow
	Conflicts []inventory.Conflict
	SBOM      deviceSBOM // device_sbom.go
	Peers     devicePeers
	Risk      deviceRisk
}

func (h *Handler) loadDevice(w http.ResponseWriter, r *http.Request, rc *reqCtx) *inventory.Device {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, rc, http.StatusNotFound, "No such device", "There is no device with that number.")
		return nil
	}
	d, err := h.st.GetDevice(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, rc, http.StatusNotFound, "No such device", fmt.Sprintf("Device %d does not exist; it may have been deleted.", id))
		return nil
	}
	if err != nil {
		h.serverError(w, r, rc, err)
		return nil
	}
	return d
}

func (h *Handler) device(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	d := h.loadDevice(w, r, rc)
	if d == nil {
		return
	}
	h.renderDevice(w, r, rc, d, http.StatusOK, flash(r))
}

func (h *Handler) renderDevice(w http.ResponseWriter, r *http.Request, rc *reqCtx, d *inventory.Device, status int, msg string) {
	dd := deviceData{D: d, Conflicts: openConflicts(d)}
	open := map[string]bool{}
	for _, c := range dd.Conflicts {
		open[c.Field] = true
	}
	for _, f := range inventory.Fields {
		row := fieldRow{Field: f, Label: fieldLabel(f), Value: d.Get(f), Conflict: open[f]}
		if f == "patient_connected" || f == "phi" {
			row.Value = map[string]string{"true": "yes", "false": "no"}[row.Value]
		}
		if p, ok := d.Provenance[f]; ok {
			row.Prov = &p
		}
		if o, ok := d.Observed[f]; ok {
			row.Obs = &o
		}
		dd.Rows = append(dd.Rows, row)
	}
	title := d.AssetID
	if title == "" {
		title = fmt.Sprintf("Device %d", d.ID)
	}
	rep, err := h.feedReport(r.Context())
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	if dd.Risk, err = h.deviceRisk(r.Context(), d.ID, h.now()); err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	dd.SBOM = h.deviceSBOMs(r.Context(), d)
	dd.Peers = h.devicePeers(r.Context(), d) // device_peers.go
	h.render(w, r, status, "device", page{Title: title, Nav: "devices", RC: rc, Data: dd, Flash: msg, Feeds: rep})
}

// resolveConflict records a person's decision on one conflict: accept the
// observed value as the intended one, or keep the intended value. Both
// write an "edited" provenance naming the user.
func (h *Handler) resolveConflict(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	d := h.loadDevice(w, r, rc)
	if d == nil {
		return
	}
	field, action := r.PostFormValue("field"), r.PostFormValue("action")
	rev, err := strconv.ParseInt(r.PostFormValue("revision"), 10, 64)
	if err != nil || (action != "accept" && action != "keep") {
		h.errorPage(w, r, rc, http.StatusBadRequest, "Bad request", "The form is incomplete: it needs a field, an action (accept or keep) and the device revision.")
		return
	}
	if rev != d.Revision {
		h.renderDevice(w, r, rc, d, http.StatusConflict, "Someone changed this device since you opened it. Review the current values below and decide again.")
		return
	}
	var c *inventory.Conflict
	for _, oc := range openConflicts(d) {
		if oc.Field == field {
			c = &oc
			break
		}
	}
	if c == nil {
		h.renderDevice(w, r, rc, d, http.StatusConflict, fmt.Sprintf("There is no open conflict on %s any more.", fieldLabel(field)))
		return
	}
	prov := inventory.Provenance{Kind: inventory.SourceEdited, Source: "user:" + rc.User.Username, At: h.now().UTC()}
	if action == "accept" {
		if err := setField(d, field, c.Observed.Value); err != nil {
			h.renderDevice(w, r, rc, d, http.StatusUnprocessableEntity, "The observed value cannot be used: "+err.Error()+".")
			return
		}
	}
	if d.Provenance == nil {
		d.Provenance = map[string]inventory.Provenance{}
	}
	d.Provenance[field] = prov
	err = h.st.UpdateDevice(r.Context(), d, rev)
	if errors.Is(err, store.ErrConflict) {
		h.renderDevice(w, r, rc, d, http.StatusConflict, "Someone changed this device at the same moment. Reload and decide again.")
		return
	}
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	h.dropStats()
	h.log.Info("conflict resolved", "device_id", d.ID, "field", field, "action", action, "user", rc.User.Username)
	http.Redirect(w, r, fmt.Sprintf("/devices/%d?flash=resolved#conflicts", d.ID), http.StatusSeeOther)
}

// setField sets an intended field from its text form (an observed value).
// An observed address is added to the device's addresses.
func setField(d *inventory.Device, field, value string) error {
	value = strings.TrimSpace(value)
	switch field {
	case "vendor":
		d.Vendor = value
	case "model":
		d.Model = value
	case "version":
		d.Version = value
	case "serial":
		d.Serial = value
	case "hostname":
		d.Hostname = value
	case "site":
		d.Site = value
	case "location":
		d.Location = value
	case "department":
		d.Department = value
	case "device_type":
		d.DeviceType = value
	case "os":
		d.OS = value
	case "udi_di":
		d.UDIDI = value
	case "zone":
		d.Zone = value
	case "asset_id":
		d.AssetID = value
	case "mac":
		m, err := inventory.NormalizeMAC(value)
		if err != nil {
			return err
		}
		if !slices.Contains(d.MACs, m) {
			d.MACs = append(d.MACs, m)
		}
	case "ip":
		ip, err := inventory.NormalizeIP(value)
		if err != nil {
			return err
		}
		if !slices.Contains(d.IPs, ip) {
			d.IPs = append(d.IPs, ip)
		}
	case "criticality":
		c, err := inventory.ParseCriticality(value)
		if err != nil {
			return err
		}
		d.Criticality = c
	case "patient_connected", "phi":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%q is not true or false", value)
		}
		if field == "phi" {
			d.PHI = &b
		} else {
			d.PatientConnected = &b
		}
	case "end_of_support", "end_of_life":
		dt, err := inventory.ParseDate(value)
		if err != nil {
			return err
		}
		if field == "end_of_life" {
			d.EndOfLife = &dt
		} else {
			d.EndOfSupport = &dt
		}
	default:
		return fmt.Errorf("field %q cannot be set", field)
	}
	return nil
}
