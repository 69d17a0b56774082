package netguard

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// OptionsFromEnv reads the administrator's guard settings: TESSERA_NET_ALLOW_HOSTS
// (comma-separated host names, *.suffixes, IPs or CIDRs) and TESSERA_NET_ALLOW_PRIVATE
// (1/true/0/false). A malformed setting is an error naming the variable and the entry, so a
// typo ("localhost:8080", "http://crm.intra", "10.0.0.0/33", "yes") stops the server at start
// instead of being silently ignored.
func OptionsFromEnv() (Options, error) {
	return ParseOptions(os.Getenv("TESSERA_NET_ALLOW_HOSTS"), os.Getenv("TESSERA_NET_ALLOW_PRIVATE"))
}

// ParseOptions parses the values of TESSERA_NET_ALLOW_HOSTS and TESSERA_NET_ALLOW_PRIVATE.
func ParseOptions(allowHosts, allowPrivate string) (Options, error) {
	var o Options
	for _, h := range strings.Split(allowHosts, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if err := checkAllowEntry(h); err != nil {
			return Options{}, fmt.Errorf("TESSERA_NET_ALLOW_HOSTS: %q %w (write a host name, *.suffix, IP address or CIDR, without scheme, port or path / 应为主机名、*.后缀、IP 地址或 CIDR，不带协议、端口或路径)", h, err)
		}
		o.AllowHosts = append(o.AllowHosts, h)
	}
	if v := strings.TrimSpace(allowPrivate); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Options{}, fmt.Errorf("TESSERA_NET_ALLOW_PRIVATE: %q is not 1 or 0 (true or false) / 应为 1 或 0", v)
		}
		o.AllowPrivate = b
	}
	return o, nil
}

// checkAllowEntry reports why h is not a valid allow-list entry.
func checkAllowEntry(h string) error {
	switch {
	case strings.Contains(h, "://"):
		return fmt.Errorf("has a scheme")
	case strings.Contains(h, "/"):
		if _, err := netip.ParsePrefix(h); err != nil {
			return fmt.Errorf("is not a CIDR prefix")
		}
		return nil
	}
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return nil
	}
	name := strings.TrimPrefix(strings.TrimSuffix(h, "."), "*.")
	if name == "" || strings.Contains(name, "*") {
		return fmt.Errorf("is not a host name")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("is not a host name")
		}
		for _, c := range label {
			if !(c > 127 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				if c == ':' {
					return fmt.Errorf("has a port")
				}
				return fmt.Errorf("is not a host name")
			}
		}
	}
	return nil
}
