package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/app"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

const canonicalHeader = "asset_id,vendor,model,version,serial,mac,ip,hostname,site,location,department,device_type,criticality,patient_connected,phi,os,end_of_support\n"

func writeFleet(t *testing.T, path string, from, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString(canonicalHeader)
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "BIO-%07d,Baxter,Sigma Spectrum,8.00.01,SN%07d,02:00:%02x:%02x:%02x:%02x,10.%d.%d.%d,pump-%d,North,B1,ICU,infusion pump,life-supporting,yes,no,VxWorks,2027-01-31\n",
			i, i, (i>>24)&0xff, (i>>16)&0xff, (i>>8)&0xff, i&0xff, (i>>16)&0xff, (i>>8)&0xff, i&0xff, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"medwarden"}, args...), strings.NewReader(""), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

func TestImportIdempotentAndAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	good := filepath.Join(dir, "good.csv")
	writeFleet(t, good, 0, 50)
	if code, out, errs := run(t, "import", "--data", data, good); code != 0 || !strings.Contains(out, "50 created") {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	if code, out, _ := run(t, "import", "--data", data, good); code != 0 || !strings.Contains(out, "0 created, 0 updated, 50 unchanged") {
		t.Fatalf("re-import: %d %q", code, out)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(canonicalHeader+
		"BIO-9000001,Baxter,Sigma Spectrum,8.00.01,SNX1,02:00:aa:00:00:01,10.9.0.1,x1,North,,ICU,infusion pump,life-supporting,yes,no,VxWorks,2027-01-31\n"+
		"BIO-9000002,Baxter,Sigma Spectrum,8.00.01,SNX2,02:00:aa:00:00:02,10.9.0.2,x2,North,,ICU,infusion pump,critical-ish,yes,no,VxWorks,2027-01-31\n"+
		"\"BIO-9000003,Baxter\n"), 0o600)
	other := filepath.Join(dir, "other.csv")
	writeFleet(t, other, 100, 5)
	code, _, errs := run(t, "import", "--data", data, other, bad)
	if code != ExitBadInput {
		t.Fatalf("import with a bad file: exit %d, want %d (%s)", code, ExitBadInput, errs)
	}
	for _, want := range []string{"bad.csv:3 column criticality", "bad.csv:4"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	st, err := app.OpenStore(context.Background(), app.StoreConfig{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := st.CountDevices(context.Background())
	st.Close()
	if n != 50 {
		t.Errorf("after a rejected two-file import: %d devices, want 50 (nothing from other.csv either)", n)
	}
}

func TestExportReimportsToSameInventory(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	src := filepath.Join(dir, "fleet.csv")
	writeFleet(t, src, 0, 30)
	if code, _, errs := run(t, "import", "--data", data, src); code != 0 {
		t.Fatal(errs)
	}
	for _, f := range []string{"csv", "json", "fhir"} {
		out := filepath.Join(dir, "export."+f)
		if code, _, errs := run(t, "export", "--data", data, "--format", f, "--out", out); code != 0 {
			t.Fatalf("export %s: %s", f, errs)
		}
		fresh := filepath.Join(dir, "fresh-"+f)
		if code, stdout, errs := run(t, "import", "--data", fresh, out); code != 0 || !strings.Contains(stdout, "30 created") {
			t.Fatalf("import of %s export: %d %s %s", f, code, stdout, errs)
		}
		// and importing it over the original changes nothing
		if code, stdout, _ := run(t, "import", "--data", data, out); code != 0 || !strings.Contains(stdout, "30 unchanged") {
			t.Errorf("%s export re-imported over its source: %s", f, stdout)
		}
	}
}

// TestImportSurvivesSIGKILL kills an import half-way and checks the store
// is exactly as before: same devices, intact database.
func TestImportSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: writes a 300,000-row file")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	seed := filepath.Join(dir, "seed.csv")
	writeFleet(t, seed, 0, 100)
	if code, _, errs := run(t, "import", "--data", data, seed); code != 0 {
		t.Fatal(errs)
	}
	big := filepath.Join(dir, "big.csv")
	writeFleet(t, big, 1000, 300000)

	cmd := exec.Command(os.Args[0], "import", "--data", data, big)
	cmd.Env = append(os.Environ(), "MEDWARDEN_CLI_CHILD=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the import has written into the WAL, then kill it.
	wal := filepath.Join(data, "medwarden.db-wal")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if fi, err := os.Stat(wal); err == nil && fi.Size() > 4<<20 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("import never wrote 4 MiB to the WAL")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child was not killed by the signal (it finished first?): %v", err)
	}

	st, err := app.OpenStore(context.Background(), app.StoreConfig{DataDir: data})
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer st.Close()
	n, err := st.CountDevices(context.Background())
	if err != nil || n != 100 {
		t.Fatalf("after SIGKILL: %d devices (%v), want exactly the 100 from before", n, err)
	}
	var assets []string
	st.ScanDevices(context.Background(), func(d *inventory.Device) error { assets = append(assets, d.AssetID); return nil })
	if assets[0] != "BIO-0000000" || assets[99] != "BIO-0000099" {
		t.Errorf("devices after SIGKILL: %s … %s", assets[0], assets[99])
	}
	type sqler interface{ Ping(context.Context) error }
	if err := st.(sqler).Ping(context.Background()); err != nil {
		t.Errorf("store unusable after SIGKILL: %v", err)
	}
	if code, out, errs := run(t, "import", "--data", data, seed); code != 0 || !strings.Contains(out, "100 unchanged") {
		t.Errorf("import after SIGKILL: %d %s %s", code, out, errs)
	}
}

func TestHelpCoversEveryVerb(t *testing.T) {
	code, out, _ := run(t, "help")
	if code != 0 {
		t.Fatalf("help: exit %d", code)
	}
	for _, v := range verbs() {
		if !strings.Contains(out, "  "+v.Name+" ") {
			t.Errorf("help does not list %s", v.Name)
		}
		code, hout, herr := run(t, v.Name, "-h")
		if code != 0 || !strings.Contains(herr+hout, "usage: medwarden "+v.Name) {
			t.Errorf("%s -h: exit %d, output %q", v.Name, code, herr+hout)
		}
	}
	if code, _, _ := run(t, "no-such-verb"); code != ExitUsage {
		t.Errorf("unknown verb: exit %d, want %d", code, ExitUsage)
	}
}

func TestVersionPrintsSchema(t *testing.T) {
	_, out, _ := run(t, "version")
	if !strings.Contains(out, "schema: ") || !strings.Contains(out, "commit: ") {
		t.Errorf("version output %q", out)
	}
}

// A large import (100,000 new devices) commits before its indexes: with
// --no-index-build the store is left with the builds pending, and the
// next import (here of a file with no records) builds them and says so.
func TestImportDefersIndexBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100,000 devices")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	fleet := filepath.Join(dir, "fleet.csv")
	writeFleet(t, fleet, 0, 100_000)
	code, out, errs := run(t, "import", "--no-index-build", "--data", data, fleet)
	if code != 0 || !strings.Contains(out, "100000 created") || strings.Contains(errs, "building") {
		t.Fatalf("import --no-index-build: %d %q %q", code, out, errs)
	}
	pending := func() []string {
		st, err := app.OpenStore(context.Background(), app.StoreConfig{DataDir: data})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		p, err := st.PendingIndexes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := pending(); len(p) < 20 {
		t.Fatalf("pending after a 100,000-device import: %v", p)
	}
	empty := filepath.Join(dir, "empty.csv")
	os.WriteFile(empty, []byte(canonicalHeader), 0o600)
	code, out, errs = run(t, "import", "--data", data, empty)
	if code != 0 || !strings.Contains(out, "0 records") || !strings.Contains(errs, "building") ||
		!strings.Contains(errs, "devices_updated") || !strings.Contains(errs, "search index") || !strings.Contains(errs, "indexes built in") {
		t.Fatalf("import that builds: %d %q %q", code, out, errs)
	}
	if p := pending(); len(p) != 0 {
		t.Fatalf("pending after the builds: %v", p)
	}
	// Lists and search answer from the rebuilt indexes.
	st, err := app.OpenStore(context.Background(), app.StoreConfig{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, q := range []store.DeviceQuery{{Filters: map[string]string{"hostname": "pump-99999"}}, {Search: "pump-99999"}} {
		p, err := st.ListDevices(context.Background(), q)
		if err != nil || len(p.Devices) != 1 || p.Devices[0].AssetID != "BIO-0099999" {
			t.Fatalf("list %+v after the builds: %+v, %v", q, p, err)
		}
	}
}
