package risk

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the worked examples in docs/RISK.md")

const riskDoc = "../../docs/RISK.md"

// TestDocExamples checks the worked examples of docs/RISK.md against the
// model: each example's table sits between <!-- example:NAME --> and
// <!-- /example --> and is regenerated with -update.
func TestDocExamples(t *testing.T) {
	raw, err := os.ReadFile(riskDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	s := newTestScorer(t)
	for _, ex := range docExamples() {
		open, end := "<!-- example:"+ex.name+" -->\n", "<!-- /example -->"
		i := strings.Index(doc, open)
		if i < 0 {
			t.Errorf("%s: no %q block", riskDoc, strings.TrimSpace(open))
			continue
		}
		j := strings.Index(doc[i:], end)
		if j < 0 {
			t.Errorf("%s: example %s is not closed by %q", riskDoc, ex.name, end)
			continue
		}
		got := renderExample(s.Finding(&ex.device, &ex.finding))
		have := doc[i+len(open) : i+j]
		if *update {
			doc = doc[:i+len(open)] + got + doc[i+j:]
			continue
		}
		if diff := cmp.Diff(have, got); diff != "" {
			t.Errorf("worked example %s in %s is stale; run go test ./internal/risk -run TestDocExamples -update (-doc +model):\n%s", ex.name, riskDoc, diff)
		}
	}
	if *update {
		if err := os.WriteFile(riskDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDocExampleOrder pins the point of the examples: the ventilator
// outranks the badge reader although both carry CVSS 9.8.
func TestDocExampleOrder(t *testing.T) {
	s := newTestScorer(t)
	got := map[string]FindingRisk{}
	for _, ex := range docExamples() {
		got[ex.name] = s.Finding(&ex.device, &ex.finding)
	}
	want := map[string]Band{"ventilator": BandCritical, "badge-reader": BandMedium, "ct-unsupported": BandMedium}
	for name, b := range want {
		if got[name].Band != b {
			t.Errorf("%s: band %s (score %v), want %s", name, got[name].Band, got[name].Score, b)
		}
	}
	if got["ventilator"].Score <= got["badge-reader"].Score+20 {
		t.Errorf("ventilator %v is not well above badge reader %v", got["ventilator"].Score, got["badge-reader"].Score)
	}
}
