package sqldb

// SetSearchLimits sets the search plan thresholds (search.go) for a test
// and returns a function restoring them.
func SetSearchLimits(few, walk int) (restore func()) {
	oldFew, oldWalk := searchFewLimit, searchWalkBudget
	searchFewLimit, searchWalkBudget = few, walk
	return func() { searchFewLimit, searchWalkBudget = oldFew, oldWalk }
}

// SetSearchShortWalk fixes the length of a SQLite search's short walk
// before the walk with the candidate probe (search.go; 0: computed) for a
// test and returns a function restoring it.
func SetSearchShortWalk(n int) (restore func()) {
	old := searchShortWalk
	searchShortWalk = n
	return func() { searchShortWalk = old }
}

// SetSearchCacheOff turns the search cache (search_cache.go) off or on
// for a test and returns a function restoring it.
func SetSearchCacheOff(off bool) (restore func()) {
	old := searchCacheOff
	searchCacheOff = off
	return func() { searchCacheOff = old }
}

// SetSearchFeedMax bounds the search cache's shared change log
// (search_cache.go) for a test and returns a function restoring it.
func SetSearchFeedMax(n int) (restore func()) {
	old := searchFeedMax
	searchFeedMax = n
	return func() { searchFeedMax = old }
}

// SetDeferMinRows sets the smallest bulk load whose index builds are
// deferred past its commit (index_builds.go) for a test and returns a
// function restoring it.
func SetDeferMinRows(n int64) (restore func()) {
	old := deferMinRows
	deferMinRows = n
	return func() { deferMinRows = old }
}

// SetSearchFillChunk sets how many devices one transaction of a deferred
// search-index fill takes, and a hook run after each transaction of
// BuildIndexes, for a test; it returns a function restoring both.
func SetSearchFillChunk(n int64, after func(step string)) (restore func()) {
	oldN, oldAfter := searchFillChunkSize, afterBuildTx
	searchFillChunkSize, afterBuildTx = n, after
	return func() { searchFillChunkSize, afterBuildTx = oldN, oldAfter }
}

// SetSearchHedgeArm makes PostgreSQL's hedged search run only one of its
// plans (1: through the trigram index, 2: the sort-index walk; 0: both)
// and returns a function restoring it.
func SetSearchHedgeArm(arm int) (restore func()) {
	old := searchHedgeArm
	searchHedgeArm = arm
	return func() { searchHedgeArm = old }
}
