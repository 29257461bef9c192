package importer

import "context"

// SetAfterScan makes Import call f between its identity scan and its
// transaction; the returned function restores the previous hook.
func SetAfterScan(f func(context.Context)) (restore func()) {
	old := afterScan
	afterScan = f
	return func() { afterScan = old }
}
