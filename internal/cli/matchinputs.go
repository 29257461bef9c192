package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/inventory"
)

// matchInputs are the flags shared by the verbs that match an inventory
// against advisories (match, risk): --inventory, --advisories, --kev, --epss.
type matchInputs struct {
	inventory  string
	advisories multiFlag
	kev, epss  string
}

func addMatchInputs(fs *flag.FlagSet) *matchInputs {
	in := &matchInputs{}
	fs.StringVar(&in.inventory, "inventory", "", "inventory file (canonical CSV; JSON and FHIR are detected)")
	fs.Var(&in.advisories, "advisories", "CSAF file or directory (repeatable; extra arguments are more paths)")
	fs.StringVar(&in.kev, "kev", "", "CISA KEV catalog JSON")
	fs.StringVar(&in.epss, "epss", "", "EPSS scores CSV (optionally gzipped)")
	return in
}

// check takes the positional arguments as more advisory paths and reports
// a missing required flag.
func (in *matchInputs) check(pos []string) error {
	in.advisories = append(in.advisories, pos...)
	switch {
	case in.inventory == "":
		return usageErr("--inventory is required")
	case len(in.advisories) == 0:
		return usageErr("--advisories is required")
	}
	return nil
}

// loadedInputs is what matchInputs names, read and parsed. KEV and EPSS
// are nil when not given.
type loadedInputs struct {
	devices []*inventory.Device
	advs    []*advisory.Advisory
	kev     *kev.Catalog
	epss    *epss.File
}

// load reads every input and prints each feed's date on stderr, or the
// verb's warning when a feed was not given: a missing feed must never look
// like "no findings".
func (in *matchInputs) load(ctx context.Context, env *Env, noKEV, noEPSS string) (*loadedInputs, error) {
	var l loadedInputs
	var err error
	if l.devices, err = readInventory(in.inventory); err != nil {
		return nil, err
	}
	if l.advs, err = readAdvisories(ctx, env, in.advisories); err != nil {
		return nil, err
	}
	if in.kev != "" {
		if l.kev, err = readFeed(in.kev, func(r io.Reader) (*kev.Catalog, error) { return kev.Parse(r, in.kev, 0) }); err != nil {
			return nil, err
		}
		fmt.Fprintf(env.Stderr, "feed KEV: %s, catalog %s released %s, %d entries\n", in.kev, l.kev.CatalogVersion, l.kev.DateReleased.Format(time.DateOnly), len(l.kev.Entries))
	} else {
		fmt.Fprintf(env.Stderr, "WARNING: no KEV data (--kev not given): %s\n", noKEV)
	}
	if in.epss != "" {
		if l.epss, err = readFeed(in.epss, func(r io.Reader) (*epss.File, error) { return epss.Parse(r, in.epss, 0) }); err != nil {
			return nil, err
		}
		date := "unknown date"
		if !l.epss.ScoreDate.IsZero() {
			date = l.epss.ScoreDate.Format(time.DateOnly)
		}
		model := l.epss.ModelVersion
		if model == "" {
			model = "unknown"
		}
		fmt.Fprintf(env.Stderr, "feed EPSS: %s, model %s, scores of %s, %d CVEs\n", in.epss, model, date, len(l.epss.Scores))
	} else {
		fmt.Fprintf(env.Stderr, "WARNING: no EPSS data (--epss not given): %s\n", noEPSS)
	}
	return &l, nil
}
