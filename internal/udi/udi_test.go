package udi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    UDI
		wantErr string
	}{
		// FDA GUDID example label (AccessGUDID "UDI" column form).
		{name: "gs1_parentheses", in: "(01)10884521062856(11)141231(17)150707(10)A213B1(21)1234",
			want: UDI{Issuer: GS1, DI: "10884521062856", Manufactured: "2014-12-31", Expiry: "2015-07-07", Lot: "A213B1", Serial: "1234"}},
		{name: "gs1_fnc1_symbology", in: "]d20110884521062856111412311715070710A213B1\x1d211234",
			want: UDI{Issuer: GS1, DI: "10884521062856", Manufactured: "2014-12-31", Expiry: "2015-07-07", Lot: "A213B1", Serial: "1234"}},
		{name: "gs1_day_00_and_software", in: "(01)09506000134352(17)250200(7240)SW-4.2.1",
			want: UDI{Issuer: GS1, DI: "09506000134352", Expiry: "2025-02-28", Software: "SW-4.2.1"}},
		{name: "gs1_di_only", in: "0100614141123452", want: UDI{Issuer: GS1, DI: "00614141123452"}},
		{name: "gs1_bad_check_digit", in: "(01)10884521062857", wantErr: "check digit 7, want 6"},
		{name: "gs1_bad_date", in: "(01)10884521062856(17)151307", wantErr: "not a YYMMDD date"},
		{name: "gs1_feb_30", in: "(01)10884521062856(17)150230", wantErr: "day 30 of month 2"},
		{name: "gs1_unknown_ai", in: "(01)10884521062856(99)X", wantErr: "(99) is not a UDI element"},
		{name: "gs1_no_di", in: "(10)LOT1", wantErr: "no device identifier"},
		{name: "gs1_lot_too_long", in: "(01)10884521062856(10)ABCDEFGHIJKLMNOPQRSTU", wantErr: "length 21"},
		{name: "gs1_repeated", in: "(01)10884521062856(01)10884521062856", wantErr: "repeated"},
		// HIBC LIC 2.6 primary example; the check character is G.
		{name: "hibcc_primary", in: "+A123BJC5D6E71G", want: UDI{Issuer: HIBCC, DI: "+A123BJC5D6E71"}},
		{name: "hibcc_primary_human_readable", in: "*+A123BJC5D6E71G*", want: UDI{Issuer: HIBCC, DI: "+A123BJC5D6E71"}},
		{name: "hibcc_bad_check", in: "+A123BJC5D6E71H", wantErr: `check character 'H', want 'G'`},
		{name: "hibcc_combined_mmyy_lot", in: withCheck("+H629CIM12101/$$0727LOT4711"), want: UDI{Issuer: HIBCC, DI: "+H629CIM12101", Expiry: "2027-07-31", Lot: "LOT4711"}},
		{name: "hibcc_combined_yymmdd_serial", in: withCheck("+H629CIM12101/$$+3270131SN00042"), want: UDI{Issuer: HIBCC, DI: "+H629CIM12101", Expiry: "2027-01-31", Serial: "SN00042"}},
		{name: "hibcc_julian_lot_and_supplemental", in: withCheck("+H629CIM12101/26032LOT9/SSER1/16D20250105"), want: UDI{Issuer: HIBCC, DI: "+H629CIM12101", Expiry: "2026-02-01", Lot: "LOT9", Serial: "SER1", Manufactured: "2025-01-05"}},
		{name: "hibcc_bad_unit", in: withCheck("+H629CIM1210X"), wantErr: "unit of measure"},
		{name: "iccbba", in: "=/A9999XYZ12345678=,000025=>026032&,1LOT123456789012345",
			want: UDI{Issuer: ICCBBA, DI: "A9999XYZ12345678", Serial: "000025", Expiry: "2026-02-01", Lot: "LOT123456789012345"}},
		{name: "iccbba_short", in: "=/A9999", wantErr: "want 16"},
		{name: "garbage", in: "hello", wantErr: "not a GS1, HIBCC or ICCBBA"},
		{name: "empty", in: " ", wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// withCheck appends the HIBC check character, computed by the function
// that TestHIBCCCheck validates against the standard's example.
func withCheck(s string) string { return s + string(HIBCCCheck(s)) }

func TestHIBCCCheck(t *testing.T) {
	t.Parallel()
	if got := HIBCCCheck("+A123BJC5D6E71"); got != 'G' {
		t.Errorf("HIBCCCheck(+A123BJC5D6E71) = %q, want 'G' (HIBC LIC 2.6 example)", got)
	}
	if got := HIBCCCheck("+a"); got != 0 {
		t.Errorf("HIBCCCheck with lower case = %q, want 0", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"(01)10884521062856(11)141231(17)150707(10)A213B1(21)1234", "0100614141123452", "+A123BJC5D6E71G", "=/A9999XYZ12345678=,000025", withCheck("+H629CIM12101/$$3270131SN")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			return
		}
		if u.DI == "" || u.Issuer == "" {
			t.Fatalf("Parse(%q) = %+v without DI or issuer", s, u)
		}
		if u.Issuer == GS1 && !gtinValid(u.DI) {
			t.Fatalf("Parse(%q) accepted an invalid GTIN %s", s, u.DI)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("(01)10884521062856(11)141231(17)150707(10)A213B1(21)1234"); err != nil {
			b.Fatal(err)
		}
	}
}
