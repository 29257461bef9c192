package sqldb

// SetSearchLimits sets the search plan thresholds (search.go) for a test
// and returns a function restoring them.
func SetSearchLimits(few, walk int) (restore func()) {
	oldFew, oldWalk := searchFewLimit, searchWalkBudget
	searchFewLimit, searchWalkBudget = few, walk
	return func() { searchFewLimit, searchWalkBudget = oldFew, oldWalk }
}
