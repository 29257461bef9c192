package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strconv"

	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat"
)

// importFile takes an inventory file as the raw request body. Query:
// name (file name for provenance and errors), skip_invalid, dry_run.
func (s *Server) importFile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := filepath.Base(q.Get("name"))
	if name == "." || name == "/" || name == "" {
		name = "upload"
	}
	var opts importer.Options
	for _, p := range []struct {
		key string
		dst *bool
	}{{"skip_invalid", &opts.SkipInvalid}, {"dry_run", &opts.DryRun}} {
		if v := q.Get(p.key); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				badRequest(w, r, p.key+" must be true or false", &inventory.InputError{Column: p.key, Value: v, Reason: "not a boolean"})
				return
			}
			*p.dst = b
		}
	}
	opts.Source = name
	body := http.MaxBytesReader(w, r.Body, s.maxImport)
	dec, format, err := fileformat.Open(body, name)
	if err != nil {
		if s.tooLarge(w, r, err) {
			return
		}
		if ie, ok := inventory.AsInputError(err); ok {
			writeProblem(w, r, Problem{Type: typeValidation, Title: "import rejected", Status: http.StatusUnprocessableEntity, Detail: err.Error(), Errors: []*inventory.InputError{ie}})
			return
		}
		badRequest(w, r, err.Error())
		return
	}
	res, err := importer.Import(r.Context(), s.st, dec, opts)
	if res != nil {
		res.Format = string(format)
		if res.Written && s.afterImport != nil {
			s.afterImport()
		}
	}
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, res)
	case s.tooLarge(w, r, err):
	case errors.Is(err, importer.ErrRejected):
		// The problem document carries the whole import result beside it.
		b, _ := json.Marshal(res)
		body := map[string]any{}
		json.Unmarshal(b, &body) //nolint:errcheck // our own encoding
		body["type"], body["title"], body["status"] = typeValidation, "import rejected", http.StatusUnprocessableEntity
		body["detail"], body["instance"] = err.Error(), r.URL.Path
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(body) //nolint:errcheck // client went away
	default:
		// A read error (truncated upload, client gone) rolled the import back.
		if _, ok := inventory.AsInputError(err); ok {
			badRequest(w, r, err.Error())
			return
		}
		s.storeError(w, r, err)
	}
}

func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request, err error) bool {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		writeProblem(w, r, Problem{Type: typeTooLarge, Title: "upload too large", Status: http.StatusRequestEntityTooLarge,
			Detail: "the file exceeds the server's import limit of " + strconv.FormatInt(s.maxImport, 10) + " bytes; nothing was written"})
		return true
	}
	return false
}
