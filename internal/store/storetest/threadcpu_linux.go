package storetest

import (
	"syscall"
	"time"
	"unsafe"
)

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID.
const clockThreadCPUTime = 3

// threadCPU is the CPU time (user+sys) the calling OS thread has used; the
// list benchmark locks its goroutine to one thread, so the difference
// around a query is that query's CPU in this process however loaded the
// machine is (for PostgreSQL: only the client side). The thread CPU clock
// counts nanoseconds; getrusage's per-thread times advance in scheduler
// ticks (4 ms), too coarse for one query.
func threadCPU() (time.Duration, bool) {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
