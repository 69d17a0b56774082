package jsplugins_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
	"github.com/tessera/tessera/runtime/jsplugins"
)

// shop is the peer of testdata/shop-js: it checks the HMAC signature of every request.
type shop struct {
	mu     sync.Mutex
	orders []map[string]any
}

func (s *shop) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := hmac.New(sha256.New, []byte("s3cret"))
		fmt.Fprintf(m, "%s\n%s\n%s", r.Header.Get("X-App-Key"), r.Header.Get("X-Timestamp"), r.URL.RequestURI())
		if r.Header.Get("X-App-Key") != "app-1" || !hmac.Equal([]byte(r.Header.Get("X-Sign")), []byte(hex.EncodeToString(m.Sum(nil)))) {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/stores" {
			io.WriteString(w, `{"stores":[{"id":"sh-1","name":"上海店"},{"id":"bj-1","name":"北京店"}]}`)
			return
		}
		if r.URL.Path != "/stores/sh-1/orders" || r.URL.Query().Get("status") != "paid" {
			w.WriteHeader(404)
			return
		}
		after, _ := strconv.Atoi(r.URL.Query().Get("after"))
		s.mu.Lock()
		defer s.mu.Unlock()
		out := []map[string]any{}
		last := 0
		for _, o := range s.orders {
			id := o["id"].(int)
			last = max(last, id)
			if id > after {
				out = append(out, o)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"orders": out, "last_id": last})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestPollPlugin loads the polling plugin of plugins/README.md (testdata/shop-js).
func TestPollPlugin(t *testing.T) {
	c, err := jsplugins.LoadDir("testdata/shop-js", pool(t))
	if err != nil {
		t.Fatal(err)
	}
	sdktest.CheckSpec(t, c)
	if caps := strings.Join(sdk.Describe(c).Capabilities, ","); caps != "options,poll" {
		t.Fatalf("capabilities %q", caps)
	}
	s := &shop{orders: []map[string]any{{"id": 1, "customer": "老客户"}}}
	srv := s.server(t)
	h := sdktest.New(t).WithCredentials(map[string]string{"base_url": srv.URL, "app_key": "app-1", "app_secret": "s3cret"})

	opts, err := h.Options(c, "new_orders", "store", nil)
	if err != nil || len(opts) != 2 || opts[0].Value != "sh-1" || opts[0].Label.ZhCN != "上海店" {
		t.Fatalf("options %v %v", opts, err)
	}
	params := map[string]any{"store": "sh-1"}
	res, err := h.Poll(c, "new_orders", params, nil)
	if err != nil || len(res.Items) != 0 || string(res.State) != `{"last_id":1}` {
		t.Fatalf("first poll: %v %s %v", res.Items, res.State, err)
	}
	s.mu.Lock()
	s.orders = append(s.orders, map[string]any{"id": 2, "customer": "张三"}, map[string]any{"id": 3, "customer": "李四"})
	s.mu.Unlock()
	res, err = h.Poll(c, "new_orders", params, res.State)
	if err != nil || len(res.Items) != 2 || strings.Join(res.IDs, ",") != "2,3" || string(res.State) != `{"last_id":3}` {
		t.Fatalf("second poll: %v %v %s %v", res.Items, res.IDs, res.State, err)
	}
	if res.Items[0].(map[string]any)["customer"] != "张三" {
		t.Fatalf("items %v", res.Items)
	}
	res, err = h.Poll(c, "new_orders", params, res.State)
	if err != nil || len(res.Items) != 0 {
		t.Fatalf("third poll: %v %v", res.Items, err)
	}
	// a wrong secret fails the signature: a permanent error naming the answer
	h.Env.Credentials["app_secret"] = "wrong"
	if _, err := h.Poll(c, "new_orders", params, res.State); err == nil || sdk.IsRetryable(err) || !strings.Contains(err.Error(), "shop answered 401") {
		t.Fatalf("wrong secret: %v", err)
	}
}

// A DingTalk-style robot signs its webhook URL with crypto.hmac: timestamp (ms) and
// sign = URL-encoded base64 HMAC-SHA256(secret, "<timestamp>\n<secret>").
func TestPluginSignsRequests(t *testing.T) {
	const secret = "SEC0123456789abcdef"
	now := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts := r.URL.Query().Get("timestamp")
		m := hmac.New(sha256.New, []byte(secret))
		io.WriteString(m, ts+"\n"+secret)
		want := base64.StdEncoding.EncodeToString(m.Sum(nil))
		if r.URL.Query().Get("access_token") != "tok" || ts != strconv.FormatInt(now.UnixMilli(), 10) || r.URL.Query().Get("sign") != want {
			w.WriteHeader(403)
			io.WriteString(w, `{"errcode":310000,"errmsg":"sign not match"}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		got = string(b)
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer srv.Close()
	root := t.TempDir()
	write(t, root, "robot", map[string]string{
		"manifest.json": `{"id":"robot-js","version":"1.0.0","label":{"en":"Robot","zh-CN":"机器人"},
		  "credentials":[{"key":"webhook_url","type":"string","label":{"en":"Webhook","zh-CN":"Webhook"},"required":true},
		                 {"key":"secret","type":"secret","label":{"en":"Secret","zh-CN":"加签密钥"},"required":true}],
		  "operations":[{"id":"send","label":{"en":"Send","zh-CN":"发送"},
		    "params":[{"key":"content","type":"text","label":{"en":"Text","zh-CN":"内容"},"required":true}]}]}`,
		"index.js": `
const operations = {
  send(params, ctx) {
    const ts = String(Date.parse(ctx.now));
    const sign = encodeURIComponent(crypto.hmac('sha256', ctx.credentials.secret, ts + '\n' + ctx.credentials.secret, 'base64'));
    const r = http.fetch(ctx.credentials.webhook_url + '&timestamp=' + ts + '&sign=' + sign,
      {method: 'POST', body: {msgtype: 'text', text: {content: params.content}}});
    const out = r.json();
    if (out.errcode !== 0) throw new Error('robot answered ' + out.errmsg);
    return {ok: true, sha: crypto.hash('sha256', params.content), b64: encoding.base64Encode(params.content)};
  },
};`,
	})
	c, err := jsplugins.LoadDir(root+"/robot", pool(t))
	if err != nil {
		t.Fatal(err)
	}
	h := sdktest.New(t).WithNow(now).WithCredentials(map[string]string{"webhook_url": srv.URL + "/robot/send?access_token=tok", "secret": secret})
	out := h.MustRun(c, "send", map[string]any{"content": "新线索：张三"})
	sum := sha256.Sum256([]byte("新线索：张三"))
	if m := out.(map[string]any); m["ok"] != true || m["sha"] != hex.EncodeToString(sum[:]) || m["b64"] != base64.StdEncoding.EncodeToString([]byte("新线索：张三")) {
		t.Fatalf("out %v", out)
	}
	if !strings.Contains(got, "新线索：张三") {
		t.Fatalf("robot got %q", got)
	}
	h.Env.Credentials["secret"] = "SECwrong"
	if _, err := h.Run(c, "send", map[string]any{"content": "x"}); err == nil || !strings.Contains(err.Error(), "sign not match") {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestCapabilityManifests(t *testing.T) {
	trig := `"triggers":[{"id":"t","label":{"en":"T","zh-CN":"T"},"params":[]}]`
	for _, tc := range []struct {
		name, manifest, code, want string
	}{
		{"triggers without poll", `{"id":"a","version":"1","label":{"en":"A"},"operations":[],` + trig + `}`, "function poll(){}", `need the "poll" capability`},
		{"poll without triggers", `{"id":"a","version":"1","label":{"en":"A"},"capabilities":["poll"],"operations":[{"id":"x","label":{"en":"X"},"params":[]}]}`, "", "needs at least one trigger"},
		{"unknown capability", `{"id":"a","version":"1","label":{"en":"A"},"capabilities":["webhooks"],"operations":[]}`, "", `"webhooks" is not supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, "p", map[string]string{"manifest.json": tc.manifest, "index.js": tc.code})
			if _, err := jsplugins.LoadDir(root+"/p", pool(t)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// poll answers are checked
	root := t.TempDir()
	for name, code := range map[string]string{
		"not-object": `function poll(ctx, state) { return [1]; }`,
		"bad-items":  `function poll(ctx, state) { return {items: 'x'}; }`,
		"bad-ids":    `function poll(ctx, state) { return {items: [1, 2], ids: ['a']}; }`,
		"no-poll":    `const operations = {};`,
	} {
		write(t, root, name, map[string]string{"manifest.json": `{"id":"` + name + `","version":"1","label":{"en":"A","zh-CN":"A"},"capabilities":["poll"],"operations":[],` + trig + `}`, "index.js": code})
		c, err := jsplugins.LoadDir(root+"/"+name, pool(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sdktest.New(t).Poll(c, "t", nil, nil); err == nil || sdk.IsRetryable(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
