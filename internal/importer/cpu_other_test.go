//go:build !unix

package importer_test

// processCPU is not measured outside Unix (0: the cpu metrics read 0).
func processCPU() float64 { return 0 }
