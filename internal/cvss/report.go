package cvss

import "errors"

// Report is one vector's scores in the form `medwarden cvss --format json`
// and GET/POST /api/v1/cvss print (the CLI contract): the normalised vector,
// its version, base, temporal/threat and environmental scores, the overall
// score (CVSS-BTE for v4.0) and severity; or, for an invalid vector, the
// vector as given with the error and the metric it is about. Score fields
// are pointers so that a real 0.0 prints while an error prints none.
type Report struct {
	Vector             string   `json:"vector"`
	Input              string   `json:"input,omitempty"` // as given, when it differs from the normalised vector
	Version            string   `json:"version,omitempty"`
	BaseScore          *float64 `json:"base_score,omitempty"`
	TemporalScore      *float64 `json:"temporal_score,omitempty"`
	EnvironmentalScore *float64 `json:"environmental_score,omitempty"`
	Score              *float64 `json:"score,omitempty"`
	Severity           string   `json:"severity,omitempty"`
	Nomenclature       string   `json:"nomenclature,omitempty"`
	Error              string   `json:"error,omitempty"`
	// Metric names the metric an error is about, when it is about one.
	Metric string `json:"metric,omitempty"`
}

// ReportOf scores one vector into a Report; an invalid vector gives a
// Report with Error (and Metric) set instead of an error.
func ReportOf(in string) Report {
	r, err := Score(in)
	if err != nil {
		out := Report{Vector: in, Error: err.Error()}
		var pe *ParseError
		if errors.As(err, &pe) {
			out.Metric = pe.Metric
		}
		return out
	}
	out := Report{
		Vector:             r.Vector,
		Version:            r.Version,
		BaseScore:          &r.BaseScore,
		TemporalScore:      &r.TemporalScore,
		EnvironmentalScore: &r.EnvironmentalScore,
		Score:              &r.Score,
		Severity:           string(r.Severity),
		Nomenclature:       r.Nomenclature,
	}
	if in != r.Vector {
		out.Input = in
	}
	return out
}
