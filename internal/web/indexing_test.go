package web

import (
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/store/sqldb"
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
	db := e.st.(*sqldb.DB)
	// What a deferred bulk load leaves (store/sqldb/index_builds.go).
	var ddl string
	if err := db.SQL.QueryRow("SELECT sql FROM sqlite_schema WHERE name = 'devices_vendor'").Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP INDEX devices_vendor", "INSERT INTO deferred_index_builds (name, kind, ddl, seq) VALUES ('devices_vendor', 'index', '" + strings.ReplaceAll(ddl, "'", "''") + "', 1)"} {
		if _, err := db.SQL.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
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
