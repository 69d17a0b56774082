package auth

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// ParseTrustedProxies parses TESSERA_TRUSTED_PROXIES: comma-separated IP addresses or CIDR
// prefixes of the reverse proxies whose X-Forwarded-For is believed.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("TESSERA_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR prefix", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func trusted(list []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

const clientIPKey = "tessera.client_ip"

// clientIP is the address of the client: the TCP peer, unless the peer is a trusted proxy; then
// the right-most X-Forwarded-For entry that is not itself a trusted proxy (entries to its left
// were written by the client and prove nothing).
func clientIP(c *fiber.Ctx, proxies []netip.Prefix) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.IP()
	}
	peer = peer.Unmap()
	if len(proxies) == 0 || !trusted(proxies, peer) {
		return peer.String()
	}
	var hops []string
	for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		hops = append(hops, strings.Split(string(v), ",")...)
	}
	ip := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed entry: keep the last address a trusted hop vouched for
		}
		ip = a.Unmap()
		if !trusted(proxies, ip) {
			break
		}
	}
	return ip.String()
}

// ClientIP returns the request's client address as the auth middleware worked it out (see
// TESSERA_TRUSTED_PROXIES); use it instead of fiber's c.IP() for rate limits and audit rows.
func ClientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(clientIPKey).(string); ok && ip != "" {
		return ip
	}
	return c.IP()
}
