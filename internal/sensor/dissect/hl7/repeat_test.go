package hl7

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

// timedRecorder records observations with their times: repeat must keep
// every report and every time that decoding each message gives.
type timedRecorder struct{ out []string }

func (r *timedRecorder) Observe(o dissect.Observation) {
	r.out = append(r.out, fmt.Sprintf("%s %s %s=%s", o.Time.Format(time.RFC3339Nano), o.IP, o.Field, o.Value))
}

func (r *timedRecorder) Report(f dissect.Finding) {
	r.out = append(r.out, fmt.Sprintf("%s %s %s: %s", f.Time.Format(time.RFC3339Nano), f.IP, f.Kind, f.Detail))
}

// feedBoth feeds the same frames, at the same times, to a stream that
// decodes every message and to one that skips repeats, then ends both and
// fails on any difference in observations, findings, times or errors.
func feedBoth(t *testing.T, frames [][]byte, dirs []dissect.Direction, times []time.Time) (repeats int) {
	t.Helper()
	all := New().(*Dissector).NewStream(flow).(*stream)
	all.decodeAll = true
	fast := New().(*Dissector).NewStream(flow).(*stream)
	ra, rf := &timedRecorder{}, &timedRecorder{}
	for i, fr := range frames {
		ea := all.Feed(dirs[i], fr, times[i], ra)
		ef := fast.Feed(dirs[i], fr, times[i], rf)
		if fmt.Sprint(ea) != fmt.Sprint(ef) {
			t.Fatalf("frame %d: error %v decoding all, %v with repeat", i, ea, ef)
		}
	}
	if all.repeats != 0 {
		t.Fatalf("decodeAll stream took %d repeats", all.repeats)
	}
	all.End(ra)
	fast.End(rf)
	if diff := cmp.Diff(ra.out, rf.out); diff != "" {
		t.Fatalf("repeat changes the output (-decode all +repeat):\n%s", diff)
	}
	return fast.repeats
}

// TestRepeatSameOutput: a day of realistic traffic on one link — a
// monitor's ORU with changing values, control ids and patients, the
// engine's ACKs, an EHR's alternating ADT and ORM, an occasional version
// change, a new OBX-18, a NAK, a malformed frame, pauses longer than the
// dedupe window — gives, report for report and time for time, what
// decoding every message gives; and most messages are repeats.
func TestRepeatSameOutput(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	var frames [][]byte
	var dirs []dissect.Direction
	var times []time.Time
	add := func(d dissect.Direction, at time.Time, msg string) {
		frames, dirs, times = append(frames, mllp(msg)), append(dirs, d), append(times, at)
	}
	at := t0
	for i := range 400 {
		at = at.Add(10 * time.Second)
		if i%97 == 50 {
			at = at.Add(3 * time.Minute) // a pause longer than the window
		}
		msg := strings.Replace(oruPCD, "MSG00042", fmt.Sprintf("MSG%05d", i), 1)
		msg = strings.Replace(msg, "|97|", fmt.Sprintf("|%d|", 90+i%10), 1)
		msg = strings.Replace(msg, "DOE^JANE", fmt.Sprintf("DOE%d^JANE", i%7), 1)
		switch {
		case i%50 == 17:
			msg = strings.Replace(msg, "|2.6|", "|2.7|", 1)
		case i%60 == 30:
			msg = strings.Replace(msg, "0007B0FFFE1A2B3C^EUI-64\r", "0007B0FFFE1A2B3D^EUI-64\r", 1)
		case i%70 == 40:
			msg = strings.Replace(msg, "PRT|1|UC||", "PRT|1|UC|", 1) // shifts PRT-16 and PRT-20
		case i%80 == 60:
			msg += "NTE|1||comment\r"
		}
		add(dissect.FromClient, at, msg)
		ack := strings.Replace(ackAA, "ACK00042", fmt.Sprintf("ACK%05d", i), 1)
		if i%45 == 44 {
			ack = strings.Replace(ack, "MSA|AA|", "MSA|AE|", 1)
		}
		if i%90 == 89 {
			ack = "MSH|^~\\&|broken" // no encoding characters after it: malformed
		}
		add(dissect.FromServer, at.Add(300*time.Millisecond), ack)
		if i%3 == 0 {
			ehr := "MSH|^~\\&|EPIC^ADT|HOSPITAL|MW_IE|HOSPITAL|20260302070000||ADT^A01^ADT_A01|EHR" + fmt.Sprint(i) + "|P|2.5.1|||AL|NE||8859/1\rEVN|A01|20260302070000\rPID|1||MRN" + fmt.Sprint(i) + "^^^HOSPITAL^MR||DOE^JOHN\rPV1|1|I|ICU^^BED01\r"
			if i%2 == 0 {
				ehr = "MSH|^~\\&|EPIC^ORDERS|HOSPITAL|MW_IE|HOSPITAL|20260302070000||ORM^O01^ORM_O01|EHR" + fmt.Sprint(i) + "|P|2.5.1\rPID|1||MRN1^^^HOSPITAL^MR||DOE^JOHN\rORC|NW|X^EPIC\rOBR|1|X^EPIC||24627-2^CT CHEST^LN\r"
			}
			add(dissect.FromClient, at.Add(time.Second), ehr)
		}
	}
	n := feedBoth(t, frames, dirs, times)
	if n < len(frames)*9/10 {
		t.Errorf("%d of %d messages were repeats, want most", n, len(frames))
	}
}

// FuzzRepeat: whatever the messages and their times, skipping repeats
// gives the output of decoding every message. The input is cut into
// frames at 0x1C; each frame's direction and time step come from its
// first two bytes.
func FuzzRepeat(f *testing.F) {
	for _, s := range seeds(f) {
		b := append([]byte{0, 10}, s...)
		b = append(append(b, 0x1c, 1, 30), s...)
		f.Add(append(append(b, 0x1c, 0, 90), s...))
	}
	for _, p := range sensortest.Payloads(f, "testdata/hl7.pcap", dissect.LayerTCP) {
		f.Add(append([]byte{0, 5}, p...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var frames [][]byte
		var dirs []dissect.Direction
		var times []time.Time
		at := time.Unix(1767258900, 0)
		for _, part := range strings.Split(string(b), "\x1c") {
			if len(part) < 2 {
				continue
			}
			at = at.Add(time.Duration(binary.BigEndian.Uint16([]byte{0, part[1]})) * time.Second)
			frames = append(frames, mllp(part[2:]))
			dirs = append(dirs, dissect.Direction(part[0]&1))
			times = append(times, at)
		}
		feedBoth(t, frames, dirs, times)
	})
}

// TestWithinWindow: the cheap window test agrees with time.Sub.
func TestWithinWindow(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 2, 7, 0, 0, 500_000_000, time.UTC)
	for _, since := range []time.Time{base, {}, time.Unix(0, 0), base.Add(-DedupeWindow)} {
		for _, d := range []time.Duration{0, 1, -1, DedupeWindow - 1, DedupeWindow, DedupeWindow + 1,
			DedupeWindow - 500*time.Millisecond, DedupeWindow + 500*time.Millisecond, -DedupeWindow,
			2 * DedupeWindow, 500 * time.Millisecond, -500 * time.Millisecond, 24 * time.Hour, -24 * time.Hour} {
			tt := since.Add(d)
			if got, want := withinWindow(tt, since), tt.Sub(since) < DedupeWindow; got != want {
				t.Errorf("withinWindow(%s, %s) = %v, want %v", tt, since, got, want)
			}
		}
	}
	if !withinWindow(time.Time{}, base) || withinWindow(base, time.Time{}) {
		t.Error("zero times: want the order of time.Sub")
	}
}
