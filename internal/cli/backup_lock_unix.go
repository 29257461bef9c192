//go:build unix

package cli

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockStore takes an exclusive advisory lock on the store's lock file
// (DB + ".lock"): 'serve' holds it while running, and 'restore' refuses to
// replace a database whose lock is held. The lock dies with the process.
func lockStore(dbPath string) (release func(), err error) {
	f, err := os.OpenFile(dbPath+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is in use by a running 'medwarden serve' (lock %s.lock held): %w", dbPath, dbPath, errStoreBusy)
		}
		return nil, fmt.Errorf("lock %s: %w", dbPath, err)
	}
	return func() { f.Close() }, nil
}
