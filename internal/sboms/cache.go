package sboms

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/medwarden/medwarden/internal/store"
)

// GenerationSource is a FeedSource that also reports its feeds' import
// status: the generation of the matchers' data.
type GenerationSource interface {
	FeedSource
	ListFeeds(ctx context.Context) ([]store.FeedStatus, error)
}

// Generation names the state of the data StoredMatchers loads: every OSV,
// NVD and CSAF feed with its import time and item count. Any import of one
// of them changes it.
func Generation(feeds []store.FeedStatus) string {
	var b strings.Builder
	for _, f := range feeds {
		switch f.Kind {
		case store.FeedOSV, store.FeedNVD, store.FeedCSAF:
			b.WriteString(f.Kind + "/" + f.Name + "@" + f.ImportedAt.UTC().Format("2006-01-02T15:04:05.000000000") + "#" + strconv.FormatInt(f.Items, 10) + ";")
		}
	}
	return b.String()
}

// cached is the matchers of one source at one generation.
type cached struct {
	gen   string
	m     Matchers
	stats Stats
}

// matcherCache keeps, per source (a store; the API and the console share
// it), the matchers of the last generation loaded. Matchers are read-only
// once built, so requests share them.
var matcherCache = struct {
	sync.Mutex
	by    map[GenerationSource]*cached
	order []GenerationSource // oldest first; a few stores per process
}{by: map[GenerationSource]*cached{}}

// maxCachedSources bounds the stores whose matchers are kept (a server has
// one; tests open many).
const maxCachedSources = 4

// CachedMatchers is StoredMatchers through a cache keyed by the feed
// generation (Generation): the OSV, NVD and CSAF VEX data are read and
// indexed once per import, not on every attach. Concurrent callers of one
// source wait for a single load.
func CachedMatchers(ctx context.Context, src GenerationSource) (Matchers, Stats, error) {
	feeds, err := src.ListFeeds(ctx)
	if err != nil {
		return Matchers{}, Stats{}, fmt.Errorf("read feed status: %w", err)
	}
	gen := Generation(feeds)
	matcherCache.Lock()
	defer matcherCache.Unlock()
	if c := matcherCache.by[src]; c != nil && c.gen == gen {
		return c.m, c.stats, nil
	}
	m, st, err := StoredMatchers(ctx, src)
	if err != nil {
		return m, st, err
	}
	if _, ok := matcherCache.by[src]; !ok {
		matcherCache.order = append(matcherCache.order, src)
		if len(matcherCache.order) > maxCachedSources {
			delete(matcherCache.by, matcherCache.order[0])
			matcherCache.order = matcherCache.order[1:]
		}
	}
	matcherCache.by[src] = &cached{gen: gen, m: m, stats: st}
	return m, st, nil
}
