package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// TestDashboardCountsRefreshInBackground: counts are reused, recomputed
// off the request when old, and a write made through the console is
// visible on the next dashboard.
func TestDashboardCountsRefreshInBackground(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	ctx := context.Background()
	c := e.signedIn(auth.Viewer)
	total := func(n string) string {
		return `<span class="big">` + n + `</span><span>devices in the inventory</span>`
	}
	if res := c.get("/"); !strings.Contains(res.Body, total("3")) {
		t.Fatal("dashboard does not count 3 devices")
	}
	add := func(i int) {
		d := storetest.Sample(i)
		if err := e.st.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, []*inventory.Device{d}) }); err != nil {
			t.Fatal(err)
		}
	}
	// A change outside the console: the cached counts are shown until
	// they are older than StatsMaxAge.
	add(10)
	if res := c.get("/"); !strings.Contains(res.Body, total("3")) {
		t.Error("counts were recomputed on the request instead of reused")
	}
	e.clock.Add(DefaultStatsMaxAge + time.Second)
	c.get("/") // starts the background refresh and shows the old counts
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.get("/").Body, total("4")) {
		if time.Now().After(deadline) {
			t.Fatal("the background refresh never showed 4 devices")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A write through the console: the very next dashboard has it.
	add(11)
	e.h.dropStats()
	if res := c.get("/"); !strings.Contains(res.Body, total("5")) {
		t.Error("the dashboard after a console write does not count 5 devices")
	}
}
