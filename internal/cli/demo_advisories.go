package cli

import (
	"bytes"
	"context"
	"fmt"

	"github.com/medwarden/medwarden/internal/advisory/csaf"
	"github.com/medwarden/medwarden/internal/demo/advisories"
	"github.com/medwarden/medwarden/internal/store"
)

// demoFeed is the feed name of the demo's embedded advisories.
const demoFeed = "csaf:demo-icsma"

// loadDemoAdvisories stores the embedded CISA ICSMA advisories (one feed
// import), so that the demo hospital has real findings: the findings
// service computes them when the server starts. It returns how many were
// loaded.
func loadDemoAdvisories(ctx context.Context, st store.Store) (int, error) {
	files, err := advisories.Files()
	if err != nil {
		return 0, fmt.Errorf("demo advisories: %w", err)
	}
	v, err := csaf.NewValidator(csaf.Options{})
	if err != nil {
		return 0, err
	}
	err = st.ImportFeeds(ctx, func(tx store.FeedTx) error {
		status := store.FeedStatus{Name: demoFeed, Kind: store.FeedCSAF, Source: "embedded CISA ICSMA advisories (internal/demo/advisories)"}
		for _, f := range files {
			a, _, err := v.ParseAdvisory(bytes.NewReader(f.Data), f.Name)
			if err != nil || a == nil {
				return fmt.Errorf("demo advisory %s: %v", f.Name, err)
			}
			a.Source = "demo:" + f.Name
			if err := tx.PutAdvisory(ctx, a, demoFeed); err != nil {
				return err
			}
			if a.CurrentRelease.After(status.FeedDate) {
				status.FeedDate = a.CurrentRelease
			}
		}
		status.ImportedAt, status.Items = store.Now(), int64(len(files))
		return tx.SetFeed(ctx, status)
	})
	if err != nil {
		return 0, err
	}
	return len(files), nil
}
