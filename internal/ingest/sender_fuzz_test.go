package ingest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/medwarden/medwarden/internal/audit"
)

// FuzzSplitSender: the sender line of a bus message never panics the
// ingester; a line it accepts names an actor and, written again, reads
// back the same with the same batch bytes after it.
func FuzzSplitSender(f *testing.F) {
	batch := []byte(`{"format":"medwarden-sensor-batch","version":1}`)
	f.Add(withSender(audit.Actor{Name: "sensor:ward-3", Kind: audit.KindSensor, Source: "10.1.2.3"}, batch))
	f.Add(withSender(audit.Actor{Name: "alice/token:7", Kind: audit.KindToken, Source: "::1"}, nil))
	f.Add(batch)
	f.Add([]byte(senderPrefix))
	f.Add([]byte(senderPrefix + "{}\n{}"))
	f.Add([]byte(senderPrefix + `{"name":"x","kind":"sensor","source":"-","extra":1}` + "\n"))
	f.Add([]byte(senderPrefix + `{"name":"x","kind":"sensor"} {}` + "\n"))
	f.Add(append([]byte(senderPrefix), bytes.Repeat([]byte("a"), maxSenderBytes+2)...))
	f.Fuzz(func(t *testing.T, msg []byte) {
		a, data, ok, err := splitSender(msg)
		switch {
		case err != nil:
			if !errors.Is(err, errSender) || ok {
				t.Fatalf("error %v (ok %v) does not wrap errSender", err, ok)
			}
			return
		case !ok:
			if !bytes.Equal(data, msg) {
				t.Fatal("a message without a sender line was changed")
			}
			return
		}
		if a.Name == "" || a.Kind == "" {
			t.Fatalf("accepted an actor without name or kind: %+v", a)
		}
		a2, data2, ok2, err2 := splitSender(withSender(a, data))
		if err2 != nil || !ok2 || a2 != a || !bytes.Equal(data2, data) {
			t.Fatalf("round trip: %+v %q %v %v, want %+v %q", a2, data2, ok2, err2, a, data)
		}
	})
}

func TestSplitSenderErrors(t *testing.T) {
	for _, tt := range []struct {
		name, msg, want string
	}{
		{"no_newline", senderPrefix + `{"name":"a","kind":"sensor"}`, "no end of line"},
		{"unknown_field", senderPrefix + `{"name":"a","kind":"sensor","x":1}` + "\n{}", "unknown field"},
		{"no_kind", senderPrefix + `{"name":"a"}` + "\n{}", "name and kind are required"},
		{"two_values", senderPrefix + `{"name":"a","kind":"k"} {}` + "\n{}", "more than one JSON value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := splitSender([]byte(tt.msg))
			if err == nil || !errors.Is(err, errSender) || !bytes.Contains([]byte(err.Error()), []byte(tt.want)) {
				t.Fatalf("splitSender(%q) = %v, want an error saying %q", tt.msg, err, tt.want)
			}
		})
	}
}
