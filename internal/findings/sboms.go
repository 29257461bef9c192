package findings

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/medwarden/medwarden/internal/assess"
	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/sboms"
	"github.com/medwarden/medwarden/internal/store"
)

// loadSBOMs reads the latest version of every attached SBOM with its
// component vulnerabilities, and the store's SBOM mark taken before
// reading (nil, "" when the store keeps no SBOMs).
func (s *Service) loadSBOMs(ctx context.Context) ([]assess.SBOM, string, error) {
	ss, ok := s.st.(store.SBOMStore)
	if !ok {
		return nil, "", nil
	}
	mark, err := ss.SBOMMark(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("findings: %w", err)
	}
	var out []assess.SBOM
	q := store.SBOMQuery{Latest: true, Limit: 1000}
	for {
		p, err := ss.ListSBOMs(ctx, q)
		if err != nil {
			return nil, "", fmt.Errorf("findings: list SBOMs: %w", err)
		}
		for i := range p.SBOMs {
			v := &p.SBOMs[i]
			if v.OpenVulns+v.Suppressed == 0 {
				// nothing to find; still listed so that a version that
				// dropped every vulnerability resolves its findings
				out = append(out, sbomOf(v, nil))
				continue
			}
			comps, err := ss.SBOMComponents(ctx, v.ID)
			if err != nil {
				return nil, "", fmt.Errorf("findings: read SBOM %d components: %w", v.ID, err)
			}
			out = append(out, sbomOf(v, comps))
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	return out, mark, nil
}

// sbomOf is the engine's view of a stored SBOM version.
func sbomOf(v *store.SBOMVersion, comps []store.SBOMComponent) assess.SBOM {
	out := assess.SBOM{ID: v.ID, Version: v.Version, DeviceID: v.Subject.DeviceID, Vendor: v.Subject.Vendor, Model: v.Subject.Model,
		FirmwareVersion: v.Subject.FirmwareVersion, Mark: fmt.Sprintf("%d@%s", v.DocumentID, v.MatchedAt.Format(time.RFC3339Nano))}
	for i := range comps {
		c := &comps[i]
		name := c.Name
		if c.Group != "" {
			name = c.Group + "/" + c.Name
		}
		for _, x := range c.Vulns {
			out.Vulns = append(out.Vulns, assess.ComponentVuln{Component: name, Version: c.Version, PURL: c.PURL, CPE: c.CPE,
				ID: x.ID, Aliases: x.Aliases, Source: x.Source, Method: x.Method, Confidence: x.Confidence, Status: x.Status,
				Suppressed: x.Suppressed, Justification: x.Justification, Detail: x.Detail, NeedsReview: x.NeedsReview,
				CVSS: x.CVSS, Vector: x.CVSSVector, CVSSVersion: x.CVSSVersion, Summary: x.Summary, Fixed: x.Fixed, NoFix: x.NoFix})
		}
	}
	return out
}

// SBOMsChanged re-reads the attached SBOMs and recomputes the findings of
// the devices whose SBOM coverage changed (an SBOM attached, a new
// version, a re-match). The API and the console call it after an attach;
// Run's watcher calls it when the store's SBOM mark moves.
func (s *Service) SBOMsChanged(ctx context.Context) (*Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng == nil {
		return s.recomputeAll(ctx, true)
	}
	return s.sbomsChanged(ctx)
}

func (s *Service) sbomsChanged(ctx context.Context) (*Summary, error) {
	sbs, mark, err := s.loadSBOMs(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.eng.SBOMs(ctx, sbs)
	if err != nil {
		s.eng = nil
		return nil, fmt.Errorf("findings: assess SBOMs: %w", err)
	}
	s.sbomMark = mark
	sum := &Summary{Scope: "sboms", Match: res.MatchTime, Assess: res.MatchTime + res.ScoreTime}
	if err := s.write(ctx, store.FindingScope{DeviceIDs: res.DeviceScope}, res, sum); err != nil {
		s.eng = nil
		return nil, err
	}
	s.log.Info("findings recomputed", "scope", "sboms", "devices", len(res.DeviceScope), "findings", sum.Findings,
		"new", sum.New, "resolved", sum.Resolved, "suppressed", sum.Suppressed)
	return sum, nil
}

// rematchSBOMs matches the latest version of every attached SBOM that was
// last matched before `before` (the newest OSV, NVD or CSAF import) again
// against the stored OSV, NVD and CSAF VEX data, then, when the engine is
// loaded, recomputes the findings of the devices they cover.
func (s *Service) rematchSBOMs(ctx context.Context, before time.Time) error {
	ss, ok := s.st.(store.SBOMStore)
	if !ok {
		return nil
	}
	src, ok := s.st.(sboms.GenerationSource)
	if !ok {
		return nil
	}
	var ids []int64
	q := store.SBOMQuery{Latest: true, Limit: 1000}
	for {
		p, err := ss.ListSBOMs(ctx, q)
		if err != nil {
			return fmt.Errorf("findings: list SBOMs: %w", err)
		}
		for _, v := range p.SBOMs {
			if v.MatchedAt.Before(before) {
				ids = append(ids, v.ID)
			}
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(ids) == 0 {
		return nil
	}
	m, _, err := sboms.CachedMatchers(ctx, src)
	if err != nil {
		return fmt.Errorf("findings: re-match SBOMs: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if _, err := sboms.Rematch(ctx, ss, id, sbom.Options{}, m); err != nil {
			errs = append(errs, fmt.Errorf("SBOM %d: %w", id, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("findings: re-match SBOMs: %w", err)
	}
	s.log.Info("findings: SBOMs re-matched after a feed import", "sboms", len(ids))
	if s.eng == nil {
		return nil
	}
	_, err = s.sbomsChanged(ctx)
	return err
}

// sbomsStale says why the stored findings lag behind the attached SBOMs
// ("" when they do not): an SBOM attached or re-matched after at.
func (s *Service) sbomsStale(ctx context.Context, at time.Time) (string, error) {
	ss, ok := s.st.(store.SBOMStore)
	if !ok {
		return "", nil
	}
	q := store.SBOMQuery{Limit: 1000}
	for {
		p, err := ss.ListSBOMs(ctx, q)
		if err != nil {
			return "", err
		}
		for _, v := range p.SBOMs {
			if v.AttachedAt.After(at) || v.MatchedAt.After(at) {
				return fmt.Sprintf("SBOM %d was attached or re-matched after the last recompute", v.ID), nil
			}
		}
		if p.Next == "" {
			return "", nil
		}
		q.Cursor = p.Next
	}
}
