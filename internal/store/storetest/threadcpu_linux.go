package storetest

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time (user+sys) the calling OS thread has used; the
// list benchmark locks its goroutine to one thread, so the difference
// around a query is that query's CPU in this process however loaded the
// machine is (for PostgreSQL: only the client side).
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
