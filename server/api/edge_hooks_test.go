package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/trigger"
	"github.com/tessera/tessera/server/apitest"
)

// TestWebhooksIgnoreForeignAuthorization: a public webhook is decided by its own secret; an
// Authorization header or a cookie that a provider sends for itself is not checked as a
// Tessera credential (it was a 401 for any bearer token).
func TestWebhooksIgnoreForeignAuthorization(t *testing.T) {
	e := apitest.New(t)
	publishFlow(t, e, map[string]any{"slug": "open", "trigger": map[string]any{"type": "webhook", "key": "open-in"},
		"nodes": []any{map[string]any{"id": "s", "type": "set", "params": map[string]any{"values": map[string]any{"ok": "1"}}}}})
	publishFlow(t, e, map[string]any{"slug": "signed", "trigger": map[string]any{"type": "webhook", "key": "signed-in", "secret": "s3cret"},
		"nodes": []any{map[string]any{"id": "s", "type": "set", "params": map[string]any{"values": map[string]any{"ok": "1"}}}}})
	body := `{"event":"paid"}`
	sig := trigger.SignatureHeader + ": " + trigger.Sign("s3cret", []byte(body))
	for _, tc := range []struct {
		name    string
		key     string
		headers []string
		want    int
	}{
		{"provider bearer token", "open-in", []string{"Authorization: Bearer provider-token-123"}, 202},
		{"provider basic auth", "open-in", []string{"Authorization: Basic dXNlcjpwYXNz"}, 202},
		{"odd scheme", "open-in", []string{"Authorization: Token abc"}, 202},
		{"stale session cookie", "open-in", []string{"Cookie: tessera_session=nope"}, 202},
		{"signed with a foreign bearer", "signed-in", []string{"Authorization: Bearer provider-token-123", sig}, 202},
		{"foreign bearer does not replace the signature", "signed-in", []string{"Authorization: Bearer " + e.AdminToken}, 401},
		{"unknown hook with a bearer", "nope", []string{"Authorization: Bearer provider-token-123"}, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.Do("POST", "/hooks/"+tc.key, body, "", tc.headers...); r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
		})
	}
	// the rest of the API still refuses a bad bearer token
	e.Must(401, "GET", "/api/v1/apps", nil, "provider-token-123")
}

// TestCronWithSeconds: the documented optional seconds field is accepted at publish and the
// scheduler fires on it.
func TestCronWithSeconds(t *testing.T) {
	e := apitest.New(t)
	publishFlow(t, e, map[string]any{"slug": "often", "trigger": map[string]any{"type": "cron", "schedule": "*/2 * * * * *"},
		"nodes": []any{map[string]any{"id": "s", "type": "set", "params": map[string]any{"values": map[string]any{"tick": "{{ trigger.tick }}"}}}}})
	r := e.Do("PUT", "/api/v1/apps/crm/flows/bad", map[string]any{"slug": "bad", "trigger": map[string]any{"type": "cron", "schedule": "* * * * * * *"},
		"nodes": []any{map[string]any{"id": "s", "type": "set"}}}, e.AdminToken)
	if r.Status < 300 {
		e.Must(422, "POST", "/api/v1/apps/crm/flows/bad/publish", nil, e.AdminToken)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM flow_runs WHERE flow = 'often'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the seconds cron did not fire within 20 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
