package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// RunUsers runs the conformance tests of store.UserStore and
// store.StatsStore.
func RunUsers(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"users_create_get_update", testUsers},
		{"users_unique_name_case_insensitive", testUserUnique},
		{"sessions_lifecycle_and_expiry", testSessions},
		{"saved_views_per_user", testSavedViews},
		{"device_stats", testDeviceStats},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

var userCmp = cmpopts.EquateApproxTime(time.Microsecond)

func testUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	if n, err := s.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers on empty store = %d, %v", n, err)
	}
	u := &store.User{Username: "Alice.Nurse", Role: "clinical-engineer", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", MustChangePassword: true}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 {
		t.Fatal("CreateUser did not set ID")
	}
	got, err := s.GetUserByName(ctx, "alice.nurse")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(u, got, userCmp); diff != "" {
		t.Errorf("GetUserByName (-want +got):\n%s", diff)
	}
	got.Role, got.Disabled, got.MustChangePassword = "viewer", true, false
	got.LastLogin = time.Date(2026, 11, 2, 8, 30, 0, 123456000, time.UTC)
	if err := s.UpdateUser(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again, userCmp); diff != "" {
		t.Errorf("after UpdateUser (-want +got):\n%s", diff)
	}
	if _, err := s.GetUser(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser(missing) = %v, want ErrNotFound", err)
	}
	if err := s.UpdateUser(ctx, &store.User{ID: 9999, Username: "x", Role: "viewer"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateUser(missing) = %v, want ErrNotFound", err)
	}
	if err := s.CreateUser(ctx, &store.User{Username: "bob", Role: "admin", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range all {
		names = append(names, u.Username)
	}
	if diff := cmp.Diff([]string{"Alice.Nurse", "bob"}, names); diff != "" {
		t.Errorf("ListUsers (-want +got):\n%s", diff)
	}
}

func testUserUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.CreateUser(ctx, &store.User{Username: "admin", Role: "admin", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, &store.User{Username: "ADMIN", Role: "viewer", PasswordHash: "h"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("second user ADMIN: %v, want ErrExists", err)
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := &store.User{Username: "carol", Role: "analyst", PasswordHash: "h"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	mk := func(h string, seen, exp time.Time) *store.Session {
		se := &store.Session{IDHash: h, UserID: u.ID, CSRFToken: "csrf-" + h, CreatedAt: t0, LastSeen: seen, ExpiresAt: exp}
		if err := s.CreateSession(ctx, se); err != nil {
			t.Fatal(err)
		}
		return se
	}
	live := mk("aa01", t0.Add(50*time.Minute), t0.Add(12*time.Hour))
	mk("aa02", t0, t0.Add(12*time.Hour))                       // idle
	mk("aa03", t0.Add(59*time.Minute), t0.Add(30*time.Minute)) // past absolute expiry
	got, err := s.GetSession(ctx, "aa01")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(live, got, userCmp); diff != "" {
		t.Errorf("GetSession (-want +got):\n%s", diff)
	}
	now := t0.Add(time.Hour)
	n, err := s.DeleteExpiredSessions(ctx, now, now.Add(-30*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 2 (one idle, one past expiry)", n, err)
	}
	if err := s.TouchSession(ctx, "aa01", now); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetSession(ctx, "aa01")
	if got == nil || !got.LastSeen.Equal(now) {
		t.Errorf("after TouchSession last seen = %v, want %v", got, now)
	}
	mk("aa04", now, now.Add(time.Hour))
	if err := s.DeleteSession(ctx, "aa01"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, "aa01"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSession after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteUserSessions(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, "aa04"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSession after DeleteUserSessions = %v, want ErrNotFound", err)
	}
}

func testSavedViews(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := &store.User{Username: "dave", Role: "analyst", PasswordHash: "h"}
	b := &store.User{Username: "erin", Role: "viewer", PasswordHash: "h"}
	for _, u := range []*store.User{a, b} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	v := &store.SavedView{UserID: a.ID, Name: "ICU pumps", Query: "department=ICU&device_type=infusion+pump&sort=-criticality"}
	if err := s.SaveView(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveView(ctx, &store.SavedView{UserID: a.ID, Name: "ICU pumps", Query: "x=1"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("same name twice: %v, want ErrExists", err)
	}
	if err := s.SaveView(ctx, &store.SavedView{UserID: b.ID, Name: "ICU pumps", Query: "site=North"}); err != nil {
		t.Errorf("another user may use the same name: %v", err)
	}
	got, err := s.ListViews(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*store.SavedView{v}, got, userCmp); diff != "" {
		t.Errorf("ListViews (-want +got):\n%s", diff)
	}
	if err := s.DeleteView(ctx, b.ID, v.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting another user's view: %v, want ErrNotFound", err)
	}
	if err := s.DeleteView(ctx, a.ID, v.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListViews(ctx, a.ID); len(got) != 0 {
		t.Errorf("after delete: %d views", len(got))
	}
}

func testDeviceStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	load(t, s, 12)
	d, err := s.GetDeviceByAssetID(ctx, "BIO-000003")
	if err != nil {
		t.Fatal(err)
	}
	d.Observed = map[string]inventory.Observation{"version": {Value: "9.9.9", Source: "sensor-icu-1", At: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}}
	if err := s.UpdateDevice(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	st, err := s.DeviceStats(ctx, "2027-04-01")
	if err != nil {
		t.Fatal(err)
	}
	want := &store.DeviceStats{
		Total:         12,
		ByCriticality: []store.Count{{Key: "life-sustaining", N: 3}, {Key: "life-supporting", N: 3}, {Key: "diagnostic", N: 6}},
		ByType:        []store.Count{{Key: "CT scanner", N: 3}, {Key: "infusion pump", N: 3}, {Key: "patient monitor", N: 3}, {Key: "ventilator", N: 3}},
		BySite:        []store.Count{{Key: "Children's", N: 4}, {Key: "North Campus", N: 4}, {Key: "South Campus", N: 4}},
		PastSupport:   12, WithObserved: 1,
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("DeviceStats (-want +got):\n%s", diff)
	}
	var seen []string
	if err := s.ScanObserved(ctx, func(d *inventory.Device) error { seen = append(seen, d.AssetID); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"BIO-000003"}, seen); diff != "" {
		t.Errorf("ScanObserved (-want +got):\n%s", diff)
	}
}
