//go:build unix

package importer_test

import "syscall"

// processCPU is the CPU time (user+system) this process has used, in
// seconds: on a shared machine a benchmark's wall time mostly measures the
// wait for a core, so the import benchmarks report CPU time too.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
