package findings

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/csaf"
	"github.com/medwarden/medwarden/internal/assess"
	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/rubric"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

var (
	advOnce sync.Once
	advs    []*advisory.Advisory
	advErr  error
)

// icsma returns the CISA ICSMA advisories of internal/match/testdata.
func icsma(t testing.TB) []*advisory.Advisory {
	t.Helper()
	advOnce.Do(func() {
		v, err := csaf.NewValidator(csaf.Options{})
		if err != nil {
			advErr = err
			return
		}
		files, _ := filepath.Glob(filepath.Join("..", "match", "testdata", "icsma", "*.json"))
		slices.Sort(files)
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				advErr = err
				return
			}
			a, _, err := v.ParseAdvisory(f, name)
			f.Close()
			if err != nil || a == nil {
				advErr = err
				return
			}
			advs = append(advs, a)
		}
	})
	if advErr != nil {
		t.Fatal(advErr)
	}
	return advs
}

// hospital returns a store holding the demo hospital (n devices) and the
// given advisories, audited like the server's.
func hospital(t testing.TB, st store.Store, n int, as []*advisory.Advisory) *recorder.Store {
	t.Helper()
	ctx := context.Background()
	cfg := demo.DefaultConfig()
	cfg.Devices = n
	var devs []*inventory.Device
	if err := demo.Generate(cfg, func(d *inventory.Device) error { devs = append(devs, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := st.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, devs) }); err != nil {
		t.Fatal(err)
	}
	putAdvisories(t, st, as)
	rec, err := recorder.Wrap(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func putAdvisories(t testing.TB, st store.Store, as []*advisory.Advisory) {
	t.Helper()
	ctx := context.Background()
	if err := st.ImportFeeds(ctx, func(tx store.FeedTx) error {
		for _, a := range as {
			if err := tx.PutAdvisory(ctx, a, "csaf:test"); err != nil {
				return err
			}
		}
		return tx.SetFeed(ctx, store.FeedStatus{Name: "csaf:test", Kind: store.FeedCSAF, Source: "testdata", ImportedAt: store.Now(), Items: int64(len(as))})
	}); err != nil {
		t.Fatal(err)
	}
}

func openSQLite(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openers(t *testing.T) map[string]func(t *testing.T) store.Store {
	out := map[string]func(t *testing.T) store.Store{"sqlite": func(t *testing.T) store.Store { return openSQLite(t) }}
	if base := os.Getenv("MEDWARDEN_TEST_POSTGRES"); base != "" {
		out["postgres"] = func(t *testing.T) store.Store {
			st, err := postgres.Open(context.Background(), storetest.PostgresSchemaDSN(t, base))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	} else {
		t.Log("MEDWARDEN_TEST_POSTGRES not set: the service is tested on SQLite only")
	}
	return out
}

func all(t *testing.T, st store.Store, q store.FindingQuery) []*store.Finding {
	t.Helper()
	var out []*store.Finding
	q.Limit = 1000
	for {
		p, err := st.ListFindings(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Findings...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

// TestService walks the life of findings in a hospital: full recompute,
// a device patched (its findings resolve), a workflow with acceptance and
// rubric (audited, rescored), a device added and one deleted behind the
// service's back (the watcher catches both), a new advisory, the snapshot.
func TestService(t *testing.T) {
	for name, open := range openers(t) {
		t.Run(name, func(t *testing.T) { testService(t, open(t)) })
	}
}

func testService(t *testing.T, raw store.Store) {
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "alice", Kind: audit.KindUser, Source: "test"})
	as := icsma(t)
	held := as[len(as)-1] // imported later
	st := hospital(t, raw, 600, as[:len(as)-1])
	svc := New(st, Options{PollInterval: -1})

	stale, why, err := svc.Stale(ctx)
	if err != nil || !stale {
		t.Fatalf("empty findings are not stale: %v %q %v", stale, why, err)
	}
	sum, err := svc.RecomputeAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Findings < 20 || sum.New != sum.Findings || sum.Devices == 0 {
		t.Fatalf("recompute: %+v", sum)
	}
	if stale, why, _ := svc.Stale(ctx); stale {
		t.Errorf("stale right after a recompute: %s", why)
	}
	fs := all(t, st, store.FindingQuery{})
	if len(fs) != sum.Findings {
		t.Fatalf("%d findings stored, summary says %d", len(fs), sum.Findings)
	}
	f0 := fs[0] // riskiest
	if f0.Score <= 0 || f0.ProductID == "" || len(f0.BranchPath) == 0 || f0.Method == "" || f0.Action == "" || string(f0.Factors) == "[]" {
		t.Errorf("riskiest finding lacks fields: %+v", f0)
	}
	dr, err := st.GetDeviceRisk(ctx, f0.DeviceID)
	if err != nil || dr.Score < f0.Score || dr.Findings == 0 {
		t.Errorf("device risk of the riskiest finding's device: %+v %v", dr, err)
	}

	// the device gets patched: version no advisory lists
	d, err := st.GetDevice(ctx, f0.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	d.Version = "99.99.99"
	d.Model = "Patched Model Z"
	if err := st.UpdateDevice(ctx, d, d.Revision); err != nil {
		t.Fatal(err)
	}
	sum, err = svc.DevicesChanged(ctx, []int64{d.ID})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resolved == 0 {
		t.Errorf("patched device: nothing resolved: %+v", sum)
	}
	if left := all(t, st, store.FindingQuery{DeviceID: d.ID}); len(left) != 0 {
		t.Errorf("patched device still has %d findings", len(left))
	}
	if _, err := st.GetDeviceRisk(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("patched device keeps a risk row: %v", err)
	}

	// workflow on the next riskiest finding
	fs = all(t, st, store.FindingQuery{})
	f1 := fs[0]
	accepted := "accepted"
	if _, err := svc.UpdateWorkflow(ctx, f1.ID, Change{State: &accepted}, 0, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("accepted without acceptance: %v", err)
	}
	exp := time.Now().UTC().AddDate(0, 2, 0)
	got, err := svc.UpdateWorkflow(ctx, f1.ID, Change{Accept: &Acceptance{Justification: "device on isolated VLAN 120; vendor fix planned",
		Approver: "Dr. M. Weber (CISO)", Expires: exp}}, f1.Workflow.Revision, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Workflow.State != store.StateAccepted || got.Workflow.UpdatedBy != "alice" || got.SLA != "accepted" || got.Action != "accept" ||
		got.Due != exp.Format(time.DateOnly) {
		t.Errorf("accepted finding: state %s by %s, action %s due %s sla %s", got.Workflow.State, got.Workflow.UpdatedBy, got.Action, got.Due, got.SLA)
	}
	if _, err := svc.UpdateWorkflow(ctx, f1.ID, Change{Note: ptr("stale")}, f1.Workflow.Revision, ""); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale revision: %v", err)
	}
	if _, err := svc.UpdateWorkflow(ctx, f1.ID, Change{RubricAnswers: rubric.Answers{"XAVN": "YES"}}, 0, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("incomplete rubric: %v", err)
	}
	// the rubric: physical access only, limited impact
	b, err := os.ReadFile(filepath.Join("..", "rubric", "testdata", "workbook-test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var wb struct {
		Answers rubric.Answers `json:"answers"`
		Vector  string         `json:"expected_vector"`
	}
	if err := json.Unmarshal(b, &wb); err != nil {
		t.Fatal(err)
	}
	got, err = svc.UpdateWorkflow(ctx, f1.ID, Change{RubricAnswers: wb.Answers, Owner: ptr("biomed-north")}, 0, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if got.Workflow.RubricVector == "" || len(got.Workflow.RubricRationale) == 0 || got.Workflow.UpdatedBy != "bob" ||
		got.ScoreVector == "" || got.Workflow.Owner != "biomed-north" {
		t.Errorf("rubric: vector %q score vector %q rationale %d bytes", got.Workflow.RubricVector, got.ScoreVector, len(got.Workflow.RubricRationale))
	}
	entries := auditActions(t, raw)
	if n := count(entries, "finding.update"); n != 2 {
		t.Errorf("%d finding.update audit entries, want 2 (%v)", n, entries)
	}
	// false positive leaves the device risk
	fp := "false_positive"
	before, _ := st.GetDeviceRisk(ctx, fs[1].DeviceID)
	if _, err := svc.UpdateWorkflow(ctx, fs[1].ID, Change{State: &fp}, 0, ""); err != nil {
		t.Fatal(err)
	}
	after, err := st.GetDeviceRisk(ctx, fs[1].DeviceID)
	if before != nil && err == nil && after.Findings != before.Findings-1 {
		t.Errorf("false positive: device findings %d → %d", before.Findings, after.Findings)
	}

	// behind the service's back: a twin of an affected device is created,
	// another affected device deleted
	twin, err := st.GetDevice(ctx, fs[2].DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	twin.ID, twin.AssetID, twin.Serial, twin.MACs, twin.IPs, twin.Hostname = 0, "TWIN-0001", "SN-TWIN", nil, nil, ""
	if err := st.CreateDevice(ctx, twin); err != nil {
		t.Fatal(err)
	}
	gone := fs[3].DeviceID
	if gone == twin.ID || gone == fs[2].DeviceID {
		gone = fs[len(fs)-1].DeviceID
	}
	if err := st.DeleteDevice(ctx, gone, 0); err != nil {
		t.Fatal(err)
	}
	if err := svc.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(all(t, st, store.FindingQuery{DeviceID: twin.ID})); n == 0 {
		t.Error("the watcher did not assess the new device")
	}
	if n := len(all(t, st, store.FindingQuery{DeviceID: gone})); n != 0 {
		t.Errorf("the deleted device keeps %d matching findings", n)
	}
	if n := len(all(t, st, store.FindingQuery{DeviceID: gone, IncludeResolved: true})); n == 0 {
		t.Error("the deleted device's findings were removed, not resolved")
	}

	// a workflow written straight to the store (not through the
	// service): the watcher rescores the device
	cur := all(t, st, store.FindingQuery{})
	var target *store.Finding
	for _, f := range cur {
		if f.Workflow.State == store.StateOpen {
			if dr, err := st.GetDeviceRisk(ctx, f.DeviceID); err == nil && dr.Findings == 1 {
				target = f
				break
			}
		}
	}
	if target == nil {
		t.Fatal("no open finding on a device with one finding")
	}
	wf := target.Workflow
	wf.State, wf.UpdatedBy = store.StateFalsePositive, "api-client"
	if _, err := st.UpdateFindingWorkflow(ctx, target.ID, wf, wf.Revision); err != nil {
		t.Fatal(err)
	}
	if err := svc.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetDeviceRisk(ctx, target.DeviceID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("false positive written to the store: the device keeps its risk row (%v)", err)
	}

	// a new advisory arrives through a feed import
	time.Sleep(5 * time.Millisecond)
	putAdvisories(t, raw, []*advisory.Advisory{held})
	if err := svc.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	fresh, err := New(st, Options{}).recomputeInMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, r := range fresh.Records {
		if r.AdvisoryID == held.ID {
			want++
		}
	}
	if got := len(all(t, st, store.FindingQuery{AdvisoryID: held.ID})); got != want {
		t.Errorf("advisory %s: %d findings stored after the poll, a full recompute gives %d", held.ID, got, want)
	}

	// the snapshot of today
	if err := svc.Snapshot(ctx, ""); err != nil {
		t.Fatal(err)
	}
	snaps, err := st.ListRiskSnapshots(ctx, "", "")
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots %v %v", snaps, err)
	}
	var reg struct {
		Total struct {
			Devices  int `json:"devices"`
			Affected int `json:"affected"`
		} `json:"total"`
	}
	if err := json.Unmarshal(snaps[0].Register, &reg); err != nil || reg.Total.Devices != 600 || reg.Total.Affected == 0 {
		t.Errorf("snapshot register total %+v (%v)", reg.Total, err)
	}
	// a full recompute keeps the workflow
	if _, err := svc.RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := st.GetFinding(ctx, f1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Workflow.State != store.StateAccepted || again.Workflow.RubricVector == "" || again.ScoreVector == "" || again.SLA != "accepted" {
		t.Errorf("after a full recompute: %+v", again.Workflow)
	}
}

func ptr[T any](v T) *T { return &v }

func auditActions(t *testing.T, st store.Store) []string {
	t.Helper()
	sec, ok := st.(store.SecurityStore)
	if !ok {
		t.Fatal("store keeps no audit log")
	}
	var out []string
	if err := sec.ScanAudit(context.Background(), 0, func(e *audit.Entry) error {
		out = append(out, e.Action)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// recomputeInMemory is a full assessment of the store, not written.
func (s *Service) recomputeInMemory(ctx context.Context) (*assess.Result, error) {
	eng, _, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	return eng.All(ctx)
}
