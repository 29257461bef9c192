// Package cvss parses, validates, normalises and scores Common Vulnerability
// Scoring System vectors of versions 2.0, 3.0, 3.1 and 4.0.
//
// Parse accepts one vector string and returns a small fixed-size Vector value
// (no heap allocation on success); scores are computed on demand from the
// FIRST specifications:
//
//   - v2.0: base, temporal and environmental equations of the CVSS v2 guide
//     (rounded to one decimal). v2 has no official qualitative rating; the
//     severity reported is NVD's (Low 0.0-3.9, Medium 4.0-6.9, High 7.0-10.0).
//   - v3.0: the v3.0 equations with the v3.0 "round up" (ceil to one decimal).
//   - v3.1: the v3.1 equations with the Appendix A Roundup function.
//   - v4.0: the macrovector lookup table and severity-distance interpolation
//     of the FIRST reference calculator (including its November 2024 rounding
//     fix, round half up with a 1e-6 lift).
//
// The package is pure: no I/O, no globals that change, no panics.
package cvss

import (
	"errors"
	"fmt"
	"strings"
)

// Version is a CVSS specification version.
type Version uint8

// The supported versions.
const (
	V20 Version = iota + 1
	V30
	V31
	V40
)

// String returns "2.0", "3.0", "3.1" or "4.0".
func (v Version) String() string {
	switch v {
	case V20:
		return "2.0"
	case V30:
		return "3.0"
	case V31:
		return "3.1"
	case V40:
		return "4.0"
	}
	return "unknown"
}

// Severity is a qualitative severity rating.
type Severity string

// Qualitative ratings. v3.x and v4.0 use the FIRST scale; v2.0 uses NVD's
// Low/Medium/High (there is no official v2.0 rating and no None/Critical).
const (
	SeverityNone     Severity = "None"
	SeverityLow      Severity = "Low"
	SeverityMedium   Severity = "Medium"
	SeverityHigh     Severity = "High"
	SeverityCritical Severity = "Critical"
)

// SeverityOf returns the FIRST qualitative rating (v3.x, v4.0) of a score.
func SeverityOf(score float64) Severity {
	switch {
	case score <= 0:
		return SeverityNone
	case score < 4.0:
		return SeverityLow
	case score < 7.0:
		return SeverityMedium
	case score < 9.0:
		return SeverityHigh
	}
	return SeverityCritical
}

// SeverityV2 returns NVD's rating of a CVSS v2.0 score (Low 0.0-3.9,
// Medium 4.0-6.9, High 7.0-10.0).
func SeverityV2(score float64) Severity {
	switch {
	case score < 4.0:
		return SeverityLow
	case score < 7.0:
		return SeverityMedium
	}
	return SeverityHigh
}

// Sentinel errors; every error returned by Parse wraps exactly one of them.
var (
	ErrEmpty           = errors.New("empty vector")
	ErrSyntax          = errors.New("malformed vector")
	ErrVersion         = errors.New("unsupported version")
	ErrUnknownMetric   = errors.New("unknown metric")
	ErrInvalidValue    = errors.New("invalid metric value")
	ErrDuplicateMetric = errors.New("duplicate metric")
	ErrMissingMetric   = errors.New("missing mandatory metric")
)

// ParseError describes why a vector was rejected. Metric and Value are set
// when the problem is tied to one metric.
type ParseError struct {
	Metric string
	Value  string
	Err    error // one of the sentinel errors above
	msg    string
}

func (e *ParseError) Error() string { return "cvss: " + e.msg }

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }

func perr(sentinel error, metric, value, format string, a ...any) error {
	return &ParseError{Metric: metric, Value: value, Err: sentinel, msg: fmt.Sprintf(format, a...)}
}

// group is the metric group a metric belongs to.
type group uint8

const (
	groupBase group = iota
	groupTemporal
	groupEnvironmental
	groupSupplemental
)

// metricDef describes one metric of one version. Values of optional metrics
// start with the "not defined" value (X, or ND in v2.0) at index 0.
type metricDef struct {
	name     string
	key      uint64
	values   []string
	vkeys    []uint64
	single   [128]int8 // value index of each one-letter value, -1 if none
	required bool
	group    group
}

// maxMetrics bounds the metrics of any version (v4.0 has 32).
const maxMetrics = 32

type versionDef struct {
	metrics  []metricDef
	required uint64    // bit mask of mandatory metrics
	groups   [4]uint64 // bit mask of the metrics of each group
	keys     []uint64  // metric name keys, contiguous for the parse loop
	names    []string
}

// maxToken is the longest metric name or value (v4.0 "Amber") rounded up;
// longer tokens are never valid.
const maxToken = 7

// tag makes a packed token (bytes shifted in big-endian) unique by adding its
// length in the top byte; tokens that are empty or too long get key 0, which
// no metric or value has.
func tag(packed uint64, n int) uint64 {
	if n == 0 || n > maxToken {
		return 0
	}
	return uint64(n)<<56 | packed
}

// pack turns a token into its integer key (see tag).
func pack(s string) uint64 {
	var k uint64
	for i := 0; i < len(s) && i < maxToken; i++ {
		k = k<<8 | uint64(s[i])
	}
	return tag(k, len(s))
}

func m(name string, g group, values ...string) metricDef {
	d := metricDef{name: name, values: values, group: g, required: g == groupBase}
	d.key = pack(name)
	for _, v := range values {
		d.vkeys = append(d.vkeys, pack(v))
	}
	for i := range d.single {
		d.single[i] = -1
	}
	for i, v := range values {
		if len(v) == 1 {
			d.single[v[0]] = int8(i)
		}
	}
	return d
}

func newVersionDef(ms ...metricDef) *versionDef {
	vd := &versionDef{metrics: ms}
	for i, d := range ms {
		if d.required {
			vd.required |= 1 << i
		}
		vd.groups[d.group] |= 1 << i
		vd.keys = append(vd.keys, d.key)
		vd.names = append(vd.names, d.name)
	}
	return vd
}

func defOf(v Version) *versionDef {
	switch v {
	case V20:
		return defV2
	case V30, V31:
		return defV3
	case V40:
		return defV4
	}
	return nil
}

// Vector is a parsed, validated CVSS vector. The zero Vector is invalid; get
// one from Parse. Vector is a small value type and is safe to copy.
type Vector struct {
	ver Version
	set uint64            // bit i: metric i was present in the input
	nx  uint64            // bit i: optional metric i has a value other than X/ND
	m   [maxMetrics]uint8 // value index per metric (0 = not defined for optional metrics)
}

// Parse parses a CVSS vector string.
//
// v3.0, v3.1 and v4.0 vectors must carry their "CVSS:3.0/", "CVSS:3.1/" or
// "CVSS:4.0/" prefix. v2.0 vectors have no prefix and may be wrapped in
// parentheses as NVD writes them ("(AV:N/AC:L/Au:N/C:P/I:P/A:P)"). Metrics
// may appear in any order but each at most once; all base metrics are
// mandatory. Names and values are case-sensitive, as in the specifications.
// Surrounding white space is not accepted; trim it first.
func Parse(s string) (Vector, error) {
	var v Vector
	if s == "" {
		return v, perr(ErrEmpty, "", "", "empty vector")
	}
	body := s
	if strings.HasPrefix(s, "CVSS:") {
		slash := strings.IndexByte(s, '/')
		if slash < 0 {
			return v, perr(ErrSyntax, "", "", "vector %q has no metrics after its version prefix", s)
		}
		switch s[5:slash] {
		case "3.0":
			v.ver = V30
		case "3.1":
			v.ver = V31
		case "4.0":
			v.ver = V40
		case "2.0", "2":
			return v, perr(ErrVersion, "", "", "CVSS v2.0 vectors have no \"CVSS:\" prefix; remove %q", s[:slash+1])
		default:
			return v, perr(ErrVersion, "", "", "unsupported version %q in prefix (want 3.0, 3.1 or 4.0)", s[5:slash])
		}
		body = s[slash+1:]
	} else {
		v.ver = V20
		if body[0] == '(' {
			if body[len(body)-1] != ')' {
				return v, perr(ErrSyntax, "", "", "unbalanced parenthesis in vector %q", s)
			}
			body = body[1 : len(body)-1]
		}
	}
	vd := defOf(v.ver)
	next := 0 // metrics usually come in canonical order: start looking there
	n := len(body)
	for i := 0; ; {
		// One pass per component: pack the name up to ':' and the value up
		// to '/' into integer keys while scanning.
		start := i
		var nk uint64
		for i < n && body[i] != ':' && body[i] != '/' {
			nk = nk<<8 | uint64(body[i])
			i++
		}
		name := body[start:i]
		if i >= n || body[i] != ':' || name == "" {
			if name == "" && (i >= n || body[i] == '/') {
				return v, perr(ErrSyntax, "", "", "empty metric in vector %q (doubled or trailing '/')", s)
			}
			end := strings.IndexByte(body[start:], '/')
			if end < 0 {
				end = n - start
			}
			return v, perr(ErrSyntax, "", "", "component %q is not METRIC:VALUE", body[start:start+end])
		}
		i++ // ':'
		vstart := i
		var vk uint64
		for i < n && body[i] != '/' {
			vk = vk<<8 | uint64(body[i])
			i++
		}
		val := body[vstart:i]
		idx := vd.findKey(tag(nk, len(name)), next)
		if idx < 0 {
			return v, unknownMetric(v.ver, name)
		}
		d := &vd.metrics[idx]
		if v.set&(1<<idx) != 0 {
			return v, perr(ErrDuplicateMetric, name, val, "metric %q appears more than once", name)
		}
		vi := -1
		if len(val) == 1 && val[0] < 128 {
			vi = int(d.single[val[0]])
		} else {
			vi = d.valueKey(tag(vk, len(val)))
		}
		if vi < 0 {
			return v, perr(ErrInvalidValue, name, val, "metric %q has invalid value %q (want one of %s)", name, val, strings.Join(d.values, ", "))
		}
		v.set |= 1 << idx
		if vi != 0 && !d.required {
			v.nx |= 1 << idx
		}
		v.m[idx] = uint8(vi)
		next = idx + 1
		if i >= n {
			break
		}
		i++ // '/'
		if i >= n {
			return v, perr(ErrSyntax, "", "", "trailing '/' in vector %q", s)
		}
	}
	if miss := vd.required &^ v.set; miss != 0 {
		var names []string
		for i := range vd.metrics {
			if miss&(1<<i) != 0 {
				names = append(names, vd.metrics[i].name)
			}
		}
		return v, perr(ErrMissingMetric, names[0], "", "missing mandatory metric %s in CVSS v%s vector", quoteJoin(names), v.ver)
	}
	return v, nil
}

func quoteJoin(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func unknownMetric(ver Version, name string) error {
	if ver == V20 {
		for _, other := range []*versionDef{defV3, defV4} {
			if other.find(name, 0) >= 0 {
				return perr(ErrUnknownMetric, name, "", "metric %q is not a CVSS v2.0 metric; CVSS v3.x and v4.0 vectors must start with \"CVSS:3.1/\", \"CVSS:3.0/\" or \"CVSS:4.0/\"", name)
			}
		}
	}
	return perr(ErrUnknownMetric, name, "", "unknown metric %q for CVSS v%s", name, ver)
}

func (vd *versionDef) find(name string, start int) int {
	return vd.findKey(pack(name), start)
}

func (vd *versionDef) findKey(k uint64, start int) int {
	if k == 0 {
		return -1
	}
	keys := vd.keys
	if start < len(keys) && keys[start] == k {
		return start // the usual case: canonical order
	}
	for i, x := range keys {
		if x == k {
			return i
		}
	}
	return -1
}

func (d *metricDef) valueKey(k uint64) int {
	if k == 0 {
		return -1
	}
	for i, vk := range d.vkeys {
		if vk == k {
			return i
		}
	}
	return -1
}

// Version returns the vector's CVSS version.
func (v Vector) Version() Version { return v.ver }

// Metric returns the value of the named metric as written (e.g. "N" for
// "AV"), or "" when the metric was not given. "X"/"ND" values count as given.
func (v Vector) Metric(name string) string {
	vd := defOf(v.ver)
	if vd == nil {
		return ""
	}
	i := vd.find(name, 0)
	if i < 0 || v.set&(1<<i) == 0 {
		return ""
	}
	return vd.metrics[i].values[v.m[i]]
}

// defined reports whether any metric of group g has a value other than
// "not defined".
func (v Vector) defined(g group) bool {
	vd := defOf(v.ver)
	if vd == nil {
		return false
	}
	return v.nx&vd.groups[g] != 0
}

// HasTemporal reports whether a temporal (v2/v3) or threat (v4 E) metric is
// set to a value other than not defined.
func (v Vector) HasTemporal() bool { return v.defined(groupTemporal) }

// HasEnvironmental reports whether an environmental metric is set to a value
// other than not defined.
func (v Vector) HasEnvironmental() bool { return v.defined(groupEnvironmental) }

// String returns the normalised vector: the version prefix (none for v2.0),
// then every given metric in the specification's canonical order, leaving out
// optional metrics whose value is "not defined" (X, or ND in v2.0).
func (v Vector) String() string {
	vd := defOf(v.ver)
	if vd == nil {
		return ""
	}
	var b strings.Builder
	b.Grow(128)
	if v.ver != V20 {
		b.WriteString("CVSS:")
		b.WriteString(v.ver.String())
	}
	for i := range vd.metrics {
		d := &vd.metrics[i]
		if v.set&(1<<i) == 0 || (!d.required && v.m[i] == 0) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(d.name)
		b.WriteByte(':')
		b.WriteString(d.values[v.m[i]])
	}
	return b.String()
}

// BaseScore returns the base score. For v4.0 it is the CVSS-B score (base
// metrics only; threat and environmental metrics ignored).
func (v Vector) BaseScore() float64 {
	switch v.ver {
	case V20:
		return v.v2Base()
	case V30, V31:
		return v.v3Base()
	case V40:
		return v.v4Score(false, false)
	}
	return 0
}

// TemporalScore returns the temporal score (v2.0, v3.x), which equals the
// base score when no temporal metric is set, as in the FIRST calculators. For
// v4.0 it is the CVSS-BT score (base and threat metrics, environmental
// metrics ignored).
func (v Vector) TemporalScore() float64 {
	switch v.ver {
	case V20:
		return v.v2Temporal()
	case V30, V31:
		return v.v3Temporal()
	case V40:
		return v.v4Score(true, false)
	}
	return 0
}

// EnvironmentalScore returns the environmental score (v2.0, v3.x), computed
// with every unset environmental metric at "not defined", as the FIRST
// calculators do (in v3.1 it can differ from the base score for S:C vectors
// even without environmental metrics). For v4.0 it is the CVSS-BTE score
// (all metrics).
func (v Vector) EnvironmentalScore() float64 {
	switch v.ver {
	case V20:
		return v.v2Environmental()
	case V30, V31:
		return v.v3Environmental()
	case V40:
		return v.v4Score(true, true)
	}
	return 0
}

// Score returns the most specific score of the vector. For v4.0 it is the
// CVSS-BTE score (see Nomenclature). For v2.0 and v3.x it is the
// environmental score when an environmental metric is set, else the temporal
// score when a temporal metric is set, else the base score.
func (v Vector) Score() float64 {
	switch v.ver {
	case V40:
		return v.v4Score(true, true)
	case V20, V30, V31:
		switch {
		case v.HasEnvironmental():
			return v.EnvironmentalScore()
		case v.HasTemporal():
			return v.TemporalScore()
		}
		return v.BaseScore()
	}
	return 0
}

// Nomenclature names what Score measures: for v4.0 "CVSS-B", "CVSS-BT",
// "CVSS-BE" or "CVSS-BTE" per the v4.0 specification; for v2.0/v3.x
// "base", "temporal" or "environmental".
func (v Vector) Nomenclature() string {
	t, e := v.HasTemporal(), v.HasEnvironmental()
	if v.ver == V40 {
		switch {
		case t && e:
			return "CVSS-BTE"
		case t:
			return "CVSS-BT"
		case e:
			return "CVSS-BE"
		}
		return "CVSS-B"
	}
	switch {
	case e:
		return "environmental"
	case t:
		return "temporal"
	}
	return "base"
}

// Severity returns the qualitative rating of Score: FIRST's scale for v3.x
// and v4.0, NVD's Low/Medium/High for v2.0.
func (v Vector) Severity() Severity {
	if v.ver == V20 {
		return SeverityV2(v.Score())
	}
	return SeverityOf(v.Score())
}

// Result is the full scoring of one vector, ready for JSON.
type Result struct {
	Vector             string   `json:"vector"` // normalised
	Version            string   `json:"version"`
	BaseScore          float64  `json:"base_score"`
	TemporalScore      float64  `json:"temporal_score"`
	EnvironmentalScore float64  `json:"environmental_score"`
	Score              float64  `json:"score"`
	Severity           Severity `json:"severity"`
	// Nomenclature says which score Score is (see Vector.Nomenclature).
	Nomenclature string `json:"nomenclature"`
}

// Result scores the vector in full.
func (v Vector) Result() Result {
	return Result{
		Vector:             v.String(),
		Version:            v.ver.String(),
		BaseScore:          v.BaseScore(),
		TemporalScore:      v.TemporalScore(),
		EnvironmentalScore: v.EnvironmentalScore(),
		Score:              v.Score(),
		Severity:           v.Severity(),
		Nomenclature:       v.Nomenclature(),
	}
}

// Score parses s and returns its full Result.
func Score(s string) (Result, error) {
	v, err := Parse(s)
	if err != nil {
		return Result{}, err
	}
	return v.Result(), nil
}

// MarshalText returns the normalised vector, so a Vector can be a JSON
// string field.
func (v Vector) MarshalText() ([]byte, error) {
	if v.ver == 0 {
		return nil, perr(ErrEmpty, "", "", "cannot marshal an unparsed vector")
	}
	return []byte(v.String()), nil
}

// UnmarshalText parses a vector string (see Parse).
func (v *Vector) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}
