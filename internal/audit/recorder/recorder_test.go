package recorder_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

func TestRecorder(t *testing.T) {
	raw, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rec, err := recorder.Wrap(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(t.Context(), audit.Actor{Name: "admin", Kind: audit.KindUser, Source: "10.0.0.5"})
	u := &store.User{Username: "ana", Role: "analyst", PasswordHash: "$argon2id$v=19$secret-hash-1"}
	if err := rec.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	u.PasswordHash = "$argon2id$v=19$secret-hash-2"
	if err := rec.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := rec.UpdateUser(ctx, u); err != nil { // no change: not audited
		t.Fatal(err)
	}
	if err := rec.Import(ctx, func(tx store.ImportTx) error {
		return tx.Insert(ctx, []*inventory.Device{{AssetID: "A-1"}, {AssetID: "A-2"}})
	}); err != nil {
		t.Fatal(err)
	}
	if err := rec.DeleteDevice(t.Context(), 1, 0); err != nil { // no actor in ctx
		t.Fatal(err)
	}
	var got []string
	if err := raw.ScanAudit(t.Context(), 0, func(e *audit.Entry) error {
		if strings.Contains(string(e.Before)+string(e.After), "secret-hash") {
			t.Errorf("entry %d carries a password hash", e.Seq)
		}
		got = append(got, e.Actor+" "+e.Action+" "+e.Object+" "+string(e.After))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`admin user.create user/ana {"disabled":false,"id":1,"must_change_password":false,"role":"analyst","username":"ana"}`,
		`admin user.update user/ana {"disabled":false,"id":1,"must_change_password":false,"password_changed":true,"role":"analyst","username":"ana"}`,
		`admin import.run inventory {"created":2,"created_ids":[1,2],"updated":0}`,
		`unknown device.delete device/1 null`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit entries (-want +got):\n%s", diff)
	}
}

// BenchmarkAppendAudit is one audited change's extra cost on SQLite: read
// the chain head, hash, insert, commit (synchronous=FULL: one fsync).
func BenchmarkAppendAudit(b *testing.B) {
	raw, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	ctx := audit.WithActor(b.Context(), audit.Actor{Name: "ana/token:3", Kind: audit.KindToken, Source: "10.0.0.5"})
	before := &inventory.Device{ID: 42, AssetID: "INF-0042", Vendor: "Baxter", Model: "Sigma Spectrum", Version: "8.00", Site: "North"}
	after := *before
	after.Version = "8.01"
	b.ReportAllocs()
	for b.Loop() {
		if err := recorder.Record(ctx, raw, "device.update", "device/42", before, &after); err != nil {
			b.Fatal(err)
		}
	}
}
