package assess

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/inventory"
)

// fleetSBOMs builds n SBOMs of comps components for the n most common
// (vendor, model, version) groups of devs: vulnerable components every
// `every` (one CVE each, CVSS from the record), every 10th of those
// suppressed by VEX, every 7th a low-confidence name match, and every
// 5th naming a CVE of an advisory that matches the group's devices
// (advCVEs, from a first assessment; that advisory takes it in).
func fleetSBOMs(devs []*inventory.Device, advCVEs map[replKey][]string, n, comps, every int) []SBOM {
	count := map[replKey]int{}
	names := map[replKey]*inventory.Device{}
	for _, d := range devs {
		k := replKeyOf(d)
		count[k]++
		names[k] = d
	}
	keys := make([]replKey, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j])
	})
	var out []SBOM
	for i, k := range keys[:min(n, len(keys))] {
		d := names[k]
		s := SBOM{ID: int64(i + 1), Version: 1, Vendor: d.Vendor, Model: d.Model, FirmwareVersion: d.Version, Mark: "m1"}
		for c := 0; c < comps; c += every {
			v := ComponentVuln{Component: fmt.Sprintf("lib%d", c), Version: "1.2." + fmt.Sprint(c%9),
				PURL: fmt.Sprintf("pkg:generic/lib%d@1.2.%d", c, c%9), ID: fmt.Sprintf("CVE-2024-%05d", (i*comps+c)%40000),
				Source: "nvd", Method: "cpe", Confidence: "high", Status: "affected", CVSS: 4 + float64(c%60)/10,
				Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", CVSSVersion: "3.1", Summary: "test vulnerability"}
			j := c / every
			switch {
			case j%10 == 9:
				v.Status, v.Suppressed, v.Justification = "not_affected", true, "code_not_present"
			case j%7 == 6:
				v.Method, v.Confidence, v.NeedsReview, v.PURL = "name", "low", true, ""
			case j%5 == 4 && len(advCVEs[k]) > 0:
				v.ID = advCVEs[k][(i+j)%len(advCVEs[k])]
			}
			s.Vulns = append(s.Vulns, v)
		}
		out = append(out, s)
	}
	return out
}

// groupCVEs are the CVEs of the advisories matching each (vendor, model,
// version) group, from an assessment without SBOMs.
func groupCVEs(e *Engine, res *Result) map[replKey][]string {
	out := map[replKey][]string{}
	for _, r := range res.Records {
		k := replKeyOf(e.Device(r.DeviceID))
		for _, c := range r.Match.CVEs {
			if !slices.Contains(out[k], c) {
				out[k] = append(out[k], c)
			}
		}
	}
	return out
}

type recKey struct {
	dev int64
	adv string
}

func sbomRecordsOf(res *Result) map[recKey]Record {
	out := map[recKey]Record{}
	for _, r := range res.Records {
		out[recKey{r.DeviceID, r.AdvisoryID}] = r
	}
	return out
}

// TestEngineSBOMs: SBOM pairs become records of every covered device;
// suppressed ones are excluded; an advisory naming the CVE takes it in;
// the incremental paths (SBOMs, Advisories, Devices) agree with a full
// assessment.
func TestEngineSBOMs(t *testing.T) {
	devs, as := fleet(t, 3000), icsma(t)
	e := newEngine(t, devs, as)
	first, err := e.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sboms := fleetSBOMs(devs, groupCVEs(e, first), 20, 200, 10)
	e.LoadSBOMs(sboms)
	full, err := e.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	recs := sbomRecordsOf(full)
	var own, merged, suppressed int
	for _, r := range full.Records {
		switch r.Source {
		case SourceSBOM:
			own++
			if r.Suppressed != r.Excluded || (r.Suppressed && len(r.Items) != 0) {
				t.Errorf("%d/%s: suppressed %v excluded %v items %d", r.DeviceID, r.AdvisoryID, r.Suppressed, r.Excluded, len(r.Items))
			}
			if r.Suppressed {
				suppressed++
			}
			if r.Match.Confidence < 0.7 && r.Match.Status != "needs_review" {
				t.Errorf("%d/%s: confidence %.2f status %s", r.DeviceID, r.AdvisoryID, r.Match.Confidence, r.Match.Status)
			}
		case SourceAdvisorySBOM:
			merged++
			if len(r.Evidence) == 0 {
				t.Errorf("%d/%s: advisory+sbom without evidence", r.DeviceID, r.AdvisoryID)
			}
			for _, ev := range r.Evidence {
				if _, dup := recs[recKey{r.DeviceID, ev.Vulnerability}]; dup {
					t.Errorf("%d: %s is both an SBOM finding and evidence of %s", r.DeviceID, ev.Vulnerability, r.AdvisoryID)
				}
			}
		}
	}
	if own == 0 || merged == 0 || suppressed == 0 {
		t.Fatalf("own %d merged %d suppressed %d: the fixture does not exercise every case", own, merged, suppressed)
	}
	// a device of the first SBOM's group has its pairs
	covered := e.repl[replKeyOf(&inventory.Device{Vendor: sboms[0].Vendor, Model: sboms[0].Model, Version: sboms[0].FirmwareVersion})]
	if len(covered) == 0 {
		t.Fatal("first SBOM covers no device")
	}
	for _, v := range sboms[0].Vulns {
		if _, ok := recs[recKey{covered[0], v.ID}]; !ok && !adviseCVE(full, covered[0], v.ID) {
			t.Errorf("device %d: no record for %s", covered[0], v.ID)
		}
	}

	// a new version of SBOM 1 drops its vulnerabilities: only its devices
	// are re-assessed, and the result equals a full assessment
	next := slices.Clone(sboms)
	next[0].Mark, next[0].Vulns = "m2", next[0].Vulns[:3]
	inc, err := e.SBOMs(context.Background(), next)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inc.DeviceScope, covered) {
		t.Errorf("SBOMs scope %d devices, want the %d covered", len(inc.DeviceScope), len(covered))
	}
	e2 := newEngine(t, devs, as)
	e2.LoadSBOMs(next)
	want, err := e2.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantRecs := sbomRecordsOf(want)
	for _, r := range inc.Records {
		w, ok := wantRecs[recKey{r.DeviceID, r.AdvisoryID}]
		if !ok || w.Risk.Score != r.Risk.Score || w.Source != r.Source || w.Excluded != r.Excluded || len(w.Evidence) != len(r.Evidence) {
			t.Errorf("incremental %d/%s differs from full: %v %+v / %+v", r.DeviceID, r.AdvisoryID, ok, w.Risk, r.Risk)
		}
	}
	n := 0
	for _, r := range want.Records {
		if slices.Contains(covered, r.DeviceID) {
			n++
		}
	}
	if n != len(inc.Records) {
		t.Errorf("incremental: %d records of the covered devices, full %d", len(inc.Records), n)
	}

	// a new version of SBOM 2 without any vulnerability: its devices keep
	// only their advisory records
	next[1].Mark, next[1].Vulns = "m2", nil
	inc, err = e.SBOMs(context.Background(), next)
	if err != nil {
		t.Fatal(err)
	}
	if len(inc.DeviceScope) == 0 {
		t.Fatal("an SBOM that lost every vulnerability re-assessed no device")
	}
	for _, r := range inc.Records {
		if r.Source != SourceAdvisory {
			t.Errorf("device %d keeps %s (%s) after its SBOM lost every vulnerability", r.DeviceID, r.AdvisoryID, r.Source)
		}
	}

	// a revision of an advisory naming a CVE of an SBOM of its devices
	// re-assesses those devices whole; one naming none keeps its scope
	var mergedInto string
	for _, r := range full.Records {
		if r.Source == SourceAdvisorySBOM {
			mergedInto = r.AdvisoryID
			break
		}
	}
	for _, a := range as {
		overlap := a.ID == mergedInto
		if !overlap && a.ID != as[0].ID {
			continue
		}
		c := *a
		res, err := e.Advisories(context.Background(), []*advisory.Advisory{&c})
		if err != nil {
			t.Fatal(err)
		}
		if overlap && (res.AdvisoryScope != nil || len(res.DeviceScope) == 0) {
			t.Errorf("%s names an SBOM CVE: advisory scope %v, device scope %d", a.ID, res.AdvisoryScope, len(res.DeviceScope))
		}
		if !overlap && !sbomNamed(sboms, a) && (res.AdvisoryScope == nil || res.DeviceScope != nil) {
			t.Errorf("%s names no SBOM CVE: advisory scope %v, device scope %d", a.ID, res.AdvisoryScope, len(res.DeviceScope))
		}
	}
	// a device leaves the model: its SBOM pairs go
	d := *e.Device(covered[0])
	d.Version = "99.0"
	res, err := e.Devices(context.Background(), []*inventory.Device{&d}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Records {
		if r.DeviceID == d.ID && r.Source != SourceAdvisory {
			t.Errorf("device moved off the SBOM's firmware keeps %s (%s)", r.AdvisoryID, r.Source)
		}
	}
}

// adviseCVE reports whether an advisory record of dev names cve (the SBOM
// pair was merged into it).
func adviseCVE(res *Result, dev int64, cve string) bool {
	for _, r := range res.Records {
		if r.DeviceID == dev && slices.Contains(r.Match.CVEs, cve) && r.Source == SourceAdvisorySBOM {
			return true
		}
	}
	return false
}

// sbomNamed reports whether an SBOM has a vulnerability the advisory names.
func sbomNamed(sboms []SBOM, a *advisory.Advisory) bool {
	for _, s := range sboms {
		for _, v := range s.Vulns {
			for i := range a.Vulnerabilities {
				if a.Vulnerabilities[i].CVE == v.ID {
					return true
				}
			}
		}
	}
	return false
}
