package http_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	httpc "github.com/tessera/tessera/plugins/http"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
	"github.com/tessera/tessera/runtime/netguard"
)

// echo answers with what it received, as JSON.
func echo(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		case "/teapot":
			w.WriteHeader(418)
			io.WriteString(w, "short and stout")
			return
		case "/redirect":
			http.Redirect(w, r, "/final?x=1", http.StatusFound)
			return
		case "/text":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "你好")
			return
		case "/secure":
			if r.Header.Get("Authorization") != "Bearer good" {
				w.WriteHeader(401)
			}
			return
		}
		out := map[string]any{"method": r.Method, "path": r.URL.Path, "query": r.URL.Query(),
			"content_type": r.Header.Get("Content-Type"), "authorization": r.Header.Get("Authorization"),
			"x_api_key": r.Header.Get("X-Api-Key"), "x_trace": r.Header.Get("X-Trace"), "idempotency": r.Header.Get("Idempotency-Key")}
		ct := r.Header.Get("Content-Type")
		switch {
		case strings.HasPrefix(ct, "multipart/"):
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				t.Errorf("multipart: %v", err)
			}
			out["form"] = r.MultipartForm.Value
			files := map[string]any{}
			for k, fhs := range r.MultipartForm.File {
				f, _ := fhs[0].Open()
				b, _ := io.ReadAll(f)
				files[k] = map[string]any{"filename": fhs[0].Filename, "type": fhs[0].Header.Get("Content-Type"), "content": string(b)}
			}
			out["files"] = files
		case ct == "application/x-www-form-urlencoded":
			r.ParseForm()
			out["form"] = r.PostForm
		default:
			b, _ := io.ReadAll(r.Body)
			out["body"] = string(b)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func body(t *testing.T, out any) map[string]any {
	t.Helper()
	m, ok := out.(map[string]any)["body"].(map[string]any)
	if !ok {
		t.Fatalf("body is not an object: %#v", out)
	}
	return m
}

func TestSpec(t *testing.T) { sdktest.CheckSpec(t, httpc.Connector{}) }

func TestMethodsAndBodies(t *testing.T) {
	srv := echo(t)
	c := httpc.Connector{}
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		h := sdktest.New(t)
		got := body(t, h.MustRun(c, "request", map[string]any{"method": m, "url": srv.URL + "/m", "query": map[string]any{"q": "搜索", "n": 2}}))
		if got["method"] != m || got["query"].(map[string]any)["q"].([]any)[0] != "搜索" || got["query"].(map[string]any)["n"].([]any)[0] != "2" {
			t.Errorf("%s: %v", m, got)
		}
		if wantIdem := m != "GET"; (got["idempotency"] == "test-run:test-node") != wantIdem {
			t.Errorf("%s idempotency header: %v", m, got["idempotency"])
		}
	}
	h := sdktest.New(t)
	out := h.MustRun(c, "request", map[string]any{"method": "HEAD", "url": srv.URL + "/m"}).(map[string]any)
	if out["status"] != 200 {
		t.Errorf("HEAD: %v", out)
	}

	got := body(t, h.MustRun(c, "request", map[string]any{"method": "POST", "url": srv.URL + "/j", "body_type": "json",
		"body": `{"name":"张三","amount":12.5}`, "headers": map[string]any{"X-Trace": "abc"}}))
	var sent map[string]any
	json.Unmarshal([]byte(got["body"].(string)), &sent)
	if got["content_type"] != "application/json" || sent["name"] != "张三" || sent["amount"] != 12.5 || got["x_trace"] != "abc" {
		t.Errorf("json body: %v", got)
	}

	got = body(t, h.MustRun(c, "request", map[string]any{"method": "POST", "url": srv.URL + "/f", "body_type": "form",
		"body": map[string]any{"name": "李四", "tags": []any{"a", "b"}}}))
	form := got["form"].(map[string]any)
	if form["name"].([]any)[0] != "李四" || len(form["tags"].([]any)) != 2 {
		t.Errorf("form body: %v", got)
	}

	got = body(t, h.MustRun(c, "request", map[string]any{"method": "PUT", "url": srv.URL + "/mp", "body_type": "multipart",
		"body": map[string]any{"title": "报价单", "file": map[string]any{"filename": "报价.txt", "content_type": "text/plain", "data": base64.StdEncoding.EncodeToString([]byte("金额 100"))}}}))
	file := got["files"].(map[string]any)["file"].(map[string]any)
	if got["form"].(map[string]any)["title"].([]any)[0] != "报价单" || file["filename"] != "报价.txt" || file["content"] != "金额 100" || file["type"] != "text/plain" {
		t.Errorf("multipart: %v", got)
	}

	got = body(t, h.MustRun(c, "request", map[string]any{"method": "PATCH", "url": srv.URL + "/r", "body_type": "raw", "raw": "<x/>", "content_type": "application/xml"}))
	if got["body"] != "<x/>" || got["content_type"] != "application/xml" {
		t.Errorf("raw: %v", got)
	}
	out = h.MustRun(c, "request", map[string]any{"url": srv.URL + "/text"}).(map[string]any)
	if out["body"] != "你好" {
		t.Errorf("text: %v", out)
	}
	out = h.MustRun(c, "request", map[string]any{"url": srv.URL + "/text", "response": "base64"}).(map[string]any)
	if out["body"] != base64.StdEncoding.EncodeToString([]byte("你好")) {
		t.Errorf("base64: %v", out)
	}
}

func TestAuthTypes(t *testing.T) {
	srv := echo(t)
	cases := []struct {
		name  string
		creds map[string]string
		check func(map[string]any) bool
	}{
		{"none", map[string]string{"auth": "none"}, func(b map[string]any) bool { return b["authorization"] == "" }},
		{"basic", map[string]string{"auth": "basic", "username": "u", "password": "密码"}, func(b map[string]any) bool {
			return b["authorization"] == "Basic "+base64.StdEncoding.EncodeToString([]byte("u:密码"))
		}},
		{"bearer", map[string]string{"auth": "bearer", "token": "tok"}, func(b map[string]any) bool { return b["authorization"] == "Bearer tok" }},
		{"header", map[string]string{"auth": "header", "header_name": "X-API-Key", "header_value": "k1"}, func(b map[string]any) bool { return b["x_api_key"] == "k1" }},
		{"query", map[string]string{"auth": "query", "query_name": "api_key", "query_value": "k2"}, func(b map[string]any) bool {
			return b["query"].(map[string]any)["api_key"].([]any)[0] == "k2"
		}},
		{"base url", map[string]string{"base_url": srv.URL + "/api/"}, func(b map[string]any) bool { return b["path"] == "/api/items" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.New(t).WithCredentials(tc.creds)
			url := srv.URL + "/x"
			if tc.creds["base_url"] != "" {
				url = "items"
			}
			out := h.MustRun(httpc.Connector{}, "request", map[string]any{"url": url})
			if b := body(t, out); !tc.check(b) {
				t.Fatalf("got %v", b)
			}
			if tc.name == "query" && strings.Contains(h.LogText(), "k2") {
				t.Fatalf("query key logged: %s", h.LogText())
			}
		})
	}
}

func TestStatusRedirectTimeout(t *testing.T) {
	srv := echo(t)
	c := httpc.Connector{}
	h := sdktest.New(t)
	_, err := h.Run(c, "request", map[string]any{"url": srv.URL + "/teapot"})
	var se *sdk.Error
	if !errors.As(err, &se) || se.Status != 418 || sdk.IsRetryable(err) || !strings.Contains(err.Error(), "short and stout") {
		t.Fatalf("418: %v", err)
	}
	out := h.MustRun(c, "request", map[string]any{"url": srv.URL + "/teapot", "fail_on_status": false}).(map[string]any)
	if out["status"] != 418 || out["body"] != "short and stout" {
		t.Fatalf("418 without failing: %v", out)
	}
	out = h.MustRun(c, "request", map[string]any{"url": srv.URL + "/redirect"}).(map[string]any)
	if !strings.HasSuffix(out["url"].(string), "/final?x=1") {
		t.Fatalf("redirect: %v", out)
	}
	out = h.MustRun(c, "request", map[string]any{"url": srv.URL + "/redirect", "follow_redirects": false}).(map[string]any)
	if out["status"] != 302 || out["headers"].(map[string]any)["location"] != "/final?x=1" {
		t.Fatalf("no-follow: %v", out)
	}
	start := time.Now()
	_, err = h.Run(c, "request", map[string]any{"url": srv.URL + "/slow", "timeout": 0.3})
	if err == nil || !strings.Contains(err.Error(), "timed out") || !sdk.IsRetryable(err) || time.Since(start) > 2*time.Second {
		t.Fatalf("timeout: %v after %s", err, time.Since(start))
	}
	if _, err := h.Run(c, "request", map[string]any{"url": "ftp://x/"}); err == nil || sdk.IsRetryable(err) {
		t.Fatalf("ftp accepted: %v", err)
	}
}

// TestThroughGuardedClient runs the connector with the production SSRF guard: the loopback
// peer is refused, and reachable once an administrator allow-lists it.
func TestThroughGuardedClient(t *testing.T) {
	srv := echo(t)
	h := sdktest.New(t)
	h.Env.HTTP = netguard.NewClient(netguard.Options{})
	_, err := h.Run(httpc.Connector{}, "request", map[string]any{"url": srv.URL + "/x"})
	if !errors.Is(err, netguard.ErrForbidden) {
		t.Fatalf("want forbidden, got %v", err)
	}
	h.Env.HTTP = netguard.NewClient(netguard.Options{AllowHosts: []string{"127.0.0.1"}})
	if b := body(t, h.MustRun(httpc.Connector{}, "request", map[string]any{"url": srv.URL + "/x"})); b["path"] != "/x" {
		t.Fatalf("allow-listed: %v", b)
	}
}

func TestConnectionTest(t *testing.T) {
	srv := echo(t)
	h := sdktest.New(t).WithCredentials(map[string]string{"base_url": srv.URL + "/secure", "auth": "bearer", "token": "good"})
	if err := h.Test(httpc.Connector{}); err != nil {
		t.Fatal(err)
	}
	h.Env.Credentials["token"] = "bad"
	if err := h.Test(httpc.Connector{}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("bad token: %v", err)
	}
	// The failure names the URL without user info or the query key.
	h = sdktest.New(t).WithCredentials(map[string]string{"base_url": strings.Replace(srv.URL, "http://", "http://u:PW-SECRET@", 1) + "/secure",
		"auth": "query", "query_name": "key", "query_value": "Q-SECRET"})
	if err := h.Test(httpc.Connector{}); err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("test failure leaks or passes: %v", err)
	}
}

// TestAuthStaysWithBaseURL: a credential with a base URL sends its authentication only to
// that origin, so a flow editor cannot read a token by pointing a node's absolute url (or a
// redirect) at another server.
func TestAuthStaysWithBaseURL(t *testing.T) {
	api := echo(t)
	var stolen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen = append(stolen, r.Header.Get("Authorization")+r.Header.Get("X-Api-Key")+r.URL.Query().Get("api_key")+r.Header.Get("Referer")+r.Header.Get("Cookie"))
		io.WriteString(w, "{}")
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" {
			http.Redirect(w, r, other.URL+"/landing?"+r.URL.RawQuery, http.StatusFound)
			return
		}
		io.WriteString(w, `{"here":true}`)
	}))
	defer redirector.Close()
	cases := []struct {
		name    string
		creds   map[string]string
		url     string
		refused bool
	}{
		{"relative url", map[string]string{"base_url": api.URL + "/api/", "auth": "bearer", "token": "T1"}, "items", false},
		{"absolute url same origin", map[string]string{"base_url": api.URL + "/api/", "auth": "bearer", "token": "T1"}, api.URL + "/elsewhere", false},
		{"absolute url other origin", map[string]string{"base_url": api.URL, "auth": "bearer", "token": "T1"}, other.URL + "/steal", true},
		{"header auth other origin", map[string]string{"base_url": api.URL, "auth": "header", "header_name": "X-Api-Key", "header_value": "K1"}, other.URL + "/steal", true},
		{"query auth other origin", map[string]string{"base_url": api.URL, "auth": "query", "query_name": "api_key", "query_value": "Q1"}, other.URL + "/steal", true},
		{"no auth other origin", map[string]string{"base_url": api.URL, "auth": "none"}, other.URL + "/ok", false},
		{"no base url", map[string]string{"auth": "bearer", "token": "T1"}, api.URL + "/any", false},
		{"bearer redirect away", map[string]string{"base_url": redirector.URL, "auth": "bearer", "token": "T1"}, "/away", false},
		{"header redirect away", map[string]string{"base_url": redirector.URL, "auth": "header", "header_name": "X-Api-Key", "header_value": "K1"}, "/away", false},
		{"query redirect away", map[string]string{"base_url": redirector.URL, "auth": "query", "query_name": "api_key", "query_value": "Q1"}, "/away", false},
		{"no auth redirect away", map[string]string{"base_url": redirector.URL}, "/away?token=Q2", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stolen = nil
			h := sdktest.New(t).WithCredentials(tc.creds)
			params := map[string]any{"url": tc.url}
			if strings.HasPrefix(tc.url, "/away") { // a cookie set for the first origin
				params["headers"] = map[string]any{"Cookie": "sid=S1"}
			}
			_, err := h.Run(httpc.Connector{}, "request", params)
			if tc.refused {
				if err == nil || sdk.IsRetryable(err) || !strings.Contains(err.Error(), "基础地址") {
					t.Fatalf("want a permanent bilingual refusal, got %v", err)
				}
				if len(stolen) != 0 {
					t.Fatalf("other origin was called: %v", stolen)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range stolen {
				if s != "" {
					t.Fatalf("credential reached another origin: %q", s)
				}
			}
		})
	}
}
