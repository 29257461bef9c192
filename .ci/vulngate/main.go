// Command vulngate reads 'govulncheck -format json' on standard input and
// fails (exit 1) when the code calls a vulnerable function of a required
// module. Called vulnerabilities of the standard library are listed as
// warnings: they are fixed by a newer Go toolchain, not by this
// repository (see docs/SECURITY.md, "Dependency vulnerabilities").
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	dec := json.NewDecoder(os.Stdin)
	called := map[string]string{} // osv -> module@version (fixed)
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "vulngate: reading govulncheck output:", err)
			os.Exit(2)
		}
		if m.Finding == nil || len(m.Finding.Trace) == 0 || m.Finding.Trace[0].Function == "" {
			continue // imported or required but not called
		}
		t := m.Finding.Trace[0]
		called[m.Finding.OSV] = fmt.Sprintf("%s@%s (fixed in %s)", t.Module, t.Version, m.Finding.FixedVersion)
	}
	var std, mods []string
	for id, where := range called {
		line := id + " in " + where
		if len(where) >= 6 && where[:6] == "stdlib" {
			std = append(std, line)
		} else {
			mods = append(mods, line)
		}
	}
	sort.Strings(std)
	sort.Strings(mods)
	for _, l := range std {
		fmt.Println("WARNING (Go toolchain):", l)
	}
	for _, l := range mods {
		fmt.Println("VULNERABLE (module, called):", l)
	}
	fmt.Printf("vulngate: %d called vulnerabilities in required modules, %d in the standard library\n", len(mods), len(std))
	if len(mods) > 0 {
		os.Exit(1)
	}
}
