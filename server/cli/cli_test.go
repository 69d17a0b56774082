package cli

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/tessera/tessera/server/config"
)

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

// Help answers on stdout with exit 0 and lists every environment variable; misuse exits 2.
func TestHelpListsEveryVariable(t *testing.T) {
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"tessera", "serve", "--help"}, 0},
		{[]string{"tessera", "serve", "-h"}, 0},
		{[]string{"tessera", "--help"}, 0},
		{[]string{"tessera", "help"}, 0},
		{[]string{"tessera", "bogus"}, 2},
	}
	for _, c := range cases {
		out := captureStdout(t, func() {
			if code := Main(c.args); code != c.code {
				t.Errorf("%v: exit %d, want %d", c.args, code, c.code)
			}
		})
		if c.code != 0 {
			continue
		}
		for _, v := range config.Vars {
			if !strings.Contains(out, v.Name) {
				t.Errorf("%v: the help lacks %s", c.args, v.Name)
			}
		}
	}
}

func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	f()
	os.Stdout = old
	w.Close()
	return <-done
}

func TestHealthcheck(t *testing.T) {
	ready := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	cases := []struct {
		addr  string
		ready bool
		want  int
	}{
		{"127.0.0.1:" + port, true, 0},
		{":" + port, true, 0},
		{"0.0.0.0:" + port, true, 0},
		{"127.0.0.1:" + port, false, 1},
		{"127.0.0.1:1", true, 1},
	}
	for _, c := range cases {
		ready = c.ready
		if got := healthcheck(c.addr); got != c.want {
			t.Errorf("healthcheck(%q) ready=%v = %d, want %d", c.addr, c.ready, got, c.want)
		}
	}
}
