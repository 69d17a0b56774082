package netguard

import (
	"fmt"
	"net/netip"
)

// class names why an address is special.
type class struct {
	prefix netip.Prefix
	name   string
	// private ranges are allowed by Options.AllowPrivate.
	private bool
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// metadata addresses are refused even with AllowPrivate.
var metadata = []netip.Prefix{
	mustPrefix("169.254.169.254/32"), // AWS, GCP, Azure, OpenStack
	mustPrefix("169.254.170.2/32"),   // AWS ECS task metadata
	mustPrefix("100.100.100.200/32"), // Alibaba Cloud
	mustPrefix("fd00:ec2::254/128"),  // AWS IPv6
}

var classes = []class{
	{mustPrefix("0.0.0.0/8"), "unspecified (this network)", false},
	{mustPrefix("127.0.0.0/8"), "loopback", true},
	{mustPrefix("10.0.0.0/8"), "private (RFC 1918)", true},
	{mustPrefix("172.16.0.0/12"), "private (RFC 1918)", true},
	{mustPrefix("192.168.0.0/16"), "private (RFC 1918)", true},
	{mustPrefix("100.64.0.0/10"), "carrier-grade NAT", true},
	{mustPrefix("198.18.0.0/15"), "benchmarking", true},
	{mustPrefix("169.254.0.0/16"), "link-local", false},
	{mustPrefix("192.0.0.0/24"), "IETF protocol assignments", false},
	{mustPrefix("192.0.2.0/24"), "documentation", false},
	{mustPrefix("198.51.100.0/24"), "documentation", false},
	{mustPrefix("203.0.113.0/24"), "documentation", false},
	{mustPrefix("224.0.0.0/4"), "multicast", false},
	{mustPrefix("240.0.0.0/4"), "reserved", false}, // includes 255.255.255.255 broadcast
	{mustPrefix("::/128"), "unspecified", false},
	{mustPrefix("::1/128"), "loopback", true},
	{mustPrefix("::/96"), "IPv4-compatible (deprecated)", false},
	{mustPrefix("100::/64"), "discard", false},
	{mustPrefix("64:ff9b:1::/48"), "NAT64 local use", false},
	{mustPrefix("2001:db8::/32"), "documentation", false},
	{mustPrefix("2001::/32"), "Teredo", false},
	{mustPrefix("fc00::/7"), "unique local", true},
	{mustPrefix("fe80::/10"), "link-local", false},
	{mustPrefix("fec0::/10"), "site-local (deprecated)", false},
	{mustPrefix("ff00::/8"), "multicast", false},
}

// embedding prefixes carry an IPv4 address that is checked in turn.
var (
	nat64     = mustPrefix("64:ff9b::/96")
	sixToFour = mustPrefix("2002::/16")
)

// Check reports whether the guard refuses to connect to ip; the error wraps ErrForbidden
// and names the address class.
func (g *Guard) Check(ip netip.Addr) error {
	ip = ip.WithZone("").Unmap()
	for _, p := range g.prefixes {
		if p.Contains(ip) {
			return nil
		}
	}
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrForbidden)
	}
	for _, p := range metadata {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is a cloud metadata address", ErrForbidden, ip)
		}
	}
	if ip.Is6() {
		var v4 netip.Addr
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			v4 = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		case sixToFour.Contains(ip):
			v4 = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		}
		if v4.IsValid() {
			if err := g.Check(v4); err != nil {
				return fmt.Errorf("%s embeds %s: %w", ip, v4, err)
			}
		}
	}
	for _, c := range classes {
		if c.prefix.Contains(ip) {
			if c.private && g.opts.AllowPrivate {
				return nil
			}
			return fmt.Errorf("%w: %s is %s", ErrForbidden, ip, c.name)
		}
	}
	return nil
}

// Check reports whether the strict default guard refuses ip.
func Check(ip netip.Addr) error { return strictGuard.Check(ip) }

var strictGuard = New(Options{})
