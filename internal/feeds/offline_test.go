package feeds

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/feeds/bundle"
	"github.com/medwarden/medwarden/internal/store"
)

func bundleKeys(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	privPEM, pubPEM, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := bundle.ParsePrivateKey(privPEM, "priv")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := bundle.ParsePublicKey(pubPEM, "pub")
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

// filledStore imports every kind of feed from testdata.
func filledStore(t testing.TB) store.Store {
	s := openStore(t)
	im := newImporter(t, s, Options{})
	for _, in := range []struct{ loc, kind string }{
		{filepath.Join("testdata", "csaf"), KindAuto},
		{filepath.Join("testdata", "kev_subset.json"), KindAuto},
		{filepath.Join("testdata", "epss_scores-2025-08-25.csv"), KindAuto},
		{filepath.Join("testdata", "CVE-2022-2119.json"), KindAuto},
	} {
		if _, err := im.Import(context.Background(), in.loc, in.kind); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestBundleRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := filledStore(t)
	priv, pub := bundleKeys(t)
	var buf bytes.Buffer
	m, err := WriteBundle(ctx, src, &buf, priv, time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Feeds) != 4 {
		t.Fatalf("bundle has %d feeds, want 4: %+v", len(m.Feeds), m.Feeds)
	}
	dst := openStore(t)
	res, err := newImporter(t, dst, Options{}).ImportBundle(ctx, bytes.NewReader(buf.Bytes()), "feeds.bundle", []ed25519.PublicKey{pub})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Errorf("ImportBundle results = %d, want 4", len(res))
	}
	// Same advisories, KEV, EPSS, NVD and feed dates.
	collect := func(s store.Store) (advs []*advisory.Advisory) {
		if err := s.ScanAdvisories(ctx, func(a *advisory.Advisory) error { advs = append(advs, a); return nil }); err != nil {
			t.Fatal(err)
		}
		return advs
	}
	if diff := cmp.Diff(collect(src), collect(dst)); diff != "" {
		t.Errorf("advisories after bundle (-src +dst):\n%s", diff)
	}
	k1, _ := src.KEV(ctx)
	k2, err := dst.KEV(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k1, k2); diff != "" {
		t.Errorf("KEV after bundle (-src +dst):\n%s", diff)
	}
	e1, _ := src.EPSS(ctx)
	e2, err := dst.EPSS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e1, e2); diff != "" {
		t.Errorf("EPSS after bundle (-src +dst):\n%s", diff)
	}
	f1, _ := src.ListFeeds(ctx)
	f2, _ := dst.ListFeeds(ctx)
	ign := cmpopts.IgnoreFields(store.FeedStatus{}, "Source", "ImportedAt")
	if diff := cmp.Diff(f1, f2, ign); diff != "" {
		t.Errorf("feeds after bundle (-src +dst):\n%s", diff)
	}
}

func TestBundleRejectedLoadsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	priv, _ := bundleKeys(t)
	_, wrong := bundleKeys(t)
	var buf bytes.Buffer
	if _, err := WriteBundle(ctx, filledStore(t), &buf, priv, time.Now()); err != nil {
		t.Fatal(err)
	}
	dst := openStore(t)
	_, err := newImporter(t, dst, Options{}).ImportBundle(ctx, bytes.NewReader(buf.Bytes()), "feeds.bundle", []ed25519.PublicKey{wrong})
	if !errors.Is(err, bundle.ErrBadSignature) {
		t.Fatalf("ImportBundle with the wrong key = %v", err)
	}
	if ids := storedIDs(t, dst); len(ids) != 0 {
		t.Errorf("advisories loaded from a rejected bundle: %v", ids)
	}
	if fl, _ := dst.ListFeeds(ctx); len(fl) != 0 {
		t.Errorf("feeds recorded from a rejected bundle: %+v", fl)
	}
}

func TestWriteBundleEmptyStore(t *testing.T) {
	t.Parallel()
	priv, _ := bundleKeys(t)
	if _, err := WriteBundle(context.Background(), openStore(t), &bytes.Buffer{}, priv, time.Now()); err == nil {
		t.Error("bundle of an empty store succeeded")
	}
}
