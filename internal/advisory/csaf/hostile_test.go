package csaf

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLongRelationshipChain: 20 000 relationships, each built on the
// previous one, and one cycle at the end. The 6.1.3 check is linear, so
// this finishes quickly and finds exactly the cycle.
func TestLongRelationshipChain(t *testing.T) {
	t.Parallel()
	const n = 20000
	var b strings.Builder
	b.WriteString(`,"product_tree":{"full_product_names":[{"name":"base","product_id":"R0"},{"name":"os","product_id":"OS"}],"relationships":[`)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"category":"installed_on","full_product_name":{"name":"r%d","product_id":"R%d"},"product_reference":"R%d","relates_to_product_reference":"OS"}`, i, i, i-1)
	}
	// X and Y are made of each other.
	b.WriteString(`,{"category":"installed_on","full_product_name":{"name":"x","product_id":"X"},"product_reference":"Y","relates_to_product_reference":"OS"}`)
	b.WriteString(`,{"category":"installed_on","full_product_name":{"name":"y","product_id":"Y"},"product_reference":"X","relates_to_product_reference":"OS"}`)
	b.WriteString(`]}`)
	rep := newTestValidator(t).ParseBytes(doc(b.String()), "chain.json")
	want := []Error{
		{Test: "6.1.3", Path: fmt.Sprintf("/product_tree/relationships/%d/product_reference", n), Message: `product id "X" is defined through itself (via "Y"): circular relationship`},
		{Test: "6.1.3", Path: fmt.Sprintf("/product_tree/relationships/%d/product_reference", n+1), Message: `product id "Y" is defined through itself (via "X"): circular relationship`},
	}
	if diff := cmp.Diff(want, rep.Errors); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestGroupExpansionBudget: many flags referencing one big group would
// expand to n*m product ids; past the budget one input finding is given.
func TestGroupExpansionBudget(t *testing.T) {
	t.Parallel()
	v, err := NewValidator(Options{MaxGroupExpansion: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(`,"product_tree":{"full_product_names":[`)
	var ids []string
	for i := 0; i < 100; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"p%d","product_id":"P%d"}`, i, i)
		ids = append(ids, fmt.Sprintf(`"P%d"`, i))
	}
	fmt.Fprintf(&b, `],"product_groups":[{"group_id":"G","product_ids":[%s]}]},"vulnerabilities":[{"flags":[`, strings.Join(ids, ","))
	for i := 0; i < 50; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"label":"component_not_present","group_ids":["G"]}`)
	}
	b.WriteString(`]}]`)
	rep := v.ParseBytes(doc(b.String()), "groups.json")
	if !rep.HasTest(TestInput) {
		t.Fatalf("no input finding for exhausted group expansion: %v", rep.Errors)
	}
	adv := ToAdvisory(rep.Document, "groups.json", "", Options{MaxGroupExpansion: 1000})
	total := 0
	for _, f := range adv.Vulnerabilities[0].Flags {
		total += len(f.ProductIDs)
	}
	if total > 1000 {
		t.Errorf("ToAdvisory expanded %d product ids, budget 1000", total)
	}
}

// TestWrongTypesStillDecoded: a member of the wrong JSON type is a schema
// finding; the rest of the document is still decoded and checked.
func TestWrongTypesStillDecoded(t *testing.T) {
	t.Parallel()
	in := strings.Replace(string(doc(`,"product_tree":{"full_product_names":[{"name":"A","product_id":"P1"},{"name":"B","product_id":"P1"}]}`)), `"title": "Test"`, `"title": 5`, 1)
	rep := newTestValidator(t).ParseBytes([]byte(in), "types.json")
	if rep.Document == nil {
		t.Fatal("document not decoded")
	}
	var got []string
	for _, e := range rep.Errors {
		got = append(got, e.Test+" "+e.Path)
	}
	want := []string{"schema /document/title", "6.1.2 /product_tree/full_product_names/1/product_id"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
