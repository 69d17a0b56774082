package netguard_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tessera/tessera/runtime/netguard"
	"github.com/tessera/tessera/runtime/script"
)

// TestRedirectsLeakNoSecret: through the guarded client (connectors, scripts' and JS plugins'
// http.fetch) a redirect hop never carries a Referer, and a hop to another origin (a second
// loopback server on another port) receives none of the caller's credentials: Authorization
// (which net/http keeps for another port of the same host), cookies, API-key headers.
func TestRedirectsLeakNoSecret(t *testing.T) {
	var mu sync.Mutex
	got := map[string]http.Header{}
	record := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[name] = r.Header.Clone()
			mu.Unlock()
			w.Write([]byte("{}"))
		}
	}
	other := httptest.NewServer(record("other"))
	defer other.Close()
	var home *httptest.Server
	home = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/landing?"+r.URL.RawQuery, http.StatusFound)
		case "/stay":
			http.Redirect(w, r, "/landing", http.StatusFound)
		default:
			record("home")(w, r)
		}
	}))
	defer home.Close()
	client := netguard.New(netguard.Options{AllowPrivate: true}).Client()
	secrets := map[string]string{
		"Authorization":       "Bearer SECRET-1",
		"Cookie":              "sid=SECRET-2",
		"X-Api-Key":           "SECRET-3",
		"Proxy-Authorization": "Basic SECRET-4",
	}
	do := map[string]func(t *testing.T, url string){
		"client": func(t *testing.T, url string) {
			req, _ := http.NewRequest("GET", url, nil)
			for k, v := range secrets {
				req.Header.Set(k, v)
			}
			req.Header.Set("Accept", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		},
		"http.fetch": func(t *testing.T, url string) {
			args, _ := json.Marshal(map[string]any{"url": url, "headers": secrets})
			if _, err := script.Fetch(context.Background(), client, args); err != nil {
				t.Fatal(err)
			}
		},
	}
	for via, call := range do {
		t.Run(via+" to another origin", func(t *testing.T) {
			clear(got)
			call(t, home.URL+"/away?key=SECRET-5")
			h := got["other"]
			if h == nil {
				t.Fatal("the redirect was not followed")
			}
			if ref := h.Get("Referer"); ref != "" {
				t.Fatalf("the other origin received Referer %q", ref)
			}
			for k := range h {
				for _, v := range h.Values(k) {
					if strings.Contains(v, "SECRET") {
						t.Fatalf("the other origin received %s: %s", k, v)
					}
				}
			}
			if via == "client" && h.Get("Accept") != "application/json" {
				t.Fatalf("harmless headers are kept: %v", h)
			}
		})
		t.Run(via+" within the origin", func(t *testing.T) {
			clear(got)
			call(t, home.URL+"/stay?key=SECRET-5")
			h := got["home"]
			if h == nil || h.Get("Authorization") != "Bearer SECRET-1" || h.Get("X-Api-Key") != "SECRET-3" {
				t.Fatalf("same-origin hop lost the caller's headers: %v", h)
			}
			if ref := h.Get("Referer"); ref != "" {
				t.Fatalf("a redirect hop sent Referer %q", ref)
			}
		})
	}
}
