package list

import (
	"regexp"
	"testing"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

var validName = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

func TestAllNamesValidAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Build(All()) {
		n := d.Name()
		if !validName.MatchString(n) {
			t.Errorf("dissector name %q is not lower-case alphanumeric", n)
		}
		if seen[n] {
			t.Errorf("dissector name %q listed twice", n)
		}
		seen[n] = true
		switch d.Layer() {
		case dissect.LayerLink, dissect.LayerUDP:
			if _, ok := d.(dissect.PacketDissector); !ok {
				t.Errorf("%s: layer %d needs a PacketDissector", n, d.Layer())
			}
		case dissect.LayerTCP:
			if _, ok := d.(dissect.StreamDissector); !ok {
				t.Errorf("%s: LayerTCP needs a StreamDissector", n)
			}
		default:
			t.Errorf("%s: unknown layer %d", n, d.Layer())
		}
	}
	for _, d := range Build(Default()) {
		if !seen[d.Name()] {
			t.Errorf("default dissector %q missing from All", d.Name())
		}
	}
}

func TestSelectUnknown(t *testing.T) {
	if _, err := Select("+nosuchproto"); err == nil {
		t.Fatal("Select(+nosuchproto) returned no error")
	}
}
