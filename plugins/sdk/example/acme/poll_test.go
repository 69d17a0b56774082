package acme_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tessera/tessera/plugins/sdk/example/acme"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
)

func TestPollNewContacts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k-1" || r.URL.Path != "/lists/vip/contacts" {
			w.WriteHeader(401)
			return
		}
		switch r.URL.Query().Get("after") {
		case "0":
			io.WriteString(w, `{"contacts":[{"id":1,"name":"old"}],"last_id":1}`)
		case "1":
			io.WriteString(w, `{"contacts":[{"id":2,"name":"王芳"},{"id":3,"name":"李雷"}],"last_id":3}`)
		default:
			io.WriteString(w, `{"contacts":[],"last_id":3}`)
		}
	}))
	defer srv.Close()
	sdktest.CheckSpec(t, acme.Feed{})
	h := sdktest.New(t).WithCredentials(map[string]string{"base_url": srv.URL, "api_key": "k-1"})
	res, err := h.Poll(acme.Feed{}, "new_contacts", map[string]any{"list": "vip"}, nil)
	if err != nil || len(res.Items) != 0 {
		t.Fatalf("first poll: %v %v", res.Items, err)
	}
	res, err = h.Poll(acme.Feed{}, "new_contacts", map[string]any{"list": "vip"}, res.State)
	if err != nil || strings.Join(res.IDs, ",") != "2,3" || string(res.State) != `{"last_id":3}` {
		t.Fatalf("second poll: %v %s %v", res.IDs, res.State, err)
	}
}
