package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
	"github.com/tessera/tessera/plugins/webhook"
)

// receiver verifies Standard Webhooks signatures independently of the connector: it
// decodes whsec_, recomputes HMAC-SHA256 over id.timestamp.body, accepts any v1 entry of
// the space-separated list in constant time and rejects timestamps older than 5 minutes.
type receiver struct {
	key  []byte
	now  time.Time
	ids  []string
	msgs []map[string]any
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, tsStr := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
	ts, err := strconv.ParseInt(tsStr, 10, 64)
	if id == "" || err != nil || rc.now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		http.Error(w, "bad timestamp", 400)
		return
	}
	m := hmac.New(sha256.New, rc.key)
	m.Write([]byte(id + "." + tsStr + "." + string(body)))
	want := m.Sum(nil)
	ok := false
	for _, sig := range strings.Fields(r.Header.Get("webhook-signature")) {
		v, b64, _ := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if v == "v1" && err == nil && hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		http.Error(w, "bad signature", 401)
		return
	}
	var msg map[string]any
	json.Unmarshal(body, &msg)
	rc.ids = append(rc.ids, id)
	rc.msgs = append(rc.msgs, msg)
	w.WriteHeader(204)
}

func TestSpec(t *testing.T) { sdktest.CheckSpec(t, webhook.Connector{}) }

func TestSignedDelivery(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	rc := &receiver{key: key, now: now}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	h := sdktest.New(t).WithNow(now).WithCredentials(map[string]string{"secret": secret})
	params := map[string]any{"url": srv.URL + "/hooks/tessera", "event": "lead.won", "payload": `{"name":"张三","amount":9800}`}
	out := h.MustRun(webhook.Connector{}, "send", params).(map[string]any)
	if len(rc.msgs) != 1 || rc.msgs[0]["type"] != "lead.won" || rc.msgs[0]["data"].(map[string]any)["name"] != "张三" {
		t.Fatalf("received %v", rc.msgs)
	}
	if !strings.HasPrefix(out["id"].(string), "msg_") || out["id"] != rc.ids[0] {
		t.Fatalf("out %v", out)
	}
	// A retry of the same step carries the same webhook-id so the receiver can de-duplicate.
	h.Env.Attempt = 2
	h.MustRun(webhook.Connector{}, "send", params)
	if rc.ids[1] != rc.ids[0] {
		t.Fatalf("ids differ across retries: %v", rc.ids)
	}
	// Payload sent as is without an event type.
	h.MustRun(webhook.Connector{}, "send", map[string]any{"url": srv.URL, "payload": map[string]any{"raw": true}})
	if rc.msgs[2]["raw"] != true {
		t.Fatalf("raw payload %v", rc.msgs[2])
	}
	// Wrong secret: the receiver refuses, the step fails permanently.
	h.Env.Credentials["secret"] = webhook.NewSecret()
	_, err := h.Run(webhook.Connector{}, "send", params)
	if err == nil || !strings.Contains(err.Error(), "401") || sdk.IsRetryable(err) {
		t.Fatalf("wrong secret: %v", err)
	}
	// Stale clock: refused too.
	h.WithNow(now.Add(-time.Hour)).Env.Credentials["secret"] = secret
	if _, err := h.Run(webhook.Connector{}, "send", params); err == nil {
		t.Fatal("stale timestamp accepted")
	}
	h.Env.Credentials["secret"] = "not-a-secret"
	if _, err := h.Run(webhook.Connector{}, "send", params); err == nil || !strings.Contains(err.Error(), "whsec_") {
		t.Fatalf("bad secret format: %v", err)
	}
}

// TestSignVector checks Sign against the example of the Standard Webhooks reference
// libraries.
func TestSignVector(t *testing.T) {
	key, err := webhook.DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := webhook.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("got %s", got)
	}
}
