package slack_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
	"github.com/tessera/tessera/plugins/slack"
)

func TestSpec(t *testing.T) { sdktest.CheckSpec(t, slack.Connector{}) }

func TestSend(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/services/T1/B2/XYZ" {
			w.WriteHeader(404)
			io.WriteString(w, "no_service")
			return
		}
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m["text"] == "" {
			w.WriteHeader(400)
			io.WriteString(w, "invalid_payload")
			return
		}
		got = append(got, m)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	h := sdktest.New(t).WithCredentials(map[string]string{"webhook_url": srv.URL + "/services/T1/B2/XYZ"})
	out := h.MustRun(slack.Connector{}, "send", map[string]any{"text": "Deal won: *ACME* 成交",
		"blocks": `[{"type":"section","text":{"type":"mrkdwn","text":"*ACME* 成交 ¥12,000"}}]`})
	if out.(map[string]any)["ok"] != true || len(got) != 1 || got[0]["text"] != "Deal won: *ACME* 成交" {
		t.Fatalf("out %v got %v", out, got)
	}
	if blocks := got[0]["blocks"].([]any); blocks[0].(map[string]any)["type"] != "section" {
		t.Fatalf("blocks %v", got[0])
	}
	h.Env.Credentials["webhook_url"] = srv.URL + "/services/T1/B2/gone"
	_, err := h.Run(slack.Connector{}, "send", map[string]any{"text": "x"})
	if err == nil || !strings.Contains(err.Error(), "no_service") || sdk.IsRetryable(err) {
		t.Fatalf("404: %v", err)
	}
	if _, err := h.Run(slack.Connector{}, "send", map[string]any{"text": "x", "blocks": `{"a":1}`}); err == nil {
		t.Fatal("object blocks accepted")
	}
}
