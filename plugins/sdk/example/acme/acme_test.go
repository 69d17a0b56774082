package acme_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/example/acme"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
)

func TestSpec(t *testing.T) { sdktest.CheckSpec(t, acme.Connector{}) } // valid, JSON round trip, zh-CN labels

func TestCreateContact(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k-1" {
			w.WriteHeader(401)
			return
		}
		io.WriteString(w, `{"id":"c-1"}`)
	}))
	defer srv.Close()
	h := sdktest.New(t).WithCredentials(map[string]string{"base_url": srv.URL, "api_key": "k-1"})
	out := h.MustRun(acme.Connector{}, "create_contact", map[string]any{"name": "王芳"})
	if out.(map[string]any)["id"] != "c-1" {
		t.Fatal(out)
	}
	if err := h.Test(acme.Connector{}); err != nil {
		t.Fatal(err)
	}
	h.Env.Credentials["api_key"] = "wrong"
	if _, err := h.Run(acme.Connector{}, "create_contact", map[string]any{"name": "x"}); err == nil || sdk.IsRetryable(err) {
		t.Fatalf("401 must fail permanently: %v", err)
	}
}
