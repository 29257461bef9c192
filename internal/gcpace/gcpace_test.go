package gcpace

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	c := Config{Max: 200, Headroom: 512 << 20}
	for _, tt := range []struct {
		live uint64
		want int
	}{
		{0, 200},
		{100 << 20, 200}, // 512 % allowed: capped
		{256 << 20, 200}, // exactly 200 %
		{384 << 20, 133}, // 512/384
		{512 << 20, 100}, // default
		{4 << 30, 100},   // never below Go's default
	} {
		if got := c.Percent(tt.live); got != tt.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", tt.live>>20, got, tt.want)
		}
	}
}

// TestStartFollowsLiveHeap: after collections with a live heap larger than
// the headroom allows at Max, the percentage comes down; GOGC set by the
// operator turns the pacing off.
func TestStartFollowsLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	if Start(Config{Max: 300, Headroom: 1 << 20}) {
		t.Fatal("Start paced the GC although GOGC is set")
	}
	// Unset for the rest: t.Setenv restores it afterwards.
	unsetenv(t, "GOGC")
	live := make([][]byte, 0, 64)
	for range 64 {
		live = append(live, make([]byte, 1<<20)) // 64 MiB live: 1 MiB headroom means 100 %
	}
	if !Start(Config{Max: 300, Headroom: 1 << 20}) {
		t.Fatal("Start did nothing")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the cleanup runs after the collection
		if p := debug.SetGCPercent(-1); p >= 0 {
			debug.SetGCPercent(p)
			if p == 100 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the GC percentage never followed the live heap down to 100")
		}
	}
	runtime.KeepAlive(live)
}

// unsetenv removes key for the rest of the test (after t.Setenv, which
// restores the old value at cleanup).
func unsetenv(t *testing.T, key string) {
	t.Helper()
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}
