package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/sboms"
	"github.com/medwarden/medwarden/internal/store"
)

// SBOM routes: GET/POST /api/v1/sboms, GET /api/v1/sboms/{id},
// GET /api/v1/sboms/{id}/diff?from=ID, GET /api/v1/sboms/{id}/export,
// GET /api/v1/components, GET /api/v1/devices/{id}/sboms.

// checkParams rejects unknown and repeated query parameters.
func checkParams(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for k, vs := range r.URL.Query() {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
			}
		}
		if !ok {
			badRequest(w, r, fmt.Sprintf("unknown query parameter %q (use %s)", k, strings.Join(allowed, ", ")), &inventory.InputError{Column: k, Reason: "unknown parameter"})
			return false
		}
		if len(vs) != 1 {
			badRequest(w, r, fmt.Sprintf("parameter %q given %d times", k, len(vs)), &inventory.InputError{Column: k, Reason: "give each parameter once"})
			return false
		}
	}
	return true
}

func queryLimit(w http.ResponseWriter, r *http.Request) (int, bool) {
	l := r.URL.Query().Get("limit")
	if l == "" {
		return 0, true
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > 1000 {
		badRequest(w, r, "limit must be a whole number from 1 to 1000", &inventory.InputError{Column: "limit", Value: l, Reason: "not in 1..1000"})
		return 0, false
	}
	return n, true
}

func queryBool(w http.ResponseWriter, r *http.Request, name string) (bool, bool) {
	v := r.URL.Query().Get(name)
	switch v {
	case "", "false", "0":
		return false, true
	case "true", "1":
		return true, true
	}
	badRequest(w, r, name+" must be true or false", &inventory.InputError{Column: name, Value: v, Reason: "not a boolean"})
	return false, false
}

func queryID(w http.ResponseWriter, r *http.Request, name, v string) (int64, bool) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		badRequest(w, r, name+" must be a positive whole number", &inventory.InputError{Column: name, Value: v, Reason: "not an id"})
		return 0, false
	}
	return id, true
}

func writePage(w http.ResponseWriter, r *http.Request, resp map[string]any, next string) {
	if next != "" {
		nq := r.URL.Query()
		nq.Set("cursor", next)
		resp["next"] = next
		w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, nq.Encode()))
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) listSBOMs(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r, "vendor", "model", "firmware_version", "device_id", "latest", "limit", "cursor") {
		return
	}
	qv := r.URL.Query()
	q := store.SBOMQuery{Vendor: qv.Get("vendor"), Model: qv.Get("model"), FirmwareVersion: qv.Get("firmware_version"), Cursor: qv.Get("cursor")}
	var ok bool
	if d := qv.Get("device_id"); d != "" {
		if q.DeviceID, ok = queryID(w, r, "device_id", d); !ok {
			return
		}
	}
	if q.Latest, ok = queryBool(w, r, "latest"); !ok {
		return
	}
	if q.Limit, ok = queryLimit(w, r); !ok {
		return
	}
	page, err := s.st.ListSBOMs(r.Context(), q)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writePage(w, r, map[string]any{"sboms": page.SBOMs}, page.Next)
}

// attachSBOM stores the request body as the next SBOM version of a model +
// firmware version (vendor, model, firmware_version) or of one device
// (device_id), matched against the stored NVD records and CSAF VEX.
func (s *Server) attachSBOM(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r, "vendor", "model", "firmware_version", "device_id", "note", "allow_invalid") {
		return
	}
	qv := r.URL.Query()
	sub := store.SBOMSubject{Vendor: strings.TrimSpace(qv.Get("vendor")), Model: strings.TrimSpace(qv.Get("model")), FirmwareVersion: strings.TrimSpace(qv.Get("firmware_version"))}
	byModel := sub.Vendor != "" || sub.Model != "" || sub.FirmwareVersion != ""
	if d := qv.Get("device_id"); d != "" {
		id, ok := queryID(w, r, "device_id", d)
		if !ok {
			return
		}
		if byModel {
			badRequest(w, r, "give either device_id or vendor, model and firmware_version", &inventory.InputError{Column: "device_id", Reason: "both a device and a model given"})
			return
		}
		sub = store.SBOMSubject{DeviceID: id}
	} else if sub.Vendor == "" || sub.Model == "" || sub.FirmwareVersion == "" {
		badRequest(w, r, "vendor, model and firmware_version are required (or device_id)", &inventory.InputError{Column: "firmware_version", Reason: "the SBOM's subject is incomplete"})
		return
	}
	allowInvalid, ok := queryBool(w, r, "allow_invalid")
	if !ok {
		return
	}
	// One buffer of the announced size (at most the limit; a wrong
	// Content-Length only costs a regrowth), not one grown by copying.
	raw, err := sbom.ReadSized(http.MaxBytesReader(w, r.Body, sbom.DefaultMaxBytes), r.ContentLength, sbom.DefaultMaxBytes)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, r, Problem{Type: typeTooLarge, Title: "SBOM too large", Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("an SBOM may be at most %d bytes", sbom.DefaultMaxBytes)})
			return
		}
		badRequest(w, r, "could not read the request body: "+err.Error())
		return
	}
	m, _, err := sboms.CachedMatchers(r.Context(), s.st) // loaded once per feed import
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	in, doc, err := sboms.Analyze(raw, "request body", sbom.Options{}, m)
	if err != nil {
		var ie *sbom.InputError
		if errors.As(err, &ie) {
			writeProblem(w, r, Problem{Type: typeValidation, Title: "SBOM rejected", Status: http.StatusUnprocessableEntity, Detail: err.Error(),
				Errors: []*inventory.InputError{{File: "request body", Line: ie.Line, Column: ie.Pointer, Reason: ie.Err.Error()}}})
			return
		}
		s.storeError(w, r, err)
		return
	}
	if !doc.Valid() && !allowInvalid {
		p := Problem{Type: typeValidation, Title: "SBOM rejected", Status: http.StatusUnprocessableEntity,
			Detail: fmt.Sprintf("the SBOM is not valid %s %s (%d problems); send allow_invalid=true to attach it anyway", doc.Format, doc.SpecVersion, len(doc.Problems))}
		for i, pr := range doc.Problems {
			if i == 20 {
				break
			}
			p.Errors = append(p.Errors, &inventory.InputError{File: "request body", Line: pr.Line, Column: pr.Pointer, Reason: pr.Message})
		}
		writeProblem(w, r, p)
		return
	}
	in.Subject = sub
	in.AttachedBy = actor(r)
	if p, ok := PrincipalFrom(r.Context()); ok {
		in.AttachedBy = p.Account()
	}
	in.Note = qv.Get("note")
	v, existing, err := s.st.AttachSBOM(r.Context(), in)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/sboms/%d", v.ID))
	if existing {
		writeJSON(w, http.StatusOK, map[string]any{"sbom": v, "existing": true})
		return
	}
	if s.sec != nil {
		summary := map[string]any{"sbom": v.ID, "subject": v.Subject, "version": v.Version, "sha256": v.SHA256}
		if err := recorder.Record(r.Context(), s.sec, "sbom.attach", "sbom/"+strconv.FormatInt(v.ID, 10), nil, summary); err != nil {
			s.storeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"sbom": v, "existing": false})
}

func (s *Server) sbomByPath(w http.ResponseWriter, r *http.Request) (*store.SBOMVersion, bool) {
	id, ok := queryID(w, r, "id", r.PathValue("id"))
	if !ok {
		return nil, false
	}
	v, err := s.st.GetSBOM(r.Context(), id)
	if err != nil {
		s.storeError(w, r, err)
		return nil, false
	}
	return v, true
}

func (s *Server) getSBOM(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r) {
		return
	}
	v, ok := s.sbomByPath(w, r)
	if !ok {
		return
	}
	comps, err := s.st.SBOMComponents(r.Context(), v.ID)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sbom": v, "components": comps})
}

func (s *Server) diffSBOM(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r, "from") {
		return
	}
	v, ok := s.sbomByPath(w, r)
	if !ok {
		return
	}
	f := r.URL.Query().Get("from")
	if f == "" {
		badRequest(w, r, "from (the SBOM id to compare against) is required", &inventory.InputError{Column: "from", Reason: "missing"})
		return
	}
	from, ok := queryID(w, r, "from", f)
	if !ok {
		return
	}
	ca, err := s.st.SBOMComponents(r.Context(), from)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	cb, err := s.st.SBOMComponents(r.Context(), v.ID)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sboms.Compare(from, ca, v.ID, cb))
}

func (s *Server) exportSBOM(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r, "format") {
		return
	}
	v, ok := s.sbomByPath(w, r)
	if !ok {
		return
	}
	switch f := r.URL.Query().Get("format"); f {
	case "", "cyclonedx":
		comps, err := s.st.SBOMComponents(r.Context(), v.ID)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		out, err := sboms.ExportCycloneDX(v, comps, store.Now())
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.cyclonedx+json; version=1.6")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="sbom-%d-vex.cdx.json"`, v.ID))
		w.Write(append(out, '\n')) //nolint:errcheck // client went away
	case "original":
		raw, err := s.st.SBOMRaw(r.Context(), v.ID)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="sbom-%d-original"`, v.ID))
		w.Write(raw) //nolint:errcheck // client went away
	default:
		badRequest(w, r, "format must be cyclonedx or original", &inventory.InputError{Column: "format", Value: f, Reason: "unknown format"})
	}
}

func (s *Server) listComponents(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r, "name", "purl", "vuln", "vulnerable", "limit", "cursor") {
		return
	}
	qv := r.URL.Query()
	q := store.ComponentQuery{Name: qv.Get("name"), PURLPrefix: qv.Get("purl"), Vuln: qv.Get("vuln"), Cursor: qv.Get("cursor")}
	var ok bool
	if q.Vulnerable, ok = queryBool(w, r, "vulnerable"); !ok {
		return
	}
	if q.Limit, ok = queryLimit(w, r); !ok {
		return
	}
	page, err := s.st.ListComponents(r.Context(), q)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writePage(w, r, map[string]any{"components": page.Components}, page.Next)
}

// deviceSBOMs returns the SBOMs covering one device (its own, and its
// model + firmware version's) with their components.
func (s *Server) deviceSBOMs(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r) {
		return
	}
	d, ok := s.deviceByPath(w, r)
	if !ok {
		return
	}
	vs, err := s.st.SBOMsForDevice(r.Context(), d)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	type withComps struct {
		SBOM       store.SBOMVersion     `json:"sbom"`
		Components []store.SBOMComponent `json:"components"`
	}
	out := []withComps{}
	for _, v := range vs {
		comps, err := s.st.SBOMComponents(r.Context(), v.ID)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		out = append(out, withComps{v, comps})
	}
	writeJSON(w, http.StatusOK, map[string]any{"device_id": d.ID, "sboms": out})
}
