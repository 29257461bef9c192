//go:build !unix

package cli

// lockStore is a no-op where advisory file locks are not available; stop
// 'medwarden serve' by hand before a restore.
func lockStore(string) (func(), error) { return func() {}, nil }
