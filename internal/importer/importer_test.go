package importer_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/csvfile"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

const hdr = "asset_id,vendor,model,version,serial,mac,ip,hostname,site,location,department,device_type,criticality,patient_connected,phi,os,end_of_support\n"

func open(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func importCSV(t *testing.T, st store.Store, name, body string, opts importer.Options) (*importer.Result, error) {
	t.Helper()
	dec, err := csvfile.NewDecoder(strings.NewReader(body), name)
	if err != nil {
		t.Fatal(err)
	}
	opts.Source = name
	return importer.Import(context.Background(), st, dec, opts)
}

func TestMergeRules(t *testing.T) {
	st := open(t)
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	base := hdr +
		"BIO-1,Baxter,Sigma Spectrum,8.00.01,SN1,00:1a:2b:00:00:01,10.0.0.1,pump1,North,,ICU,infusion pump,life-supporting,yes,no,VxWorks,2027-01-31\n" +
		"BIO-2,Philips,IntelliVue MX40,B.06.18,SN2,00:1a:2b:00:00:02,10.0.0.2,mon2,North,,ICU,patient monitor,diagnostic,yes,yes,,2028-01-31\n"
	if _, err := importCSV(t, st, "cmms.csv", base, importer.Options{Now: at}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                      string
		body                      string
		created, updated, invalid int
		check                     func(t *testing.T)
	}{
		{
			name:    "mac_match_updates_without_asset_id",
			body:    hdr + ",Baxter,Sigma Spectrum,8.01.00,,00-1A-2B-00-00-01,,,,,,,,,,,\n",
			updated: 1,
			check: func(t *testing.T) {
				d, _ := st.GetDeviceByAssetID(context.Background(), "BIO-1")
				if d.Version != "8.01.00" || d.Hostname != "pump1" {
					t.Errorf("after MAC match: version %q hostname %q", d.Version, d.Hostname)
				}
				if p := d.Provenance["version"]; p.Source != "mac_match_updates_without_asset_id.csv" || p.Kind != inventory.SourceImported {
					t.Errorf("version provenance = %+v", p)
				}
				if p := d.Provenance["hostname"]; p.Source != "cmms.csv" {
					t.Errorf("hostname provenance changed to %+v", p)
				}
			},
		},
		{
			name:    "vendor_spelling_and_serial",
			body:    hdr + ",BAXTER,,,SN1,,,,,Building 2,,,,,,,\n",
			updated: 1,
			check: func(t *testing.T) {
				d, _ := st.GetDeviceByAssetID(context.Background(), "BIO-1")
				if d.Location != "Building 2" {
					t.Errorf("location = %q", d.Location)
				}
			},
		},
		{
			name:    "ambiguous_identity_is_an_error",
			body:    hdr + "BIO-1,Philips,,,SN2,,,,,,,,,,,,\n",
			invalid: 1,
		},
		{
			name:    "same_device_twice_in_one_file",
			body:    hdr + "BIO-9,GE,CARESCAPE B650,2.0,SN9,,,,,,,,,,,,\nBIO-9,GE,CARESCAPE B650,2.1,SN9,,,,,,,,,,,,\n",
			invalid: 1,
		},
		{
			name:    "new_device",
			body:    hdr + "BIO-3,GE,CARESCAPE B650,2.0,SN3,00:1a:2b:00:00:03,,,,,,,,,,,\n",
			created: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := st.CountDevices(context.Background())
			res, err := importCSV(t, st, tt.name+".csv", tt.body, importer.Options{})
			if tt.invalid > 0 {
				if !errors.Is(err, importer.ErrRejected) {
					t.Fatalf("err = %v, want ErrRejected", err)
				}
				after, _ := st.CountDevices(context.Background())
				if after != before || res.Written {
					t.Errorf("rejected import changed the store: %d → %d devices", before, after)
				}
				if res.Invalid != tt.invalid || len(res.Errors) != tt.invalid {
					t.Errorf("invalid = %d with %d errors, want %d: %v", res.Invalid, len(res.Errors), tt.invalid, res.Errors)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := [2]int{res.Created, res.Updated}
			if diff := cmp.Diff([2]int{tt.created, tt.updated}, got); diff != "" {
				t.Errorf("created/updated (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
}

func TestObservedValuesSurviveReimport(t *testing.T) {
	st := open(t)
	body := hdr + "BIO-1,Baxter,Sigma Spectrum,8.00.01,SN1,00:1a:2b:00:00:01,10.0.0.1,pump1,North,,ICU,infusion pump,life-supporting,yes,no,VxWorks,2027-01-31\n"
	if _, err := importCSV(t, st, "a.csv", body, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, _ := st.GetDeviceByAssetID(ctx, "BIO-1")
	inventory.ApplyObserved(d, "version", inventory.Observation{Value: "8.00.03", Source: "sensor-1", At: time.Now().UTC()})
	if err := st.UpdateDevice(ctx, d, d.Revision); err != nil {
		t.Fatal(err)
	}
	res, err := importCSV(t, st, "a.csv", body, importer.Options{})
	if err != nil || res.Unchanged != 1 {
		t.Fatalf("re-import: %+v %v", res, err)
	}
	d, _ = st.GetDeviceByAssetID(ctx, "BIO-1")
	c := d.Conflicts()
	if d.Version != "8.00.01" || len(c) != 1 || c[0].Observed.Value != "8.00.03" {
		t.Errorf("intended %q, conflicts %+v: the observed value must be kept beside the intended one", d.Version, c)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	st := open(t)
	body := hdr + "BIO-1,Baxter,Sigma Spectrum,8.00.01,SN1,,,,,,,,,,,,\nBIO-2,Baxter,Sigma Spectrum,8.00.01,SN2,,,,,,,,,,,,\n"
	res, err := importCSV(t, st, "a.csv", body, importer.Options{DryRun: true})
	if err != nil || res.Created != 2 || res.Written {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	if n, _ := st.CountDevices(context.Background()); n != 0 {
		t.Errorf("dry run wrote %d devices", n)
	}
}

func TestCancelledImportWritesNothing(t *testing.T) {
	st := open(t)
	var b strings.Builder
	b.WriteString(hdr)
	for i := 0; i < 5000; i++ {
		b.WriteString("BIO-" + strings.Repeat("x", 1) + string(rune('a'+i%26)) + itoa(i) + ",Baxter,Sigma Spectrum,8.00.01,S" + itoa(i) + ",,,,,,,,,,,,\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	dec, _ := csvfile.NewDecoder(strings.NewReader(b.String()), "big.csv")
	n := 0
	_, err := importer.Import(ctx, st, dec, importer.Options{Source: "big.csv", Progress: func(importer.Result) {
		n++
		if n == 2 {
			cancel()
		}
	}, ProgressEvery: 1000})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if c, _ := st.CountDevices(context.Background()); c != 0 {
		t.Errorf("cancelled import left %d devices", c)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var s []byte
	for ; i > 0; i /= 10 {
		s = append([]byte{digits[i%10]}, s...)
	}
	return string(s)
}

// TestMatchesFollowFileOrder: records are read ahead in batches so that the
// devices they match are fetched together, but each record must still be
// matched against the store as the records before it in the file left it.
func TestMatchesFollowFileOrder(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	base := hdr +
		"BIO-1,Baxter,Sigma Spectrum,8.00.01,SN1,00:1a:2b:00:00:01,,,,,,,,,,,\n" +
		"BIO-2,Philips,IntelliVue MX40,B.06.18,SN2,00:1a:2b:00:00:02,,,,,,,,,,,\n" +
		"BIO-3,GE,CARESCAPE B650,2.0,SN3,00:1a:2b:00:00:03,,,,,,,,,,,\n"
	if _, err := importCSV(t, st, "base.csv", base, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	// 1: BIO-1 gives up MAC :01. 2: BIO-2 takes it (ambiguous when the file
	// was read, unambiguous once record 1 is merged). 3: only BIO-3's MAC:
	// an update of BIO-3. 4: BIO-1's serial under another vendor: a new
	// device.
	body := hdr +
		"BIO-1,,,,,00:1a:2b:00:00:09,,,,,,,,,,,\n" +
		"BIO-2,,,,,00:1a:2b:00:00:01,,,,,,,,,,,\n" +
		",,,9.9,,00:1a:2b:00:00:03,,,,,,,,,,,\n" +
		"BIO-4,Mindray,BeneView T5,1.0,SN1,,,,,,,,,,,,\n"
	res, err := importCSV(t, st, "moves.csv", body, importer.Options{})
	if err != nil {
		t.Fatalf("import: %v (%+v)", err, res.Errors)
	}
	if res.Updated != 3 || res.Created != 1 || res.Unchanged != 0 {
		t.Errorf("updated %d, created %d, unchanged %d; want 3, 1, 0", res.Updated, res.Created, res.Unchanged)
	}
	want := map[string]string{"BIO-1": "00:1a:2b:00:00:09", "BIO-2": "00:1a:2b:00:00:01", "BIO-3": "00:1a:2b:00:00:03"}
	for asset, mac := range want {
		d, err := st.GetDeviceByAssetID(ctx, asset)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.MACs) != 1 || d.MACs[0] != mac {
			t.Errorf("%s MACs = %v, want [%s]", asset, d.MACs, mac)
		}
		if asset == "BIO-3" && d.Version != "9.9" {
			t.Errorf("BIO-3 version = %q, want 9.9 (matched by MAC)", d.Version)
		}
	}
	// A record matching a device that an earlier record of the same file
	// already merged is reported, even though both were read together.
	dup := hdr + "BIO-1,,,8.1,,,,,,,,,,,,,\n,,,8.2,,00:1a:2b:00:00:09,,,,,,,,,,,\n"
	if _, err := importCSV(t, st, "dup.csv", dup, importer.Options{}); !errors.Is(err, importer.ErrRejected) {
		t.Errorf("second record for BIO-1: err = %v, want ErrRejected", err)
	}
	// An unchanged re-import of more records than one read-ahead batch.
	var big strings.Builder
	big.WriteString(hdr)
	for i := range 2500 {
		big.WriteString("R-" + itoa(i) + ",Baxter,Sigma Spectrum,8.00.01,RS" + itoa(i) + ",,,,,,,,,,,,\n")
	}
	if res, err := importCSV(t, st, "big.csv", big.String(), importer.Options{}); err != nil || res.Created != 2500 {
		t.Fatalf("first big import: %+v %v", res, err)
	}
	res, err = importCSV(t, st, "big.csv", big.String(), importer.Options{})
	if err != nil || res.Unchanged != 2500 || res.Updated+res.Created != 0 {
		t.Errorf("re-import of 2,500 records: %+v %v, want all unchanged", res, err)
	}
}
