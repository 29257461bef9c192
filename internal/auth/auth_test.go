package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fast keeps tests quick; production uses DefaultParams.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestRolePermissions(t *testing.T) {
	t.Parallel()
	got := map[Role][]string{}
	for _, r := range append(Roles, Role("root")) {
		for _, p := range []Permission{PermRead, PermWrite, PermAudit, PermAdmin} {
			if r.Can(p) {
				got[r] = append(got[r], p.String())
			}
		}
	}
	want := map[Role][]string{
		Admin:            {"read", "write", "audit", "admin"},
		Analyst:          {"read", "write"},
		ClinicalEngineer: {"read", "write"},
		Auditor:          {"read", "audit"},
		Viewer:           {"read"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("permissions (-want +got):\n%s", diff)
	}
}

func TestParseRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Role
		wantErr bool
	}{
		{"admin", Admin, false},
		{" Clinical Engineer ", ClinicalEngineer, false},
		{"clinical_engineer", ClinicalEngineer, false},
		{"AUDITOR", Auditor, false},
		{"root", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := ParseRole(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrBadRole) {
			t.Errorf("ParseRole(%q) error %v does not wrap ErrBadRole", tt.in, err)
		}
	}
}

func TestValidateUsernameAndPassword(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		ok   bool
	}{{"alice", true}, {"a.b-c_d@icu", true}, {"", false}, {".hidden", false}, {"bob smith", false}, {"<script>", false}, {strings.Repeat("x", 65), false}} {
		if err := ValidateUsername(tt.name); (err == nil) != tt.ok {
			t.Errorf("ValidateUsername(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	for _, tt := range []struct {
		pw, user string
		ok       bool
	}{
		{"correct horse battery", "alice", true},
		{"short", "alice", false},
		{"alice-is-my-password", "alice", false},
		{"aaaaaaaaaaaaaaaa", "bob", false},
		{strings.Repeat("ab", 200), "bob", false},
	} {
		if err := ValidatePassword(tt.pw, tt.user); (err == nil) != tt.ok {
			t.Errorf("ValidatePassword(%q, %q) = %v, want ok=%v", tt.pw, tt.user, err, tt.ok)
		}
	}
}

func TestHashAndVerify(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not a PHC argon2id string", h)
	}
	h2, _ := HashPassword("correct horse battery", fast)
	if h == h2 {
		t.Error("two hashes of one password are equal: salt is not random")
	}
	tests := []struct {
		name, pw      string
		want          Params
		ok, needsHash bool
	}{
		{"right", "correct horse battery", fast, true, false},
		{"wrong", "correct horse batterY", fast, false, false},
		{"empty", "", fast, false, false},
		{"right_but_weak_params", "correct horse battery", DefaultParams, true, true},
	}
	for _, tt := range tests {
		ok, rehash, err := VerifyPassword(h, tt.pw, tt.want)
		if err != nil || ok != tt.ok || rehash != tt.needsHash {
			t.Errorf("%s: VerifyPassword = %v, %v, %v; want %v, %v", tt.name, ok, rehash, err, tt.ok, tt.needsHash)
		}
	}
	if _, _, _, err := ParseHash(DummyHash); err != nil {
		t.Errorf("DummyHash does not parse: %v", err)
	}
}

func TestParseHashRejects(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, in string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuu"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"},
		{"old_version", "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"},
		{"huge_memory", "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"},
		{"zero_threads", "$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"},
		{"unknown_param", "$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"},
		{"bad_salt", "$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA"},
		{"short_key", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA"},
	} {
		if _, _, _, err := ParseHash(tt.in); !errors.Is(err, ErrBadHash) {
			t.Errorf("%s: ParseHash(%q) = %v, want ErrBadHash", tt.name, tt.in, err)
		}
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewToken()
	if len(a) != 43 || a == b {
		t.Errorf("tokens %q, %q: want two different 43-character (256-bit) values", a, b)
	}
	if h := HashToken(a); len(h) != 64 || h == a || h != HashToken(a) {
		t.Errorf("HashToken(%q) = %q", a, h)
	}
	for _, tt := range []struct {
		a, b string
		want bool
	}{{a, a, true}, {a, b, false}, {a, a[:42], false}, {"", "", false}} {
		if got := TokensEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("TokensEqual(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
	p, err := GeneratePassword()
	if err != nil || ValidatePassword(p, "admin") != nil {
		t.Errorf("GeneratePassword() = %q, %v: not a valid password", p, err)
	}
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	th := NewThrottle()
	th.Now = func() time.Time { return now }
	for i := 0; i < 4; i++ {
		th.Failure("alice", "10.0.0.5")
	}
	if ok, _ := th.Allowed("alice", "10.0.0.5"); !ok {
		t.Fatal("locked after 4 failures, limit is 5")
	}
	th.Failure("alice", "10.0.0.5")
	if ok, wait := th.Allowed("alice", "10.0.0.9"); ok || wait != time.Minute {
		t.Errorf("after 5 failures from anywhere: allowed=%v wait=%v, want locked 1m", ok, wait)
	}
	if ok, _ := th.Allowed("bob", "10.0.0.9"); !ok {
		t.Error("another account from another address is locked")
	}
	now = now.Add(61 * time.Second)
	if ok, _ := th.Allowed("alice", "10.0.0.5"); !ok {
		t.Error("still locked after the lock expired")
	}
	th.Failure("alice", "10.0.0.5") // sixth failure in the window: lock doubles
	if _, wait := th.Allowed("alice", "10.0.0.5"); wait != 2*time.Minute {
		t.Errorf("after a 6th failure wait = %v, want 2m", wait)
	}
	// Spraying many accounts from one address locks the address.
	for i := 0; i < 20; i++ {
		th.Failure("user"+string(rune('a'+i)), "192.0.2.7")
	}
	if ok, _ := th.Allowed("zed", "192.0.2.7"); ok {
		t.Error("address not locked after 20 failures across accounts")
	}
	th.Success("alice")
	now = now.Add(3 * time.Minute)
	if ok, _ := th.Allowed("alice", "10.0.0.5"); !ok {
		t.Error("success did not clear the account")
	}
}

func FuzzParseHash(f *testing.F) {
	f.Add(DummyHash)
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := ParseHash(s)
		if err != nil {
			return
		}
		if p.Memory > maxMemory || p.Time > maxTime || p.Threads == 0 || len(salt) < 8 || len(key) < 16 {
			t.Errorf("ParseHash(%q) accepted out-of-range parameters %+v", s, p)
		}
	})
}

func BenchmarkVerifyPassword(b *testing.B) {
	h, err := HashPassword("correct horse battery", DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, _ := VerifyPassword(h, "correct horse battery", DefaultParams); !ok {
			b.Fatal("no match")
		}
	}
}
