package hl7

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// TestDedupeLongLivedFlow: a monitor sends the same ORU every 10 s for 5
// minutes on one connection. Each distinct observation is reported at most
// once per DedupeWindow plus once at End; first and last seen times (the
// min and max of the reported times) are those of the first and the last
// message; a value that changes mid-flow is reported at once.
func TestDedupeLongLivedFlow(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	s := New().(*Dissector).NewStream(flow)
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	const n = 30
	var last time.Time
	for i := range n {
		last = t0.Add(time.Duration(i) * 10 * time.Second)
		msg := oruPCD
		if i == 17 {
			msg = strings.Replace(oruPCD, "|2.6|", "|2.7|", 1) // one message of another version
		}
		if err := s.Feed(dissect.FromClient, mllp(msg), last, r); err != nil {
			t.Fatal(err)
		}
	}
	type span struct {
		first, last time.Time
		count       int
	}
	seen := func() map[string]*span {
		m := map[string]*span{}
		for _, o := range r.obs {
			k := o.IP.String() + " " + o.Field + "=" + o.Value
			sp := m[k]
			if sp == nil {
				sp = &span{first: o.Time, last: o.Time}
				m[k] = sp
			}
			sp.count++
			if o.Time.Before(sp.first) {
				sp.first = o.Time
			}
			if o.Time.After(sp.last) {
				sp.last = o.Time
			}
		}
		return m
	}
	before := seen()
	if sp := before["10.20.1.31 hl7.version=2.7"]; sp == nil || !sp.first.Equal(t0.Add(170*time.Second)) {
		t.Errorf("changed value hl7.version=2.7 not reported at once: %+v", sp)
	}
	s.End(r)
	after := seen()
	// 5 minutes at most one report a minute, plus the one at End.
	maxReports := int(time.Duration(n)*10*time.Second/DedupeWindow) + 1
	for _, k := range []string{
		"10.20.1.31 hl7.sending_application=IntelliVue",
		"10.20.0.5 hl7.receiving_application=HIS_IE",
		"10.20.1.31 hl7.message_type=ORU^R01",
		"10.20.1.31 hl7.udi=(01)10884521062856(21)SN4711",
		"10.20.1.31 hl7.version=2.6",
	} {
		sp := after[k]
		if sp == nil {
			t.Errorf("%s not reported; got %v", k, r.strings())
			continue
		}
		if !sp.first.Equal(t0) || !sp.last.Equal(last) {
			t.Errorf("%s seen %s–%s, want %s–%s", k, sp.first, sp.last, t0, last)
		}
		if sp.count > maxReports || sp.count < 2 {
			t.Errorf("%s reported %d times for %d messages, want 2..%d", k, sp.count, n, maxReports)
		}
	}
	if len(r.obs) > 16*maxReports { // about 14 distinct values per message; 420 without the dedupe
		t.Errorf("%d observations for %d identical messages: not deduplicated", len(r.obs), n)
	}
}

// TestHeaderFastPath: messages whose MSH differs only in MSH-7 (time) and
// MSH-10 (control id) take the unchanged-header path; their times still
// move (last seen = last message after End), and a header that changes
// in another field (MSH-3) is read in full and reported at once.
func TestHeaderFastPath(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	s := New().(*Dissector).NewStream(flow)
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	var last time.Time
	for i := range 12 {
		last = t0.Add(time.Duration(i) * 5 * time.Second)
		msg := strings.Replace(oruPCD, "20260101101500+0100||ORU^R01^ORU_R01|MSG00042|",
			fmt.Sprintf("2026010110%02d00+0100||ORU^R01^ORU_R01|MSG%05d|", i, i), 1)
		if i == 9 {
			msg = strings.Replace(msg, "IntelliVue^", "CARESCAPE^", 1)
		}
		if err := s.Feed(dissect.FromClient, mllp(msg), last, r); err != nil {
			t.Fatal(err)
		}
	}
	at := func(k string) (n int, first, lastSeen time.Time) {
		for _, o := range r.obs {
			if o.IP.String()+" "+o.Field+"="+o.Value != k {
				continue
			}
			if n == 0 || o.Time.Before(first) {
				first = o.Time
			}
			if o.Time.After(lastSeen) {
				lastSeen = o.Time
			}
			n++
		}
		return
	}
	if n, first, _ := at("10.20.1.31 hl7.sending_application=CARESCAPE"); n != 1 || !first.Equal(t0.Add(45*time.Second)) {
		t.Errorf("changed MSH-3: %d reports, first %s; want 1 at %s", n, first, t0.Add(45*time.Second))
	}
	if n, _, _ := at("10.20.1.31 hl7.message_type=ORU^R01"); n != 1 {
		t.Errorf("message type reported %d times within a minute, want 1", n)
	}
	s.End(r)
	for _, k := range []string{"10.20.1.31 hl7.sending_application=IntelliVue", "10.20.1.31 hl7.version=2.6", "10.20.0.5 hl7.receiving_application=HIS_IE"} {
		n, first, lastSeen := at(k)
		if n != 2 || !first.Equal(t0) || !lastSeen.Equal(last) {
			t.Errorf("%s: %d reports, %s–%s; want 2, %s–%s", k, n, first, lastSeen, t0, last)
		}
	}
}
