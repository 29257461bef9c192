package feeds

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestDestinationGuard(t *testing.T) {
	t.Parallel()
	nets, err := ParseNets([]string{"10.20.0.0/16", "fd00::5"})
	if err != nil {
		t.Fatal(err)
	}
	guard := destinationGuard([]string{"csaf.example.org", "192.168.7.7", "[fe80::1]:8443"}, nets)
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"93.184.216.34:443", true},          // public
		{"[2606:4700::6810:84e5]:443", true}, // public IPv6
		{"127.0.0.1:443", false},             // loopback
		{"[::1]:443", false},
		{"10.1.2.3:443", false},          // hospital network
		{"10.20.30.40:443", true},        // inside --allow-net
		{"172.16.5.5:80", false},         // private
		{"192.168.7.7:443", true},        // an IP literal on the host allow-list
		{"192.168.7.8:443", false},       // its neighbour is not
		{"169.254.169.254:80", false},    // cloud metadata, link-local
		{"100.64.1.1:443", false},        // carrier-grade NAT
		{"[::ffff:10.1.2.3]:443", false}, // IPv4-mapped private
		{"[fd00::5]:443", true},          // allowed single address
		{"[fd00::6]:443", false},         // unique-local
		{"[fe80::1]:8443", true},         // literal with port on the allow-list
		{"0.0.0.0:80", false},
		{"224.0.0.1:80", false},
	} {
		err := guard("tcp", tc.addr, nil)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrPrivateAddress)) {
			t.Errorf("%s: %v, want allowed=%v", tc.addr, err, tc.ok)
		}
	}
	if _, err := ParseNets([]string{"hospital"}); err == nil {
		t.Error("ParseNets accepted a name")
	}
}

// TestAllowedNameResolvingToLoopbackIsRefused: a host NAME on the
// allow-list that resolves to an internal address (here localhost →
// 127.0.0.1, as a hostile or mistaken DNS answer would) is refused after
// resolution; allowing the range explicitly lets it through.
func TestAllowedNameResolvingToLoopbackIsRefused(t *testing.T) {
	t.Parallel()
	srv := serve(t)
	base := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	srv.tree = buildTree(t, base, csafDocs(t), treeOpts{sign: true})
	loc := base + "/.well-known/csaf/provider-metadata.json"
	s := openStore(t)
	im := newImporter(t, s, Options{AllowHosts: []string{"localhost"}})
	_, err := im.Import(context.Background(), loc, KindAuto)
	if err == nil || !errors.Is(err, ErrPrivateAddress) || !strings.Contains(err.Error(), "--allow-net") {
		t.Fatalf("Import via an allowed name that resolves to loopback = %v, want ErrPrivateAddress", err)
	}
	if srv.docHits() != 0 {
		t.Errorf("%d documents fetched despite the refusal", srv.docHits())
	}
	im = newImporter(t, s, Options{AllowHosts: []string{"localhost"}, AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	if _, err := im.Import(context.Background(), loc, KindAuto); err != nil {
		t.Fatalf("with --allow-net 127.0.0.0/8: %v", err)
	}
}
