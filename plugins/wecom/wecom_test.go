package wecom_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
	"github.com/tessera/tessera/plugins/wecom"
)

func TestSpec(t *testing.T) { sdktest.CheckSpec(t, wecom.Connector{}) }

func TestSend(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != "k-1" {
			io.WriteString(w, `{"errcode":93000,"errmsg":"invalid webhook url"}`)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			io.WriteString(w, `{"errcode":40008,"errmsg":"invalid message type"}`)
			return
		}
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			io.WriteString(w, `{"errcode":40035,"errmsg":"invalid json"}`)
			return
		}
		got = append(got, m)
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer srv.Close()
	h := sdktest.New(t).WithCredentials(map[string]string{"webhook_url": srv.URL + "/cgi-bin/webhook/send?key=k-1"})
	h.MustRun(wecom.Connector{}, "send", map[string]any{"content": "客户 王五 已签约", "mentioned_mobiles": "13800138000，@all", "mentioned_users": "wangwu"})
	h.MustRun(wecom.Connector{}, "send", map[string]any{"type": "markdown", "content": "### 本周业绩\n> 成交 <font color=\"info\">3</font> 单"})
	if len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	text := got[0]["text"].(map[string]any)
	if got[0]["msgtype"] != "text" || text["content"] != "客户 王五 已签约" || text["mentioned_mobile_list"].([]any)[1] != "@all" || text["mentioned_list"].([]any)[0] != "wangwu" {
		t.Fatalf("text %v", got[0])
	}
	if got[1]["msgtype"] != "markdown" || !strings.Contains(got[1]["markdown"].(map[string]any)["content"].(string), "本周业绩") {
		t.Fatalf("markdown %v", got[1])
	}
	h.Env.Credentials["webhook_url"] = srv.URL + "/cgi-bin/webhook/send?key=wrong"
	_, err := h.Run(wecom.Connector{}, "send", map[string]any{"content": "x"})
	if err == nil || !strings.Contains(err.Error(), "93000") || sdk.IsRetryable(err) {
		t.Fatalf("wrong key: %v", err)
	}
}
