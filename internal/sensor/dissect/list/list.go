// Package list is the explicit registry of protocol dissectors. There is no
// init() registration: a dissector exists for the sensor when, and only
// when, its constructor is listed here.
//
// To add a dissector, add one line to All (and to Default when it should run
// without being asked for). Keep each list sorted by name.
package list

import (
	"fmt"
	"sort"
	"strings"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/astm"
	"github.com/medwarden/medwarden/internal/sensor/dissect/cdp"
	"github.com/medwarden/medwarden/internal/sensor/dissect/cleartext"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dhcp"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dicom"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dns"
	"github.com/medwarden/medwarden/internal/sensor/dissect/hl7"
	"github.com/medwarden/medwarden/internal/sensor/dissect/http"
	"github.com/medwarden/medwarden/internal/sensor/dissect/lldp"
	"github.com/medwarden/medwarden/internal/sensor/dissect/mqtt"
	"github.com/medwarden/medwarden/internal/sensor/dissect/netbios"
	"github.com/medwarden/medwarden/internal/sensor/dissect/ntp"
	"github.com/medwarden/medwarden/internal/sensor/dissect/poct1"
	"github.com/medwarden/medwarden/internal/sensor/dissect/smb"
	"github.com/medwarden/medwarden/internal/sensor/dissect/snmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect/ssdp"
	"github.com/medwarden/medwarden/internal/sensor/dissect/ssh"
	"github.com/medwarden/medwarden/internal/sensor/dissect/syslog"
	"github.com/medwarden/medwarden/internal/sensor/dissect/tls"
)

// Constructor builds a fresh dissector. Each sensor instance calls it once.
type Constructor func() dissect.Dissector

// All returns every dissector compiled into the binary, including the ones
// that are off by default.
func All() []Constructor {
	return []Constructor{
		// One line per dissector, sorted by package name.
		astm.New,
		cdp.New,
		cleartext.New,
		dhcp.New,
		dicom.New,
		dns.New,
		hl7.New,
		http.New,
		lldp.New,
		mqtt.New,
		netbios.New,
		ntp.New,
		poct1.New,
		smb.New,
		snmp.New,
		ssdp.New,
		ssh.New,
		syslog.New,
		syslog.NewTCP,
		tls.New,
	}
}

// Default returns the dissectors the sensor runs when no selection is given.
func Default() []Constructor {
	return All()
}

// Build constructs the dissectors of list in order.
func Build(list []Constructor) []dissect.Dissector {
	out := make([]dissect.Dissector, 0, len(list))
	for _, c := range list {
		out = append(out, c())
	}
	return out
}

// Select applies a selection such as "+dicom,-smb" or "dhcp,dns" to the
// default set: a bare list replaces the default set, "+name" adds a
// dissector from All, "-name" removes one. An empty spec gives Default().
func Select(spec string) ([]dissect.Dissector, error) {
	all := map[string]dissect.Dissector{}
	for _, d := range Build(All()) {
		all[d.Name()] = d
	}
	chosen := map[string]bool{}
	for _, d := range Build(Default()) {
		chosen[d.Name()] = true
	}
	spec = strings.TrimSpace(spec)
	if spec != "" {
		replaced := false
		for _, tok := range strings.Split(spec, ",") {
			tok = strings.TrimSpace(tok)
			if tok == "" {
				continue
			}
			op := byte(0)
			if tok[0] == '+' || tok[0] == '-' {
				op, tok = tok[0], tok[1:]
			}
			if _, ok := all[tok]; !ok {
				return nil, fmt.Errorf("dissector selection %q: unknown dissector %q (known: %s)", spec, tok, strings.Join(names(all), ", "))
			}
			switch op {
			case '+':
				chosen[tok] = true
			case '-':
				delete(chosen, tok)
			default:
				if !replaced {
					chosen = map[string]bool{}
					replaced = true
				}
				chosen[tok] = true
			}
		}
	}
	var out []dissect.Dissector
	for _, n := range names(all) {
		if chosen[n] {
			out = append(out, all[n])
		}
	}
	return out, nil
}

func names(m map[string]dissect.Dissector) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
