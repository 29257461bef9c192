package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/jsonfile"
	"github.com/medwarden/medwarden/internal/store"
)

// deviceView is a device as the API returns it: the stored device plus the
// conflicts between its intended and observed values.
type deviceView struct {
	*inventory.Device
	Conflicts []inventory.Conflict `json:"conflicts,omitempty"`
}

func view(d *inventory.Device) deviceView { return deviceView{Device: d, Conflicts: d.Conflicts()} }

func etag(d *inventory.Device) string { return `"` + strconv.FormatInt(d.Revision, 10) + `"` }

// listParams are the query parameters that are not field filters.
var listParams = map[string]bool{"q": true, "sort": true, "limit": true, "cursor": true, "eos_before": true}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	q := store.DeviceQuery{Filters: map[string]string{}, Search: qv.Get("q"), Sort: qv.Get("sort"), Cursor: qv.Get("cursor"), EOSBefore: qv.Get("eos_before")}
	if l := qv.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			badRequest(w, r, "limit must be a whole number from 1 to 1000", &inventory.InputError{Column: "limit", Value: l, Reason: "not in 1..1000"})
			return
		}
		q.Limit = n
	}
	for k, vs := range qv {
		if listParams[k] {
			continue
		}
		if len(vs) != 1 {
			badRequest(w, r, fmt.Sprintf("filter %q given %d times", k, len(vs)), &inventory.InputError{Column: k, Reason: "give each filter once"})
			return
		}
		q.Filters[k] = vs[0]
	}
	page, err := s.st.ListDevices(r.Context(), q)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	views := make([]deviceView, len(page.Devices))
	for i, d := range page.Devices {
		views[i] = view(d)
	}
	if page.Next != "" {
		nq := r.URL.Query()
		nq.Set("cursor", page.Next)
		w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, nq.Encode()))
	}
	writeDeviceList(w, views, page.Next, &s.listJSON)
}

func (s *Server) deviceByPath(w http.ResponseWriter, r *http.Request) (*inventory.Device, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		badRequest(w, r, "device id must be a positive whole number", &inventory.InputError{Column: "id", Value: r.PathValue("id"), Reason: "not a device id"})
		return nil, false
	}
	d, err := s.st.GetDevice(r.Context(), id)
	if err != nil {
		s.storeError(w, r, err)
		return nil, false
	}
	return d, true
}

func (s *Server) getDevice(w http.ResponseWriter, r *http.Request) {
	d, ok := s.deviceByPath(w, r)
	if !ok {
		return
	}
	w.Header().Set("ETag", etag(d))
	writeDeviceJSON(w, http.StatusOK, view(d))
}

// decodeDevice reads one device from a JSON body with the same validation
// as a JSON import; field errors name the field.
func (s *Server) decodeDevice(w http.ResponseWriter, r *http.Request) (*inventory.Device, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeProblem(w, r, Problem{Type: typeValidation, Title: "unsupported media type", Status: http.StatusUnsupportedMediaType, Detail: "send the device as application/json"})
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeProblem(w, r, Problem{Type: typeTooLarge, Title: "request too large", Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("a device body may be at most %d bytes", MaxJSONBody)})
			return nil, false
		}
		badRequest(w, r, "could not read the request body: "+err.Error())
		return nil, false
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		badRequest(w, r, "the body must be one JSON object describing a device")
		return nil, false
	}
	wrapped := append(append([]byte("["), body...), ']')
	dec, err := jsonfile.NewDecoder(bytes.NewReader(wrapped), "body")
	if err == nil {
		var d *inventory.Device
		d, err = dec.Next()
		if err == nil {
			if _, extra := dec.Next(); extra != io.EOF {
				err = fmt.Errorf("the body must hold exactly one device")
			} else {
				return d, true
			}
		}
	}
	if ie, ok := inventory.AsInputError(err); ok {
		ie.Column = strings.TrimPrefix(strings.TrimPrefix(ie.Column, "[0]"), ".")
		ie.File = ""
		badRequest(w, r, "invalid device: "+ie.Reason, ie)
		return nil, false
	}
	badRequest(w, r, "invalid device: "+err.Error())
	return nil, false
}

func (s *Server) createDevice(w http.ResponseWriter, r *http.Request) {
	in, ok := s.decodeDevice(w, r)
	if !ok {
		return
	}
	d := &inventory.Device{}
	setIntended(d, in, inventory.Provenance{Kind: inventory.SourceEdited, Source: actor(r), At: store.Now()})
	if err := s.st.CreateDevice(r.Context(), d); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(d))
	w.Header().Set("Location", fmt.Sprintf("/api/v1/devices/%d", d.ID))
	writeDeviceJSON(w, http.StatusCreated, view(d))
}

// ifMatch returns the revision named by If-Match, demanding one.
func ifMatch(w http.ResponseWriter, r *http.Request) (int64, bool) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		writeProblem(w, r, Problem{Type: typePrecond, Title: "precondition required", Status: http.StatusPreconditionRequired,
			Detail: "send If-Match with the ETag of the device you read, so concurrent edits are not lost"})
		return 0, false
	}
	rev, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || rev <= 0 {
		badRequest(w, r, "If-Match must be an ETag returned by this API", &inventory.InputError{Column: "If-Match", Value: h, Reason: "not a device ETag"})
		return 0, false
	}
	return rev, true
}

func (s *Server) updateDevice(w http.ResponseWriter, r *http.Request) {
	rev, ok := ifMatch(w, r)
	if !ok {
		return
	}
	d, ok := s.deviceByPath(w, r)
	if !ok {
		return
	}
	in, ok := s.decodeDevice(w, r)
	if !ok {
		return
	}
	setIntended(d, in, inventory.Provenance{Kind: inventory.SourceEdited, Source: actor(r), At: store.Now()})
	if err := s.st.UpdateDevice(r.Context(), d, rev); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(d))
	writeDeviceJSON(w, http.StatusOK, view(d))
}

func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request) {
	rev, ok := ifMatch(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		badRequest(w, r, "device id must be a positive whole number")
		return
	}
	if err := s.st.DeleteDevice(r.Context(), id, rev); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// setIntended replaces every intended field of dst with src's (a PUT is a
// full replacement), recording p as the provenance of each field that
// changed. Observed values are kept.
func setIntended(dst, src *inventory.Device, p inventory.Provenance) {
	before := map[string]string{}
	for _, f := range inventory.Fields {
		before[f] = dst.Get(f)
	}
	dst.AssetID, dst.Vendor, dst.Model, dst.DeviceType = src.AssetID, src.Vendor, src.Model, src.DeviceType
	dst.Version, dst.Serial, dst.UDIDI, dst.MACs, dst.IPs = src.Version, src.Serial, src.UDIDI, src.MACs, src.IPs
	dst.Hostname, dst.Site, dst.Location, dst.Department = src.Hostname, src.Site, src.Location, src.Department
	dst.Criticality, dst.PatientConnected, dst.PHI = src.Criticality, src.PatientConnected, src.PHI
	dst.Zone, dst.OS, dst.EndOfSupport, dst.EndOfLife = src.Zone, src.OS, src.EndOfSupport, src.EndOfLife
	for _, f := range inventory.Fields {
		if dst.Get(f) == before[f] {
			continue
		}
		if dst.Provenance == nil {
			dst.Provenance = map[string]inventory.Provenance{}
		}
		if dst.Get(f) == "" {
			delete(dst.Provenance, f)
			continue
		}
		dst.Provenance[f] = p
	}
}

// actor names who made a change. Until authentication lands (issues 5 and
// 9) it is the client address.
func actor(r *http.Request) string { return "api:" + r.RemoteAddr }
