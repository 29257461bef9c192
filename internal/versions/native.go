package versions

import (
	"fmt"
	"strings"
)

// FromNative converts a package ecosystem's native range notation into a
// vers Range, following the vers-spec and univers conversions:
//
//   - npm: node-semver ranges ("||" unions, hyphen ranges, ~, ^, x-ranges, *);
//   - conan: as npm, with Conan's "~"/"^" upper bounds ("<2.6-") and options
//     after a comma ("include_prerelease=True") ignored;
//   - pypi: PEP 440 specifiers ("==", "!=", "~=", ",", "||" as GitLab writes it);
//   - gem: RubyGems requirements ("~>" pessimistic operator);
//   - golang, composer, cargo: comparator lists with "||" or "," unions;
//   - nuget, maven: interval notation ("[1.0.0, 2.0.0)", "(,1.0],[1.2,)");
//   - deb/rpm style "<<" and ">>" operators are read as "<" and ">";
//   - nginx: "0.8.40+" (to the next minor), "0.7.52-0.8.39", comma lists;
//   - openssl: comma lists of releases.
//
// Constraints are flattened and sorted into canonical vers order.
func FromNative(scheme, native string) (*Range, error) {
	s, err := LookupScheme(scheme)
	if err != nil {
		return nil, err
	}
	var raw []rawConstraint
	switch s.name {
	case "npm", "conan":
		raw, err = nativeNPM(s.name, native)
		if s.name == "conan" && len(raw) == 1 && raw[0].op == OpAny {
			raw = []rawConstraint{{OpGE, "0.0.0"}}
		}
	case "nuget", "maven":
		raw, err = nativeIntervals(native)
	case "nginx":
		raw, err = nativeNginx(native)
	case "openssl":
		for _, p := range strings.Split(native, ",") {
			if p = strings.TrimSpace(p); p != "" {
				raw = append(raw, rawConstraint{OpEQ, p})
			}
		}
	default:
		raw, err = nativeComparators(s.name, native)
	}
	if err != nil {
		return nil, fmt.Errorf("%s native range %q: %w", s.name, native, err)
	}
	if len(raw) == 0 {
		if strings.TrimSpace(native) == "" {
			// An empty native range converts to the empty vers range
			// ("vers:conan/"), which contains no version.
			return &Range{scheme: s}, nil
		}
		return nil, fmt.Errorf("%s native range %q: no constraints: %w", s.name, native, ErrInvalidRange)
	}
	cs := make([]Constraint, 0, len(raw))
	for _, rc := range raw {
		if rc.op == OpAny {
			cs = []Constraint{{Op: OpAny}}
			break
		}
		v := canonNative(s.name, rc.v)
		pv, err := s.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("%s native range %q: %w", s.name, native, err)
		}
		cs = append(cs, Constraint{Op: rc.op, Version: pv})
	}
	return NewRange(s, cs)
}

type rawConstraint struct {
	op Op
	v  string
}

func canonNative(scheme, v string) string {
	switch scheme {
	case "npm":
		return canonSemver(v)
	case "golang", "composer":
		return coerceSemver(v)
	case "pypi":
		if p, err := parsePyPI(v); err == nil {
			return p.(*pypiVersion).String()
		}
	}
	return v
}

// coerceSemver turns a loose version into SemVer the way univers does
// (python-semanticversion's Version.coerce): up to three leading numbers
// lose their leading zeros and are padded with ".0"; the rest becomes a
// pre-release ("1.5.6d" -> "1.5.6-d") or, after "." or "+", build metadata
// ("6.4.8.1" -> "6.4.8+1").
func coerceSemver(v string) string {
	v = strings.TrimLeft(v, "vV=")
	end, dots := 0, 0
	for end < len(v) {
		j := end
		for j < len(v) && isDigit(v[j]) {
			j++
		}
		if j == end {
			break
		}
		end = j
		if dots < 2 && end+1 < len(v) && v[end] == '.' && isDigit(v[end+1]) {
			dots++
			end++
			continue
		}
		break
	}
	if end == 0 {
		return v
	}
	parts := strings.Split(v[:end], ".")
	for i, p := range parts {
		parts[i] = trimNum(p)
	}
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	out := strings.Join(parts, ".")
	rest := v[end:]
	if rest == "" {
		return out
	}
	rest = strings.Map(func(r rune) rune {
		if r < 128 && (isAlnum(byte(r)) || r == '+' || r == '.' || r == '-') {
			return r
		}
		return '-'
	}, rest)
	var pre, build string
	switch {
	case rest[0] == '+' || rest[0] == '.':
		build = rest[1:]
	case rest[0] == '-':
		pre, build, _ = strings.Cut(rest[1:], "+")
	default:
		pre, build, _ = strings.Cut(rest, "+")
	}
	build = strings.ReplaceAll(build, "+", ".")
	if pre != "" {
		out += "-" + pre
	}
	if build != "" {
		out += "+" + build
	}
	return out
}

// splitNativeOp splits an operator prefix off a native comparator.
func splitNativeOp(t string) (string, string) {
	for _, op := range []string{"===", "==", "!=", "~=", "~>", ">=", "<=", "=>", "=<", "<<", ">>", ">", "<", "=", "~", "^"} {
		if strings.HasPrefix(t, op) {
			return op, strings.TrimSpace(t[len(op):])
		}
	}
	return "", t
}

// fields splits on whitespace (and commas when commas is set) and glues an
// operator written apart from its version (">= 1.0") back on.
func nativeFields(s string, commas bool) []string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || commas && r == ','
	})
	var out []string
	for i := 0; i < len(f); i++ {
		t := f[i]
		if op, rest := splitNativeOp(t); op != "" && rest == "" && i+1 < len(f) {
			t += f[i+1]
			i++
		}
		out = append(out, t)
	}
	return out
}

func toOp(op string) (Op, bool) {
	switch op {
	case "", "=", "==", "===":
		return OpEQ, true
	case "!=":
		return OpNE, true
	case "<", "<<":
		return OpLT, true
	case "<=", "=<":
		return OpLE, true
	case ">", ">>":
		return OpGT, true
	case ">=", "=>":
		return OpGE, true
	}
	return 0, false
}

// nativeComparators handles the plain comparator-list notations (GitLab
// advisories for pypi, gem, golang, composer, cargo …).
func nativeComparators(scheme, native string) ([]rawConstraint, error) {
	var out []rawConstraint
	for _, alt := range splitUnion(native, scheme == "composer") {
		for _, t := range nativeFields(alt, true) {
			if t == "*" {
				return []rawConstraint{{op: OpAny}}, nil
			}
			op, v := splitNativeOp(t)
			if v == "" {
				return nil, fmt.Errorf("comparator %q: no version: %w", t, ErrInvalidRange)
			}
			switch op {
			case "~>", "~=":
				lo, hi, err := pessimistic(v)
				if err != nil {
					return nil, err
				}
				out = append(out, rawConstraint{OpGE, lo}, rawConstraint{OpLT, hi})
				continue
			case "~", "^":
				if scheme == "composer" && op == "~" {
					// Composer: "~1.2" is >=1.2 <2.0, "~1.2.3" is >=1.2.3 <1.3.0.
					parts, n, _ := xParts(v)
					if n == 0 {
						return []rawConstraint{{op: OpAny}}, nil
					}
					hi, err := bumpAt(strings.Join(parts[:n], "."), max(0, n-2))
					if err != nil {
						return nil, err
					}
					out = append(out, rawConstraint{OpGE, v}, rawConstraint{OpLT, hi})
					continue
				}
				if scheme == "composer" || scheme == "cargo" {
					cs, err := npmTildeCaret(op, v, false)
					if err != nil {
						return nil, err
					}
					out = append(out, cs...)
					continue
				}
			}
			o, ok := toOp(op)
			if !ok {
				return nil, fmt.Errorf("comparator %q: unsupported operator %q: %w", t, op, ErrInvalidRange)
			}
			if scheme == "pypi" && strings.HasSuffix(v, ".*") && (o == OpEQ || o == OpNE) {
				base := strings.TrimSuffix(v, ".*")
				hi, err := bumpAt(base, strings.Count(base, "."))
				if err != nil {
					return nil, err
				}
				if o == OpEQ {
					out = append(out, rawConstraint{OpGE, base}, rawConstraint{OpLT, hi})
					continue
				}
				return nil, fmt.Errorf("comparator %q: \"!=\" with a wildcard cannot be expressed in vers: %w", t, ErrInvalidRange)
			}
			out = append(out, rawConstraint{o, v})
		}
	}
	return out, nil
}

func splitUnion(s string, singlePipe bool) []string {
	if singlePipe {
		s = strings.ReplaceAll(s, "||", "|")
		return strings.Split(s, "|")
	}
	return strings.Split(s, "||")
}

// pessimistic expands "~> 1.2.3" / "~= 1.2.3" to [1.2.3, 1.3).
func pessimistic(v string) (string, string, error) {
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		hi, err := bumpAt(v, 0)
		return v, hi, err
	}
	hi, err := bumpAt(strings.Join(parts[:len(parts)-1], "."), len(parts)-2)
	return v, hi, err
}

// bumpAt increments the numeric component at index i of a dotted version
// and drops everything after it ("1.2.3", 1 -> "1.3").
func bumpAt(v string, i int) (string, error) {
	parts := strings.Split(v, ".")
	if i >= len(parts) {
		return "", fmt.Errorf("version %q has no component %d: %w", v, i, ErrInvalidRange)
	}
	num := parts[i]
	if !allDigits(num) {
		return "", fmt.Errorf("version %q: component %q is not a number: %w", v, num, ErrInvalidRange)
	}
	parts[i] = incDigits(strings.TrimLeft(num, "0"))
	return strings.Join(parts[:i+1], "."), nil
}

func incDigits(d string) string {
	if d == "" {
		return "1"
	}
	b := []byte(d)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}

// xParts splits a possibly partial npm version into its numeric parts; it
// reports how many leading parts are concrete and the pre-release suffix.
func xParts(v string) (parts []string, concrete int, suffix string) {
	v = strings.TrimLeft(v, "=vV")
	core := v
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		core, suffix = v[:i], v[i:]
	}
	parts = strings.Split(core, ".")
	concrete = len(parts)
	for i, p := range parts {
		if p == "x" || p == "X" || p == "*" || p == "" {
			concrete = i
			break
		}
	}
	return parts, concrete, suffix
}

func joinPad(parts []string, n int, upto int, suffix string) string {
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if i < upto {
			out = append(out, parts[i])
		} else {
			out = append(out, "0")
		}
	}
	return strings.Join(out, ".") + suffix
}

// npmTildeCaret expands "~v" and "^v". With conan set, upper bounds get
// Conan's "-" pre-release marker and are not padded.
func npmTildeCaret(op, v string, conan bool) ([]rawConstraint, error) {
	parts, n, suffix := xParts(v)
	if n == 0 {
		return []rawConstraint{{op: OpAny}}, nil
	}
	for _, p := range parts[:n] {
		if !allDigits(p) {
			return nil, fmt.Errorf("%s%s: not a version: %w", op, v, ErrInvalidRange)
		}
	}
	var idx int
	if op == "~" {
		idx = 1
		if conan {
			idx = min(1, n-1)
		} else if n == 1 {
			idx = 0
		}
	} else {
		idx = n - 1
		for i := 0; i < n; i++ {
			if strings.TrimLeft(parts[i], "0") != "" {
				idx = i
				break
			}
		}
		if !conan && idx == n-1 && n < 3 && strings.TrimLeft(parts[idx], "0") == "" {
			// ^0 -> <1.0.0, ^0.0 -> <0.1.0
			idx = n - 1
		}
	}
	if idx >= n {
		idx = n - 1
	}
	hiParts := append([]string{}, parts[:idx+1]...)
	hiParts[idx] = incDigits(strings.TrimLeft(hiParts[idx], "0"))
	if conan {
		lo := strings.Join(parts[:n], ".") + suffix
		return []rawConstraint{{OpGE, lo}, {OpLT, strings.Join(hiParts, ".") + "-"}}, nil
	}
	lo := joinPad(parts, 3, n, suffix)
	hi := joinPad(hiParts, 3, idx+1, "")
	return []rawConstraint{{OpGE, lo}, {OpLT, hi}}, nil
}

func nativeNPM(scheme, native string) ([]rawConstraint, error) {
	conan := scheme == "conan"
	if conan {
		// Conan options follow a comma: "*, include_prerelease=True"; a
		// recipe writes the range in brackets: "[>1 <2.0]".
		native = strings.TrimSpace(native)
		if strings.HasPrefix(native, "[") && strings.HasSuffix(native, "]") {
			native = native[1 : len(native)-1]
		}
		if i := strings.IndexByte(native, ','); i >= 0 {
			native = native[:i]
		}
	}
	var out []rawConstraint
	for _, alt := range strings.Split(native, "||") {
		f := nativeFields(alt, false)
		// hyphen range
		if len(f) == 3 && f[1] == "-" {
			lp, ln, lsuf := xParts(f[0])
			out = append(out, rawConstraint{OpGE, joinPad(lp, 3, ln, lsuf)})
			hp, hn, hsuf := xParts(f[2])
			if hn >= 3 || hn == len(hp) && hn > 0 && !conan && hn == 3 {
				out = append(out, rawConstraint{OpLE, joinPad(hp, 3, hn, hsuf)})
			} else if hn > 0 && hn < 3 {
				hi := append([]string{}, hp[:hn]...)
				hi[hn-1] = incDigits(strings.TrimLeft(hi[hn-1], "0"))
				out = append(out, rawConstraint{OpLT, joinPad(hi, 3, hn, "")})
			}
			continue
		}
		for _, t := range f {
			if t == "*" || t == "x" || t == "X" || t == "" {
				return []rawConstraint{{op: OpAny}}, nil
			}
			op, v := splitNativeOp(t)
			if v == "" {
				return nil, fmt.Errorf("comparator %q: no version: %w", t, ErrInvalidRange)
			}
			if op == "~" || op == "^" {
				cs, err := npmTildeCaret(op, v, conan)
				if err != nil {
					return nil, err
				}
				if len(cs) == 1 && cs[0].op == OpAny {
					return cs, nil
				}
				out = append(out, cs...)
				continue
			}
			o, ok := toOp(op)
			if !ok {
				return nil, fmt.Errorf("comparator %q: unsupported operator %q: %w", t, op, ErrInvalidRange)
			}
			if conan {
				if o != OpLT {
					v = strings.TrimSuffix(v, "-")
				}
				out = append(out, rawConstraint{o, v})
				continue
			}
			parts, n, suffix := xParts(v)
			isX := n < len(parts)
			if n == 0 {
				if o == OpLT || o == OpGT || o == OpNE {
					return nil, fmt.Errorf("comparator %q matches nothing: %w", t, ErrInvalidRange)
				}
				return []rawConstraint{{op: OpAny}}, nil
			}
			if isX || op == "" && n < 3 {
				hi := append([]string{}, parts[:n]...)
				hi[n-1] = incDigits(strings.TrimLeft(hi[n-1], "0"))
				lo, next := joinPad(parts, 3, n, ""), joinPad(hi, 3, n, "")
				switch o {
				case OpLT: // <1.2.x: below the series
					out = append(out, rawConstraint{OpLT, lo})
				case OpLE: // <=1.2.x: up to the end of the series
					out = append(out, rawConstraint{OpLT, next})
				case OpGT: // >1.2.x: after the series
					out = append(out, rawConstraint{OpGE, next})
				default:
					// "1.2.x", "=1.2.x" and, as univers converts it, ">=1.2.x":
					// the series [1.2.0, 1.3.0).
					out = append(out, rawConstraint{OpGE, lo}, rawConstraint{OpLT, next})
				}
				continue
			}
			out = append(out, rawConstraint{o, joinPad(parts, 3, n, suffix)})
		}
	}
	return out, nil
}

// nativeIntervals parses the interval notation of NuGet and Maven: "1.0"
// (NuGet: >=; Maven: a soft requirement, read as >=), "[1.0]" (==),
// "[1.0,2.0)", "(,1.0]", "(1.0,)", and Maven's comma-separated unions
// "(,1.0],[1.2,)".
func nativeIntervals(native string) ([]rawConstraint, error) {
	s := strings.TrimSpace(native)
	if s == "" {
		return nil, ErrInvalidRange
	}
	if s[0] != '[' && s[0] != '(' {
		return []rawConstraint{{OpGE, s}}, nil
	}
	var out []rawConstraint
	for s != "" {
		end := strings.IndexAny(s, "])")
		if end < 0 {
			return nil, fmt.Errorf("interval %q is not closed: %w", s, ErrInvalidRange)
		}
		cs, err := oneInterval(s[:end+1])
		if err != nil {
			return nil, err
		}
		if len(cs) == 1 && cs[0].op == OpAny {
			return cs, nil
		}
		out = append(out, cs...)
		s = strings.TrimSpace(s[end+1:])
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("expected \",\" between intervals at %q: %w", s, ErrInvalidRange)
		}
		s = strings.TrimSpace(s[1:])
		if s == "" || s[0] != '[' && s[0] != '(' {
			return nil, fmt.Errorf("expected an interval at %q: %w", s, ErrInvalidRange)
		}
	}
	return out, nil
}

func oneInterval(s string) ([]rawConstraint, error) {
	if len(s) < 2 {
		return nil, fmt.Errorf("interval %q: %w", s, ErrInvalidRange)
	}
	first, last := s[0], s[len(s)-1]
	inner := s[1 : len(s)-1]
	lo, hi, comma := strings.Cut(inner, ",")
	lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
	if !comma {
		if first != '[' || last != ']' || lo == "" {
			return nil, fmt.Errorf("interval %q: a single version needs [ ]: %w", s, ErrInvalidRange)
		}
		return []rawConstraint{{OpEQ, lo}}, nil
	}
	if strings.Contains(hi, ",") {
		return nil, fmt.Errorf("interval %q has more than two bounds: %w", s, ErrInvalidRange)
	}
	var out []rawConstraint
	if lo != "" {
		op := OpGT
		if first == '[' {
			op = OpGE
		}
		out = append(out, rawConstraint{op, lo})
	}
	if hi != "" {
		op := OpLT
		if last == ']' {
			op = OpLE
		}
		out = append(out, rawConstraint{op, hi})
	}
	if len(out) == 0 {
		return []rawConstraint{{op: OpAny}}, nil
	}
	return out, nil
}

// nativeNginx parses nginx security advisory notation.
func nativeNginx(native string) ([]rawConstraint, error) {
	var out []rawConstraint
	for _, p := range strings.Split(native, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
		case strings.HasSuffix(p, "+"):
			// "X+" on a stable branch (even minor) means the rest of that
			// branch; on the mainline (odd minor) everything from X on.
			v := strings.TrimSuffix(p, "+")
			out = append(out, rawConstraint{OpGE, v})
			parts := strings.Split(v, ".")
			if len(parts) < 2 || !allDigits(parts[1]) {
				return nil, fmt.Errorf("%q: not MAJOR.MINOR[.PATCH]+: %w", p, ErrInvalidRange)
			}
			if (parts[1][len(parts[1])-1]-'0')%2 == 0 {
				hi, err := bumpAt(v, 1)
				if err != nil {
					return nil, err
				}
				out = append(out, rawConstraint{OpLT, hi + ".0"})
			}
		case strings.Contains(p, "-"):
			lo, hi, _ := strings.Cut(p, "-")
			out = append(out, rawConstraint{OpGE, strings.TrimSpace(lo)}, rawConstraint{OpLE, strings.TrimSpace(hi)})
		default:
			out = append(out, rawConstraint{OpEQ, p})
		}
	}
	return out, nil
}
