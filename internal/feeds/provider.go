package feeds

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrInvalidFeed is wrapped by every content error of a feed index.
var ErrInvalidFeed = errors.New("invalid feed index")

// ProviderMetadata is the part of a CSAF provider-metadata.json that an
// importer needs (CSAF 2.0 section 7.1.20).
type ProviderMetadata struct {
	CanonicalURL  string                           `json:"canonical_url"`
	LastUpdated   time.Time                        `json:"last_updated"`
	Role          string                           `json:"role"`
	Publisher     struct{ Name, Namespace string } `json:"publisher"`
	Distributions []Distribution                   `json:"distributions"`
	Keys          []OpenPGPKey                     `json:"public_openpgp_keys"`
}

// Distribution is one distribution of a provider: a directory (with
// index.txt and changes.csv) and/or ROLIE feeds.
type Distribution struct {
	DirectoryURL string `json:"directory_url"`
	ROLIE        *struct {
		Feeds []struct {
			URL      string `json:"url"`
			TLPLabel string `json:"tlp_label"`
		} `json:"feeds"`
	} `json:"rolie"`
}

// OpenPGPKey is a published key and its pinned fingerprint.
type OpenPGPKey struct {
	Fingerprint string `json:"fingerprint"`
	URL         string `json:"url"`
}

// ParseProviderMetadata reads a provider-metadata.json.
func ParseProviderMetadata(r io.Reader, name string) (*ProviderMetadata, error) {
	var pm ProviderMetadata
	if err := json.NewDecoder(r).Decode(&pm); err != nil {
		return nil, fmt.Errorf("provider metadata %s: %w: %w", name, ErrInvalidFeed, err)
	}
	if pm.CanonicalURL == "" {
		return nil, fmt.Errorf("provider metadata %s at /canonical_url: %w: missing", name, ErrInvalidFeed)
	}
	if len(pm.Distributions) == 0 {
		return nil, fmt.Errorf("provider metadata %s at /distributions: %w: no distribution", name, ErrInvalidFeed)
	}
	for i, d := range pm.Distributions {
		if d.DirectoryURL == "" && (d.ROLIE == nil || len(d.ROLIE.Feeds) == 0) {
			return nil, fmt.Errorf("provider metadata %s at /distributions/%d: %w: neither directory_url nor rolie feeds", name, i, ErrInvalidFeed)
		}
	}
	return &pm, nil
}

// Aggregator is the part of a CSAF aggregator.json an importer needs.
type Aggregator struct {
	LastUpdated time.Time `json:"last_updated"`
	Providers   []struct {
		Metadata struct {
			URL string `json:"url"`
		} `json:"metadata"`
	} `json:"csaf_providers"`
}

// ParseAggregator reads an aggregator.json.
func ParseAggregator(r io.Reader, name string) (*Aggregator, error) {
	var a Aggregator
	if err := json.NewDecoder(r).Decode(&a); err != nil {
		return nil, fmt.Errorf("aggregator %s: %w: %w", name, ErrInvalidFeed, err)
	}
	for i, p := range a.Providers {
		if p.Metadata.URL == "" {
			return nil, fmt.Errorf("aggregator %s at /csaf_providers/%d/metadata/url: %w: missing", name, i, ErrInvalidFeed)
		}
	}
	return &a, nil
}

// Entry is one advisory listed by a feed index.
type Entry struct {
	URL string // absolute URL or path relative to the index
	// Updated is when the index says the document last changed (zero when unknown).
	Updated time.Time
	// HashURL/SignatureURL are set when the index names them (ROLIE links).
	SHA256URL, SHA512URL, SignatureURL string
}

type rolieFeed struct {
	Feed *struct {
		Updated time.Time `json:"updated"`
		Entry   []struct {
			ID      string    `json:"id"`
			Updated time.Time `json:"updated"`
			Link    []struct {
				Rel  string `json:"rel"`
				Href string `json:"href"`
			} `json:"link"`
			Content struct {
				Src string `json:"src"`
			} `json:"content"`
		} `json:"entry"`
	} `json:"feed"`
}

// ParseROLIE reads a ROLIE feed and returns its entries and date.
func ParseROLIE(r io.Reader, name string) ([]Entry, time.Time, error) {
	var f rolieFeed
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, time.Time{}, fmt.Errorf("rolie feed %s: %w: %w", name, ErrInvalidFeed, err)
	}
	if f.Feed == nil {
		return nil, time.Time{}, fmt.Errorf("rolie feed %s at /feed: %w: missing", name, ErrInvalidFeed)
	}
	var out []Entry
	for i, e := range f.Feed.Entry {
		en := Entry{URL: e.Content.Src, Updated: e.Updated}
		for _, l := range e.Link {
			switch {
			case l.Rel == "self" && en.URL == "":
				en.URL = l.Href
			case l.Rel == "hash" && strings.HasSuffix(strings.ToLower(l.Href), ".sha256"):
				en.SHA256URL = l.Href
			case l.Rel == "hash" && strings.HasSuffix(strings.ToLower(l.Href), ".sha512"):
				en.SHA512URL = l.Href
			case l.Rel == "signature":
				en.SignatureURL = l.Href
			}
		}
		if en.URL == "" {
			return nil, time.Time{}, fmt.Errorf("rolie feed %s at /feed/entry/%d/content/src: %w: no document URL", name, i, ErrInvalidFeed)
		}
		out = append(out, en)
	}
	return out, f.Feed.Updated, nil
}

// ParseChanges reads a changes.csv ("path","time" per line, newest first).
func ParseChanges(r io.Reader, name string) ([]Entry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 2
	var out []Entry
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("changes %s line %d: %w: %w", name, line, ErrInvalidFeed, err)
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(rec[1]))
		if err != nil {
			return nil, fmt.Errorf("changes %s line %d field time: %w: %q is not an RFC 3339 time", name, line, ErrInvalidFeed, rec[1])
		}
		p := strings.TrimSpace(rec[0])
		if err := checkRelPath(p); err != nil {
			return nil, fmt.Errorf("changes %s line %d field path: %w: %w", name, line, ErrInvalidFeed, err)
		}
		out = append(out, Entry{URL: p, Updated: t.UTC()})
	}
}

// ParseIndex reads an index.txt (one relative path per line).
func ParseIndex(r io.Reader, name string) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	var out []Entry
	for line := 1; sc.Scan(); line++ {
		p := strings.TrimSpace(sc.Text())
		if p == "" {
			continue
		}
		if err := checkRelPath(p); err != nil {
			return nil, fmt.Errorf("index %s line %d: %w: %w", name, line, ErrInvalidFeed, err)
		}
		out = append(out, Entry{URL: p})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("index %s: %w", name, err)
	}
	return out, nil
}

// checkRelPath refuses paths that leave the directory they are listed in.
func checkRelPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.Contains(p, "://"), strings.HasPrefix(p, "/"), strings.Contains(p, "\\"):
		return fmt.Errorf("%q is not a relative path", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return fmt.Errorf("%q leaves the directory", p)
		}
	}
	if !strings.HasSuffix(strings.ToLower(p), ".json") {
		return fmt.Errorf("%q is not a .json file", p)
	}
	return nil
}
