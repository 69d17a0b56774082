package feishu_test

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

	"github.com/tessera/tessera/plugins/feishu"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
)

// bot is a local Feishu peer verifying the signature as Feishu documents it.
func bot(t *testing.T, secret string, now time.Time, got *[]map[string]any) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			io.WriteString(w, `{"code":9499,"msg":"Bad Request"}`)
			return
		}
		if secret != "" {
			tsStr, _ := m["timestamp"].(string)
			ts, _ := strconv.ParseInt(tsStr, 10, 64)
			mac := hmac.New(sha256.New, []byte(tsStr+"\n"+secret))
			mac.Write([]byte{})
			if m["sign"] != base64.StdEncoding.EncodeToString(mac.Sum(nil)) || now.Sub(time.Unix(ts, 0)).Abs() > time.Hour {
				io.WriteString(w, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`)
				return
			}
		}
		*got = append(*got, m)
		io.WriteString(w, `{"code":0,"msg":"success","data":{}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSpec(t *testing.T) { sdktest.CheckSpec(t, feishu.Connector{}) }

func TestSignedTextAndCard(t *testing.T) {
	now := time.Date(2026, 5, 20, 13, 14, 0, 0, time.UTC)
	var got []map[string]any
	srv := bot(t, "fs-secret", now, &got)
	h := sdktest.New(t).WithNow(now).WithCredentials(map[string]string{"webhook_url": srv.URL + "/open-apis/bot/v2/hook/abc", "secret": "fs-secret"})
	h.MustRun(feishu.Connector{}, "send", map[string]any{"content": `合同已审批 <at user_id="all">所有人</at>`})
	h.MustRun(feishu.Connector{}, "send", map[string]any{"type": "card", "title": "新商机", "color": "green", "content": "**客户**：赵六\n**金额**：¥50,000"})
	if len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	if got[0]["msg_type"] != "text" || got[0]["content"].(map[string]any)["text"] != `合同已审批 <at user_id="all">所有人</at>` || got[0]["timestamp"] != strconv.FormatInt(now.Unix(), 10) {
		t.Fatalf("text %v", got[0])
	}
	card := got[1]["card"].(map[string]any)
	if got[1]["msg_type"] != "interactive" || card["header"].(map[string]any)["title"].(map[string]any)["content"] != "新商机" ||
		!strings.Contains(card["elements"].([]any)[0].(map[string]any)["content"].(string), "赵六") {
		t.Fatalf("card %v", got[1])
	}
	h.Env.Credentials["secret"] = "other"
	_, err := h.Run(feishu.Connector{}, "send", map[string]any{"content": "x"})
	if err == nil || !strings.Contains(err.Error(), "19021") || sdk.IsRetryable(err) {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestUnsigned(t *testing.T) {
	var got []map[string]any
	srv := bot(t, "", time.Now(), &got)
	h := sdktest.New(t).WithCredentials(map[string]string{"webhook_url": srv.URL + "/hook"})
	h.MustRun(feishu.Connector{}, "send", map[string]any{"content": "你好"})
	if _, signed := got[0]["sign"]; signed || got[0]["content"].(map[string]any)["text"] != "你好" {
		t.Fatalf("got %v", got[0])
	}
}
