package api_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/tracking"
	"github.com/tessera/tessera/server/apitest"
)

// TestTrackingPixelEdges: a tracking link answers a GIF whatever became of its record, is
// limited per token like a webhook key (429 with Retry-After), and a forged or malformed token
// is a 404; the events endpoint takes JSON only.
func TestTrackingPixelEdges(t *testing.T) {
	t.Setenv("TESSERA_WEBHOOK_RATE", "0.01")
	t.Setenv("TESSERA_WEBHOOK_BURST", "2")
	e := apitest.New(t)
	tok := e.Srv.Tracking.Token(tracking.Claim{App: uuid.New(), Entity: "lead", Record: uuid.New(), Type: "email_opened"})
	for i, want := range []int{200, 200, 429} {
		r := e.Do("GET", "/t/"+tok, nil, "")
		if r.Status != want {
			t.Fatalf("call %d: %d %s, want %d", i+1, r.Status, r.Body, want)
		}
		if want == 200 && r.Header["Content-Type"] != "image/gif" {
			t.Fatalf("call %d: content type %q", i+1, r.Header["Content-Type"])
		}
		if want == 429 && r.Header["Retry-After"] == "" {
			t.Fatalf("429 without Retry-After")
		}
	}
	other := tracking.NewSigner([]byte("not this server's key............")).Token(tracking.Claim{App: uuid.New(), Entity: "lead", Record: uuid.New(), Type: "x"})
	for _, p := range []string{"/t/" + other, "/t/abc", "/t/" + tok[:len(tok)-1] + "A"} {
		if r := e.Do("GET", p, nil, ""); r.Status != 404 && r.Status != 401 {
			t.Errorf("%s: %d", p, r.Status)
		}
	}
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, e.AdminToken)
	if r := e.Do("POST", "/api/v1/apps/crm/events", "entity=lead", e.AdminToken, "Content-Type: text/plain"); r.Status != 415 {
		t.Errorf("text body: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/api/v1/apps/crm/events", `{"entity":"lead","match":{"id":"x"},"type":"a"}`, e.AdminToken); r.Status != 404 && r.Status != 422 {
		t.Errorf("unknown entity: %d %s", r.Status, r.Body)
	}
}
