package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqldb"
)

// RunSecurity runs the conformance tests of store.SecurityStore: API
// tokens, and the audit log's chain, concurrency and tamper detection
// (rows edited, deleted and reordered with plain SQL).
func RunSecurity(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, sec store.SecurityStore, db *sql.DB)
	}{
		{"tokens_create_lookup_revoke", testTokens},
		{"audit_chain_appends_in_order", testAuditChain},
		{"audit_concurrent_appends_stay_chained", testAuditConcurrent},
		{"audit_tamper_is_detected", testAuditTamper},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			sec, ok := s.(store.SecurityStore)
			if !ok {
				t.Fatalf("%T does not implement store.SecurityStore", s)
			}
			var db *sql.DB
			if d, ok := s.(*sqldb.DB); ok {
				db = d.SQL
			}
			tt.fn(t, s, sec, db)
		})
	}
}

func testTokens(t *testing.T, s store.Store, sec store.SecurityStore, _ *sql.DB) {
	ctx := t.Context()
	u := &store.User{Username: "alice", Role: "analyst", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2027, 2, 26, 12, 0, 0, 0, time.UTC)
	tk := &store.APIToken{UserID: u.ID, Name: "cmms sync", Hash: "aa11", Scopes: []string{"devices:read", "imports:write"}, ExpiresAt: exp}
	if err := sec.CreateToken(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if tk.ID == 0 {
		t.Fatal("CreateToken did not set ID")
	}
	if err := sec.CreateToken(ctx, &store.APIToken{UserID: u.ID, Name: "dup", Hash: "aa11", ExpiresAt: exp}); !errors.Is(err, store.ErrExists) {
		t.Errorf("second token with the same hash: %v, want ErrExists", err)
	}
	got, err := sec.GetTokenByHash(ctx, "aa11")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tk, got, userCmp); diff != "" {
		t.Errorf("GetTokenByHash (-want +got):\n%s", diff)
	}
	if _, err := sec.GetTokenByHash(ctx, "bb22"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown hash: %v, want ErrNotFound", err)
	}
	used := exp.Add(-time.Hour)
	if err := sec.TouchToken(ctx, tk.ID, used); err != nil {
		t.Fatal(err)
	}
	revoked := exp.Add(-30 * time.Minute)
	if err := sec.RevokeToken(ctx, tk.ID, revoked); err != nil {
		t.Fatal(err)
	}
	if err := sec.RevokeToken(ctx, tk.ID, exp); err != nil {
		t.Fatal(err)
	}
	if err := sec.RevokeToken(ctx, 9999, exp); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke unknown: %v, want ErrNotFound", err)
	}
	got, err = sec.GetToken(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastUsed.Equal(used) || !got.RevokedAt.Equal(revoked) {
		t.Errorf("last used %v revoked %v, want %v and %v (the first revocation time stays)", got.LastUsed, got.RevokedAt, used, revoked)
	}
	other := &store.User{Username: "bob", Role: "viewer", PasswordHash: "x"}
	if err := s.CreateUser(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := sec.CreateToken(ctx, &store.APIToken{UserID: other.ID, Name: "b", Hash: "cc33", Scopes: []string{"devices:read"}, ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	all, err := sec.ListTokens(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := sec.ListTokens(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || len(mine) != 1 || mine[0].Hash != "cc33" {
		t.Errorf("ListTokens: %d in all, %d of bob", len(all), len(mine))
	}
}

func appendN(t *testing.T, sec store.SecurityStore, n int, who string) {
	t.Helper()
	for i := range n {
		e, err := audit.New(audit.Actor{Name: who, Kind: audit.KindUser, Source: "10.1.2.3"}, time.Date(2026, 11, 28, 9, 0, i, 0, time.UTC),
			"device.update", fmt.Sprintf("device/%d", i+1), map[string]any{"version": "1.0", "site": "North"}, map[string]any{"version": "1.1", "site": "North"})
		if err != nil {
			t.Fatal(err)
		}
		if err := sec.AppendAudit(context.WithoutCancel(t.Context()), e); err != nil {
			t.Error(err)
			return
		}
	}
}

func verifyAll(ctx context.Context, sec store.SecurityStore) (int64, error) {
	v := audit.NewVerifier()
	err := sec.ScanAudit(ctx, 0, v.Add)
	return v.Count(), err
}

func testAuditChain(t *testing.T, _ store.Store, sec store.SecurityStore, _ *sql.DB) {
	ctx := t.Context()
	if n, err := verifyAll(ctx, sec); n != 0 || err != nil {
		t.Fatalf("empty log: %d entries, %v", n, err)
	}
	appendN(t, sec, 5, "alice")
	n, err := verifyAll(ctx, sec)
	if n != 5 || err != nil {
		t.Fatalf("verify: %d entries, %v", n, err)
	}
	page, err := sec.ListAudit(ctx, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, e := range page {
		seqs = append(seqs, e.Seq)
	}
	if diff := cmp.Diff([]int64{3, 4}, seqs); diff != "" {
		t.Errorf("ListAudit(2, 2) (-want +got):\n%s", diff)
	}
	if string(page[0].Before) != `{"site":"North","version":"1.0"}` {
		t.Errorf("stored before = %s, want canonical JSON", page[0].Before)
	}
}

func testAuditConcurrent(t *testing.T, _ store.Store, sec store.SecurityStore, _ *sql.DB) {
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() { appendN(t, sec, 10, fmt.Sprintf("writer%d", w)) })
	}
	wg.Wait()
	if n, err := verifyAll(t.Context(), sec); n != 40 || err != nil {
		t.Fatalf("after concurrent appends: %d entries verified, %v", n, err)
	}
}

func testAuditTamper(t *testing.T, _ store.Store, sec store.SecurityStore, db *sql.DB) {
	if db == nil {
		t.Skip("driver gives no SQL handle to tamper with")
	}
	tests := []struct {
		name  string
		sql   []string
		atSeq int64 // entries Verify accepts before it rejects the tampered one
	}{
		{"edit_after_value", []string{`UPDATE audit_log SET after = '{"site":"North","version":"9.9"}' WHERE seq = 3`}, 2},
		{"edit_actor", []string{`UPDATE audit_log SET actor = 'mallory' WHERE seq = 4`}, 3},
		{"edit_and_rehash_one", []string{`UPDATE audit_log SET action = 'device.create', hash = '` + audit.GenesisHash + `' WHERE seq = 2`}, 1},
		{"delete_middle", []string{`DELETE FROM audit_log WHERE seq = 3`}, 2},
		{"delete_first", []string{`DELETE FROM audit_log WHERE seq = 1`}, 0},
		{"swap_two", []string{`UPDATE audit_log SET seq = -2 WHERE seq = 2`, `UPDATE audit_log SET seq = 2 WHERE seq = 3`, `UPDATE audit_log SET seq = 3 WHERE seq = -2`}, 1},
		{"renumber_after_delete", []string{`DELETE FROM audit_log WHERE seq = 2`, `UPDATE audit_log SET seq = seq - 1 WHERE seq > 2`}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if _, err := db.ExecContext(ctx, "DELETE FROM audit_log"); err != nil {
				t.Fatal(err)
			}
			appendN(t, sec, 5, "alice")
			for _, q := range tt.sql {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			n, err := verifyAll(ctx, sec)
			if !errors.Is(err, audit.ErrTampered) {
				t.Fatalf("Verify after %s: %v, want ErrTampered", tt.name, err)
			}
			if n != tt.atSeq {
				t.Errorf("Verify accepted %d entries before the tampered one, want %d (%v)", n, tt.atSeq, err)
			}
		})
	}
}
