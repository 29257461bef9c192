package web

import (
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// While a large import's index builds are pending, the devices page says
// so; once they are done it does not.
func TestDevicesPageSaysIndexing(t *testing.T) {
	e := newEnv(t, 20)
	c := e.client()
	c.login("viewer", testPassword)
	if r := c.get("/devices"); r.Code != 200 || strings.Contains(r.Body, "being indexed") {
		t.Fatalf("devices page without pending builds: %d, says indexing: %v", r.Code, strings.Contains(r.Body, "being indexed"))
	}
	storetest.DeferIndexBuild(t, e.st.(*sqldb.DB).SQL, "devices_vendor")
	r := c.get("/devices?sort=vendor")
	if r.Code != 200 || !strings.Contains(r.Body, "A large import is being indexed (1 step left)") || strings.Count(r.Body, `href="/devices/`) < 20 {
		t.Fatalf("devices page with a pending build: %d\n%s", r.Code, r.Body)
	}
	if err := e.st.BuildIndexes(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if r := c.get("/devices"); strings.Contains(r.Body, "being indexed") {
		t.Fatal("devices page still says indexing after the builds")
	}
}
