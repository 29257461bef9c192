package snmp

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// communityDetailSprintf is communityDetail as it was written with
// fmt.Sprintf: the reference.
func communityDetailSprintf(c string, v byte, tag byte) (string, string) {
	sev, what := "medium", fmt.Sprintf("a non-default community string (%d characters)", utf8.RuneCountInString(c))
	if defaultCommunities[strings.ToLower(c)] {
		sev, what = "high", fmt.Sprintf("default community '%s'", strings.ToLower(c))
	}
	access := " sent in clear"
	switch tag {
	case pduSet:
		access = " sent in clear with write access (set-request)"
	case pduResponse:
		access = " accepted by the agent (response in clear)"
	}
	return sev, fmt.Sprintf("SNMPv%s %s%s", versionName(v), what, access)
}

func checkCommunityDetail(t *testing.T, c string, v, tag byte) {
	t.Helper()
	sev, d := communityDetail(c, v, tag)
	wsev, wd := communityDetailSprintf(c, v, tag)
	if sev != wsev || d != wd {
		t.Fatalf("communityDetail(%q, %d, %#x) = %q %q, want %q %q", c, v, tag, sev, d, wsev, wd)
	}
}

// TestCommunityDetail: the concatenated details are the Sprintf ones for
// default and other communities (case, UTF-8, invalid bytes, empty), every
// version and every PDU type.
func TestCommunityDetail(t *testing.T) {
	comms := []string{"", "public", "PUBLIC", "Private", "secret-99", "ünïcode", "\xff\xfe", "İ", strings.Repeat("a", 300)}
	for c := range defaultCommunities {
		comms = append(comms, c, strings.ToUpper(c))
	}
	for _, c := range comms {
		for _, v := range []byte{0, 1, 3} {
			for _, tag := range []byte{pduGet, pduGetNext, pduSet, pduGetBulk, pduResponse, pduTrapV1, pduTrapV2, pduReport, pduInform, 0} {
				checkCommunityDetail(t, c, v, tag)
			}
		}
	}
}

func FuzzCommunityDetail(f *testing.F) {
	f.Add("public", byte(0), byte(pduResponse))
	f.Add("Sécret", byte(1), byte(pduSet))
	f.Fuzz(func(t *testing.T, c string, v, tag byte) {
		checkCommunityDetail(t, c, v, tag)
	})
}
