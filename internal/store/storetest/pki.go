package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

// RunSensors runs the conformance tests of store.SensorStore: enrolment
// tokens are one-time and expire, names are unique, and revoking a sensor
// revokes every certificate it holds.
func RunSensors(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ss store.SensorStore)
	}{
		{"enrolment_token_is_one_time", testEnrolOnce},
		{"enrolment_token_expires", testEnrolExpired},
		{"enrolment_names_are_unique", testEnrolNames},
		{"revoke_sensor_revokes_certificates", testRevokeSensor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			ss, ok := s.(store.SensorStore)
			if !ok {
				t.Fatalf("%T does not implement store.SensorStore", s)
			}
			tt.fn(t, ss)
		})
	}
}

var pkiNow = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func newToken(t *testing.T, ss store.SensorStore, hash, name string, life time.Duration) {
	t.Helper()
	if err := ss.CreateEnrolmentToken(t.Context(), &store.EnrolmentToken{Hash: hash, SensorName: name, CreatedAt: pkiNow, CreatedBy: "os:alice", ExpiresAt: pkiNow.Add(life)}); err != nil {
		t.Fatal(err)
	}
}

func certFor(serial string) *store.SensorCert {
	return &store.SensorCert{Serial: serial, NotBefore: pkiNow, NotAfter: pkiNow.Add(30 * 24 * time.Hour), IssuedAt: pkiNow}
}

func testEnrolOnce(t *testing.T, ss store.SensorStore) {
	ctx := t.Context()
	newToken(t, ss, "h1", "icu-span-1", time.Hour)
	// Eight racing redemptions of one token: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, notFound := 0, 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sn := &store.Sensor{ID: "sensor-" + string(rune('a'+i))}
			err := ss.Enrol(ctx, "h1", pkiNow.Add(time.Minute), sn, certFor("c"+string(rune('a'+i))))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrNotFound):
				notFound++
			default:
				// SQLite may report a busy database to a loser; it did not enrol either.
				t.Logf("racing enrolment: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d enrolments succeeded with one token, want exactly 1", wins)
	}
	sensors, err := ss.ListSensors(ctx)
	if err != nil || len(sensors) != 1 {
		t.Fatalf("ListSensors = %d sensors, %v; want 1", len(sensors), err)
	}
	sn := sensors[0]
	if sn.Name != "icu-span-1" || sn.CreatedBy != "os:alice" || !sn.CreatedAt.Equal(pkiNow.Add(time.Minute)) {
		t.Errorf("sensor = %+v", sn)
	}
	certs, err := ss.ListSensorCerts(ctx, sn.ID)
	if err != nil || len(certs) != 1 || certs[0].SensorID != sn.ID {
		t.Fatalf("ListSensorCerts = %+v, %v", certs, err)
	}
	c2 := certFor("renewed")
	c2.SensorID, c2.IssuedAt = sn.ID, pkiNow.Add(20*24*time.Hour)
	if err := ss.AddSensorCert(ctx, c2); err != nil {
		t.Fatal(err)
	}
	if err := ss.AddSensorCert(ctx, c2); !errors.Is(err, store.ErrExists) {
		t.Errorf("adding serial twice: %v, want ErrExists", err)
	}
	got, err := ss.GetSensorCert(ctx, "renewed")
	if err != nil || got.SensorID != sn.ID || !got.NotAfter.Equal(c2.NotAfter) {
		t.Errorf("GetSensorCert = %+v, %v", got, err)
	}
	if certs, _ := ss.ListSensorCerts(ctx, sn.ID); len(certs) != 2 || certs[0].Serial != "renewed" {
		t.Errorf("certificates after renewal = %+v, want the renewed one first", certs)
	}
	toks, err := ss.ListEnrolmentTokens(ctx)
	if err != nil || len(toks) != 1 || toks[0].UsedAt.IsZero() || toks[0].SensorID != sn.ID {
		t.Errorf("ListEnrolmentTokens = %+v, %v; want one used token naming the sensor", toks, err)
	}
	if _, err := ss.GetSensorByName(ctx, "icu-span-1"); err != nil {
		t.Error(err)
	}
	if _, err := ss.GetSensor(ctx, "sensor-nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSensor(unknown) = %v, want ErrNotFound", err)
	}
	if err := ss.TouchSensor(ctx, sn.ID, pkiNow.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := ss.GetSensor(ctx, sn.ID); !got.LastSeen.Equal(pkiNow.Add(2 * time.Hour)) {
		t.Errorf("last seen = %v", got.LastSeen)
	}
}

func testEnrolExpired(t *testing.T, ss store.SensorStore) {
	newToken(t, ss, "h2", "lab-span", time.Hour)
	err := ss.Enrol(t.Context(), "h2", pkiNow.Add(time.Hour), &store.Sensor{ID: "sensor-x"}, certFor("x"))
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("enrol with an expired token: %v, want ErrNotFound", err)
	}
	if err := ss.Enrol(t.Context(), "unknown", pkiNow, &store.Sensor{ID: "sensor-y"}, certFor("y")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("enrol with an unknown token: %v, want ErrNotFound", err)
	}
	if s, _ := ss.ListSensors(t.Context()); len(s) != 0 {
		t.Errorf("sensors after failed enrolments: %+v", s)
	}
}

func testEnrolNames(t *testing.T, ss store.SensorStore) {
	ctx := t.Context()
	newToken(t, ss, "h3", "or-span", time.Hour)
	err := ss.CreateEnrolmentToken(ctx, &store.EnrolmentToken{Hash: "h4", SensorName: "or-span", CreatedAt: pkiNow, ExpiresAt: pkiNow.Add(time.Hour)})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("second pending token for one name: %v, want ErrExists", err)
	}
	if err := ss.Enrol(ctx, "h3", pkiNow, &store.Sensor{ID: "sensor-or"}, certFor("or")); err != nil {
		t.Fatal(err)
	}
	err = ss.CreateEnrolmentToken(ctx, &store.EnrolmentToken{Hash: "h5", SensorName: "or-span", CreatedAt: pkiNow, ExpiresAt: pkiNow.Add(time.Hour)})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("token for an enrolled sensor's name: %v, want ErrExists", err)
	}
	// An expired, unused token frees its name.
	newToken(t, ss, "h6", "ed-span", time.Minute)
	err = ss.CreateEnrolmentToken(ctx, &store.EnrolmentToken{Hash: "h7", SensorName: "ed-span", CreatedAt: pkiNow.Add(2 * time.Minute), ExpiresAt: pkiNow.Add(time.Hour)})
	if err != nil {
		t.Fatalf("new token after the old one expired: %v", err)
	}
}

func testRevokeSensor(t *testing.T, ss store.SensorStore) {
	ctx := t.Context()
	newToken(t, ss, "h8", "ct-span", time.Hour)
	if err := ss.Enrol(ctx, "h8", pkiNow, &store.Sensor{ID: "sensor-ct"}, certFor("ct1")); err != nil {
		t.Fatal(err)
	}
	c := certFor("ct2")
	c.SensorID = "sensor-ct"
	if err := ss.AddSensorCert(ctx, c); err != nil {
		t.Fatal(err)
	}
	at := pkiNow.Add(time.Hour)
	if err := ss.RevokeSensor(ctx, "sensor-ct", at); err != nil {
		t.Fatal(err)
	}
	if err := ss.RevokeSensor(ctx, "sensor-ct", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	sn, _ := ss.GetSensor(ctx, "sensor-ct")
	if !sn.RevokedAt.Equal(at) {
		t.Errorf("revoked at %v, want the first revocation %v", sn.RevokedAt, at)
	}
	for _, serial := range []string{"ct1", "ct2"} {
		c, err := ss.GetSensorCert(ctx, serial)
		if err != nil || c.RevokedAt.IsZero() {
			t.Errorf("certificate %s after revoking its sensor: %+v, %v", serial, c, err)
		}
	}
	if err := ss.RevokeSensor(ctx, "sensor-none", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke unknown sensor: %v, want ErrNotFound", err)
	}
}

// RunOIDC runs the conformance test of store.OIDCStore.
func RunOIDC(t *testing.T, open Opener) {
	s := open(t)
	t.Cleanup(func() { s.Close() })
	os, ok := s.(store.OIDCStore)
	if !ok {
		t.Fatalf("%T does not implement store.OIDCStore", s)
	}
	ctx := t.Context()
	u := &store.User{Username: "jane", Role: "viewer", PasswordHash: ""}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	const iss = "https://idp.hospital.example/realms/staff"
	if _, err := os.OIDCUser(ctx, iss, "sub-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unlinked identity: %v, want ErrNotFound", err)
	}
	if err := os.LinkOIDC(ctx, iss, "sub-1", u.ID, pkiNow); err != nil {
		t.Fatal(err)
	}
	if err := os.LinkOIDC(ctx, iss, "sub-1", u.ID, pkiNow); !errors.Is(err, store.ErrExists) {
		t.Errorf("linking twice: %v, want ErrExists", err)
	}
	if id, err := os.OIDCUser(ctx, iss, "sub-1"); err != nil || id != u.ID {
		t.Errorf("OIDCUser = %d, %v; want %d", id, err, u.ID)
	}
	if _, err := os.OIDCUser(ctx, "https://other.example", "sub-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("same subject at another issuer: %v, want ErrNotFound", err)
	}
	if err := os.TouchOIDC(ctx, iss, "sub-1", pkiNow.Add(time.Hour)); err != nil {
		t.Error(err)
	}
}
