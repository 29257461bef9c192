package sboms

import (
	"bytes"
	"context"
	"fmt"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/nvd"
	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/sbom/cpematch"
	"github.com/medwarden/medwarden/internal/sbom/osv"
	"github.com/medwarden/medwarden/internal/store"
)

// FeedSource is the part of the store the matchers are loaded from.
type FeedSource interface {
	ScanNVD(ctx context.Context, fn func(id string, raw []byte) error) error
	ScanOSV(ctx context.Context, fn func(id string, raw []byte) error) error
	ScanAdvisories(ctx context.Context, fn func(*advisory.Advisory) error) error
}

// StoredMatchers loads the vulnerability data kept in the store: OSV
// records (feed "osv", for PURL matching; m.OSV stays nil when there are
// none), NVD CVE records (for CPE and name matching) and the VEX
// statements of every stored CSAF document of category csaf_vex. Stored
// records that no longer parse are an error: matching against part of the
// data would hide findings.
func StoredMatchers(ctx context.Context, src FeedSource) (Matchers, Stats, error) {
	var m Matchers
	var st Stats
	var cves []*nvd.CVE
	err := src.ScanNVD(ctx, func(id string, raw []byte) error {
		c, err := nvd.ParseRecord(raw, "stored NVD record "+id)
		if err != nil {
			return err
		}
		cves = append(cves, c)
		return nil
	})
	if err != nil {
		return m, st, fmt.Errorf("load NVD records: %w", err)
	}
	m.NVD = cpematch.NewIndex(cves)
	st.NVD = len(cves)
	var recs []*osv.Record
	err = src.ScanOSV(ctx, func(id string, raw []byte) error {
		r, err := osv.Parse(bytes.NewReader(raw), "stored OSV record "+id)
		if err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return m, st, fmt.Errorf("load OSV records: %w", err)
	}
	if len(recs) > 0 {
		m.OSV = osv.NewIndex(recs)
		st.OSV = m.OSV.Len()
	}
	err = src.ScanAdvisories(ctx, func(a *advisory.Advisory) error {
		if a.Category == "csaf_vex" {
			st.CSAFVEX++
			m.VEX = append(m.VEX, VEXFromAdvisory(a)...)
		}
		return nil
	})
	if err != nil {
		return m, st, fmt.Errorf("load CSAF VEX documents: %w", err)
	}
	return m, st, nil
}

// Stats counts the data matchers were loaded with.
type Stats struct {
	NVD     int `json:"nvd_records"`
	OSV     int `json:"osv_records"`
	CSAFVEX int `json:"csaf_vex_documents"`
}

// Note says what a match used, for output.
func (s Stats) Note() string {
	return fmt.Sprintf("matched against %d NVD CVE records (CPE, and name aliases for firmware/OS/RTOS), %d OSV records (PURL) and %d CSAF VEX documents",
		s.NVD, s.OSV, s.CSAFVEX)
}

// Rematch re-runs matching for the document of stored version id with m
// and stores the result. Without OSV records (m.OSV nil) the stored OSV
// findings are kept, so a re-match after an NVD or CSAF VEX update does not
// drop them.
func Rematch(ctx context.Context, st store.SBOMStore, id int64, opts sbom.Options, m Matchers) (*store.SBOMVersion, error) {
	v, err := st.GetSBOM(ctx, id)
	if err != nil {
		return nil, err
	}
	raw, err := st.SBOMRaw(ctx, id)
	if err != nil {
		return nil, err
	}
	in, _, err := analyzeRaw(raw, fmt.Sprintf("sbom %d", id), opts, m, false) // only the vulnerabilities are stored
	if err != nil {
		return nil, err
	}
	if m.OSV == nil {
		comps, err := st.SBOMComponents(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, c := range comps {
			for _, x := range c.Vulns {
				if x.Source == "osv" {
					in.Vulns = append(in.Vulns, x)
				}
			}
		}
	}
	if err := st.ReplaceSBOMVulns(ctx, v.DocumentID, in.Vulns); err != nil {
		return nil, err
	}
	return st.GetSBOM(ctx, id)
}
