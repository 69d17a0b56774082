package dingtalk_test

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

	"github.com/tessera/tessera/plugins/dingtalk"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
)

// robot is a local DingTalk peer that verifies the signature like DingTalk does: the sign
// query parameter, URL-decoded, must equal base64(HMAC-SHA256(secret, ts+"\n"+secret)) and
// the timestamp must be within an hour.
type robot struct {
	secret string
	now    time.Time
	got    []map[string]any
	raw    []string
}

func (rb *robot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	rb.raw = append(rb.raw, r.URL.RawQuery)
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Get("access_token") != "tok" {
		io.WriteString(w, `{"errcode":300001,"errmsg":"token is not exist"}`)
		return
	}
	if rb.secret != "" {
		ts, _ := strconv.ParseInt(r.URL.Query().Get("timestamp"), 10, 64)
		m := hmac.New(sha256.New, []byte(rb.secret))
		m.Write([]byte(strconv.FormatInt(ts, 10) + "\n" + rb.secret))
		want := base64.StdEncoding.EncodeToString(m.Sum(nil))
		if r.URL.Query().Get("sign") != want || rb.now.Sub(time.UnixMilli(ts)).Abs() > time.Hour {
			io.WriteString(w, `{"errcode":310000,"errmsg":"sign not match"}`)
			return
		}
	}
	var msg map[string]any
	json.Unmarshal(raw, &msg)
	rb.got = append(rb.got, msg)
	io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
}

func TestSpec(t *testing.T) { sdktest.CheckSpec(t, dingtalk.Connector{}) }

func TestSignedText(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	rb := &robot{secret: "SECabc+/=", now: now}
	srv := httptest.NewServer(rb)
	defer srv.Close()
	h := sdktest.New(t).WithNow(now).WithCredentials(map[string]string{"webhook_url": srv.URL + "/robot/send?access_token=tok", "secret": rb.secret})
	out := h.MustRun(dingtalk.Connector{}, "send", map[string]any{"content": "新线索：张三 138 0013 8000", "at_mobiles": "13800138000, 13900139000", "at_all": false})
	if out.(map[string]any)["errmsg"] != "ok" || len(rb.got) != 1 {
		t.Fatalf("out %v, got %v", out, rb.got)
	}
	msg := rb.got[0]
	if msg["msgtype"] != "text" || msg["text"].(map[string]any)["content"] != "新线索：张三 138 0013 8000" {
		t.Fatalf("message %v", msg)
	}
	if at := msg["at"].(map[string]any)["atMobiles"].([]any); len(at) != 2 || at[1] != "13900139000" {
		t.Fatalf("at %v", msg["at"])
	}
	// The sign travels URL-encoded: '+', '/' and '=' of base64 are escaped.
	if !strings.Contains(rb.raw[0], "sign=") || strings.Contains(strings.SplitN(strings.SplitN(rb.raw[0], "sign=", 2)[1], "&", 2)[0], "+") {
		t.Fatalf("sign not URL-encoded: %s", rb.raw[0])
	}
}

func TestMarkdownAndErrors(t *testing.T) {
	now := time.Now()
	rb := &robot{secret: "SECxyz", now: now}
	srv := httptest.NewServer(rb)
	defer srv.Close()
	h := sdktest.New(t).WithNow(now).WithCredentials(map[string]string{"webhook_url": srv.URL + "/robot/send?access_token=tok", "secret": "SECxyz"})
	h.MustRun(dingtalk.Connector{}, "send", map[string]any{"type": "markdown", "title": "赢单", "content": "## 赢单\n金额 **¥12,000**", "at_mobiles": "13800138000"})
	md := rb.got[0]["markdown"].(map[string]any)
	if md["title"] != "赢单" || !strings.HasSuffix(md["text"].(string), "@13800138000") {
		t.Fatalf("markdown %v", md)
	}
	if _, err := h.Run(dingtalk.Connector{}, "send", map[string]any{"type": "markdown", "content": "x"}); err == nil {
		t.Fatal("markdown without title accepted")
	}
	h.Env.Credentials["secret"] = "SECwrong"
	_, err := h.Run(dingtalk.Connector{}, "send", map[string]any{"content": "x"})
	if err == nil || !strings.Contains(err.Error(), "310000") || sdk.IsRetryable(err) {
		t.Fatalf("wrong secret: %v", err)
	}
	h.WithNow(now.Add(-2 * time.Hour)).Env.Credentials["secret"] = "SECxyz"
	if _, err := h.Run(dingtalk.Connector{}, "send", map[string]any{"content": "x"}); err == nil {
		t.Fatal("stale timestamp accepted")
	}
}
