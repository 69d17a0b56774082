package http_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	httpc "github.com/tessera/tessera/plugins/http"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
	"github.com/tessera/tessera/runtime/netguard"
)

// orders is a peer that lists orders newest first under data.orders, behind a bearer token.
type orders struct {
	mu   sync.Mutex
	list []map[string]any
}

func (o *orders) add(id any, name string) {
	o.mu.Lock()
	o.list = append([]map[string]any{{"order_id": id, "name": name}}, o.list...)
	o.mu.Unlock()
}

func (o *orders) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t-1" {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"unauthorized"}`)
			return
		}
		switch r.URL.Path {
		case "/broken":
			w.WriteHeader(503)
			return
		case "/html":
			io.WriteString(w, "<html>")
			return
		case "/object":
			io.WriteString(w, `{"data":{"orders":{"a":1}}}`)
			return
		}
		if r.URL.Query().Get("status") != "new" {
			t.Errorf("query not sent: %s", r.URL.RawQuery)
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"orders": o.list}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func names(items []any) string {
	var out []string
	for _, it := range items {
		out = append(out, it.(map[string]any)["name"].(string))
	}
	return strings.Join(out, ",")
}

func TestJSONItemsTrigger(t *testing.T) {
	o := &orders{}
	srv := o.server(t)
	h := sdktest.New(t).WithCredentials(map[string]string{"base_url": srv.URL, "auth": "bearer", "token": "t-1"})
	// the production guard, with the test peer allow-listed as an administrator would
	h.Env.HTTP = netguard.NewClient(netguard.Options{AllowHosts: []string{"127.0.0.1"}})
	params := map[string]any{"url": "/orders", "query": map[string]any{"status": "new"}, "items_path": "data.orders", "id_field": "order_id", "max_items": 2}
	c := httpc.Connector{}
	o.add(1, "old-1")
	o.add(2, "old-2")

	// first poll: remembers what is there, starts nothing
	res, err := h.Poll(c, "json_items", params, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 0 || len(res.State) == 0 {
		t.Fatalf("first poll: %d items, state %s", len(res.Items), res.State)
	}
	// three new orders, at most two per poll, oldest first
	o.add(3, "张三")
	o.add("4", "李四")
	o.add(5, "王五")
	res, err = h.Poll(c, "json_items", params, res.State)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(res.Items); got != "张三,李四" || strings.Join(res.IDs, ",") != "3,4" {
		t.Fatalf("second poll: %s ids %v", got, res.IDs)
	}
	res, err = h.Poll(c, "json_items", params, res.State)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(res.Items); got != "王五" {
		t.Fatalf("third poll: %q", got)
	}
	state := res.State
	res, err = h.Poll(c, "json_items", params, state)
	if err != nil || len(res.Items) != 0 {
		t.Fatalf("nothing new: %v %v", res.Items, err)
	}
	// emit_existing starts runs for what is already there on the first poll
	all := map[string]any{"url": srv.URL + "/orders?status=new", "items_path": "data.orders", "id_field": "order_id", "emit_existing": true, "order": "newest_first"}
	res, err = h.Poll(c, "json_items", all, nil)
	if err != nil || names(res.Items) != "old-1,old-2,张三,李四,王五" {
		t.Fatalf("emit_existing: %v %v", names(res.Items), err)
	}

	for _, tc := range []struct {
		name      string
		params    map[string]any
		creds     map[string]string
		want      string
		retryable bool
	}{
		{"5xx is retryable", map[string]any{"url": "/broken"}, nil, "503", true},
		{"401 is permanent", map[string]any{"url": "/orders"}, map[string]string{"token": "wrong"}, "401", false},
		{"not JSON", map[string]any{"url": "/html"}, nil, "not JSON", false},
		{"path to an object", map[string]any{"url": "/object", "items_path": "data.orders"}, nil, "items_path data.orders is not a JSON array (found an object)", false},
		{"missing path", map[string]any{"url": "/object", "items_path": "data.nope"}, nil, "found nothing", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.New(t).WithCredentials(map[string]string{"base_url": srv.URL, "auth": "bearer", "token": "t-1"})
			for k, v := range tc.creds {
				h.Env.Credentials[k] = v
			}
			_, err := h.Poll(c, "json_items", tc.params, state)
			if err == nil || !strings.Contains(err.Error(), tc.want) || sdk.IsRetryable(err) != tc.retryable {
				t.Fatalf("error %v (retryable %v), want %q retryable %v", err, sdk.IsRetryable(err), tc.want, tc.retryable)
			}
		})
	}
	// without the allow-list the guard refuses the loopback peer
	h.Env.HTTP = netguard.NewClient(netguard.Options{})
	if _, err := h.Poll(c, "json_items", params, state); !errors.Is(err, netguard.ErrForbidden) {
		t.Fatalf("guard: %v", err)
	}
}

func TestJSONItemsWithoutIDs(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
	defer srv.Close()
	h := sdktest.New(t)
	c := httpc.Connector{}
	p := map[string]any{"url": srv.URL, "order": "oldest_first"}
	body = `["a","b"]`
	res, err := h.Poll(c, "json_items", p, nil)
	if err != nil || len(res.Items) != 0 {
		t.Fatal(res, err)
	}
	body = `["a","b","c",{"id":"x"}]`
	res, err = h.Poll(c, "json_items", p, res.State)
	if err != nil || len(res.Items) != 2 || res.Items[0] != "c" || res.IDs[1] != "x" || !strings.HasPrefix(res.IDs[0], "sha256:") {
		t.Fatalf("items %v ids %v err %v", res.Items, res.IDs, err)
	}
}
