package feeds

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// ErrPrivateAddress is returned when a feed URL's host resolves to an
// address inside the hospital network or the machine itself.
var ErrPrivateAddress = errors.New("destination is a private, loopback, link-local or otherwise internal address (allow it with --allow-net CIDR)")

// internalNets are the destinations a feed fetch may not reach unless
// explicitly allowed: the host-name allow-list alone is not enough,
// because an allowed name can resolve (or be re-pointed by DNS) to an
// internal address.
var internalNets = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "64:ff9b:1::/48",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// internalAddr reports whether a is an address a fetch must not reach
// by default. IPv4-mapped IPv6 addresses are judged as IPv4.
func internalAddr(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range internalNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// destinationGuard returns a net.Dialer Control that refuses connections
// to internal addresses unless they are inside allowNets or are one of the
// IP literals on the host allow-list (an operator who allow-lists
// 10.1.2.3 means it). It runs after name resolution, on the address
// actually dialled, so DNS answers (and rebinding) cannot bypass it.
func destinationGuard(allowHosts []string, allowNets []netip.Prefix) func(network, address string, c syscall.RawConn) error {
	nets := append([]netip.Prefix(nil), allowNets...)
	for _, h := range allowHosts {
		h = strings.TrimSpace(h)
		if hp, err := netip.ParseAddrPort(h); err == nil {
			h = hp.Addr().String()
		} else if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		h = strings.Trim(h, "[]")
		if a, err := netip.ParseAddr(h); err == nil {
			a = a.Unmap()
			nets = append(nets, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("dial %s: %w", address, err)
		}
		a := ap.Addr().Unmap()
		if !internalAddr(a) {
			return nil
		}
		for _, p := range nets {
			if p.Contains(a) {
				return nil
			}
		}
		return fmt.Errorf("dial %s: %w", address, ErrPrivateAddress)
	}
}

// ParseNets reads CIDR prefixes (or single addresses) for Options.AllowNets.
func ParseNets(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--allow-net %q: want a CIDR prefix like 10.20.0.0/16 or an address", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
