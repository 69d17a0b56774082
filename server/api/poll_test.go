package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/trigger"
	"github.com/tessera/tessera/server/apitest"
)

func TestPollTriggerFlow(t *testing.T) {
	// the http connector's peer is on loopback: allow it as an administrator would; the api
	// role runs no background poller, the test ticks its own
	t.Setenv("TESSERA_NET_ALLOW_HOSTS", "127.0.0.1")
	t.Setenv("TESSERA_ROLE", "api")
	e := apitest.New(t)
	var broken atomic.Bool
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k-1" {
			w.WriteHeader(401)
			return
		}
		if broken.Load() {
			w.WriteHeader(503)
			io.WriteString(w, "maintenance")
			return
		}
		io.WriteString(w, `{"items":[{"id":"o-2","name":"李四"},{"id":"o-1","name":"张三"}]}`)
	}))
	defer peer.Close()
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps/crm/credentials", map[string]any{"name": "orders-api", "connector": "http",
		"values": map[string]any{"base_url": peer.URL, "auth": "bearer", "token": "k-1"}}, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps/crm/credentials", map[string]any{"name": "slack", "connector": "slack",
		"values": map[string]any{"webhook_url": "https://hooks.slack.com/x"}}, e.AdminToken)
	nodes := []any{map[string]any{"id": "s", "type": "set", "params": map[string]any{"values": map[string]any{"name": "{{ trigger.item.name }}"}}}}
	flow := func(trig map[string]any) map[string]any {
		base := map[string]any{"type": "poll", "connector": "http", "trigger": "json_items", "credential": "orders-api",
			"params": map[string]any{"url": "/orders", "items_path": "items", "emit_existing": true}, "interval": "5m"}
		for k, v := range trig {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		return map[string]any{"slug": "orders", "trigger": base, "nodes": nodes}
	}

	// publish checks the trigger against the connector's spec and the app's credentials
	for _, tc := range []struct {
		name  string
		trig  map[string]any
		field string
	}{
		{"unknown connector", map[string]any{"connector": "nope"}, "trigger.connector"},
		{"connector without the trigger", map[string]any{"trigger": "nope"}, "trigger.trigger"},
		{"missing param", map[string]any{"params": map[string]any{"items_path": "items"}}, "trigger.params.url"},
		{"bad param", map[string]any{"params": map[string]any{"url": "/o", "order": "random"}}, "trigger.params.order"},
		{"interval too short", map[string]any{"interval": "10s"}, "trigger.interval"},
		{"unknown credential", map[string]any{"credential": "nope"}, "trigger.credential"},
		{"credential of another connector", map[string]any{"credential": "slack"}, "trigger.credential"},
		{"no connector", map[string]any{"connector": nil}, "trigger.connector"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// shape errors already refuse the draft; the rest is refused at publish
			r := e.Do("PUT", "/api/v1/apps/crm/flows/orders", flow(tc.trig), e.AdminToken)
			if r.Status < 300 {
				r = e.Must(422, "POST", "/api/v1/apps/crm/flows/orders/publish", nil, e.AdminToken)
			}
			if r.Status != 422 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
				t.Fatalf("want an error on %s: %s", tc.field, r.Body)
			}
		})
	}
	publishFlow(t, e, flow(nil))
	// not polled yet
	e.Must(404, "GET", "/api/v1/apps/crm/flows/orders/poll", nil, e.AdminToken)

	now := time.Now()
	p := trigger.NewPoller(e.Srv.Engine, e.Srv.PollCaller(), nil)
	p.Now = func() time.Time { return now }
	if n, err := p.Tick(context.Background()); err != nil || n != 1 {
		t.Fatalf("tick: %d %v", n, err)
	}
	st := e.Must(200, "GET", "/api/v1/apps/crm/flows/orders/poll", nil, e.AdminToken).JSON()
	if st["last_items"] != float64(2) || st["items_total"] != float64(2) || st["last_error"] != nil || st["connector"] != "http" ||
		st["trigger"] != "json_items" || st["interval_seconds"] != float64(300) || st["last_polled_at"] == nil {
		t.Fatalf("poll status %v", st)
	}
	runs := e.Must(200, "GET", "/api/v1/apps/crm/flows/orders/runs", nil, e.AdminToken).JSON()["items"].([]any)
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2", len(runs))
	}
	var item json.RawMessage
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT trigger->'item' FROM flow_runs WHERE flow = 'orders' AND idempotency_key = 'poll:o-1'`).Scan(&item); err != nil {
		t.Fatalf("run of item o-1: %v", err)
	}
	if !strings.Contains(string(item), "张三") {
		t.Fatalf("item %s", item)
	}

	// a failing service is recorded on the flow
	broken.Store(true)
	now = now.Add(5 * time.Minute)
	if _, err := p.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	st = e.Must(200, "GET", "/api/v1/apps/crm/flows/orders/poll", nil, e.AdminToken).JSON()
	if msg, _ := st["last_error"].(string); !strings.Contains(msg, "503") || st["failures"] != float64(1) {
		t.Fatalf("poll status after a failure %v", st)
	}

	// access: a user without rights on the flow is refused; flows without a poll trigger 404
	_, userTok := e.CreateUser("rep@example.com", "Rep", nil)
	if r := e.Do("GET", "/api/v1/apps/crm/flows/orders/poll", nil, userTok); r.Status != 403 && r.Status != 404 {
		t.Fatalf("user without rights: %d %s", r.Status, r.Body)
	}
	publishFlow(t, e, map[string]any{"slug": "manual", "trigger": map[string]any{"type": "manual"}, "nodes": nodes})
	e.Must(404, "GET", "/api/v1/apps/crm/flows/manual/poll", nil, e.AdminToken)
	// the options route knows trigger parameters (the http trigger has no dynamic ones)
	if r := e.Must(422, "POST", "/api/v1/apps/crm/connectors/http/options", map[string]any{"operation": "json_items", "param": "order"}, e.AdminToken); !strings.Contains(string(r.Body), "not_dynamic") {
		t.Fatalf("options of a trigger param: %s", r.Body)
	}
	if doc := e.Must(200, "GET", "/api/v1/openapi.json", nil, "").Body; !strings.Contains(string(doc), "/poll") {
		t.Fatal("the poll route is not in openapi.json")
	}
}
