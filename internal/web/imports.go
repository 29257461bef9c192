package web

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat"
)

// job is one inventory import running in the background.
type job struct {
	ID      string
	Name    string // sanitised file name (display and provenance only)
	User    string
	Size    int64
	Started time.Time
	DryRun  bool
	Skip    bool

	read atomic.Int64 // bytes consumed by the decoder

	mu       sync.Mutex
	progress importer.Result
	result   *importer.Result
	err      string
	finished time.Time
	done     chan struct{}
}

// jobView is a consistent copy of a job for rendering.
type jobView struct {
	ID, Name, User, Error string
	Size                  int64
	Started, Finished     time.Time
	DryRun, Skip, Done    bool
	Percent               int
	Progress              importer.Result
	Result                *importer.Result
	Errors                []*inventory.InputError // the first maxShownErrors
	HiddenErrors          int
}

// maxShownErrors rows of the error report are on the page; errors.csv has all.
const maxShownErrors = 500

func (j *job) view() jobView {
	j.mu.Lock()
	defer j.mu.Unlock()
	v := jobView{ID: j.ID, Name: j.Name, User: j.User, Error: j.err, Size: j.Size, Started: j.Started, Finished: j.finished,
		DryRun: j.DryRun, Skip: j.Skip, Progress: j.progress, Result: j.result}
	select {
	case <-j.done:
		v.Done = true
	default:
	}
	if j.Size > 0 {
		v.Percent = int(min(100, j.read.Load()*100/j.Size))
	}
	if v.Done {
		v.Percent = 100
	}
	if j.result != nil {
		v.Errors = j.result.Errors
		if len(v.Errors) > maxShownErrors {
			v.HiddenErrors = len(v.Errors) - maxShownErrors + j.result.MoreErrors
			v.Errors = v.Errors[:maxShownErrors]
		} else {
			v.HiddenErrors = j.result.MoreErrors
		}
	}
	return v
}

// jobs keeps the most recent imports in memory.
type jobs struct {
	mu   sync.Mutex
	byID map[string]*job
	list []*job
}

// keptJobs finished imports stay listed.
const keptJobs = 50

func newJobs() *jobs { return &jobs{byID: map[string]*job{}} }

func (js *jobs) add(j *job) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.byID[j.ID] = j
	js.list = append(js.list, j)
	for len(js.list) > keptJobs {
		old := js.list[0]
		select {
		case <-old.done:
		default:
			return // never forget a running import
		}
		delete(js.byID, old.ID)
		js.list = js.list[1:]
	}
}

func (js *jobs) get(id string) *job {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.byID[id]
}

func (js *jobs) recent() []jobView {
	js.mu.Lock()
	list := slices.Clone(js.list)
	js.mu.Unlock()
	out := make([]jobView, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		out = append(out, list[i].view())
	}
	return out
}

// cleanFileName keeps only the last path element of an uploaded file's
// name (browsers and attackers send "C:\x\y.csv" or "../../etc/passwd"),
// drops control and bidi characters and bounds the length. The name is
// never used as a path: uploads are stored under a random temporary name.
func cleanFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(path.Clean("/" + name))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	if r := []rune(name); len(r) > 120 {
		name = string(r[:120])
	}
	if name == "" || name == "/" {
		return "upload"
	}
	return name
}

type importsData struct {
	Jobs    []jobView
	MaxSize string
}

func (h *Handler) importsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.render(w, r, http.StatusOK, "imports", page{Title: "Imports", Nav: "imports", RC: rc,
		Data: importsData{Jobs: h.jobs.recent(), MaxSize: humanBytes(h.maxUp)}})
}

// countingReader counts bytes for the progress bar.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// upload spools the file to a private temporary file and imports it in
// the background; the browser is sent to the job's page.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	f, fh, err := r.FormFile("file")
	if err != nil {
		h.errorPage(w, r, rc, http.StatusBadRequest, "No file", "Choose an inventory file (CSV, JSON or FHIR) to import.")
		return
	}
	defer f.Close()
	tmp, err := os.CreateTemp(h.tempDir, "medwarden-import-*")
	if err != nil {
		h.serverError(w, r, rc, fmt.Errorf("spool upload: %w", err))
		return
	}
	size, err := io.Copy(tmp, f)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		h.serverError(w, r, rc, fmt.Errorf("spool upload: %w", err))
		return
	}
	id, err := auth.NewToken()
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		h.serverError(w, r, rc, err)
		return
	}
	j := &job{ID: id[:16], Name: cleanFileName(fh.Filename), User: rc.User.Username, Size: size, Started: h.now(),
		DryRun: r.PostFormValue("dry_run") != "", Skip: r.PostFormValue("skip_invalid") != "", done: make(chan struct{})}
	h.jobs.add(j)
	go h.runImport(j, tmp)
	h.log.Info("import started", "job", j.ID, "file", j.Name, "bytes", size, "user", j.User)
	http.Redirect(w, r, "/imports/"+j.ID, http.StatusSeeOther)
}

func (h *Handler) runImport(j *job, f *os.File) {
	defer func() {
		f.Close()
		os.Remove(f.Name())
		j.mu.Lock()
		j.finished = h.now()
		j.mu.Unlock()
		close(j.done)
		h.dropStats()
	}()
	src := countingReader{r: f, n: &j.read}
	dec, format, err := fileformat.Open(src, j.Name)
	if err != nil {
		res := &importer.Result{File: j.Name}
		if ie, ok := inventory.AsInputError(err); ok {
			res.Errors, res.Invalid = []*inventory.InputError{ie}, 1
		}
		j.mu.Lock()
		j.result, j.err = res, err.Error()
		j.mu.Unlock()
		return
	}
	opts := importer.Options{Source: j.Name, SkipInvalid: j.Skip, DryRun: j.DryRun, ProgressEvery: 500,
		Progress: func(p importer.Result) {
			j.mu.Lock()
			p.Errors = nil
			j.progress = p
			j.mu.Unlock()
		}}
	res, err := importer.Import(h.ctx, h.st, dec, opts)
	if res == nil {
		res = &importer.Result{File: j.Name}
	}
	res.Format = string(format)
	if res.Written && h.afterImport != nil {
		h.afterImport()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.result, j.progress = res, *res
	if err != nil {
		j.err = err.Error()
		if errors.Is(err, importer.ErrRejected) {
			j.err = fmt.Sprintf("%s has %d invalid record(s), so nothing was written. Fix the problems below and import the file again, or choose “Import the valid records and report the invalid ones”.", j.Name, res.Invalid)
		} else {
			h.log.Error("import failed", "job", j.ID, "file", j.Name, "err", err)
		}
	}
}

func (h *Handler) findJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *job {
	j := h.jobs.get(r.PathValue("id"))
	if j == nil {
		h.errorPage(w, r, rc, http.StatusNotFound, "No such import", "That import is not known; imports are kept in memory until the server restarts.")
	}
	return j
}

func (h *Handler) importPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	j := h.findJob(w, r, rc)
	if j == nil {
		return
	}
	h.render(w, r, http.StatusOK, "import", page{Title: "Import " + j.Name, Nav: "imports", RC: rc, Data: j.view()})
}

// sseEvent is what the progress stream sends.
type sseEvent struct {
	Done      bool   `json:"done"`
	Percent   int    `json:"percent"`
	Records   int    `json:"records"`
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	Invalid   int    `json:"invalid"`
	Error     string `json:"error,omitempty"`
}

// importEvents streams progress as server-sent events until the import ends.
func (h *Handler) importEvents(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	j := h.findJob(w, r, rc)
	if j == nil {
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		h.errorPage(w, r, rc, http.StatusNotImplemented, "Streaming unsupported", "Reload the page to see progress.")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	send := func() bool {
		v := j.view()
		ev := sseEvent{Done: v.Done, Percent: v.Percent, Records: v.Progress.Records, Created: v.Progress.Created,
			Updated: v.Progress.Updated, Unchanged: v.Progress.Unchanged, Invalid: v.Progress.Invalid, Error: v.Error}
		b, _ := json.Marshal(ev)
		name := "progress"
		if v.Done {
			name = "done"
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b); err != nil {
			return false
		}
		fl.Flush()
		return !v.Done
	}
	for send() {
		select {
		case <-r.Context().Done():
			return
		case <-j.done:
		case <-tick.C:
		}
	}
}

// importErrorsCSV is the whole error report for a spreadsheet.
func (h *Handler) importErrorsCSV(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	j := h.findJob(w, r, rc)
	if j == nil {
		return
	}
	v := j.view()
	if v.Result == nil {
		h.errorPage(w, r, rc, http.StatusConflict, "Import still running", "The error report is ready when the import ends.")
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="import-errors.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"file", "line", "column", "value", "reason"}) //nolint:errcheck // checked at Flush
	for _, e := range v.Result.Errors {
		line := ""
		if e.Line > 0 {
			line = fmt.Sprint(e.Line)
		}
		cw.Write([]string{csvSafe(e.File), line, csvSafe(e.Column), csvSafe(e.Value), csvSafe(e.Reason)}) //nolint:errcheck // checked at Flush
	}
	cw.Flush()
}
