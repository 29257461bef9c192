// Package findings keeps the stored findings current: it loads devices,
// advisories, KEV and EPSS from the store into an assess.Engine, writes
// what the engine computes (findings with risk and remediation, device
// risk) through store.FindingStore, and recomputes only the pairs a
// change affects:
//
//   - RecomputeAll: every pair (start of serve when the stored findings are
//     stale, a KEV or EPSS import, a new day, `medwarden findings recompute`);
//   - DevicesChanged: the pairs of created, edited, deleted or observed
//     devices (and of their care-area peers);
//   - AdvisoriesChanged: the pairs of new or revised advisories.
//
// Run watches the store for changes made by any process (API, console,
// CLI imports, sensor ingestion, other servers on the same PostgreSQL) and
// takes the daily risk-register snapshot. Workflow changes (state, owner,
// risk acceptance, MITRE rubric answers) go through UpdateWorkflow, which
// validates, audits and rescores.
package findings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/assess"
	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/match"
	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/risk"
	"github.com/medwarden/medwarden/internal/store"
)

// Options configure a Service.
type Options struct {
	Logger *slog.Logger
	// Controls, Policy, Model and Aliases are as in assess.Config (nil:
	// defaults).
	Controls *risk.Controls
	Policy   *remediation.Policy
	Model    *risk.Model
	Aliases  *match.Aliases
	// Now is the clock (nil: time.Now in UTC).
	Now func() time.Time
	// PollInterval is how often Run looks for changes (0: 10 s).
	PollInterval time.Duration
	// Workers bounds parallel scoring (0: GOMAXPROCS).
	Workers int
}

// DefaultPollInterval is how often Run looks for changes by default.
const DefaultPollInterval = 10 * time.Second

// Summary says what one recompute did.
type Summary struct {
	// Scope is "all", "devices", "advisories" or "sboms".
	Scope string `json:"scope"`
	// Findings is the number of matching pairs written; Devices the
	// number of device risks recomputed.
	Findings int `json:"findings"`
	Devices  int `json:"devices"`
	store.ReplaceResult
	// Assess is the in-memory time (match + risk + queue; for "all" after
	// loading), Store the time of the store transaction, Load the time to
	// read devices, advisories and findings (full recomputes only).
	Load   time.Duration `json:"load_ns"`
	Match  time.Duration `json:"match_ns"`
	Assess time.Duration `json:"assess_ns"`
	Store  time.Duration `json:"store_ns"`
}

// Service keeps the stored findings current. Its methods are safe for
// concurrent use; recomputes and workflow changes run one at a time.
type Service struct {
	st   store.Store
	opts Options
	log  *slog.Logger

	mu  sync.Mutex
	eng *assess.Engine
	// change marks for Run's watcher
	digests    map[string]string // advisory id → sha256 the engine holds
	feedMark   time.Time         // newest KEV/EPSS import the engine holds
	csafMark   time.Time         // newest CSAF import the engine holds
	vulnMark   time.Time         // newest OSV, NVD or CSAF import the SBOM matches hold
	sbomMark   string            // the store's SBOM mark the engine holds
	devMark    time.Time         // devices updated before it are in the engine
	devSince   time.Time         // SQLite: pollDevices lists the devices stamped since (zero: devMark - updateOverlap)
	day        string            // the engine's day (YYYY-MM-DD)
	lastSnap   time.Time
	dirty      bool      // changes since the last snapshot
	lastIDScan time.Time // pollDevices' last deletion scan
}

// New returns a service over st. Nothing is loaded until the first
// recompute.
func New(st store.Store, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Now().UTC() }
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = DefaultPollInterval
	}
	return &Service{st: st, opts: opts, log: opts.Logger}
}

// Store returns the store the service writes to.
func (s *Service) Store() store.Store { return s.st }

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// lean drops what assessment never reads (provenance, observations), so
// that a million devices fit in memory.
func lean(d *inventory.Device) *inventory.Device {
	d.Provenance, d.Observed = nil, nil
	return d
}

// overridesFrom turns stored workflow into engine overrides.
func (s *Service) overrideOf(f *store.Finding) (assess.Override, bool) {
	o := assess.Override{Detected: f.FirstSeen, Vector: f.Workflow.RubricVector}
	wf := &f.Workflow
	switch wf.State {
	case store.StateFalsePositive:
		o.Exclude = true
	case store.StateResolved:
		// resolved by a person while it still matches (fixed, inventory
		// not yet updated); a pair the system resolved counts again when
		// it reappears
		o.Exclude = wf.UpdatedBy != store.SystemActor
	case store.StateAccepted:
		if a := acceptanceOf(f); a != nil {
			o.Acceptance = a
		}
	}
	return o, true
}

// acceptanceOf is the remediation acceptance of an accepted finding (nil
// when it has none or it would not validate).
func acceptanceOf(f *store.Finding) *remediation.Acceptance {
	wf := &f.Workflow
	if wf.AcceptExpires.IsZero() || wf.AcceptJustification == "" || wf.AcceptApprover == "" {
		return nil
	}
	acc := wf.UpdatedAt
	if acc.IsZero() || !wf.AcceptExpires.After(acc) {
		acc = f.FirstSeen
	}
	a := &remediation.Acceptance{AssetID: "-", AdvisoryID: f.AdvisoryID, Justification: wf.AcceptJustification,
		Approver: wf.AcceptApprover, Accepted: remediation.Date{Time: day(acc)}, Expires: remediation.Date{Time: day(wf.AcceptExpires)}}
	if !a.Expires.After(a.Accepted.Time) {
		return nil
	}
	return a
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// load reads everything and builds a fresh engine (not yet assessed).
func (s *Service) load(ctx context.Context) (*assess.Engine, map[assess.Pair]assess.Override, error) {
	started := s.now()
	since, err := s.newestStamp(ctx)
	if err != nil {
		return nil, nil, err
	}
	var devices []*inventory.Device
	if err := s.st.ScanDevices(ctx, func(d *inventory.Device) error {
		devices = append(devices, lean(d))
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("findings: read devices: %w", err)
	}
	var advs []*advisory.Advisory
	if err := s.st.ScanAdvisories(ctx, func(a *advisory.Advisory) error {
		advs = append(advs, a)
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("findings: read advisories: %w", err)
	}
	kc, err := s.st.KEV(ctx)
	if errors.Is(err, store.ErrNotFound) {
		kc, err = nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("findings: read KEV: %w", err)
	}
	ep, err := s.st.EPSS(ctx)
	if errors.Is(err, store.ErrNotFound) {
		ep, err = nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("findings: read EPSS: %w", err)
	}
	over := map[assess.Pair]assess.Override{}
	if err := s.st.ScanFindingWorkflows(ctx, func(f *store.Finding) error {
		if o, ok := s.overrideOf(f); ok {
			over[assess.Pair{DeviceID: f.DeviceID, AdvisoryID: f.AdvisoryID}] = o
		}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("findings: read stored findings: %w", err)
	}
	peers, err := s.inboundPeers(ctx)
	if err != nil {
		return nil, nil, err
	}
	sbs, sbomMark, err := s.loadSBOMs(ctx)
	if err != nil {
		return nil, nil, err
	}
	eng, err := s.newEngine(kc, ep, peers, devices, advs)
	if err != nil {
		return nil, nil, err
	}
	eng.SetOverrides(over)
	eng.LoadSBOMs(sbs)
	s.sbomMark = sbomMark
	// marks for the watcher
	s.digests = make(map[string]string, len(advs))
	for _, a := range advs {
		s.digests[a.ID] = a.SHA256
	}
	if err := s.setFeedMarks(ctx); err != nil {
		return nil, nil, err
	}
	s.devMark, s.devSince = started, since
	return eng, over, nil
}

// PeerWindow is how far back the sensor's inbound edges count as a
// device's observed exposure.
const PeerWindow = 30 * 24 * time.Hour

// inboundPeers reads, from the sensor's stored edges, how many distinct
// hosts connected to each device in the last PeerWindow (nil when the store
// keeps no edges).
func (s *Service) inboundPeers(ctx context.Context) (map[int64]int, error) {
	es, ok := s.st.(store.EdgeStore)
	if !ok {
		return nil, nil
	}
	peers, err := es.InboundPeers(ctx, s.now().Add(-PeerWindow))
	if err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	return peers, nil
}

func (s *Service) newEngine(kc *kev.Catalog, ep *epss.File, peers map[int64]int, devices []*inventory.Device, advs []*advisory.Advisory) (*assess.Engine, error) {
	now := s.now()
	eng, err := assess.NewEngine(assess.Config{Aliases: s.opts.Aliases, KEV: kc, EPSS: ep, Controls: s.opts.Controls,
		Model: s.opts.Model, Policy: s.opts.Policy, Now: now, Workers: s.opts.Workers, InboundPeers: peers}, devices, advs)
	if err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	s.day = now.Format(time.DateOnly)
	return eng, nil
}

func (s *Service) setFeedMarks(ctx context.Context) error {
	feeds, err := s.st.ListFeeds(ctx)
	if err != nil {
		return fmt.Errorf("findings: read feed status: %w", err)
	}
	s.feedMark, s.csafMark, s.vulnMark = feedMarks(feeds)
	return nil
}

// feedMarks are the newest imports of KEV or EPSS, of CSAF, and of the
// data SBOM components are matched against (OSV, NVD, CSAF VEX).
func feedMarks(feeds []store.FeedStatus) (kevEPSS, csaf, vuln time.Time) {
	for _, f := range feeds {
		switch f.Kind {
		case store.FeedKEV, store.FeedEPSS:
			if f.ImportedAt.After(kevEPSS) {
				kevEPSS = f.ImportedAt
			}
		case store.FeedCSAF:
			if f.ImportedAt.After(csaf) {
				csaf = f.ImportedAt
			}
		}
		switch f.Kind {
		case store.FeedOSV, store.FeedNVD, store.FeedCSAF:
			if f.ImportedAt.After(vuln) {
				vuln = f.ImportedAt
			}
		}
	}
	return kevEPSS, csaf, vuln
}

// RecomputeAll reloads everything and recomputes every pair.
func (s *Service) RecomputeAll(ctx context.Context) (*Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recomputeAll(ctx, true)
}

func (s *Service) recomputeAll(ctx context.Context, write bool) (*Summary, error) {
	t0 := time.Now()
	eng, _, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Scope: "all", Load: time.Since(t0)}
	res, err := eng.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("findings: assess: %w", err)
	}
	s.eng = eng
	sum.Match, sum.Assess = res.MatchTime, res.MatchTime+res.ScoreTime
	if !write {
		return sum, nil
	}
	if err := s.write(ctx, store.FindingScope{All: true}, res, sum); err != nil {
		s.eng = nil // the store does not hold what the engine says
		return nil, err
	}
	s.log.Info("findings recomputed", "scope", "all", "findings", sum.Findings, "devices_at_risk", sum.Devices,
		"new", sum.New, "resolved", sum.Resolved, "assess", sum.Assess.Round(time.Millisecond), "store", sum.Store.Round(time.Millisecond))
	return sum, nil
}

// ensure loads and assesses the engine if none is held (without writing).
func (s *Service) ensure(ctx context.Context) error {
	if s.eng != nil {
		return nil
	}
	_, err := s.recomputeAll(ctx, false)
	return err
}

// write stores a result.
func (s *Service) write(ctx context.Context, scope store.FindingScope, res *assess.Result, sum *Summary) error {
	fs, risks, err := toStore(res)
	if err != nil {
		return err
	}
	t := time.Now()
	rr, err := s.st.ReplaceFindings(ctx, scope, fs, risks)
	if err != nil {
		return fmt.Errorf("findings: store: %w", err)
	}
	sum.Store = time.Since(t)
	sum.ReplaceResult = *rr
	sum.Findings = len(fs)
	for _, r := range risks {
		if r.Findings > 0 {
			sum.Devices++
		}
	}
	s.dirty = true
	return s.carried(ctx, fs)
}

// systemActor audits the changes the service makes by itself.
var systemActor = audit.Actor{Name: store.SystemActor, Kind: audit.KindSystem, Source: "findings"}

// carried audits the workflows ReplaceFindings carried from merged SBOM
// findings to the advisory findings that took them in (store.CarryWorkflow:
// "finding.update" by the system, the taker's workflow before and after)
// and rescores their devices with the carried state (an acceptance, a
// mitigation) as UpdateWorkflow does.
func (s *Service) carried(ctx context.Context, fs []*store.Finding) error {
	var devs []*inventory.Device
	seen := map[int64]bool{}
	sec := securityOf(s.st)
	for _, f := range fs {
		c := f.Carried
		if c == nil {
			continue
		}
		s.log.Info("findings: workflow carried over from a merged SBOM finding", "finding", f.ID, "from", c.FromID,
			"vulnerability", c.FromAdvisoryID, "state", f.Workflow.State)
		if sec != nil {
			actx := audit.WithActor(ctx, systemActor)
			if err := recorder.Record(actx, sec, "finding.update", "finding/"+strconv.FormatInt(f.ID, 10), c.Before, f.Workflow); err != nil {
				s.log.Error("audit append failed", "action", "finding.update", "finding", f.ID, "err", err)
				return fmt.Errorf("findings: workflow of finding %d carried from finding %d: %w", f.ID, c.FromID, err)
			}
		}
		if s.eng == nil {
			continue
		}
		o, _ := s.overrideOf(f)
		s.eng.SetOverride(assess.Pair{DeviceID: f.DeviceID, AdvisoryID: f.AdvisoryID}, o)
		if d := s.eng.Device(f.DeviceID); d != nil && !seen[f.DeviceID] {
			seen[f.DeviceID] = true
			devs = append(devs, d)
		}
	}
	if len(devs) == 0 {
		return nil
	}
	// the SBOM findings carried from are resolved now (they no longer
	// match), so this second write carries nothing
	if _, err := s.devices(ctx, devs, nil); err != nil {
		return fmt.Errorf("findings: rescoring after carrying workflows: %w", err)
	}
	return nil
}

// DevicesChanged recomputes the pairs of devices created, edited, deleted
// (ids the store no longer has) or observed by a sensor, and of their
// care-area peers.
func (s *Service) DevicesChanged(ctx context.Context, ids []int64) (*Summary, error) {
	if len(ids) == 0 {
		return &Summary{Scope: "devices"}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng == nil {
		return s.recomputeAll(ctx, true)
	}
	var ups []*inventory.Device
	var del []int64
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		d, err := s.st.GetDevice(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			del = append(del, id)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("findings: read device %d: %w", id, err)
		}
		ups = append(ups, lean(d))
	}
	return s.devices(ctx, ups, del)
}

func (s *Service) devices(ctx context.Context, ups []*inventory.Device, del []int64) (*Summary, error) {
	res, err := s.eng.Devices(ctx, ups, del)
	if err != nil {
		s.eng = nil
		return nil, fmt.Errorf("findings: assess devices: %w", err)
	}
	sum := &Summary{Scope: "devices", Match: res.MatchTime, Assess: res.MatchTime + res.ScoreTime}
	if err := s.write(ctx, store.FindingScope{DeviceIDs: res.DeviceScope}, res, sum); err != nil {
		s.eng = nil
		return nil, err
	}
	s.log.Debug("findings recomputed", "scope", "devices", "devices", len(res.DeviceScope), "new", sum.New, "resolved", sum.Resolved)
	return sum, nil
}

// NotifyDevices is DevicesChanged for callers that cannot act on an error
// (the sensor ingestion's OnChanged hook): failures are logged, and the
// watcher or the next full recompute catches up.
func (s *Service) NotifyDevices(ctx context.Context, ids []int64) {
	if _, err := s.DevicesChanged(ctx, ids); err != nil {
		s.log.Warn("findings: recompute after a device change failed", "devices", len(ids), "err", err)
	}
}

// AdvisoriesChanged recomputes the pairs of new or revised advisories
// (read from the store by tracking id).
func (s *Service) AdvisoriesChanged(ctx context.Context, ids []string) (*Summary, error) {
	if len(ids) == 0 {
		return &Summary{Scope: "advisories"}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng == nil {
		return s.recomputeAll(ctx, true)
	}
	var advs []*advisory.Advisory
	for _, id := range ids {
		a, err := s.st.GetAdvisory(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // not stored: nothing to match
		}
		if err != nil {
			return nil, fmt.Errorf("findings: read advisory %s: %w", id, err)
		}
		advs = append(advs, a)
	}
	return s.advisories(ctx, advs)
}

func (s *Service) advisories(ctx context.Context, advs []*advisory.Advisory) (*Summary, error) {
	if len(advs) == 0 {
		return &Summary{Scope: "advisories"}, nil
	}
	res, err := s.eng.Advisories(ctx, advs)
	if err != nil {
		s.eng = nil
		return nil, fmt.Errorf("findings: assess advisories: %w", err)
	}
	sum := &Summary{Scope: "advisories", Match: res.MatchTime, Assess: res.MatchTime + res.ScoreTime}
	scope := store.FindingScope{AdvisoryIDs: res.AdvisoryScope}
	if res.AdvisoryScope == nil {
		// SBOMs cover devices: the engine re-assessed every pair of the
		// affected devices (an advisory may take an SBOM pair in)
		scope = store.FindingScope{DeviceIDs: res.DeviceScope}
		if scope.DeviceIDs == nil {
			scope.DeviceIDs = []int64{}
		}
	}
	if err := s.write(ctx, scope, res, sum); err != nil {
		s.eng = nil
		return nil, err
	}
	for _, a := range advs {
		s.digests[a.ID] = a.SHA256
	}
	s.log.Info("findings recomputed", "scope", "advisories", "advisories", len(advs), "findings", sum.Findings, "new", sum.New, "resolved", sum.Resolved)
	return sum, nil
}

// Snapshot stores the risk register of the engine's current state as the
// snapshot of day (YYYY-MM-DD; "" for today, UTC).
func (s *Service) Snapshot(ctx context.Context, d string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot(ctx, d)
}

func (s *Service) snapshot(ctx context.Context, d string) error {
	if d == "" {
		d = s.now().Format(time.DateOnly)
	}
	if err := s.ensure(ctx); err != nil {
		return err
	}
	b, err := json.Marshal(s.eng.Register())
	if err != nil {
		return fmt.Errorf("findings: encode register: %w", err)
	}
	if err := s.st.PutRiskSnapshot(ctx, d, b); err != nil {
		return fmt.Errorf("findings: %w", err)
	}
	s.lastSnap, s.dirty = s.now(), false
	return nil
}

// Register returns the current risk register (loading the engine first if
// needed).
func (s *Service) Register(ctx context.Context) (risk.Register, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensure(ctx); err != nil {
		return risk.Register{}, err
	}
	return s.eng.Register(), nil
}

// Stale reports whether the stored findings lag behind the store: never
// computed, computed on an earlier day (deadlines and SLA states moved),
// or devices or feeds changed since. The reason says which.
func (s *Service) Stale(ctx context.Context) (bool, string, error) {
	at, err := s.st.FindingsComputedAt(ctx)
	if err != nil {
		return false, "", err
	}
	if at.IsZero() {
		return true, "findings were never computed", nil
	}
	if at.Format(time.DateOnly) != s.now().Format(time.DateOnly) {
		return true, "findings were computed on " + at.Format(time.DateOnly), nil
	}
	feeds, err := s.st.ListFeeds(ctx)
	if err != nil {
		return false, "", err
	}
	for _, f := range feeds {
		if f.ImportedAt.After(at) {
			return true, "feed " + f.Name + " was imported after the last recompute", nil
		}
	}
	p, err := s.st.ListDevices(ctx, store.DeviceQuery{Sort: "-updated_at", Limit: 1})
	if err != nil {
		return false, "", err
	}
	if len(p.Devices) > 0 && p.Devices[0].UpdatedAt.After(at) {
		return true, "devices changed after the last recompute", nil
	}
	if why, err := s.sbomsStale(ctx, at); err != nil || why != "" {
		return why != "", why, err
	}
	return false, "", nil
}
