package app

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestCoalesceMergesAndNeverBlocks(t *testing.T) {
	var (
		mu    sync.Mutex
		calls [][]int64
	)
	release := make(chan struct{})
	notify, stop := Coalesce(func(_ context.Context, ids []int64) {
		<-release // a slow consumer
		slices.Sort(ids)
		mu.Lock()
		calls = append(calls, ids)
		mu.Unlock()
	})
	start := time.Now()
	notify(context.Background(), []int64{1, 2})
	time.Sleep(20 * time.Millisecond) // the first call is now blocked in fn
	for i := range 1000 {
		notify(context.Background(), []int64{int64(3 + i%3)})
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("notify blocked for %v behind a slow consumer", el)
	}
	close(release)
	stop()
	mu.Lock()
	defer mu.Unlock()
	var all []int64
	for _, c := range calls {
		all = append(all, c...)
	}
	slices.Sort(all)
	if !slices.Equal(all, []int64{1, 2, 3, 4, 5}) || len(calls) > 3 {
		t.Fatalf("calls %v: want ids 1-5 each once, merged into at most 3 calls", calls)
	}
}
