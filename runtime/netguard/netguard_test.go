package netguard_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/netguard"
)

// dnsServer is a real UDP DNS server on loopback answering A queries from a table, so the
// guard's resolver path (answers pointing at forbidden addresses) is exercised end to end.
func dnsServer(t *testing.T, answers map[string][]string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], answers); resp != nil {
				pc.WriteTo(resp, addr)
			}
		}
	}()
	server := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", server)
	}}
}

func dnsAnswer(q []byte, answers map[string][]string) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	i++ // root label
	if i+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i:])
	question := q[12 : i+4]
	name := strings.ToLower(strings.Join(labels, "."))
	var rrs [][]byte
	for _, a := range answers[name] {
		ip := netip.MustParseAddr(a)
		if (qtype == 1 && ip.Is4()) || (qtype == 28 && ip.Is6()) {
			rr := []byte{0xc0, 0x0c, 0, byte(qtype), 0, 1, 0, 0, 0, 60}
			raw := ip.AsSlice()
			rr = append(rr, 0, byte(len(raw)))
			rrs = append(rrs, append(rr, raw...))
		}
	}
	rcode := byte(0)
	if _, ok := answers[name]; !ok {
		rcode = 3 // NXDOMAIN
	}
	resp := []byte{q[0], q[1], 0x81, 0x80 | rcode, 0, 1, 0, byte(len(rrs)), 0, 0, 0, 0}
	resp = append(resp, question...)
	for _, rr := range rrs {
		resp = append(resp, rr...)
	}
	return resp
}

func TestParseHostIP(t *testing.T) {
	cases := []struct {
		host string
		want string // "" host name, "err" invalid numeric form
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0x7F.0x0.0x0.0x1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"127.0.0.1.", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
		{"[fe80::1%25eth0]", "fe80::1"},
		{"fe80::1%eth0", "fe80::1"},
		{"256.0.0.1", "err"},
		{"1.2.3.4.5", "err"},
		{"0x7g.1", "err"},
		{"08.0.0.1", "err"},
		{"4294967296", "err"},
		{"example.com", ""},
		{"1.example.com", ""},
		{"0x7f.example", ""},
	}
	for _, tc := range cases {
		ip, ok, err := netguard.ParseHostIP(tc.host)
		got := ""
		switch {
		case err != nil:
			got = "err"
			if !errors.Is(err, netguard.ErrForbidden) {
				t.Errorf("%s: error %v does not wrap ErrForbidden", tc.host, err)
			}
		case ok:
			got = ip.String()
		}
		if got != tc.want {
			t.Errorf("ParseHostIP(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}

func TestCheckAddressClasses(t *testing.T) {
	strict := netguard.New(netguard.Options{})
	private := netguard.New(netguard.Options{AllowPrivate: true})
	listed := netguard.New(netguard.Options{AllowHosts: []string{"10.9.0.0/16", "169.254.169.254"}})
	cases := []struct {
		ip                        string
		strict, private, listedOK bool // true = allowed
	}{
		{"93.184.216.34", true, true, true},
		{"2606:4700::1111", true, true, true},
		{"127.0.0.1", false, true, false},
		{"127.255.255.254", false, true, false},
		{"10.0.0.1", false, true, false},
		{"10.9.1.2", false, true, true},
		{"172.16.5.4", false, true, false},
		{"172.32.0.1", true, true, true},
		{"192.168.1.1", false, true, false},
		{"100.64.0.1", false, true, false},
		{"169.254.1.1", false, false, false},
		{"169.254.169.254", false, false, true},
		{"100.100.100.200", false, false, false},
		{"fd00:ec2::254", false, false, false},
		{"::ffff:169.254.169.254", false, false, true},
		{"::ffff:127.0.0.1", false, true, false},
		{"::ffff:10.0.0.1", false, true, false},
		{"::127.0.0.1", false, false, false},
		{"64:ff9b::7f00:1", false, true, false},
		{"64:ff9b::5db8:d822", true, true, true},
		{"2002:7f00:1::1", false, true, false},
		{"2002:a9fe:a9fe::1", false, false, true},
		{"::1", false, true, false},
		{"fc00::1", false, true, false},
		{"fe80::1", false, false, false},
		{"224.0.0.1", false, false, false},
		{"ff02::1", false, false, false},
		{"0.0.0.0", false, false, false},
		{"::", false, false, false},
		{"255.255.255.255", false, false, false},
		{"240.0.0.1", false, false, false},
	}
	for _, tc := range cases {
		ip := netip.MustParseAddr(tc.ip)
		for _, g := range []struct {
			name  string
			guard *netguard.Guard
			want  bool
		}{{"strict", strict, tc.strict}, {"allow-private", private, tc.private}, {"allow-list", listed, tc.listedOK}} {
			err := g.guard.Check(ip)
			if (err == nil) != g.want {
				t.Errorf("%s guard, %s: err=%v, want allowed=%v", g.name, tc.ip, err, g.want)
			}
			if err != nil && !errors.Is(err, netguard.ErrForbidden) {
				t.Errorf("%s: %v does not wrap ErrForbidden", tc.ip, err)
			}
		}
	}
}

// TestClientAgainstLoopbackListener runs real requests against a server on 127.0.0.1 in
// every host form, through the strict guard (refused), an allow-list and AllowPrivate.
func TestClientAgainstLoopbackListener(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer target.Close()
	port := target.Listener.Addr().(*net.TCPAddr).Port
	hops := 0
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-loopback":
			http.Redirect(w, r, fmt.Sprintf("http://127.0.0.1:%d/", port), http.StatusFound)
		case "/to-decimal":
			http.Redirect(w, r, fmt.Sprintf("http://2130706433:%d/", port), http.StatusFound)
		case "/to-evil":
			http.Redirect(w, r, fmt.Sprintf("http://evil.test:%d/", port), http.StatusTemporaryRedirect)
		case "/loop":
			hops++
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			io.WriteString(w, "front")
		}
	}))
	defer redirector.Close()
	rport := redirector.Listener.Addr().(*net.TCPAddr).Port

	resolver := dnsServer(t, map[string][]string{
		"evil.test":    {"127.0.0.1"},
		"mixed.test":   {"127.0.0.1", "169.254.169.254"},
		"meta.test":    {"169.254.169.254"},
		"mapped.test":  {"::ffff:127.0.0.1"},
		"allowed.test": {"127.0.0.1"},
	})
	u := func(host string) string { return fmt.Sprintf("http://%s:%d/", host, port) }
	ru := func(path string) string { return fmt.Sprintf("http://allowed.test:%d%s", rport, path) }

	strict := netguard.Options{Resolver: resolver, AllowHosts: []string{"allowed.test"}, Timeout: 5 * time.Second}
	listed := netguard.Options{Resolver: resolver, AllowHosts: []string{"allowed.test", "127.0.0.1"}, Timeout: 5 * time.Second}
	private := netguard.Options{Resolver: resolver, AllowHosts: []string{"allowed.test"}, AllowPrivate: true, Timeout: 5 * time.Second}

	const ok, no = "ok", "forbidden"
	cases := []struct {
		name, url               string
		strict, listed, private string
	}{
		{"dotted loopback", u("127.0.0.1"), no, ok, ok},
		{"trailing dot", u("127.0.0.1."), no, ok, ok},
		{"decimal", u("2130706433"), no, ok, ok},
		{"octal", u("0177.0.0.1"), no, ok, ok},
		{"hex short", u("0x7f.1"), no, ok, ok},
		{"hex long", u("0x7f000001"), no, ok, ok},
		{"two parts", u("127.1"), no, ok, ok},
		{"IPv4-mapped IPv6", u("[::ffff:127.0.0.1]"), no, ok, ok},
		{"NAT64 loopback", u("[64:ff9b::7f00:1]"), no, "skip", "skip"},
		{"DNS answer loopback", u("evil.test"), no, ok, ok},
		{"DNS answer mixed", u("mixed.test"), no, no, no},
		{"DNS answer mapped", u("mapped.test"), no, ok, ok},
		{"DNS answer metadata", u("meta.test"), no, no, no},
		{"metadata", "http://169.254.169.254/latest/meta-data/", no, no, no},
		{"metadata IPv6", "http://[fd00:ec2::254]/", no, no, no},
		{"metadata mapped", "http://[::ffff:a9fe:a9fe]/", no, no, no},
		{"unspecified", u("0.0.0.0"), no, no, no},
		{"unspecified short", u("0"), no, no, no},
		{"link-local v6", "http://[fe80::1]/", no, no, no},
		{"invalid numeric", u("0x7g.1"), no, no, no},
		{"allow-listed name", ru("/"), "front", "front", "front"},
		{"redirect to loopback", ru("/to-loopback"), no, ok, ok},
		{"redirect to decimal", ru("/to-decimal"), no, ok, ok},
		{"redirect to DNS loopback", ru("/to-evil"), no, ok, ok},
	}
	for _, tc := range cases {
		for _, g := range []struct {
			name string
			opts netguard.Options
			want string
		}{{"strict", strict, tc.strict}, {"allow-list", listed, tc.listed}, {"allow-private", private, tc.private}} {
			if g.want == "skip" {
				continue // allowed by the guard but not routable here
			}
			t.Run(tc.name+"/"+g.name, func(t *testing.T) {
				c := netguard.NewClient(g.opts)
				resp, err := c.Get(tc.url)
				got := ""
				if err != nil {
					got = "error: " + err.Error()
					if errors.Is(err, netguard.ErrForbidden) {
						got = no
					}
				} else {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					got = string(b)
				}
				if got != g.want {
					t.Fatalf("GET %s = %q, want %q", tc.url, got, g.want)
				}
			})
		}
	}

	t.Run("redirect limit", func(t *testing.T) {
		hops = 0
		_, err := netguard.NewClient(private).Get(ru("/loop"))
		if err == nil || !strings.Contains(err.Error(), "stopped after 5 redirects") || hops != 6 {
			t.Fatalf("err=%v hops=%d", err, hops)
		}
	})
	t.Run("raw dial for SMTP-like protocols", func(t *testing.T) {
		g := netguard.New(strict)
		if _, err := g.DialContext(context.Background(), "tcp", fmt.Sprintf("127.0.0.1:%d", port)); !errors.Is(err, netguard.ErrForbidden) {
			t.Fatalf("want forbidden, got %v", err)
		}
		if _, err := g.DialContext(context.Background(), "udp", "8.8.8.8:53"); !errors.Is(err, netguard.ErrForbidden) {
			t.Fatalf("udp: %v", err)
		}
		c, err := netguard.New(listed).DialContext(context.Background(), "tcp", fmt.Sprintf("0x7f.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
}

// TestParseOptions: the administrator's allow-list settings are parsed strictly, so a typo
// stops the server at start instead of leaving a host silently blocked (or allowed).
func TestParseOptions(t *testing.T) {
	cases := []struct {
		hosts, private string
		want           []string // allowed hosts; nil with wantErr
		wantPrivate    bool
		wantErr        string
	}{
		{"", "", nil, false, ""},
		{"crm.intra, *.intra.example.com,10.0.0.0/8,192.168.1.5,[fd00::1],::1", "1", []string{"crm.intra", "*.intra.example.com", "10.0.0.0/8", "192.168.1.5", "[fd00::1]", "::1"}, true, ""},
		{"localhost", "true", []string{"localhost"}, true, ""},
		{"erp_host.local", "0", []string{"erp_host.local"}, false, ""},
		{"内部.公司", "", []string{"内部.公司"}, false, ""},
		{"localhost:8080", "", nil, false, "has a port"},
		{"http://crm.intra", "", nil, false, "has a scheme"},
		{"10.0.0.0/33", "", nil, false, "not a CIDR"},
		{"crm.intra/api", "", nil, false, "not a CIDR"},
		{"*", "", nil, false, "not a host name"},
		{"a..b", "", nil, false, "not a host name"},
		{"", "yes", nil, false, "TESSERA_NET_ALLOW_PRIVATE"},
	}
	for _, tc := range cases {
		t.Run(tc.hosts+"|"+tc.private, func(t *testing.T) {
			o, err := netguard.ParseOptions(tc.hosts, tc.private)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(o.AllowHosts) != fmt.Sprint(tc.want) || o.AllowPrivate != tc.wantPrivate {
				t.Fatalf("got %v %v", o.AllowHosts, o.AllowPrivate)
			}
		})
	}
}

// TestRefusalIsBilingual: the refusal users see names the way out in en and zh-CN.
func TestRefusalIsBilingual(t *testing.T) {
	err := netguard.Check(netip.MustParseAddr("127.0.0.1"))
	if !errors.Is(err, netguard.ErrForbidden) || !strings.Contains(err.Error(), "not allowed") ||
		!strings.Contains(err.Error(), "不允许访问") || !strings.Contains(err.Error(), "TESSERA_NET_ALLOW_HOSTS") || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("refusal %v", err)
	}
}
