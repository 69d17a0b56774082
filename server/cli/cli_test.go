package cli

import "testing"

func TestLocalURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8080": "http://localhost:8080", "0.0.0.0:8080": "http://localhost:8080", "[::]:9000": "http://localhost:9000",
		"10.0.0.5:8080": "http://10.0.0.5:8080", "example.com:80": "http://example.com:80", "bad": "http://bad",
	} {
		if got := localURL(addr); got != want {
			t.Errorf("localURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
