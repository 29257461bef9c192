package sbom

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The official schemas, embedded so validation works offline. See
// schema/PROVENANCE.md.
//
//go:embed schema/*.json
var schemaFS embed.FS

const cdxSchemaBase = "http://cyclonedx.org/schema/"

const spdx23SchemaURL = "http://spdx.org/rdf/terms/2.3"

// cdxSchemaFiles maps a CycloneDX spec version to its embedded JSON schema.
var cdxSchemaFiles = map[string]string{
	"1.2": "bom-1.2.schema.json",
	"1.3": "bom-1.3.schema.json",
	"1.4": "bom-1.4.schema.json",
	"1.5": "bom-1.5.schema.json",
	"1.6": "bom-1.6.schema.json",
	"1.7": "bom-1.7.schema.json",
}

type schemaSet struct {
	once    sync.Once
	err     error
	schemas map[string]*jsonschema.Schema // key: version ("1.6", "spdx-2.3")
	// items are the CycloneDX item definitions validated one by one when
	// streaming; key: version + "/" + definition ("1.6/component").
	items map[string]*jsonschema.Schema
	// fast are the same item definitions compiled for the fast path
	// (fastschema.go).
	fast map[string]*fastNode
}

var schemas schemaSet

// offlineLoader refuses every URL: all schemas must be embedded resources.
type offlineLoader struct{}

func (offlineLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not embedded (offline)", url)
}

func (s *schemaSet) load() error {
	s.once.Do(func() {
		c := jsonschema.NewCompiler()
		c.UseLoader(offlineLoader{})
		c.AssertFormat()
		entries, err := schemaFS.ReadDir("schema")
		if err != nil {
			s.err = err
			return
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			raw, err := schemaFS.ReadFile("schema/" + e.Name())
			if err != nil {
				s.err = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				s.err = fmt.Errorf("embedded schema %s: %w", e.Name(), err)
				return
			}
			url := cdxSchemaBase + e.Name()
			if e.Name() == "spdx-schema-2.3.json" {
				url = spdx23SchemaURL
			}
			if m, ok := doc.(map[string]any); ok {
				// The 1.2/1.3 schemas carry revision ids (bom-1.2b); address
				// every file by its own name so relative $refs resolve here.
				delete(m, "$id")
			}
			if err := c.AddResource(url, doc); err != nil {
				s.err = fmt.Errorf("embedded schema %s: %w", e.Name(), err)
				return
			}
		}
		s.schemas = map[string]*jsonschema.Schema{}
		s.items = map[string]*jsonschema.Schema{}
		s.fast = map[string]*fastNode{}
		fc := fastCompiler{}
		for v, f := range cdxSchemaFiles {
			sch, err := c.Compile(cdxSchemaBase + f)
			if err != nil {
				s.err = fmt.Errorf("compile %s: %w", f, err)
				return
			}
			s.schemas[v] = sch
			for _, def := range streamedArrays {
				sch, err := c.Compile(cdxSchemaBase + f + "#/definitions/" + def)
				if err != nil {
					s.err = fmt.Errorf("compile %s#/definitions/%s: %w", f, def, err)
					return
				}
				s.items[v+"/"+def] = sch
				s.fast[v+"/"+def] = fc.compile(sch)
			}
		}
		sch, err := c.Compile(spdx23SchemaURL)
		if err != nil {
			s.err = fmt.Errorf("compile spdx 2.3 schema: %w", err)
			return
		}
		s.schemas["spdx-2.3"] = sch
	})
	return s.err
}

// validateValue runs sch over an already decoded instance.
func validateValue(sch *jsonschema.Schema, inst any) []Problem {
	err := sch.Validate(inst)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []Problem{{Message: err.Error()}}
	}
	var out []Problem
	seen := map[string]bool{}
	var walk func(u *jsonschema.OutputUnit)
	walk = func(u *jsonschema.OutputUnit) {
		if len(u.Errors) == 0 && u.Error != nil {
			msg := u.Error.String()
			k := u.InstanceLocation + "\x00" + msg
			if !seen[k] {
				seen[k] = true
				out = append(out, Problem{Pointer: u.InstanceLocation, Message: msg})
			}
		}
		for i := range u.Errors {
			walk(&u.Errors[i])
		}
	}
	walk(ve.DetailedOutput())
	if len(out) == 0 {
		out = append(out, Problem{Message: ve.Error()})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return out
}

// MaxProblems bounds the problems kept per document.
const MaxProblems = 100

func capProblems(ps []Problem) []Problem {
	if len(ps) > MaxProblems {
		n := len(ps) - MaxProblems
		ps = append(ps[:MaxProblems:MaxProblems], Problem{Message: fmt.Sprintf("and %d more schema violations", n)})
	}
	return ps
}
