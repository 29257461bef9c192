package sbom

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

const cdxNamespacePrefix = "http://cyclonedx.org/schema/bom/"

type xmlPrescan struct {
	namespace string
	version   string
	rootLine  int
	problems  []Problem
}

// xmlFrame tracks one open element during the prescan.
type xmlFrame struct {
	name string
	// counts of child elements by local name (only for license/licenses).
	ids, names, exprs, licenses int
}

// prescanXML walks the token stream once: it refuses DOCTYPE/ENTITY
// declarations (no billion laughs), bounds nesting, reads the namespace
// (which carries the spec version) and checks the structural rules of the
// XSD that decoding into structs would hide: empty bom-ref/ref attributes
// and the license choice (exactly one of id or name; licenses hold either
// license elements or one expression).
func prescanXML(data []byte, maxDepth int) (*xmlPrescan, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.Entity = nil
	out := &xmlPrescan{}
	var stack []xmlFrame
	line := func() int { l, _ := dec.InputPos(); return l }
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, xmlSyntax(dec, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, &InputError{Line: line(), Err: ErrForbiddenDTD}
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, &InputError{Line: line(), Err: fmt.Errorf("%w: xml nesting exceeds %d", ErrTooDeep, maxDepth)}
			}
			if len(stack) == 0 {
				out.rootLine = line()
				if t.Name.Local != "bom" {
					return nil, &InputError{Line: line(), Err: fmt.Errorf("%w: root element is <%s>, want <bom>", ErrSyntax, t.Name.Local)}
				}
				for _, a := range t.Attr {
					if a.Name.Space == "" && a.Name.Local == "xmlns" {
						out.namespace = a.Value
					}
				}
				if v, ok := strings.CutPrefix(out.namespace, cdxNamespacePrefix); ok {
					out.version = v
				}
				if out.namespace == "" {
					out.problems = append(out.problems, Problem{Line: line(), Message: "root <bom> has no cyclonedx namespace (xmlns)"})
				}
			}
			for _, a := range t.Attr {
				if (a.Name.Local == "bom-ref" || a.Name.Local == "ref") && strings.TrimSpace(a.Value) == "" {
					out.problems = append(out.problems, Problem{Line: line(), Message: fmt.Sprintf("<%s> has an empty %s attribute", t.Name.Local, a.Name.Local)})
				}
			}
			out.checkAttrs(t, line())
			if len(stack) > 0 {
				p := &stack[len(stack)-1]
				if p.name == "metadata" && len(stack) == 2 && t.Name.Space == "" && !metadataChildren[t.Name.Local] {
					out.problems = append(out.problems, Problem{Line: line(), Message: fmt.Sprintf("<metadata> does not allow <%s>", t.Name.Local)})
				}
				switch {
				case p.name == "license" && t.Name.Local == "id":
					p.ids++
				case p.name == "license" && t.Name.Local == "name":
					p.names++
				case p.name == "licenses" && t.Name.Local == "license":
					p.licenses++
				case p.name == "licenses" && t.Name.Local == "expression":
					p.exprs++
				}
			}
			stack = append(stack, xmlFrame{name: t.Name.Local})
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, &InputError{Line: line(), Err: fmt.Errorf("%w: unexpected </%s>", ErrSyntax, t.Name.Local)}
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1].name
			}
			switch {
			case f.name == "license" && parent == "licenses" && f.ids+f.names != 1:
				out.problems = append(out.problems, Problem{Line: line(), Message: fmt.Sprintf("<license> must have exactly one <id> or <name>, has %d <id> and %d <name>", f.ids, f.names)})
			case f.name == "licenses" && out.version < "1.7" && f.exprs > 0 && (f.licenses > 0 || f.exprs > 1):
				// 1.7 allows declared and concluded licences side by side.
				out.problems = append(out.problems, Problem{Line: line(), Message: fmt.Sprintf("<licenses> must hold either <license> elements or one <expression>, has %d <license> and %d <expression>", f.licenses, f.exprs)})
			}
		}
	}
	if len(stack) != 0 {
		return nil, &InputError{Line: line(), Err: fmt.Errorf("%w: unexpected end of xml input (truncated?): <%s> not closed", ErrSyntax, stack[len(stack)-1].name)}
	}
	if out.rootLine == 0 {
		return nil, &InputError{Line: 1, Err: fmt.Errorf("%w: no root element", ErrSyntax)}
	}
	return out, nil
}

func xmlSyntax(dec *xml.Decoder, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &InputError{Line: se.Line, Err: fmt.Errorf("%w: %s", ErrSyntax, se.Msg)}
	}
	l, _ := dec.InputPos()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &InputError{Line: l, Err: fmt.Errorf("%w: unexpected end of xml input (truncated?)", ErrSyntax)}
	}
	return &InputError{Line: l, Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
}

// xmlDecode decodes an already prescanned document into v.
func xmlDecode(data []byte, v any) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(v); err != nil {
		return xmlSyntax(dec, err)
	}
	return nil
}

// metadataChildren are the elements the XSDs (1.2–1.7) allow in the bom's
// <metadata> in the CycloneDX namespace; other namespaces are allowed.
var metadataChildren = map[string]bool{
	"timestamp": true, "lifecycles": true, "tools": true, "authors": true, "component": true,
	"manufacture": true, "manufacturer": true, "supplier": true, "licenses": true,
	"properties": true, "distributionConstraints": true,
}

// xmlAttrRule is an attribute rule of the XSDs that decoding into structs
// loses: required attributes and enumerated attribute values.
type xmlAttrRule struct {
	required []string
	enum     map[string][]string
}

var xmlAttrRules = map[string]xmlAttrRule{
	"property":       {required: []string{"name"}},
	"swid":           {required: []string{"tagId", "name"}},
	"classification": {enum: map[string][]string{"flow": {"inbound", "outbound", "bi-directional", "unknown"}}},
}

// checkAttrs applies xmlAttrRules to one start element. Elements in
// foreign namespaces (prefixed) are not checked.
func (out *xmlPrescan) checkAttrs(t xml.StartElement, line int) {
	if t.Name.Space != "" {
		return
	}
	rule, ok := xmlAttrRules[t.Name.Local]
	if !ok {
		return
	}
	have := map[string]string{}
	for _, a := range t.Attr {
		if a.Name.Space == "" {
			have[a.Name.Local] = a.Value
		}
	}
	for _, r := range rule.required {
		if _, ok := have[r]; !ok {
			out.problems = append(out.problems, Problem{Line: line, Message: fmt.Sprintf("<%s> is missing the required %s attribute", t.Name.Local, r)})
		}
	}
	for name, allowed := range rule.enum {
		v, ok := have[name]
		if !ok {
			continue
		}
		if !slices.Contains(allowed, v) {
			out.problems = append(out.problems, Problem{Line: line, Message: fmt.Sprintf("<%s %s=%q>: value must be one of %s", t.Name.Local, name, v, strings.Join(allowed, ", "))})
		}
	}
}
