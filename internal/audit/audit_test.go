package audit

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 28, 14, 30, 0, 123456789, time.UTC)

func chain(t testing.TB, n int) []*Entry {
	t.Helper()
	var out []*Entry
	prev, seq := GenesisHash, int64(0)
	for i := range n {
		e, err := New(Actor{Name: "biomed1", Kind: KindUser, Source: "10.20.0.7"}, t0.Add(time.Duration(i)*time.Second),
			"device.update", "device/42", map[string]any{"version": "8.00", "site": "North"}, map[string]any{"version": "8.01", "site": "North"})
		if err != nil {
			t.Fatal(err)
		}
		if err := Seal(e, seq, prev); err != nil {
			t.Fatal(err)
		}
		prev, seq = e.Hash, e.Seq
		out = append(out, e)
	}
	return out
}

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"sorted_keys", `{"b":1,"a":{"d":[1,2],"c":null}}`, `{"a":{"c":null,"d":[1,2]},"b":1}`},
		{"white_space", " {\n \"a\" : true } ", `{"a":true}`},
		{"big_numbers_kept", `{"n":12345678901234567890,"f":1.50}`, `{"f":1.50,"n":12345678901234567890}`},
		{"empty_is_null", ``, `null`},
		{"unicode_kept", `{"loc":"Station 3 – Intensivstation"}`, `{"loc":"Station 3 – Intensivstation"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := canonicalJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("canonicalJSON(%s) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	for _, bad := range []string{`{`, `{"a":1} {"b":2}`, `nul`} {
		if _, err := canonicalJSON([]byte(bad)); err == nil {
			t.Errorf("canonicalJSON(%q) accepted", bad)
		}
	}
}

// TestHashIsStable pins the hash of a known entry: changing the hashed
// form would break every stored chain, so it must be deliberate.
func TestHashIsStable(t *testing.T) {
	es := chain(t, 2)
	if es[0].PrevHash != GenesisHash || es[1].PrevHash != es[0].Hash || es[1].Seq != 2 {
		t.Fatalf("chain links: %+v", es)
	}
	// Same content from differently ordered JSON hashes the same.
	e := *es[0]
	e.Before = json.RawMessage(`{ "version" : "8.00", "site":"North" }`)
	h, err := ComputeHash(e.PrevHash, &e)
	if err != nil || h != es[0].Hash {
		t.Errorf("re-ordered JSON hashes %s, want %s (%v)", h, es[0].Hash, err)
	}
	// Computed independently (Python hashlib) from the documented form:
	// sha256(prev_hash + "\n" + {"seq":1,"time":"2026-11-28T14:30:00.123456789Z",
	// "actor":"biomed1","actor_kind":"user","source":"10.20.0.7","action":"device.update",
	// "object":"device/42","before":{"site":"North","version":"8.00"},"after":{"site":"North","version":"8.01"}})
	const want = "3c259365aa7932983324184cdd65258e76c0be00d16e734eee958a2948d498f8"
	if es[0].Hash != want {
		t.Errorf("hash of the reference entry = %s, want %s", es[0].Hash, want)
	}
}

func TestVerifier(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func([]*Entry) []*Entry
		wantN   int64
		wantErr string
	}{
		{"intact", func(es []*Entry) []*Entry { return es }, 5, ""},
		{"edited_after", func(es []*Entry) []*Entry {
			es[2].After = json.RawMessage(`{"site":"North","version":"9.99"}`)
			return es
		}, 2, "entry 3 (device.update device/42 at 2026-11-28T14:30:02Z): content does not match its hash"},
		{"edited_time", func(es []*Entry) []*Entry { es[1].Time = es[1].Time.Add(time.Hour); return es }, 1, "entry 2"},
		{"edited_source", func(es []*Entry) []*Entry { es[0].Source = "10.0.0.1"; return es }, 0, "entry 1"},
		{"deleted", func(es []*Entry) []*Entry { return append(es[:1], es[2:]...) }, 1, "position 2 has sequence number 3"},
		{"deleted_and_renumbered", func(es []*Entry) []*Entry {
			es = append(es[:1], es[2:]...)
			for i, e := range es {
				e.Seq = int64(i + 1)
			}
			return es
		}, 1, "entry 2: previous hash"},
		{"reordered", func(es []*Entry) []*Entry { es[1], es[2] = es[2], es[1]; return es }, 1, "position 2 has sequence number 3"},
		{"reordered_and_renumbered", func(es []*Entry) []*Entry {
			es[1], es[2] = es[2], es[1]
			es[1].Seq, es[2].Seq = 2, 3
			return es
		}, 1, "entry 2: previous hash"},
		{"rehashed_one", func(es []*Entry) []*Entry {
			es[1].Actor = "mallory"
			h, _ := ComputeHash(es[1].PrevHash, es[1])
			es[1].Hash = h
			return es
		}, 2, "entry 3: previous hash"},
		{"bad_json", func(es []*Entry) []*Entry { es[3].Before = json.RawMessage(`{`); return es }, 3, "entry 4 before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := tt.tamper(chain(t, 5))
			v := NewVerifier()
			var err error
			for _, e := range es {
				if err = v.Add(e); err != nil {
					break
				}
			}
			if v.Count() != tt.wantN {
				t.Errorf("verified %d entries, want %d", v.Count(), tt.wantN)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("intact chain: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want ErrTampered naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewRejectsUnmarshalable(t *testing.T) {
	if _, err := New(Actor{}, t0, "x.y", "z", func() {}, nil); err == nil {
		t.Error("a func value was accepted as before")
	}
}

// FuzzVerify: arbitrary stored JSON in before/after never panics, and an
// entry sealed over any valid JSON verifies.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"version":"8.00"}`), []byte(`null`), "device.update", "biomed1")
	f.Add([]byte(`{"created":3,"ids":[1,2,3]}`), []byte(`[]`), "import.run", "ana/token:7")
	f.Add([]byte(`{`), []byte(`"\u0000"`), "", "")
	f.Fuzz(func(t *testing.T, before, after []byte, action, actor string) {
		e := &Entry{Time: t0, Actor: actor, ActorKind: KindUser, Action: action, Object: "device/1", Before: before, After: after}
		err := Seal(e, 0, GenesisHash)
		if err != nil {
			return // not JSON
		}
		if err := NewVerifier().Add(e); err != nil {
			t.Fatalf("sealed entry does not verify: %v", err)
		}
		e.Actor += "x"
		if err := NewVerifier().Add(e); !errors.Is(err, ErrTampered) {
			t.Fatalf("edited entry verifies: %v", err)
		}
	})
}

func BenchmarkSealAndVerify(b *testing.B) {
	es := chain(b, 1)
	e := es[0]
	b.ReportAllocs()
	for b.Loop() {
		if err := Seal(e, 0, GenesisHash); err != nil {
			b.Fatal(err)
		}
		if err := NewVerifier().Add(e); err != nil {
			b.Fatal(err)
		}
	}
}

// Seal hashes the canonical JSON New made without re-encoding it; the hash
// must equal the one computed from the entry as stored and read back (no
// canonical bytes kept, storage formatting), and Before or After replaced
// after New must be hashed from the new bytes.
func TestSealHashesAsStored(t *testing.T) {
	a := Actor{Name: "biomed1", Kind: KindUser, Source: "10.20.0.7"}
	values := []any{
		nil,
		map[string]any{"z": 1, "a": []any{"<b>&", 1.5, nil}, "loc": "Station 3 – Intensivstation\u2028"},
		struct {
			B string `json:"b"`
			A int    `json:"a"`
		}{"x", 7},
		json.RawMessage(` {"n": 12345678901234567890, "f": 1.50} `),
	}
	for i, before := range values {
		after := values[(i+1)%len(values)]
		e, err := New(a, t0, "device.update", "device/42", before, after)
		if err != nil {
			t.Fatal(err)
		}
		if err := Seal(e, 4, GenesisHash); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back Entry
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		back.Before = append(json.RawMessage(" "), back.Before...) // e.g. jsonb's formatting
		h, err := ComputeHash(GenesisHash, &back)
		if err != nil {
			t.Fatal(err)
		}
		if h != e.Hash {
			t.Errorf("value %d: hash at seal %s, from the stored entry %s", i, e.Hash, h)
		}
	}
	// replaced after New: hashed as the replacement
	e, err := New(a, t0, "device.update", "device/42", map[string]any{"b": 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Before = json.RawMessage(`{"b":2, "a":1}`)
	if err := Seal(e, 0, GenesisHash); err != nil {
		t.Fatal(err)
	}
	want, err := New(a, t0, "device.update", "device/42", map[string]any{"a": 1, "b": 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Seal(want, 0, GenesisHash); err != nil {
		t.Fatal(err)
	}
	if e.Hash != want.Hash {
		t.Errorf("Before replaced after New: hash %s, want %s", e.Hash, want.Hash)
	}
}

// BenchmarkNewAndSeal is an audited device write's entry: New, then Seal.
func BenchmarkNewAndSeal(b *testing.B) {
	a := Actor{Name: "user/token:1", Kind: KindToken, Source: "127.0.0.1"}
	before := map[string]any{"asset_id": "LOAD-1-1", "vendor": "Load Test Medical", "model": "LT-1", "device_type": "infusion-pump",
		"version": "1.1", "site": "NBR", "department": "ICU", "criticality": "life-supporting", "ips": []any{"10.99.0.2"}, "revision": 1}
	after := map[string]any{"asset_id": "LOAD-1-1", "vendor": "Load Test Medical", "model": "LT-2", "device_type": "infusion-pump",
		"version": "1.2", "site": "NBR", "department": "ICU", "criticality": "life-supporting", "ips": []any{"10.99.0.3"}, "revision": 2}
	b.ReportAllocs()
	for b.Loop() {
		e, err := New(a, t0, "device.update", "device/42", before, after)
		if err != nil {
			b.Fatal(err)
		}
		if err := Seal(e, 41, GenesisHash); err != nil {
			b.Fatal(err)
		}
	}
}
