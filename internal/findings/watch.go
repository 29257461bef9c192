package findings

import (
	"context"
	"fmt"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/assess"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// updateOverlap is how far before the last poll the watcher looks again
// for device updates: a transaction that stamped its rows before the poll
// and committed after it is still seen (revisions make it idempotent).
// On SQLite the watcher needs no such window (see newestStamp).
const updateOverlap = 10 * time.Minute

// stampMargin is how far before the newest stamp it saw the watcher looks
// again on SQLite: a clock stepping back by up to this much between two
// writes is tolerated. (Stored stamps are fixed-width text since migration
// 0015, so the devices' text order, which the poll walks, is time order.)
// Every device stamped within it is read again at the next poll: right
// after a 100,000-device import, about a second of the import's rows.
const stampMargin = time.Second

// idScanEvery: when the store holds more devices than the engine after a
// poll (creations after the poll's walk), the deletion scan of every
// identity runs at most this often; a deletion hidden behind such
// creations is found within it (see pollDevices).
const idScanEvery = time.Minute

// afterDeviceWalk, when set (tests), runs between pollDevices' walk of the
// changed devices and its count of the stored ones.
var afterDeviceWalk func()

// newestStamp returns, on SQLite, where the next device poll may start:
// the newest updated_at stored, less stampMargin (zero on PostgreSQL, or
// for an empty store: pollDevices then looks back updateOverlap). SQLite
// serialises writers, and each stamps its rows (store.Now) while it holds
// the write lock, so every write that commits after this read carries a
// stamp no older than the newest stamp the read saw, however long its
// transaction ran (the argument of sqldb's IdentityMark). Looking back
// updateOverlap instead re-read every device an import had stamped for
// ten minutes after it, at each poll: 100,000 devices, about 1 CPU-s
// every 10 s under bench/load.sh.
func (s *Service) newestStamp(ctx context.Context) (time.Time, error) {
	if s.st.Dialect() != "sqlite" {
		return time.Time{}, nil
	}
	p, err := s.st.ListDevices(ctx, store.DeviceQuery{Sort: "-updated_at", Limit: 1})
	if err != nil {
		return time.Time{}, fmt.Errorf("findings: newest device stamp: %w", err)
	}
	if len(p.Devices) == 0 {
		return time.Time{}, nil
	}
	return p.Devices[0].UpdatedAt.Add(-stampMargin), nil
}

// snapshotEvery bounds how often a changing store refreshes today's
// snapshot.
const snapshotEvery = 15 * time.Minute

// Start brings the stored findings up to date: a full recompute when they
// are stale (Stale), otherwise only the in-memory assessment the
// incremental paths need; then today's snapshot.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// SBOMs matched before the newest OSV, NVD or CSAF import (imported
	// while no server ran) are matched again first
	feeds, err := s.st.ListFeeds(ctx)
	if err != nil {
		return fmt.Errorf("findings: read feed status: %w", err)
	}
	if _, _, vuln := feedMarks(feeds); !vuln.IsZero() {
		if err := s.rematchSBOMs(ctx, vuln); err != nil {
			return err
		}
	}
	stale, why, err := s.Stale(ctx)
	if err != nil {
		return fmt.Errorf("findings: %w", err)
	}
	if stale {
		s.log.Info("findings are stale: recomputing all", "reason", why)
	}
	if _, err := s.recomputeAll(ctx, stale); err != nil {
		return err
	}
	return s.snapshot(ctx, "")
}

// Run starts (Start) and then, every PollInterval until ctx ends, picks up
// changes made through any path: devices created, edited or deleted (by
// the API, the console, imports, sensors or another process), CSAF imports
// (new or revised advisories), KEV or EPSS imports (everything rescored);
// on a new day (UTC) it recomputes everything (deadlines and SLA states
// move) and snapshots the register. Errors are logged and retried at the
// next tick; Run returns when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		s.log.Error("findings: start failed; retrying at the next poll", "err", err)
	}
	if s.opts.PollInterval < 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.Poll(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("findings: poll failed", "err", err)
		}
	}
}

// Poll applies the changes made since the last poll (see Run).
func (s *Service) Poll(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng == nil || s.now().Format(time.DateOnly) != s.day {
		if _, err := s.recomputeAll(ctx, true); err != nil {
			return err
		}
		return s.snapshot(ctx, "")
	}
	started := s.now()
	feeds, err := s.st.ListFeeds(ctx)
	if err != nil {
		return fmt.Errorf("findings: read feed status: %w", err)
	}
	kevEPSS, csaf, vuln := feedMarks(feeds)
	if kevEPSS.After(s.feedMark) {
		s.log.Info("findings: KEV or EPSS imported: rescoring everything")
		if _, err := s.recomputeAll(ctx, true); err != nil {
			return err
		}
		return s.snapshot(ctx, "")
	}
	if csaf.After(s.csafMark) {
		if err := s.pollAdvisories(ctx); err != nil {
			return err
		}
		s.csafMark = csaf
	}
	if vuln.After(s.vulnMark) {
		// OSV, NVD or CSAF (VEX) imported: component matches change
		if err := s.rematchSBOMs(ctx, vuln); err != nil {
			return err
		}
		s.vulnMark = vuln
	}
	if err := s.pollSBOMs(ctx); err != nil {
		return err
	}
	since, err := s.pollDevices(ctx)
	if err != nil {
		return err
	}
	if err := s.pollWorkflow(ctx); err != nil {
		return err
	}
	s.devMark = started
	if !since.IsZero() {
		s.devSince = since
	}
	if s.dirty && s.now().Sub(s.lastSnap) >= snapshotEvery {
		return s.snapshot(ctx, "")
	}
	return nil
}

func (s *Service) pollAdvisories(ctx context.Context) error {
	digests, err := s.st.AdvisoryDigests(ctx)
	if err != nil {
		return fmt.Errorf("findings: read advisory digests: %w", err)
	}
	var advs []*advisory.Advisory
	for id, h := range digests {
		if old, ok := s.digests[id]; ok && old == h {
			continue
		}
		a, err := s.st.GetAdvisory(ctx, id)
		if err != nil {
			return fmt.Errorf("findings: read advisory %s: %w", id, err)
		}
		advs = append(advs, a)
	}
	_, err = s.advisories(ctx, advs)
	return err
}

// pollSBOMs picks up SBOMs attached or re-matched by any process.
func (s *Service) pollSBOMs(ctx context.Context) error {
	ss, ok := s.st.(store.SBOMStore)
	if !ok {
		return nil
	}
	mark, err := ss.SBOMMark(ctx)
	if err != nil {
		return fmt.Errorf("findings: %w", err)
	}
	if mark == s.sbomMark {
		return nil
	}
	_, err = s.sbomsChanged(ctx)
	return err
}

// pollDevices applies the devices written since the last poll and drops
// the deleted ones; it returns where the next poll starts (newestStamp).
func (s *Service) pollDevices(ctx context.Context) (next time.Time, err error) {
	since := s.devMark.Add(-updateOverlap)
	if !s.devSince.IsZero() {
		since = s.devSince
	}
	sqlite := s.st.Dialect() == "sqlite"
	var ups []*inventory.Device
	q := store.DeviceQuery{Sort: "-updated_at", Limit: 1000}
walk:
	for {
		p, err := s.st.ListDevices(ctx, q)
		if err != nil {
			return next, fmt.Errorf("findings: list changed devices: %w", err)
		}
		if q.Cursor == "" && sqlite && len(p.Devices) > 0 {
			// the newest stamp as this poll starts (newestStamp)
			next = p.Devices[0].UpdatedAt.Add(-stampMargin)
		}
		for _, d := range p.Devices {
			if d.UpdatedAt.Before(since) {
				break walk
			}
			if old := s.eng.Device(d.ID); old == nil || old.Revision != d.Revision {
				ups = append(ups, lean(d))
			}
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if afterDeviceWalk != nil {
		afterDeviceWalk()
	}
	// deletions: the store holds fewer devices than the engine will
	n, err := s.st.CountDevices(ctx)
	if err != nil {
		return next, fmt.Errorf("findings: count devices: %w", err)
	}
	held, _ := s.eng.Len()
	for _, d := range ups {
		if s.eng.Device(d.ID) == nil {
			held++
		}
	}
	var del []int64
	// More held than stored: a device was deleted, scan now. Fewer: the
	// count includes devices created after the walk, read at the next
	// poll; a deletion may hide behind them, so scan anyway once
	// idScanEvery has passed since the last scan. (Scanning at every
	// such poll read every identity each poll under steady creates:
	// 100,000 devices, about 4 % of serve's CPU under bench/load.sh.)
	if int64(held) > n || (int64(held) != n && s.now().Sub(s.lastIDScan) >= idScanEvery) {
		s.lastIDScan = s.now()
		ids := map[int64]bool{}
		if err := s.st.ScanIdentities(ctx, func(d *inventory.Device) error {
			ids[d.ID] = true
			return nil
		}); err != nil {
			return next, fmt.Errorf("findings: scan device ids: %w", err)
		}
		for _, id := range s.eng.DeviceIDs() {
			if !ids[id] {
				del = append(del, id)
			}
		}
	}
	if len(ups) == 0 && len(del) == 0 {
		return next, nil
	}
	_, err = s.devices(ctx, ups, del)
	return next, err
}

// pollWorkflow picks up workflow changes written without the service
// (straight to the store): a changed rubric vector, false positive,
// resolution or acceptance changes the device's risk and queue.
func (s *Service) pollWorkflow(ctx context.Context) error {
	q := store.FindingQuery{WorkflowSince: s.devMark.Add(-updateOverlap), IncludeResolved: true, Sort: "id", Limit: 1000}
	var ups []*inventory.Device
	seen := map[int64]bool{}
	for {
		p, err := s.st.ListFindings(ctx, q)
		if err != nil {
			return fmt.Errorf("findings: list workflow changes: %w", err)
		}
		for _, f := range p.Findings {
			if f.Workflow.UpdatedBy == store.SystemActor || !f.ResolvedAt.IsZero() {
				continue
			}
			pair := assess.Pair{DeviceID: f.DeviceID, AdvisoryID: f.AdvisoryID}
			o, _ := s.overrideOf(f)
			if sameOverride(o, s.eng.Override(pair)) {
				continue
			}
			s.eng.SetOverride(pair, o)
			if d := s.eng.Device(f.DeviceID); d != nil && !seen[d.ID] {
				seen[d.ID] = true
				ups = append(ups, d)
			}
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(ups) == 0 {
		return nil
	}
	_, err := s.devices(ctx, ups, nil)
	return err
}

func sameOverride(a, b assess.Override) bool {
	if !a.Detected.Equal(b.Detected) || a.Vector != b.Vector || a.Exclude != b.Exclude || (a.Acceptance == nil) != (b.Acceptance == nil) {
		return false
	}
	if a.Acceptance == nil {
		return true
	}
	x, y := a.Acceptance, b.Acceptance
	return x.Justification == y.Justification && x.Approver == y.Approver && x.Accepted.Equal(y.Accepted.Time) && x.Expires.Equal(y.Expires.Time)
}
