package csvfile

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat/invtest"
)

func TestWriterOutput(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	devs := []*inventory.Device{
		{AssetID: "BME-1", Vendor: "Hill-Rom, Inc.", Model: `12" display`, MACs: []string{"00:09:fb:00:00:01", "00:09:fb:00:00:02"},
			IPs: []string{"10.0.0.1"}, PatientConnected: ptr(true), PHI: ptr(false), Criticality: inventory.Diagnostic,
			EndOfSupport: date("2028-01-31"), UDIDI: "00884838000001", Zone: "VLAN 20", EndOfLife: date("2030-12-31")},
	}
	for _, d := range devs {
		if err := w.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "asset_id,vendor,model,version,serial,mac,ip,hostname,site,location,department,device_type,criticality,patient_connected,phi,os,end_of_support,udi_di,zone,end_of_life\n" +
		`BME-1,"Hill-Rom, Inc.","12"" display",,,00:09:fb:00:00:01;00:09:fb:00:00:02,10.0.0.1,,,,,,diagnostic,yes,no,,2028-01-31,00884838000001,VLAN 20,2030-12-31` + "\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("write (-want +got):\n%s", diff)
	}
}

func TestWriterEmptyWritesHeader(t *testing.T) {
	var b bytes.Buffer
	if err := NewWriter(&b).Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), strings.Join(append(Header, ExtraHeader...), ",")+"\n"; got != want {
		t.Errorf("empty writer wrote %q, want %q", got, want)
	}
}

// TestRoundTrip: random devices → Writer → Decoder give the same devices.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		var want []*inventory.Device
		var b bytes.Buffer
		w := NewWriter(&b)
		for range 1 + r.IntN(40) {
			d := invtest.Device(r)
			want = append(want, d)
			if err := w.Write(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		got, _, err := decodeAll(t, bytes.NewReader(b.Bytes()), "rt.csv")
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if diff := cmp.Diff(result{Devices: want}, got); diff != "" {
			t.Fatalf("round %d: write → read (-want +got):\n%s\nfile:\n%s", round, diff, b.String())
		}
	}
}
