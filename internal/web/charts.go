package web

import (
	"fmt"
	"html/template"
	"strings"
)

// bar is one bar of a chart: a label, a count and where a click leads.
type bar struct {
	Label string
	N     int64
	Href  string
	Class string // colour class (criticality)
}

// barChart draws a horizontal bar chart as inline SVG. Every label and
// link is escaped here; the result is trusted HTML. Each bar links to the
// device list it counts, so every number is explainable by a click.
func barChart(title string, bars []bar) template.HTML {
	const (
		width  = 560
		rowH   = 28
		labelW = 190
		numW   = 70
	)
	var maxN int64
	for _, b := range bars {
		maxN = max(maxN, b.N)
	}
	height := rowH*len(bars) + 8
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s">`, width, height, chartID(title))
	fmt.Fprintf(&sb, `<title id="%s">%s</title>`, chartID(title), template.HTMLEscapeString(title))
	for i, b := range bars {
		y := 4 + i*rowH
		w := 0
		if maxN > 0 {
			w = int(float64(width-labelW-numW) * float64(b.N) / float64(maxN))
		}
		if b.N > 0 && w < 2 {
			w = 2
		}
		label := b.Label
		if len([]rune(label)) > 26 {
			label = string([]rune(label)[:25]) + "…"
		}
		cls := "bar"
		if b.Class != "" {
			cls += " " + b.Class
		}
		fmt.Fprintf(&sb, `<a href="%s"><title>%s: %d devices</title>`, template.HTMLEscapeString(b.Href), template.HTMLEscapeString(b.Label), b.N)
		fmt.Fprintf(&sb, `<text x="%d" y="%d" class="lbl" text-anchor="end">%s</text>`, labelW-8, y+18, template.HTMLEscapeString(label))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%d" height="%d" rx="3" class="%s"></rect>`, labelW, y+4, w, rowH-10, cls)
		fmt.Fprintf(&sb, `<text x="%d" y="%d" class="val">%s</text></a>`, labelW+w+6, y+18, groupDigits(b.N))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // every interpolated string is escaped above
}

func chartID(title string) string {
	var b strings.Builder
	b.WriteString("chart-")
	for _, r := range strings.ToLower(title) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// series is one line of a line chart.
type series struct {
	Label  string
	Class  string
	Values []float64
}

// lineChart draws a line chart as inline SVG: x are day labels (oldest
// first), one polyline per series, a y axis from 0 to the maximum, and a
// <title> per point so every value is readable. Every label is escaped.
func lineChart(title string, days []string, ss []series) template.HTML {
	const (
		width, height = 560, 220
		left, right   = 44, 12
		top, bottom   = 10, 30
	)
	var maxV float64
	for _, s := range ss {
		for _, v := range s.Values {
			maxV = max(maxV, v)
		}
	}
	if maxV == 0 {
		maxV = 1
	}
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	x := func(i int) float64 {
		if len(days) < 2 {
			return float64(left) + plotW/2
		}
		return float64(left) + plotW*float64(i)/float64(len(days)-1)
	}
	y := func(v float64) float64 { return float64(top) + plotH*(1-v/maxV) }
	var sb strings.Builder
	id := chartID(title)
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s">`, width, height, id)
	fmt.Fprintf(&sb, `<title id="%s">%s</title>`, id, template.HTMLEscapeString(title))
	fmt.Fprintf(&sb, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"></line>`, left, top, left, height-bottom)
	fmt.Fprintf(&sb, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"></line>`, left, height-bottom, width-right, height-bottom)
	fmt.Fprintf(&sb, `<text class="lbl" x="%d" y="%d" text-anchor="end">%s</text>`, left-6, top+10, groupDigits(int64(maxV)))
	fmt.Fprintf(&sb, `<text class="lbl" x="%d" y="%d" text-anchor="end">0</text>`, left-6, height-bottom)
	if len(days) > 0 {
		fmt.Fprintf(&sb, `<text class="lbl" x="%d" y="%d">%s</text>`, left, height-8, template.HTMLEscapeString(days[0]))
		fmt.Fprintf(&sb, `<text class="lbl" x="%d" y="%d" text-anchor="end">%s</text>`, width-right, height-8, template.HTMLEscapeString(days[len(days)-1]))
	}
	for _, s := range ss {
		var pts []string
		for i, v := range s.Values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		fmt.Fprintf(&sb, `<polyline class="line %s" points="%s"><title>%s</title></polyline>`, template.HTMLEscapeString(s.Class), strings.Join(pts, " "), template.HTMLEscapeString(s.Label))
		for i, v := range s.Values {
			fmt.Fprintf(&sb, `<circle class="line %s" cx="%.1f" cy="%.1f" r="3"><title>%s %s: %s</title></circle>`, template.HTMLEscapeString(s.Class), x(i), y(v),
				template.HTMLEscapeString(s.Label), template.HTMLEscapeString(days[i]), groupDigits(int64(v)))
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // every interpolated string is escaped above
}
