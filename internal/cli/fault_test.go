package cli

import (
	"bufio"
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
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqldb"
)

// Fault proofs of issue 9 that run unprivileged: the real binary (this
// test binary as medwarden) is killed or starved of disk, then the store
// is checked and used again.

// child runs medwarden args in a child process under bash, so that
// shell limits (ulimit) apply to it alone.
func child(shellPrefix string, args ...string) *exec.Cmd {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	cmd := exec.Command("bash", "-c", shellPrefix+" exec '"+os.Args[0]+"' "+strings.Join(q, " "))
	cmd.Env = append(os.Environ(), "MEDWARDEN_CLI_CHILD=1")
	return cmd
}

// TestImportOnFullDisk: the SQLite volume fills up during an import
// (RLIMIT_FSIZE on the child: every write past 4 MiB fails with EFBIG,
// as on a full disk). The import must fail with a clear error, leave the
// store exactly as before, and work again once there is room.
func TestImportOnFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: writes a 100,000-row file")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	seed := filepath.Join(dir, "seed.csv")
	writeFleet(t, seed, 0, 100)
	if code, _, errs := run(t, "import", "--data", data, seed); code != 0 {
		t.Fatal(errs)
	}
	big := filepath.Join(dir, "big.csv")
	writeFleet(t, big, 1000, 100000)

	cmd := child("ulimit -f 4096;", "import", "--data", data, big) // 4 MiB
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("import with a full disk succeeded:\n%s", out)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("import was killed by %v instead of failing cleanly:\n%s", ws.Signal(), out)
	}
	msg := string(out)
	if !strings.Contains(msg, "file too large") && !strings.Contains(msg, "full") && !strings.Contains(msg, "disk") {
		t.Errorf("error does not say the disk is full:\n%s", msg)
	}
	if strings.Contains(msg, "dry run") {
		t.Errorf("a failed import is reported as a dry run:\n%s", msg)
	}
	t.Logf("full-disk import failed with: %s", strings.TrimSpace(msg))

	checkStore(t, data, 100)
	// Room again: the same import now succeeds, and the earlier data is there.
	if code, out, errs := run(t, "import", "--data", data, big); code != 0 || !strings.Contains(out, "100000 created") {
		t.Fatalf("import after the disk was freed: exit %d, %s %s", code, out, errs)
	}
	checkStore(t, data, 100100)
}

func checkStore(t *testing.T, data string, want int64) {
	t.Helper()
	st, err := app.OpenStore(context.Background(), app.StoreConfig{DataDir: data})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	n, err := st.CountDevices(context.Background())
	if err != nil || n != want {
		t.Fatalf("store has %d devices (%v), want %d", n, err, want)
	}
	d, err := st.GetDeviceByAssetID(context.Background(), "BIO-0000042")
	if err != nil || d.Serial != "SN0000042" {
		t.Fatalf("device BIO-0000042 after the fault: %+v, %v", d, err)
	}
	if db, ok := st.(*sqldb.DB); ok {
		var res string
		if err := db.SQL.QueryRow("PRAGMA quick_check").Scan(&res); err != nil || res != "ok" {
			t.Fatalf("SQLite quick_check after the fault: %q %v", res, err)
		}
	} else {
		t.Errorf("store is %T, not the embedded SQLite store", st)
	}
}

// writeEPSS writes an EPSS score file of n CVEs dated day.
func writeEPSS(t *testing.T, path string, n int, day string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "#model_version:v2025.03.14,score_date:%sT00:00:00Z\ncve,epss,percentile\n", day)
	for i := range n {
		fmt.Fprintf(w, "CVE-%d-%05d,0.%05d,0.%05d\n", 2000+i/90000, 10000+i%90000, i%99999+1, i%99999+1)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestFeedSyncSurvivesSIGKILL kills a feed import half-way: the stored
// feed is the previous one, entirely (one transaction), and the next
// sync applies the new one fully.
func TestFeedSyncSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: writes a 600,000-row EPSS file")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	old := filepath.Join(dir, "old.csv")
	writeEPSS(t, old, 1000, "2026-11-26")
	if code, _, errs := run(t, "feeds", "import", "--data", data, "--epss", old); code != 0 {
		t.Fatal(errs)
	}
	big := filepath.Join(dir, "new.csv")
	writeEPSS(t, big, 600000, "2026-11-27")

	cmd := child("", "feeds", "import", "--data", data, "--epss", big)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wal := filepath.Join(data, "medwarden.db-wal")
	deadline := time.Now().Add(120 * time.Second)
	for {
		if fi, err := os.Stat(wal); err == nil && fi.Size() > 4<<20 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the feed import never wrote 4 MiB to the WAL")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatal("the feed import finished before it could be killed")
	}
	epssIs := func(wantN int, wantDay string) {
		t.Helper()
		st, err := app.OpenStore(context.Background(), app.StoreConfig{DataDir: data})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer st.Close()
		f, err := st.EPSS(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Scores) != wantN || f.ScoreDate.Format("2006-01-02") != wantDay {
			t.Fatalf("stored EPSS: %d scores of %s, want %d of %s", len(f.Scores), f.ScoreDate.Format("2006-01-02"), wantN, wantDay)
		}
		feeds, _ := st.ListFeeds(context.Background())
		for _, fs := range feeds {
			if fs.Kind == store.FeedEPSS && fs.Items != int64(wantN) {
				t.Errorf("feed status says %d items, want %d", fs.Items, wantN)
			}
		}
	}
	epssIs(1000, "2026-11-26")
	if code, _, errs := run(t, "feeds", "import", "--data", data, "--epss", big); code != 0 {
		t.Fatalf("sync after the kill: %s", errs)
	}
	epssIs(600000, "2026-11-27")
}
