//go:build !race

package sqldb_test

// raceEnabled: the tests run under the race detector (go test -race).
const raceEnabled = false
