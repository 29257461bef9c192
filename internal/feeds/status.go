// Package feeds imports advisory feeds into the store: CSAF files,
// directories and provider/aggregator trees (local or over HTTP(S), with
// hash and OpenPGP checks), CISA KEV, EPSS and NVD CVE records, and signed
// offline bundles (package bundle). It also says how fresh each feed is
// (Status), so that no output that depends on feeds can show a missing or
// stale feed as "0 findings".
package feeds

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

// DefaultMaxAge is how old a feed may be before it is called stale.
const DefaultMaxAge = 7 * 24 * time.Hour

// DefaultRequired are the feed kinds a complete installation has.
var DefaultRequired = []string{store.FeedCSAF, store.FeedKEV, store.FeedEPSS}

// StatusOptions say what "fresh" means.
type StatusOptions struct {
	Now    time.Time     // zero: time.Now()
	MaxAge time.Duration // ≤ 0: DefaultMaxAge
	// Required are the kinds that must have at least one imported feed
	// (nil: DefaultRequired; an empty non-nil slice requires none).
	Required []string
}

// Feed states.
const (
	StateOK      = "ok"
	StateStale   = "stale"
	StateFailed  = "failed"  // the last import failed and none ever succeeded
	StateMissing = "missing" // a required kind has no feed at all
)

// FeedAge is one feed's freshness.
type FeedAge struct {
	store.FeedStatus
	// Age is measured from the feed's own date (FeedDate), or from the
	// import time when the feed carries no date.
	Age   time.Duration `json:"-"`
	AgeS  string        `json:"age"`
	Hours float64       `json:"age_hours"`
	State string        `json:"state"`
}

// Report is the freshness of every feed and the warnings to show.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	MaxAge      string    `json:"max_feed_age"`
	Feeds       []FeedAge `json:"feeds"`
	// Warnings are the lines every feed-dependent output must show.
	Warnings []string `json:"warnings"`
}

// OK is true when every required kind is present and no feed is stale or failed.
func (r *Report) OK() bool { return len(r.Warnings) == 0 }

// Status computes the freshness of the given feeds (store.ListFeeds).
func Status(list []store.FeedStatus, o StatusOptions) *Report {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	maxAge := o.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	req := o.Required
	if req == nil {
		req = DefaultRequired
	}
	rep := &Report{GeneratedAt: now.UTC(), MaxAge: FormatAge(maxAge), Feeds: []FeedAge{}, Warnings: []string{}}
	have := map[string]bool{}
	for _, f := range list {
		fa := FeedAge{FeedStatus: f, State: StateOK}
		ref := f.FeedDate
		if ref.IsZero() {
			ref = f.ImportedAt
		}
		switch {
		case f.ImportedAt.IsZero():
			fa.State = StateFailed
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("feed %s has never been imported successfully (last error: %s)", f.Name, f.LastError))
		default:
			have[f.Kind] = true
			fa.Age = max(0, now.Sub(ref))
			fa.AgeS = FormatAge(fa.Age)
			fa.Hours = float64(fa.Age.Round(time.Minute)) / float64(time.Hour)
			if fa.Age > maxAge {
				fa.State = StateStale
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("feed %s is STALE: dated %s, %s old (limit %s)", f.Name, ref.UTC().Format("2006-01-02 15:04 MST"), fa.AgeS, FormatAge(maxAge)))
			}
			if f.LastError != "" && f.ErrorAt.After(f.ImportedAt) {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("feed %s: last import failed at %s: %s (older data kept)", f.Name, f.ErrorAt.UTC().Format("2006-01-02 15:04 MST"), f.LastError))
			}
		}
		rep.Feeds = append(rep.Feeds, fa)
	}
	var missing []string
	for _, k := range req {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		rep.Feeds = append(rep.Feeds, FeedAge{FeedStatus: store.FeedStatus{Name: k, Kind: k}, State: StateMissing, AgeS: "-"})
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("feed %s is MISSING: no %s data has been imported; results that depend on it are incomplete, not clean", k, kindLabel(k)))
	}
	return rep
}

func kindLabel(k string) string {
	switch k {
	case store.FeedCSAF:
		return "CSAF advisory"
	case store.FeedKEV:
		return "CISA KEV"
	case store.FeedEPSS:
		return "EPSS"
	case store.FeedNVD:
		return "NVD CVE"
	}
	return k
}

// Banner writes the one-line-per-feed header every feed-dependent output
// prints: each feed's date and age, then the warnings, loudly.
func Banner(w io.Writer, r *Report) error {
	var b strings.Builder
	for _, f := range r.Feeds {
		if f.State == StateMissing {
			continue
		}
		date := "undated"
		if !f.FeedDate.IsZero() {
			date = f.FeedDate.UTC().Format("2006-01-02")
		}
		fmt.Fprintf(&b, "feed %s: %s, %s old, %d items [%s]\n", f.Name, date, f.AgeS, f.Items, f.State)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "WARNING: %s\n", warn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// FormatAge prints a duration as days and hours ("9d4h", "5h", "12m").
func FormatAge(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		days := d / (24 * time.Hour)
		h := (d % (24 * time.Hour)) / time.Hour
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	case d >= time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
}

// ParseAge reads "7d", "36h", "90m" or any time.ParseDuration form.
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != days {
			return 0, fmt.Errorf("age %q: want a positive number of days like 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("age %q: want a positive duration like 7d, 36h or 90m", s)
	}
	return d, nil
}
