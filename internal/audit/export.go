package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteJSONL writes e as one line of JSON (all fields, hashes included).
func WriteJSONL(w io.Writer, e *Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit entry %d: %w", e.Seq, err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// SyslogPriority is facility 13 (log audit) at severity 5 (notice).
const SyslogPriority = 13*8 + 5

// SDID is the structured-data id of the entry fields. 32473 is the
// private enterprise number RFC 5612 reserves for documentation; a site
// may rewrite it in its SIEM.
const SDID = "medwarden@32473"

// WriteSyslog writes e as one RFC 5424 line (no trailing framing beyond
// "\n", which RFC 6587 non-transparent framing and files both accept):
//
//	<109>1 2026-11-28T14:00:00.000000000Z host medwarden - device.update [medwarden@32473 seq="3" …] {json}
//
// The message is the entry's JSON, so nothing is lost.
func WriteSyslog(w io.Writer, hostname string, e *Entry) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit entry %d: %w", e.Seq, err)
	}
	var b strings.Builder
	b.WriteString("<" + strconv.Itoa(SyslogPriority) + ">1 ")
	b.WriteString(e.Time.UTC().Format(TimeLayout))
	b.WriteByte(' ')
	b.WriteString(header(hostname, 255))
	b.WriteString(" medwarden - ")
	b.WriteString(header(e.Action, 32))
	b.WriteString(" [" + SDID)
	for _, p := range [][2]string{{"seq", strconv.FormatInt(e.Seq, 10)}, {"actor", e.Actor}, {"kind", e.ActorKind},
		{"src", e.Source}, {"object", e.Object}, {"hash", e.Hash}} {
		b.WriteString(" " + p[0] + `="` + sdEscape(p[1]) + `"`)
	}
	b.WriteString("] ")
	b.Write(body)
	b.WriteByte('\n')
	_, err = io.WriteString(w, b.String())
	return err
}

// header makes an RFC 5424 header field: printable US-ASCII without
// spaces, at most max characters, "-" when empty.
func header(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; i++ {
		if c := s[i]; c >= 33 && c <= 126 {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// sdEscape escapes a PARAM-VALUE: '"', '\' and ']' take a backslash.
func sdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(s)
}
