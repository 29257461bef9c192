package audit

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteSyslog(t *testing.T) {
	e := chain(t, 1)[0]
	e.Actor = `ana "the analyst"]\`
	e.Action = "device update with spaces and a very long name beyond thirty-two"
	var b bytes.Buffer
	if err := WriteSyslog(&b, "mw host", e); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(e)
	want := `<109>1 2026-11-28T14:30:00.123456789Z mw_host medwarden - device_update_with_spaces_and_a_ [medwarden@32473 seq="1" actor="ana \"the analyst\"\]\\" kind="user" src="10.20.0.7" object="device/42" hash="` + e.Hash + `"] ` + string(js) + "\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteSyslog (-want +got):\n%s", diff)
	}
	b.Reset()
	if err := WriteSyslog(&b, "", &Entry{Time: t0}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("<109>1 2026-11-28T14:30:00.123456789Z - medwarden - - [")) {
		t.Errorf("empty fields must be NILVALUE '-': %s", b.String())
	}
}

func TestWriteJSONLRoundTrip(t *testing.T) {
	es := chain(t, 3)
	var b bytes.Buffer
	for _, e := range es {
		if err := WriteJSONL(&b, e); err != nil {
			t.Fatal(err)
		}
	}
	v := NewVerifier()
	dec := json.NewDecoder(&b)
	for dec.More() {
		var e Entry
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		if err := v.Add(&e); err != nil {
			t.Fatalf("exported entry does not verify: %v", err)
		}
	}
	if v.Count() != 3 {
		t.Errorf("round trip: %d entries", v.Count())
	}
}
