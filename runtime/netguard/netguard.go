// Package netguard is the SSRF guard for outgoing connections made on behalf of users
// (HTTP connectors, webhooks, script http, SMTP): it resolves the host itself, checks every
// address it would connect to, and dials exactly the address it checked.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
)

// ErrForbidden is wrapped by every refusal of the guard. Its text (en and zh-CN) reaches users
// in connection tests and run errors, so it says how an administrator allows a host.
var ErrForbidden = errors.New("netguard: destination not allowed (an administrator can allow it with TESSERA_NET_ALLOW_HOSTS) / 不允许访问该地址（管理员可通过 TESSERA_NET_ALLOW_HOSTS 放行）")

// Options configure a Guard. The zero value is the strict production guard.
type Options struct {
	// AllowHosts lists destinations an administrator trusts: host names ("crm.intra",
	// case-insensitive), wildcard suffixes ("*.intra.example.com"), IP addresses
	// ("10.1.2.3") or CIDR prefixes ("10.0.0.0/8"). A listed name may resolve to any address.
	AllowHosts []string
	// AllowPrivate allows loopback, RFC 1918, unique-local, CGNAT and benchmarking ranges.
	// Cloud metadata, link-local, multicast, unspecified and reserved addresses stay refused
	// unless listed in AllowHosts.
	AllowPrivate bool
	// Timeout bounds a whole request including redirects (default 30 s).
	Timeout time.Duration
	// DialTimeout bounds one connection attempt (default 10 s).
	DialTimeout time.Duration
	// MaxRedirects is the redirect limit (default 5; negative disables redirects).
	MaxRedirects int
	// Resolver resolves host names (default net.DefaultResolver).
	Resolver *net.Resolver
}

// Guard checks and dials destinations.
type Guard struct {
	opts     Options
	names    map[string]bool
	suffixes []string
	prefixes []netip.Prefix
	client   *http.Client
}

// New returns a guard for opts.
func New(opts Options) *Guard {
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.MaxRedirects == 0 {
		opts.MaxRedirects = 5
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	g := &Guard{opts: opts, names: map[string]bool{}}
	for _, h := range opts.AllowHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case h == "":
		case strings.HasPrefix(h, "*."):
			g.suffixes = append(g.suffixes, h[1:])
		case strings.Contains(h, "/"):
			if p, err := netip.ParsePrefix(h); err == nil {
				g.prefixes = append(g.prefixes, p.Masked())
			}
		default:
			if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
				g.prefixes = append(g.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			} else {
				g.names[strings.TrimSuffix(h, ".")] = true
			}
		}
	}
	g.client = g.newClient()
	return g
}

// NewClient returns an HTTP client whose every connection, including each redirect hop,
// goes through a Guard built from opts.
func NewClient(opts Options) *http.Client { return New(opts).Client() }

// Client returns the HTTP client dialing through g (one per guard, so connections are
// reused). It ignores proxy environment variables (a proxy would connect on the guard's
// behalf) and follows at most MaxRedirects redirects. Callers may copy the struct to change
// CheckRedirect or Timeout; the transport stays guarded.
func (g *Guard) Client() *http.Client { return g.client }

func (g *Guard) newClient() *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           g.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          50,
		IdleConnTimeout:       60 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: g.opts.Timeout,
	}
	max := g.opts.MaxRedirects
	return &http.Client{
		Transport: tr,
		Timeout:   g.opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if max < 0 || len(via) > max {
				return fmt.Errorf("netguard: stopped after %d redirects", len(via)-1)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("%w: redirect to scheme %q", ErrForbidden, req.URL.Scheme)
			}
			StripOnRedirect(req, via)
			return nil
		},
	}
}

// redirectSafeHeaders are the request headers kept when a redirect leaves the first request's
// origin: none of them can carry a credential.
var redirectSafeHeaders = map[string]bool{
	"Accept": true, "Accept-Encoding": true, "Accept-Language": true, "Cache-Control": true,
	"Content-Language": true, "Content-Type": true, "Pragma": true, "User-Agent": true,
}

// StripOnRedirect makes a redirect hop leak nothing: it never sends a Referer (net/http adds the
// previous URL, query string and all, where a credential's API key may sit), and when the hop
// leaves the first request's origin (scheme, host and port) it drops every header but a few
// harmless ones — Authorization (net/http keeps it for another port of the same host), cookies,
// API-key headers and whatever else the caller set. The client's CheckRedirect calls it; a
// caller replacing CheckRedirect should call it too.
func StripOnRedirect(req *http.Request, via []*http.Request) {
	req.Header.Del("Referer")
	if len(via) == 0 || sdk.SameOrigin(req.URL, via[0].URL) {
		return
	}
	for k := range req.Header {
		if !redirectSafeHeaders[http.CanonicalHeaderKey(k)] {
			delete(req.Header, k)
		}
	}
}

// DialContext resolves address's host, refuses forbidden destinations and dials the checked
// IP address itself, so a second DNS answer cannot swap the target (no TOCTOU). It can be
// used directly for non-HTTP protocols (SMTP).
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("%w: network %q", ErrForbidden, network)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("netguard: dialing %q: %w", address, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("%w: bad port %q", ErrForbidden, port)
	}
	ips, trustedName, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	if !trustedName {
		for _, ip := range ips {
			if err := g.Check(ip); err != nil {
				return nil, fmt.Errorf("%s resolves to %s: %w", host, ip, err)
			}
		}
	}
	d := &net.Dialer{Timeout: g.opts.DialTimeout, KeepAlive: 30 * time.Second}
	if !trustedName {
		// Defence in depth: check the socket's actual peer address once more.
		d.Control = func(_, addr string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(addr)
			if err != nil {
				return fmt.Errorf("%w: unparsable peer %q", ErrForbidden, addr)
			}
			return g.Check(ap.Addr())
		}
	}
	var firstErr error
	for _, ip := range ips {
		ip = ip.Unmap()
		if network == "tcp4" && !ip.Is4() || network == "tcp6" && ip.Is4() {
			continue
		}
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("netguard: no %s address for %s", network, host)
	}
	return nil, firstErr
}

// resolve turns host into addresses. trusted is true when the host name itself is
// allow-listed (any answer is then accepted).
func (g *Guard) resolve(ctx context.Context, host string) (ips []netip.Addr, trusted bool, err error) {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "" {
		return nil, false, fmt.Errorf("%w: empty host", ErrForbidden)
	}
	if ip, ok, err := ParseHostIP(h); err != nil {
		return nil, false, err
	} else if ok {
		return []netip.Addr{ip}, false, nil
	}
	trusted = g.names[h]
	for _, s := range g.suffixes {
		if strings.HasSuffix(h, s) {
			trusted = true
		}
	}
	ips, err = g.opts.Resolver.LookupNetIP(ctx, "ip", h)
	if err != nil {
		return nil, false, fmt.Errorf("netguard: resolving %s: %w", h, err)
	}
	if len(ips) == 0 {
		return nil, false, fmt.Errorf("netguard: %s has no addresses", h)
	}
	for i := range ips {
		ips[i] = ips[i].WithZone("")
	}
	return ips, trusted, nil
}

// ParseHostIP parses a URL host as an IP address the way browsers and inet_aton do: IPv6
// literals (with or without brackets or zone), dotted IPv4 with 1 to 4 parts each in
// decimal, octal (leading 0) or hex (0x), e.g. "2130706433", "0177.0.0.1", "0x7f.1".
// ok is false for host names; err is set when the host looks numeric but is not a valid
// address (browsers refuse those too).
func ParseHostIP(host string) (ip netip.Addr, ok bool, err error) {
	h := strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.Contains(h, ":") {
		if i := strings.IndexByte(h, '%'); i >= 0 {
			h = h[:i]
		}
		a, err := netip.ParseAddr(h)
		if err != nil {
			return netip.Addr{}, false, fmt.Errorf("%w: bad IPv6 literal %q", ErrForbidden, host)
		}
		return a, true, nil
	}
	parts := strings.Split(h, ".")
	last := parts[len(parts)-1]
	if !numericLabel(last) {
		return netip.Addr{}, false, nil // a host name
	}
	if len(parts) > 4 {
		return netip.Addr{}, false, fmt.Errorf("%w: bad IPv4 form %q", ErrForbidden, host)
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, err := parseIPv4Part(p)
		if err != nil {
			return netip.Addr{}, false, fmt.Errorf("%w: bad IPv4 form %q", ErrForbidden, host)
		}
		nums[i] = n
	}
	var v uint64
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false, fmt.Errorf("%w: bad IPv4 form %q", ErrForbidden, host)
		}
		v |= n << (24 - 8*uint(i))
	}
	rest := nums[len(nums)-1]
	if rest >= 1<<(8*uint(5-len(nums))) {
		return netip.Addr{}, false, fmt.Errorf("%w: bad IPv4 form %q", ErrForbidden, host)
	}
	v |= rest
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true, nil
}

// numericLabel reports whether a label is a number in the WHATWG sense (decimal digits, or
// 0x followed by hex digits): such a last label makes the host an IPv4 address.
func numericLabel(s string) bool {
	if s == "" {
		return false
	}
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		for _, c := range s[2:] {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
		return true
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parseIPv4Part(p string) (uint64, error) {
	switch {
	case p == "":
		return 0, errors.New("empty part")
	case len(p) >= 2 && (p[:2] == "0x" || p[:2] == "0X"):
		if len(p) == 2 {
			return 0, nil
		}
		return strconv.ParseUint(p[2:], 16, 32)
	case len(p) > 1 && p[0] == '0':
		return strconv.ParseUint(p[1:], 8, 32)
	default:
		return strconv.ParseUint(p, 10, 32)
	}
}
