package cvss

import "testing"

func TestReportOf(t *testing.T) {
	tests := []struct {
		in                         string
		vector, input, sev, metric string
		score                      float64
		wantErr                    bool
	}{
		{in: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", sev: "Critical", score: 9.8},
		{in: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", sev: "None", score: 0},
		{in: "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", vector: "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", metric: "AV", wantErr: true},
		{in: "not a vector", vector: "not a vector", wantErr: true},
	}
	for _, tt := range tests {
		r := ReportOf(tt.in)
		if r.Vector != tt.vector || r.Input != tt.input {
			t.Errorf("ReportOf(%q): vector %q input %q, want %q %q", tt.in, r.Vector, r.Input, tt.vector, tt.input)
		}
		if tt.wantErr {
			if r.Error == "" || r.Score != nil || r.BaseScore != nil {
				t.Errorf("ReportOf(%q) = %+v, want an error and no scores", tt.in, r)
			}
			if r.Metric != tt.metric {
				t.Errorf("ReportOf(%q).Metric = %q, want %q", tt.in, r.Metric, tt.metric)
			}
			continue
		}
		if r.Error != "" || r.Score == nil || *r.Score != tt.score || r.Severity != tt.sev || r.Version != "3.1" {
			t.Errorf("ReportOf(%q) = %+v, want score %.1f %s", tt.in, r, tt.score, tt.sev)
		}
	}
}
