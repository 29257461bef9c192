//go:build !unix

package sboms

import "time"

func cpuTime() time.Duration { return 0 }
