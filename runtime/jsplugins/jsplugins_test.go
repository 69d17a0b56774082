package jsplugins_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
	"github.com/tessera/tessera/runtime/jsplugins"
	"github.com/tessera/tessera/runtime/netguard"
	"github.com/tessera/tessera/runtime/script"
)

// TestMain lets the test binary serve as the sandbox worker, as the tessera binary does.
func TestMain(m *testing.M) {
	if os.Getenv("TESSERA_SANDBOX_WORKER") == "1" {
		os.Exit(script.WorkerMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func pool(t *testing.T) *script.Pool {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := script.NewPool(script.Options{Size: 1, Exe: exe, Env: []string{"TESSERA_SANDBOX_WORKER=1"}, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func write(t *testing.T, root, name string, files map[string]string) {
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, content := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const goodManifest = `{
  "id": "acme-crm", "version": "0.1.0", "label": {"en": "ACME CRM", "zh-CN": "ACME 客户系统"},
  "capabilities": ["test"],
  "credentials": [
    {"key": "base_url", "type": "string", "label": {"en": "Base URL", "zh-CN": "地址"}, "required": true},
    {"key": "api_key", "type": "secret", "label": {"en": "API key", "zh-CN": "密钥"}, "required": true}
  ],
  "operations": [{
    "id": "create_contact", "label": {"en": "Create contact", "zh-CN": "创建联系人"},
    "params": [
      {"key": "name", "type": "string", "label": {"en": "Name", "zh-CN": "姓名"}, "required": true},
      {"key": "vip", "type": "boolean", "label": {"en": "VIP", "zh-CN": "重要客户"}, "default": false},
      {"key": "mode", "type": "select", "label": {"en": "Mode", "zh-CN": "模式"}, "default": "ok",
       "options": [{"value": "ok", "label": {"en": "OK"}}, {"value": "fail", "label": {"en": "Fail"}}, {"value": "busy", "label": {"en": "Busy"}}, {"value": "spin", "label": {"en": "Spin"}}]}
    ],
    "output": [{"key": "id", "type": "string", "label": {"en": "Contact id", "zh-CN": "联系人 ID"}}]
  }]
}`

const goodCode = `
const operations = {
  create_contact(params, ctx) {
    if (params.mode === 'fail') throw new Error('ACME refused the contact');
    if (params.mode === 'busy') throw new Error('retry: ACME is busy');
    if (params.mode === 'spin') { for (;;) {} }
    const r = http.fetch(ctx.credentials.base_url + '/contacts', {
      method: 'POST',
      headers: {'X-Api-Key': ctx.credentials.api_key, 'Idempotency-Key': ctx.idempotency_key},
      body: {name: params.name, vip: params.vip},
    });
    log('acme answered', r.status);
    if (!r.ok) throw new Error((r.status >= 500 ? 'retry: ' : '') + 'ACME answered ' + r.status);
    return {id: r.json().id, name: params.name};
  },
};
function test(ctx) {
  const r = http.fetch(ctx.credentials.base_url + '/me', {headers: {'X-Api-Key': ctx.credentials.api_key}});
  if (r.status !== 200) throw new Error('ACME rejected the key: ' + r.status);
}
`

func acme(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k-1" {
			w.WriteHeader(401)
			return
		}
		switch r.URL.Path {
		case "/me":
			io.WriteString(w, `{"ok":true}`)
		case "/contacts":
			var in map[string]any
			json.NewDecoder(r.Body).Decode(&in)
			if in["name"] != "王芳" || in["vip"] != true || r.Header.Get("Idempotency-Key") != "test-run:test-node" {
				w.WriteHeader(400)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"c-77"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLoadAndRun(t *testing.T) {
	root := t.TempDir()
	write(t, root, "acme", map[string]string{"manifest.json": goodManifest, "index.js": goodCode})
	write(t, root, "bad-json", map[string]string{"manifest.json": `{"id": "bad",`, "index.js": "const operations = {};"})
	write(t, root, "bad-code", map[string]string{"manifest.json": strings.Replace(goodManifest, "acme-crm", "bad-code", 1), "index.js": "const operations = {;"})
	write(t, root, "no-code", map[string]string{"manifest.json": strings.Replace(goodManifest, "acme-crm", "no-code", 1)})
	write(t, root, "taken", map[string]string{"manifest.json": strings.Replace(goodManifest, "acme-crm", "http", 1), "index.js": goodCode})
	write(t, root, "bad-spec", map[string]string{"manifest.json": `{"id":"bad-spec","version":"1","label":{"en":"x"},"operations":[{"id":"x","params":[{"key":"a","type":"date"}]}]}`, "index.js": "const operations = {};"})
	write(t, root, "unknown-key", map[string]string{"manifest.json": `{"id":"uk","version":"1","label":{"en":"x"},"operations":[],"bogus":1}`, "index.js": ""})

	reg := sdk.NewRegistry()
	reg.Add(sdk.Define(sdk.Spec{ID: "http", Version: "1", Label: sdk.T("HTTP", "HTTP"), Operations: []sdk.Operation{{ID: "request",
		Run: func(context.Context, sdk.Env, map[string]any) (any, error) { return nil, nil }}}}))
	loaded, problems := jsplugins.Load(root, reg, pool(t), nil)
	if strings.Join(loaded, ",") != "acme-crm" {
		t.Fatalf("loaded %v, problems %v", loaded, problems)
	}
	var dirs []string
	for _, p := range problems {
		dirs = append(dirs, filepath.Base(p.Dir))
	}
	sort.Strings(dirs)
	if strings.Join(dirs, ",") != "bad-code,bad-json,bad-spec,no-code,taken,unknown-key" {
		t.Fatalf("problems %v", problems)
	}

	c, _ := reg.Get("acme-crm")
	spec := sdk.Describe(c)
	if spec.Source != "plugin" || strings.Join(spec.Capabilities, ",") != "test" {
		t.Fatalf("catalog entry %+v", spec)
	}
	sdktest.CheckSpec(t, c)

	srv := acme(t)
	h := sdktest.New(t).WithCredentials(map[string]string{"base_url": srv.URL, "api_key": "k-1"})
	h.Env.HTTP = netguard.NewClient(netguard.Options{AllowHosts: []string{"127.0.0.1"}})
	out := h.MustRun(c, "create_contact", map[string]any{"name": "王芳", "vip": "true"})
	if m := out.(map[string]any); m["id"] != "c-77" || m["name"] != "王芳" {
		t.Fatalf("out %v", out)
	}
	if !strings.Contains(h.LogText(), "acme answered 200") {
		t.Fatalf("logs %s", h.LogText())
	}
	if err := h.Test(c); err != nil {
		t.Fatalf("connection test: %v", err)
	}
	h.Env.Credentials["api_key"] = "wrong"
	if err := h.Test(c); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong key: %v", err)
	}
	_, err := h.Run(c, "create_contact", map[string]any{"name": "王芳"})
	if err == nil || sdk.IsRetryable(err) || !strings.Contains(err.Error(), "ACME answered 401") {
		t.Fatalf("401: %v", err)
	}
	h.Env.Credentials["api_key"] = "k-1"
	if _, err := h.Run(c, "create_contact", map[string]any{"name": "x", "mode": "fail"}); err == nil || sdk.IsRetryable(err) {
		t.Fatalf("permanent: %v", err)
	}
	if _, err := h.Run(c, "create_contact", map[string]any{"name": "x", "mode": "busy"}); err == nil || !sdk.IsRetryable(err) {
		t.Fatalf("retryable: %v", err)
	}
	// Validation happens before any JavaScript runs.
	var fe sdk.FieldErrors
	if _, err := h.Run(c, "create_contact", map[string]any{"mode": "nope"}); !errors.As(err, &fe) || len(fe) != 2 {
		t.Fatalf("validation: %v", err)
	}
	// A runaway plugin is stopped by the sandbox deadline and the worker replaced.
	start := time.Now()
	if _, err := h.Run(c, "create_contact", map[string]any{"name": "x", "mode": "spin"}); err == nil || !sdk.IsRetryable(err) || time.Since(start) > 10*time.Second {
		t.Fatalf("spin: %v after %s", err, time.Since(start))
	}
	// The plugin's http.fetch goes through the env's guarded client.
	h.Env.HTTP = netguard.NewClient(netguard.Options{})
	if _, err := h.Run(c, "create_contact", map[string]any{"name": "王芳", "vip": true}); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Fatalf("guard: %v", err)
	}
}

func TestMissingDirIsReported(t *testing.T) {
	loaded, problems := jsplugins.Load(filepath.Join(t.TempDir(), "nope"), sdk.NewRegistry(), nil, nil)
	if len(loaded) != 0 || len(problems) != 1 {
		t.Fatalf("%v %v", loaded, problems)
	}
}

// TestReadmeExample loads the JavaScript plugin of plugins/README.md (testdata/acme-js).
func TestReadmeExample(t *testing.T) {
	c, err := jsplugins.LoadDir("testdata/acme-js", pool(t))
	if err != nil {
		t.Fatal(err)
	}
	sdktest.CheckSpec(t, c)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k-1" {
			w.WriteHeader(401)
			return
		}
		if r.URL.Path == "/contacts" {
			io.WriteString(w, `{"id":"c-1"}`)
		}
	}))
	defer srv.Close()
	h := sdktest.New(t).WithCredentials(map[string]string{"base_url": srv.URL, "api_key": "k-1"})
	if out := h.MustRun(c, "create_contact", map[string]any{"name": "王芳"}); out.(map[string]any)["id"] != "c-1" {
		t.Fatalf("out %v", out)
	}
	if err := h.Test(c); err != nil {
		t.Fatal(err)
	}
	h.Env.Credentials["api_key"] = "wrong"
	if _, err := h.Run(c, "create_contact", map[string]any{"name": "x"}); err == nil || sdk.IsRetryable(err) {
		t.Fatalf("401: %v", err)
	}
}
