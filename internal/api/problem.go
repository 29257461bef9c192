package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqldb"
)

// Problem is an RFC 9457 problem detail. Errors lists field-level problems.
type Problem struct {
	Type     string                  `json:"type"`
	Title    string                  `json:"title"`
	Status   int                     `json:"status"`
	Detail   string                  `json:"detail,omitempty"`
	Instance string                  `json:"instance,omitempty"`
	Errors   []*inventory.InputError `json:"errors,omitempty"`
}

// problem type URIs (documented in the OpenAPI document).
const (
	typeValidation  = "https://medwarden.org/problems/validation"
	typeNotFound    = "https://medwarden.org/problems/not-found"
	typeConflict    = "https://medwarden.org/problems/conflict"
	typePrecond     = "https://medwarden.org/problems/precondition-required"
	typeTooLarge    = "https://medwarden.org/problems/too-large"
	typeInternal    = "https://medwarden.org/problems/internal"
	typeUnavailable = "https://medwarden.org/problems/unavailable"
	typeMethod      = "https://medwarden.org/problems/method-not-allowed"
)

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Instance == "" {
		p.Instance = r.URL.Path
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p) //nolint:errcheck // client went away
}

func badRequest(w http.ResponseWriter, r *http.Request, detail string, errs ...*inventory.InputError) {
	writeProblem(w, r, Problem{Type: typeValidation, Title: "invalid request", Status: http.StatusBadRequest, Detail: detail, Errors: errs})
}

// storeError maps store errors to problems; unknown errors are 500s whose
// detail is not shown to the client (it is logged).
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	var qe *sqldb.QueryError
	switch {
	case errors.As(err, &qe):
		badRequest(w, r, qe.Error(), &inventory.InputError{Column: qe.Param, Reason: qe.Reason})
	case errors.Is(err, store.ErrNotFound):
		writeProblem(w, r, Problem{Type: typeNotFound, Title: "not found", Status: http.StatusNotFound, Detail: err.Error()})
	case errors.Is(err, store.ErrConflict):
		writeProblem(w, r, Problem{Type: typeConflict, Title: "revision conflict", Status: http.StatusPreconditionFailed,
			Detail: err.Error() + "; fetch the device again and retry with its ETag"})
	case errors.Is(err, store.ErrExists):
		writeProblem(w, r, Problem{Type: typeConflict, Title: "already exists", Status: http.StatusConflict, Detail: err.Error(),
			Errors: []*inventory.InputError{{Column: "asset_id", Reason: "asset id already used by another device"}}})
	case clientGone(r.Context(), err):
		s.abandoned(w, r, err)
	case store.Unavailable(err):
		s.unavailable(w, r, err)
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, r, Problem{Type: typeInternal, Title: "internal error", Status: http.StatusInternalServerError,
			Detail: "the server could not complete the request; see the server log"})
	}
}

// unavailable answers a request the store could not serve for a passing
// reason (database unreachable or restarting, SQLite busy, volume full):
// 503 with Retry-After, so clients and sensors retry. Nothing was written.
// The log gets one warning a second at most, with the number of such
// answers since the previous one, so an outage doesn't flood it.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if n, ok := s.unavailLog.due(time.Now()); ok {
		s.log.Warn("store unavailable; answering 503", "method", r.Method, "path", r.URL.Path, "err", err, "answers_since_last_warning", n)
	}
	w.Header().Set("Retry-After", "2")
	writeProblem(w, r, Problem{Type: typeUnavailable, Title: "store unavailable", Status: http.StatusServiceUnavailable,
		Detail: "the database is unavailable for the moment (restarting, unreachable, busy or full); nothing was written, retry later"})
}

// logEvery lets a repeated log line through at most once a second and
// counts what it held back.
type logEvery struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// due reports whether a line may be logged now, and how many were held
// back since the last one (this one included).
func (l *logEvery) due(now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.suppressed++
	if now.Sub(l.last) < time.Second {
		return 0, false
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return n, true
}

// StatusClientClosedRequest is the status recorded (metrics) for a request
// whose client went away before the answer (nginx's 499); no client
// reads it.
const StatusClientClosedRequest = 499

// clientGone reports whether err is the request's own cancellation: the
// client closed the connection (or wrk stopped, or a client timed out)
// while the store was working. That is not a server error.
func clientGone(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) && ctx.Err() != nil
}

// abandoned ends a request whose client went away: logged at debug level
// (it is not a server fault), counted as 499 in the metrics.
func (s *Server) abandoned(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Debug("client went away", "method", r.Method, "path", r.URL.Path, "err", err)
	w.WriteHeader(StatusClientClosedRequest)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v) //nolint:errcheck // client went away
}
