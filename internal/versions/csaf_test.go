package versions

import (
	"errors"
	"testing"
)

// TestParseCSAFRangeRealStrings covers every distinct product_version_range
// and product_version string of the CISA CSAF advisories on our side of the
// split, plus the affected-version phrasings of the ICS Advisory Project
// ICSMA rows. want is the canonical vers string; "" means the text must be
// reported as not understood (needs review).
func TestParseCSAFRangeRealStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"<= 8.1", "vers:firmware/<=8.1"},
		{"<= 1.5.0.1", "vers:firmware/<=1.5.0.1"},
		{"> 1.5", "vers:firmware/>1.5"},
		{"7.52 build 344", "vers:firmware/7.52%20build%20344"},
		{"< 8.0 SP2", "vers:firmware/<8.0%20SP2"},
		{"< 02.07.07(10)", "vers:firmware/<02.07.07%2010"},
		{"2.4.X", "vers:firmware/>=2.4|<2.5"},
		{"2.3.X", "vers:firmware/>=2.3|<2.4"},
		{"<= 4.1.0.3391", "vers:firmware/<=4.1.0.3391"},
		{"< 1.6.2.0", "vers:firmware/<1.6.2.0"},
		{"<= 3.3", "vers:firmware/<=3.3"},
		{"<= 3.1", "vers:firmware/<=3.1"},
		{"<=20081", "vers:firmware/<=20081"},
		{"<=20101", "vers:firmware/<=20101"},
		{"<= 8.3.5", "vers:firmware/<=8.3.5"},
		{"<= 8.6.0", "vers:firmware/<=8.6.0"},
		{"All versions < V2.0 SP1", "vers:firmware/<V2.0%20SP1"},
		{"All versions >= V2.5 and < V20.8", "vers:firmware/>=V2.5|<V20.8"},
		{"All versions >= V2.5 and < V2.8", "vers:firmware/>=V2.5|<V2.8"},
		{"< 4.4.9SP", "vers:firmware/<4.4.9SP"},
		{"< 4.6.3SP", "vers:firmware/<4.6.3SP"},
		{"4.1.x", "vers:firmware/>=4.1|<4.2"},
		{"< 4.7.2", "vers:firmware/<4.7.2"},
		{"< 4.8.1", "vers:firmware/<4.8.1"},
		{"< 4.3.11SP", "vers:firmware/<4.3.11SP"},
		{"4.0.x", "vers:firmware/>=4.0|<4.1"},
		{"< 4.5.4SP", "vers:firmware/<4.5.4SP"},
		{"4.2.x", "vers:firmware/>=4.2|<4.3"},
		{"< 4.47.0", "vers:firmware/<4.47.0"},
		{"< 07A06", "vers:firmware/<07A06"},
		{"< 5.7.03.6112", "vers:firmware/<5.7.03.6112"},
		{"< V16.1", "vers:firmware/<V16.1"},
		{"vers:all/*", "vers:all/*"},
		{"All versions < V0209_0105", "vers:firmware/<V0209_0105"},
		{"vers:all/<V22.01.10", "vers:all/<V22.01.10"},
		{"vers:all/<V26.01.08", "vers:all/<V26.01.08"},
		{"vers:all/<V27.01.07", "vers:all/<V27.01.07"},
		{"vers:all/<V01.04.00", "vers:all/<V01.04.00"},
		{"vers:all/<V21.01.16", "vers:all/<V21.01.16"},
		{"All BIOS versions < V25.02.10", "vers:firmware/<V25.02.10"},
		{"vers:all/<V23.01.10", "vers:all/<V23.01.10"},
		{"vers:all/<V08.00.00.00", "vers:all/<V08.00.00.00"},
		{"vers:all/<V05.00.00.00", "vers:all/<V05.00.00.00"},
		{"vers:all/<V06.00.00.00", "vers:all/<V06.00.00.00"},
		{"<= 21.06.11.0", "vers:firmware/<=21.06.11.0"},
		{">= 3.0.0 | <= 3.3.0", "vers:firmware/>=3.0.0|<=3.3.0"},
		{"<= 5.4.1.0", "vers:firmware/<=5.4.1.0"},
		{"< V8.3", "vers:firmware/<V8.3"},
		{"01.14.000 -01.47.000", "vers:firmware/>=01.14.000|<=01.47.000"},
		{"1.265B -1.285X", "vers:firmware/>=1.265B|<=1.285X"},
		{"<= 1.6.9.0", "vers:firmware/<=1.6.9.0"},
		{"<V3.5.19.0", "vers:firmware/<V3.5.19.0"},
		{"<V9.1_SP2_UC04", "vers:firmware/<V9.1_SP2_UC04"},
		{"<V19_Update_1", "vers:firmware/<V19_Update_1"},
		{"<V7.5_SP2_Update_16", "vers:firmware/<V7.5_SP2_Update_16"},
		{"<V9.64", "vers:firmware/<V9.64"},
		{"<V9.65", "vers:firmware/<V9.65"},
		{"<V8.89", "vers:firmware/<V8.89"},
		{"vers:all/*_installed_on_CP200_devices", ""},
		{"<V8.89_installed_on_CP100_devices", ""},
		{"<V9.62_installed_on_CP150_and_CP300_devices", ""},
		{"<V9.62", "vers:firmware/<V9.62"},
		{"<=v2.09", "vers:firmware/<=v2.09"},
		{"< 8.2.2", "vers:firmware/<8.2.2"},
		{"<= 2.0.14.0", "vers:firmware/<=2.0.14.0"},
		{"<= 1.0.51", "vers:firmware/<=1.0.51"},
		{"< 012U000040", "vers:firmware/<012U000040"},
		{"<  july 1 2017", ""},
		{"< august 28", ""},
		{"< 2.4.0", "vers:firmware/<2.4.0"},
		{"< B.06.18", "vers:firmware/<B.06.18"},
		{"<  november 29 2017", ""},
		{"<= 2.3.0", "vers:firmware/<=2.3.0"},
		{"< 1.003", "vers:firmware/<1.003"},
		{"< 2.003", "vers:firmware/<2.003"},
		{"<= R8.0.3", "vers:firmware/<=R8.0.3"},
		{"distributed  < april 1, 2018", ""},
		{"<=2.3.5", "vers:firmware/<=2.3.5"},
		{"<=4.1.6", "vers:firmware/<=4.1.6"},
		{"<=3.2.4", "vers:firmware/<=3.2.4"},
		{"<=2.6.2", "vers:firmware/<=2.6.2"},
		{"* (end-of-life 2011)", "vers:firmware/*"},
		{"<= 1.54 (integrated into GE MobileLink)", "vers:firmware/<=1.54"},
		{"<= GEH-1.1 (integrated into GE MobileLink)", "vers:firmware/<=GEH-1.1"},
		{"<= 2.01 (end-of-life Nov 2017)", "vers:firmware/<=2.01"},
		{"<= 2.36.3.3", "vers:firmware/<=2.36.3.3"},
		{"3.0.1.0", "vers:firmware/3.0.1.0"},
		{"<=3.0.0.0", "vers:firmware/<=3.0.0.0"},
		{"<=1.1.0.2", "vers:firmware/<=1.1.0.2"},
		{"F.0.G.0 | J.3", "vers:firmware/F.0.G.0|J.3"},
		{"Rev J-M | (X3/MX100 for Rev M only)", ""},
		{"Rev B-M", "vers:firmware/>=B|<=M"},
		{"8", "vers:firmware/8"},
		{"MMT-512 / MMT-712 Paradigm x12", ""},
		{"MMT-523 / MMT-723 Paradigm Revel", ""},
		{"MMT-523(K) / MMT-723(K) Paradigm", ""},
		{"MMT-515 / MMT-715 Paradigm x15", ""},
		{"MMT-551 / MMT-751 MiniMed 530G", ""},
		{"MMT-508 MiniMed pump", ""},
		{"MMT-511 pump Paradigm", ""},
		{"MMT-554 / MMT-754 MiniMed Veo", ""},
		{"MMT-522(K) / MMT-722(K) Paradigm REAL-TIME", ""},
		{"MMT-522 / MMT-722 Paradigm REAL-TIME", ""},
		{"<May 2018", ""},
		{"B.02", "vers:firmware/B.02"},
		{">= 4.01 | <= 4.34", "vers:firmware/>=4.01|<=4.34"},
		{"<=11.2 on Windows 8.1 with IIS 7.5", ""},
		{"Accu-Chek Inform II", ""},
		{"CoaguChek Pro II", ""},
		{"CoaguChek XS Plus", ""},
		{"CoaguChek XS Pro", ""},
		{"cobas h 232 POC", ""},
		{"base units (BU)|handheld base units (HBU)", ""},
		{"Accu-Chek Inform II Base Unit Light", ""},
		{"Accu-Chek Inform II Base Unit NEW with Software 04.00.00 or newer", ""},
		{"Windows 10 Professional Operating System U.S. release", ""},
		{"Windows 10 Professional Operating System, U.S. and Malaysian Releases, between November 2017 and November 2018", ""},
		{"24950 | 24952", "vers:firmware/24950|24952"},
		{"2490C", "vers:firmware/2490C"},
		{"<= 3.01.1744", "vers:firmware/<=3.01.1744"},
		{"<= 3.02.1757", "vers:firmware/<=3.02.1757"},
		{"2.3.6 and  below", "vers:firmware/<=2.3.6"},
		{"1.1.6", "vers:firmware/1.1.6"},
		{"1.1.5", "vers:firmware/1.1.5"},
		{"1.3.1 Build 13", "vers:firmware/1.3.1%20Build%2013"},
		{"1.1.3 MR Build 11", "vers:firmware/1.1.3%20MR%20Build%2011"},
		{"1.0.13", "vers:firmware/1.0.13"},
		{"1.3.0 Build 14", "vers:firmware/1.3.0%20Build%2014"},
		{"1.1.3 Build 10", "vers:firmware/1.1.3%20Build%2010"},
		{"7100 | 7900 | 100 | Protiva Carestation View", ""},
		{"7100 | 7900 MRI", "vers:firmware/7100|7900%20MRI"},
		{"620 | 650 | 650c", "vers:firmware/620|650|650c"},
		{"CS2  Avance | Amingo | Avance CS2", ""},
		{"* running on old, unsupported operating systems such as Windows 2000", ""},
		{">= 1.3.4 | < 1.5.3", "vers:firmware/>=1.3.4|<1.5.3"},
		{">= 4.4 | <= 4.12", "vers:firmware/>=4.4|<=4.12"},
		{"4", "vers:firmware/4"},
		{"5", "vers:firmware/5"},
		{">= 2003 | <= 2006", "vers:firmware/>=2003|<=2006"},
		{"<= 6.5", "vers:firmware/<=6.5"},
		{"653 MCE 3.x", "vers:firmware/>=653%20MCE%203|<653%20MCE%204"},
		{"<= K", "vers:firmware/<=K"},
		{"<= 1.0.0", "vers:firmware/<=1.0.0"},
		{"<= 4.0.0", "vers:firmware/<=4.0.0"},
		{"<= 3.4", "vers:firmware/<=3.4"},
		{"2.X", "vers:firmware/>=2|<3"},
		{"1.X", "vers:firmware/>=1|<2"},
		{"<= 4.2", "vers:firmware/<=4.2"},
		{"4.3", "vers:firmware/4.3"},
		{"4.X | 5.X", "vers:firmware/>=4|<6"},
		{"1.0.2", "vers:firmware/1.0.2"},
		{"UDI/Model/NDC number ZXP425 (10-Pack) | ZXR425 (10-Pack Canada)", ""},
		{"Product ID/Reorder number 19191 | 40160", ""},
		{"1.6.1", "vers:firmware/1.6.1"},
		{"1.10 | 1.11 | 1.13 | 1.14", "vers:firmware/1.10|1.11|1.13|1.14"},
		{"1.1 | 1.2 | 1.4 | 1.5", "vers:firmware/1.1|1.2|1.4|1.5"},
		{"< 3.x", "vers:firmware/<3"},
		{"v8.x model 35700BAX2", ""},
		{"v6.x (with Wireless Battery Modules v9 | v11 | v13 | v14 | v15 | v16 | v16D38 | v17 | v17D19 | >= v20D29 | <= v20D32 | >= v22D24 | <= v22D28)", ""},
		{"v6.x model 35700BAX", ""},
		{"v8.x (with Wireless Battery Modules v17 | v17D19 | >= v20D29 | <= v20D32 | >= v22D24 | <= v22D28)", ""},
		{"v9.x model 35700BAX3", ""},
		{"v9.x (with Wireless Battery Module >= v22D19 | <= v22D28)", ""},
		{"2.2", "vers:firmware/2.2"},
		{"<= 3.2", "vers:firmware/<=3.2"},
		{"<= 5.0.2", "vers:firmware/<=5.0.2"},
		{"<= VM5.0", "vers:firmware/<=VM5.0"},
		{"<= 3.0.2", "vers:firmware/<=3.0.2"},
		{"5.09.02", "vers:firmware/5.09.02"},
		{"5.89.05b", "vers:firmware/5.89.05b"},
		{"<= 2.24", "vers:firmware/<=2.24"},
		{"<= S4 A.07.107", "vers:firmware/<=S4%20A.07.107"},
		{"<= 12.2.1", "vers:firmware/<=12.2.1"},
		{"<= 3.0", "vers:firmware/<=3.0"},
		{"<= 9.33.1", "vers:firmware/<=9.33.1"},
		{"<= 4.33", "vers:firmware/<=4.33"},
		{"HD 16 | HD23", "vers:firmware/HD%2016|HD23"},
		{"SV20.1 | SV23.0", "vers:firmware/SV20.1|SV23.0"},
		{"BT03", "vers:firmware/BT03"},
		{"BT03 | BT04 | BT06", "vers:firmware/BT03|BT04|BT06"},
		{"BT02 | BT03 | BT04 | BT06", "vers:firmware/BT02|BT03|BT04|BT06"},
		{"BT06", "vers:firmware/BT06"},
		{">=BT02 | <= BT06", "vers:firmware/>=BT02|<=BT06"},
		{"BT05 | BT08", "vers:firmware/BT05|BT08"},
		{">= 4.0 | <= 4.6", "vers:firmware/>=4.0|<=4.6"},
		{">= 2.0 | <= 3.0", "vers:firmware/>=2.0|<=3.0"},
		{"< 1.7.15", "vers:firmware/<1.7.15"},
		{"< 3.0", "vers:firmware/<3.0"},
		{"<= 2.2.3", "vers:firmware/<=2.2.3"},
		{"882300 Gemini 16 Slice", ""},
		{"882160 Gemini Dual", ""},
		{"882400 Gemini GXL 10 Slice", ""},
		{"882390 Gemini GXL 6 Slice", ""},
		{"882410 Gemini GXL 16 Slice", ""},
		{"882412 GEMINI LXL", ""},
		{"882473 Gemini TF Ready", ""},
		{"882470 Gemini TF 16 w/ TOF Performance", ""},
		{"882471 Gemini TF 64 w/ TOF Performance", ""},
		{"882476 Gemini TF Big Bore", ""},
		{"882438 TruFlight Select PET/CT", ""},
		{"< 2.2", "vers:firmware/<2.2"},
		{">= 2.5 | <= 3.11", "vers:firmware/>=2.5|<=3.11"},
		{">= 2018-1 | <= 2021-1", "vers:firmware/>=2018-1|<=2021-1"},
		{"< 1.7.5", "vers:firmware/<1.7.5"},
		{"< 1.7.2", "vers:firmware/<1.7.2"},
		{"< 7.2.5.7", "vers:firmware/<7.2.5.7"},
		{"<= L81", "vers:firmware/<=L81"},
		{"A10 < A11", "vers:firmware/>=A10|<A11"},
		{"<= 012U000061", "vers:firmware/<=012U000061"},
		{"<= 028U000061", "vers:firmware/<=028U000061"},
		{"<= 3.06.1803", "vers:firmware/<=3.06.1803"},
		{"<= C.00.04", "vers:firmware/<=C.00.04"},
		{"A.01 <= C.0x | 4.0", "vers:firmware/>=A.01|<C.10|4.0"},
		{"B.02 | C.02 | C.03", "vers:firmware/B.02|C.02|C.03"},
		{"<= D25", "vers:firmware/<=D25"},
		{"<= 3.3.0", "vers:firmware/<=3.3.0"},
		{"<= 3.0 D15", "vers:firmware/<=3.0%20D15"},
		{"<= 6.2.1", "vers:firmware/<=6.2.1"},
		{">= 2.0", "vers:firmware/>=2.0"},
		{"<= 2.7", "vers:firmware/<=2.7"},
		{"4.20 | 4.20 SR1 | 4.30", "vers:firmware/4.20|4.20%20SR1|4.30"},
		{"< 3.6.7", "vers:firmware/<3.6.7"},
		{"MMT-1710", "vers:firmware/MMT-1710"},
		{"MMT-1715 | MMT-1754 | MMT-1755", "vers:firmware/MMT-1715|MMT-1754|MMT-1755"},
		{"MMT-1711 | MMT-1712 | MMT-1751 | MMT-1752", "vers:firmware/MMT-1711|MMT-1712|MMT-1751|MMT-1752"},
		{"MMT-1740 | MMT-1741 | MMT-1742 | MMT-1760 | MMT-1762 | MMT-1762 | MMT-1780 | MMT-1781 | MMT-1782", "vers:firmware/MMT-1740|MMT-1741|MMT-1742|MMT-1760|MMT-1762|MMT-1780|MMT-1781|MMT-1782"},
		{"<= 1.70", "vers:firmware/<=1.70"},
		{"2nd Edition", ""},
		{"3rd Edition", ""},
		{">= 1.1 | <= 1.3.2", "vers:firmware/>=1.1|<=1.3.2"},
		{"053L000091 (global) / 054U000091 (U.S.) and 053L000092 (global) / 054U000092 (U.S.)", "vers:firmware/053L000091|053L000092|054U000091|054U000092"},
		{"4.0.0", "vers:firmware/4.0.0"},
		{"4.0.5", "vers:firmware/4.0.5"},
		{"4.0", "vers:firmware/4.0"},
		{">= 4.0.1", "vers:firmware/>=4.0.1"},
		{">= 1.0.0  | <= 1.3.1", "vers:firmware/>=1.0.0|<=1.3.1"},
		{">= 1.3.3", "vers:firmware/>=1.3.3"},
		{"<= 1.4.1", "vers:firmware/<=1.4.1"},
		{"<= 1.7", "vers:firmware/<=1.7"},
		{"1.8", "vers:firmware/1.8"},
		{"<=12.1.3", "vers:firmware/<=12.1.3"},
		{"<=12.1.2", "vers:firmware/<=12.1.2"},
		{"12.1.3", "vers:firmware/12.1.3"},
		{"<=12.3", "vers:firmware/<=12.3"},
		{"<=10.17", "vers:firmware/<=10.17"},
		{"<=1.0", "vers:firmware/<=1.0"},
		{"<= 7.2.8.810", "vers:firmware/<=7.2.8.810"},
		{"<=1.4.0", "vers:firmware/<=1.4.0"},
		{"5.0|5.1", "vers:firmware/5.0|5.1"},
		{"3.0|3.1", "vers:firmware/3.0|3.1"},
		{"<=14.0.3", "vers:firmware/<=14.0.3"},
		{"<=2023.3_Build_9342", "vers:firmware/<=2023.3_Build_9342"},
		{"<=1.9.4.1", "vers:firmware/<=1.9.4.1"},
		{"<=1.52", "vers:firmware/<=1.52"},
		{"<12.2.8.410", "vers:firmware/<12.2.8.410"},
		{"<8/30/2024", ""},
		{"Version 5 and prior", "vers:firmware/<=5"},
		{"versions prior to 4.1.2", "vers:firmware/<4.1.2"},
		{"All versions", "vers:firmware/*"},
		{"all versions before R11", "vers:firmware/<R11"},
		{"1.0 through 2.3", "vers:firmware/>=1.0|<=2.3"},
		{"v2.1 - v2.7", "vers:firmware/>=v2.1|<=v2.7"},
		{"4.x", "vers:firmware/>=4|<5"},
		{"versions 8.0 to 8.2.1", "vers:firmware/>=8.0|<=8.2.1"},
		{"before 3.4", "vers:firmware/<3.4"},
		{"prior to 3.4.2", "vers:firmware/<3.4.2"},
		{"3.0 and later", "vers:firmware/>=3.0"},
		{"up to and including 6.2", "vers:firmware/<=6.2"},
		{"1.2, 1.3 and 1.4", "vers:firmware/1.2|1.3|1.4"},
		{"V2.4.1 SP3", "vers:firmware/V2.4.1%20SP3"},
		{"Versions 2025.1 (Build 3321) and prior", "vers:firmware/<=2025.1%20Build%203321"},
		{"Versions 3.0.11.5 BN9 and prior", "vers:firmware/<=3.0.11.5%20BN9"},
		{"Versions prior to 24.06 (CVE-2024-35585)", "vers:firmware/<24.06"},
		{"Versions 4.20, 4.20 SR1 and 4.30", "vers:firmware/4.20|4.20%20SR1|4.30"},
		{"Revisions A.01 to C.0x and 4.0", "vers:firmware/>=A.01|<C.10|4.0"},
		{"Versions 1.10; 1.11; 1.13; 1.14", "vers:firmware/1.10|1.11|1.13|1.14"},
		{"Version R8.0.3 or prior", "vers:firmware/<=R8.0.3"},
		{"all versions prior to Version B.06.18", "vers:firmware/<B.06.18"},
		{"Versions 1.3.4 through to 1.5.3", "vers:firmware/>=1.3.4|<=1.5.3"},
		{"Version 11.2 and prior running on a Windows 8.1 machine with IIS/7.5", ""},
		{"all versions released before November 29, 2017", ""},
		{"Versions 4.X and 5.X", "vers:firmware/>=4|<6"},
		{"v2.0 and newer", "vers:firmware/>=v2.0"},
		{"Version 2.4.0 and prior versions", "vers:firmware/<=2.4.0"},
		{"Versions 01-03", "vers:firmware/01-03"},
		{"All Versions 2.0 and later", "vers:firmware/>=2.0"},
		{"vD25 and prior", "vers:firmware/<=vD25"},
		{"v3.0 D15 and prior", "vers:firmware/<=v3.0%20D15"},
		{"Versions K and prior", "vers:firmware/<=K"},
		{"software versions prior to Version 012U000040", "vers:firmware/<012U000040"},
		{"versions 4.01 through 4.34", "vers:firmware/>=4.01|<=4.34"},
		{"All versions prior to 3.x", "vers:firmware/<3"},
		{"v5.0 and v5.1", "vers:firmware/v5.0|v5.1"},
	}
	for _, tt := range tests {
		r, err := ParseCSAFRange(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrNotUnderstood) {
				t.Errorf("ParseCSAFRange(%q) = %v, %v; want ErrNotUnderstood", tt.in, r, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCSAFRange(%q): %v", tt.in, err)
			continue
		}
		if got := r.String(); got != tt.want {
			t.Errorf("ParseCSAFRange(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseCSAFRangeContains(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rng, version string
		want         bool
	}{
		{"Versions 14.2.1 and prior", "14.2.1", true},
		{"Versions 14.2.1 and prior", "14.2.1.1", false},
		{"Versions 14.2.1 and prior", "V14.1", true},
		{"versions prior to 4.1.2", "4.1.2", false},
		{"versions prior to 4.1.2", "4.1.2-rc1", true},
		{"versions prior to 4.1.2", "4.1.1 SP3", true},
		{"All versions >= V2.5 and < V20.8", "V2.4", false},
		{"All versions >= V2.5 and < V20.8", "V2.5", true},
		{"All versions >= V2.5 and < V20.8", "V20.7 SP1", true},
		{"All versions >= V2.5 and < V20.8", "V20.8", false},
		{"1.0 through 2.3", "2.3.0", true},
		{"1.0 through 2.3", "2.3.1", false},
		{"4.x", "4.9.9", true},
		{"4.x", "5.0", false},
		{"4.x", "3.99", false},
		{"1.2, 1.3 and 1.4", "1.3.0", true},
		{"1.2, 1.3 and 1.4", "1.3.1", false},
		{"v2.1 - v2.7", "2.7", true},
		{"v2.1 - v2.7", "2.0.9", false},
		{"3.0 and later", "10.0", true},
		{"3.0 and later", "3.0 beta", false},
		{"All versions", "anything 1", true},
		{"all versions before R11", "R10.2", true},
		{"all versions before R11", "R11", false},
		{"Revisions A.01 to C.0x and 4.0", "B.07", true},
		{"Revisions A.01 to C.0x and 4.0", "C.09", true},
		{"Revisions A.01 to C.0x and 4.0", "D.00", false},
		{"Revisions A.01 to C.0x and 4.0", "4.0", true},
		{"Versions 2025.1 (Build 3321) and prior", "2025.1 build 3000", true},
		{"Versions 2025.1 (Build 3321) and prior", "2025.1 (Build 3322)", false},
		{"vers:all/<V22.01.10", "V22.01.09.4", true},
		{"vers:all/<V22.01.10", "V22.1.10", false},
		{"Rev B-M", "C", true},
		{"Rev B-M", "N", false},
		{"Versions 4.X and 5.X", "5.2", true},
		{"Versions 4.X and 5.X", "6.0", false},
	}
	for _, tt := range tests {
		r, err := ParseCSAFRange(tt.rng)
		if err != nil {
			t.Errorf("ParseCSAFRange(%q): %v", tt.rng, err)
			continue
		}
		got, err := r.Contains(tt.version)
		if err != nil {
			t.Errorf("%q Contains(%q): %v", tt.rng, tt.version, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%q (%s) Contains(%q) = %v, want %v", tt.rng, r, tt.version, got, tt.want)
		}
	}
}

func TestParseCSAFRangeIntervals(t *testing.T) {
	t.Parallel()
	r, err := ParseCSAFRange(">= 1.0 | < 2.0, 3.0")
	if err != nil {
		t.Fatal(err)
	}
	ivs := r.Intervals()
	type iv struct {
		lo, hi       string
		loInc, hiInc bool
		loInf, hiInf bool
	}
	var got []iv
	for _, x := range ivs {
		got = append(got, iv{x.Lo.Version.String(), x.Hi.Version.String(), x.Lo.Inclusive, x.Hi.Inclusive, x.Lo.Unbounded, x.Hi.Unbounded})
	}
	want := []iv{
		{lo: "1.0", hi: "2.0", loInc: true},
		{lo: "3.0", hi: "3.0", loInc: true, hiInc: true},
	}
	if len(got) != len(want) {
		t.Fatalf("Intervals() = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Intervals()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestParseCSAFRangePhrasings covers typographic and phrasing variants seen
// in advisories (en dashes, ≤/≥, "inclusive", "prior to and including").
func TestParseCSAFRangePhrasings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"SW versions 2.0–2.4", "vers:firmware/>=2.0|<=2.4"},
		{"vers:intdot/<4.4.0", "vers:intdot/<4.4.0"},
		{"All versions >= V3.0 < V3.3.5", "vers:firmware/>=V3.0|<V3.3.5"},
		{"V2.2 and later versions", "vers:firmware/>=V2.2"},
		{"≤ 3.2", "vers:firmware/<=3.2"},
		{"≥3.0", "vers:firmware/>=3.0"},
		{"prior to and including 3.2", "vers:firmware/<=3.2"},
		{"up to but not including 3.2", "vers:firmware/<3.2"},
		{"V1.0.0 to V1.0.5 inclusive", "vers:firmware/>=V1.0.0|<=V1.0.5"},
		{"All versions of 4.1", "vers:firmware/>=4.1|<4.2"},
		{"< 3.4.2, >= 3.5.0 < 3.5.3", "vers:firmware/<3.4.2|>=3.5.0|<3.5.3"},
		{"from 1.2 up to 1.9", "vers:firmware/>=1.2|<=1.9"},
		{"Version 7.0 through 7.5 and 8.0", "vers:firmware/>=7.0|<=7.5|8.0"},
		{"versions 2.x and 3.x", "vers:firmware/>=2|<4"},
		{"ver. 2.3 and lower", "vers:firmware/<=2.3"},
		{"5.0 Update 3 and prior", "vers:firmware/<=5.0%20Update%203"},
		{"versions prior to 4.3.3 (CVE-2023-1234, CVE-2023-1235)", "vers:firmware/<4.3.3"},
		{"Versions prior to 2.1.0 (Android) and prior to 2.0.9 (iOS)", ""},
		{"Windows 10", ""},
		{"N/A", ""},
		{"", ""},
	}
	for _, tt := range tests {
		r, err := ParseCSAFRange(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrNotUnderstood) {
				t.Errorf("ParseCSAFRange(%q) = %v, %v; want ErrNotUnderstood", tt.in, r, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCSAFRange(%q): %v", tt.in, err)
			continue
		}
		if got := r.String(); got != tt.want {
			t.Errorf("ParseCSAFRange(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
