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
