package netguard

import (
	"os"
	"strings"
)

// OptionsFromEnv reads the administrator's guard settings: TESSERA_NET_ALLOW_HOSTS
// (comma-separated host names, *.suffixes, IPs or CIDRs) and TESSERA_NET_ALLOW_PRIVATE=1.
func OptionsFromEnv() Options {
	var o Options
	for _, h := range strings.Split(os.Getenv("TESSERA_NET_ALLOW_HOSTS"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			o.AllowHosts = append(o.AllowHosts, h)
		}
	}
	o.AllowPrivate = os.Getenv("TESSERA_NET_ALLOW_PRIVATE") == "1"
	return o
}
