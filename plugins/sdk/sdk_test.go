package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
)

func ptr(f float64) *float64 { return &f }

var params = []sdk.Param{
	{Key: "url", Type: sdk.TypeString, Label: sdk.T("URL", "地址"), Required: true},
	{Key: "method", Type: sdk.TypeSelect, Label: sdk.T("Method", "方法"), Default: "GET",
		Options: []sdk.Option{{Value: "GET"}, {Value: "POST"}}},
	{Key: "body", Type: sdk.TypeJSON, Label: sdk.T("Body", "请求体"), ShowIf: map[string][]any{"method": {"POST"}}, Required: true},
	{Key: "timeout", Type: sdk.TypeNumber, Label: sdk.T("Timeout", "超时"), Default: 30.0, Min: ptr(1), Max: ptr(300)},
	{Key: "follow", Type: sdk.TypeBoolean, Label: sdk.T("Follow", "跟随"), Default: true},
	{Key: "token", Type: sdk.TypeSecret, Label: sdk.T("Token", "令牌")},
}

func TestValidateParams(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]any
		want   []string // field:code
	}{
		{"minimal", map[string]any{"url": "https://x"}, nil},
		{"missing required", map[string]any{}, []string{"url:required"}},
		{"unknown key", map[string]any{"url": "u", "nope": 1}, []string{"nope:unknown"}},
		{"bad option", map[string]any{"url": "u", "method": "PATCH"}, []string{"method:option"}},
		{"show_if makes body required", map[string]any{"url": "u", "method": "POST"}, []string{"body:required"}},
		{"hidden body not required", map[string]any{"url": "u", "method": "GET"}, nil},
		{"number as string ok", map[string]any{"url": "u", "timeout": "12"}, nil},
		{"number wrong", map[string]any{"url": "u", "timeout": "soon"}, []string{"timeout:type"}},
		{"number range", map[string]any{"url": "u", "timeout": 0.5}, []string{"timeout:out_of_range"}},
		{"bool wrong", map[string]any{"url": "u", "follow": "maybe"}, []string{"follow:type"}},
		{"template accepted for number", map[string]any{"url": "u", "timeout": "{{ trigger.t }}"}, nil},
		{"template in show_if source", map[string]any{"url": "u", "method": "{{ x }}"}, []string{"body:required"}},
		{"bad json text", map[string]any{"url": "u", "method": "POST", "body": "{nope"}, []string{"body:type"}},
		{"string for url wrong type", map[string]any{"url": []any{1}}, []string{"url:type"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range sdk.ValidateParams(params, tc.values) {
				got = append(got, e.Field+":"+e.Code)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPrepareCoercesAndDefaults(t *testing.T) {
	out, errs := sdk.Prepare(params, map[string]any{"url": "u", "method": "POST", "body": `{"a":[1,2]}`, "timeout": "5", "follow": "false"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := map[string]any{"url": "u", "method": "POST", "body": map[string]any{"a": []any{1.0, 2.0}}, "timeout": 5.0, "follow": false}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("got %#v", out)
	}
	out, _ = sdk.Prepare(params, map[string]any{"url": "u", "body": "ignored because hidden"})
	if _, ok := out["body"]; ok || out["method"] != "GET" || out["timeout"] != 30.0 {
		t.Fatalf("defaults/hidden: %#v", out)
	}
}

type testConn struct{}

func (testConn) Spec() sdk.Spec {
	return sdk.Spec{ID: "echo", Version: "1.0.0", Label: sdk.T("Echo", "回显"),
		Credentials: []sdk.Param{{Key: "key", Type: sdk.TypeSecret, Label: sdk.T("Key", "密钥"), Required: true}},
		Operations: []sdk.Operation{{ID: "say", Label: sdk.T("Say", "说"), Params: params,
			Run: func(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
				env.Log().Info("saying", "url", p["url"])
				return map[string]any{"params": p, "key": env.Credential("key"), "idem": env.IdempotencyKey}, nil
			}}}}
}

func (testConn) Test(ctx context.Context, env sdk.Env) error {
	if env.Credential("key") != "good" {
		return errors.New("bad key")
	}
	return nil
}

func TestRegistryAndHarness(t *testing.T) {
	r := sdk.NewRegistry()
	if err := r.Add(testConn{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(testConn{}); err == nil {
		t.Fatal("duplicate id accepted")
	}
	cat := r.Catalog()
	if len(cat) != 1 || !reflect.DeepEqual(cat[0].Capabilities, []string{"test"}) || cat[0].Source != "builtin" {
		t.Fatalf("catalog: %+v", cat)
	}
	b, _ := json.Marshal(cat[0])
	for _, want := range []string{`"zh-CN":"回显"`, `"show_if":{"method":["POST"]}`, `"type":"secret"`, `"capabilities":["test"]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("catalog JSON misses %s: %s", want, b)
		}
	}
	sdktest.CheckSpec(t, testConn{})

	h := sdktest.New(t).WithCredentials(map[string]string{"key": "good"})
	out := h.MustRun(testConn{}, "say", map[string]any{"url": "https://example.test"}).(map[string]any)
	if out["key"] != "good" || out["idem"] != "test-run:test-node" || out["params"].(map[string]any)["method"] != "GET" {
		t.Fatalf("out %v", out)
	}
	if logs := h.Logs(); len(logs) != 1 || logs[0].Attrs["url"] != "https://example.test" {
		t.Fatalf("logs %+v", logs)
	}
	if err := h.Test(testConn{}); err != nil {
		t.Fatal(err)
	}
	_, err := h.Run(testConn{}, "say", map[string]any{})
	var fe sdk.FieldErrors
	if !errors.As(err, &fe) || fe[0].Field != "url" || sdk.IsRetryable(err) {
		t.Fatalf("want field errors, got %v", err)
	}
	if _, err := h.Run(testConn{}, "nope", nil); err == nil || sdk.IsRetryable(err) {
		t.Fatalf("unknown op: %v", err)
	}
}

func TestCheckSpecRejects(t *testing.T) {
	run := func(context.Context, sdk.Env, map[string]any) (any, error) { return nil, nil }
	base := func() sdk.Spec {
		return sdk.Spec{ID: "x", Version: "1", Label: sdk.T("X", "X"),
			Operations: []sdk.Operation{{ID: "op", Run: run, Params: []sdk.Param{{Key: "a", Type: sdk.TypeString}}}}}
	}
	cases := map[string]func(*sdk.Spec){
		"bad id":          func(s *sdk.Spec) { s.ID = "Bad ID" },
		"no version":      func(s *sdk.Spec) { s.Version = "" },
		"nil run":         func(s *sdk.Spec) { s.Operations[0].Run = nil },
		"dup op":          func(s *sdk.Spec) { s.Operations = append(s.Operations, s.Operations[0]) },
		"bad type":        func(s *sdk.Spec) { s.Operations[0].Params[0].Type = "date" },
		"select no opts":  func(s *sdk.Spec) { s.Operations[0].Params[0].Type = sdk.TypeSelect },
		"show_if unknown": func(s *sdk.Spec) { s.Operations[0].Params[0].ShowIf = map[string][]any{"zz": {"1"}} },
		"bad default": func(s *sdk.Spec) {
			s.Operations[0].Params[0].Type = sdk.TypeNumber
			s.Operations[0].Params[0].Default = "x"
		},
		"connector label en only": func(s *sdk.Spec) { s.Label = sdk.Text{En: "X"} },
		"description zh-CN only":  func(s *sdk.Spec) { s.Description = sdk.Text{ZhCN: "说明"} },
		"operation label en only": func(s *sdk.Spec) { s.Operations[0].Label = sdk.Text{En: "Op"} },
		"param label en only":     func(s *sdk.Spec) { s.Operations[0].Params[0].Label = sdk.Text{En: "A"} },
		"param help en only":      func(s *sdk.Spec) { s.Operations[0].Params[0].Help = sdk.Text{En: "Help"} },
		"credential label en only": func(s *sdk.Spec) {
			s.Credentials = []sdk.Param{{Key: "k", Type: sdk.TypeSecret, Label: sdk.Text{En: "Key"}}}
		},
		"output label en only": func(s *sdk.Spec) {
			s.Operations[0].Output = []sdk.OutputField{{Key: "id", Type: "string", Label: sdk.Text{En: "Id"}}}
		},
		"trigger description en only": func(s *sdk.Spec) {
			s.Triggers = []sdk.Trigger{{ID: "t", Label: sdk.T("T", "触发"), Description: sdk.Text{En: "New"}}}
		},
	}
	if err := sdk.CheckSpec(base()); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range cases {
		s := base()
		mutate(&s)
		if err := sdk.CheckSpec(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestEnvWithoutClientRefuses(t *testing.T) {
	_, err := sdk.Env{}.Client().Get("http://127.0.0.1:1/")
	if !errors.Is(err, sdk.ErrNoNetwork) {
		t.Fatalf("got %v", err)
	}
	if !sdk.IsRetryable(sdk.StatusError("x", 503, "")) || sdk.IsRetryable(sdk.StatusError("x", 400, "")) {
		t.Fatal("status classification")
	}
}

// feed is a connector with a polling trigger and dynamic options.
type feed struct{}

func (feed) Spec() sdk.Spec {
	return sdk.Spec{ID: "feed", Version: "1", Label: sdk.T("Feed", "订阅"),
		Operations: []sdk.Operation{{ID: "noop", Label: sdk.T("Noop", "无"), Params: []sdk.Param{{Key: "list", Type: sdk.TypeSelect, Label: sdk.T("List", "列表"), DynamicOptions: true}},
			Run: func(context.Context, sdk.Env, map[string]any) (any, error) { return nil, nil }}},
		Triggers: []sdk.Trigger{{ID: "new_items", Label: sdk.T("New items", "新条目"), Params: []sdk.Param{{Key: "limit", Type: sdk.TypeNumber, Label: sdk.T("Limit", "数量"), Default: 2.0}}}}}
}

func (feed) Options(_ context.Context, _ sdk.Env, op, param string, _ map[string]any) ([]sdk.Option, error) {
	return []sdk.Option{{Value: op + "." + param}}, nil
}

func (feed) Poll(_ context.Context, _ sdk.Env, trigger string, p map[string]any, state []byte) (sdk.PollResult, error) {
	n := 0
	if len(state) > 0 {
		n = int(state[0])
	}
	var items []any
	for i := 0; i < int(p["limit"].(float64)); i++ {
		items = append(items, n+i)
	}
	return sdk.PollResult{Items: items, State: []byte{byte(n + len(items))}}, nil
}

func TestCapabilities(t *testing.T) {
	if got := sdk.Describe(feed{}).Capabilities; strings.Join(got, ",") != "options,poll" {
		t.Fatalf("capabilities %v", got)
	}
	h := sdktest.New(t)
	opts, err := h.Options(feed{}, "noop", "list", nil)
	if err != nil || opts[0].Value != "noop.list" {
		t.Fatalf("options %v %v", opts, err)
	}
	r1, err := h.Poll(feed{}, "new_items", nil, nil)
	if err != nil || len(r1.Items) != 2 {
		t.Fatalf("poll %v %v", r1, err)
	}
	r2, _ := h.Poll(feed{}, "new_items", map[string]any{"limit": "3"}, r1.State)
	if fmt.Sprint(r2.Items) != "[2 3 4]" {
		t.Fatalf("second poll %v", r2.Items)
	}
	if _, err := h.Poll(feed{}, "new_items", map[string]any{"limit": "x"}, nil); err == nil {
		t.Fatal("bad trigger params accepted")
	}
	// Dynamic options accept any value at validation.
	if errs := sdk.ValidateParams(feed{}.Spec().Operations[0].Params, map[string]any{"list": "anything"}); len(errs) != 0 {
		t.Fatal(errs)
	}
}

func TestPostErrorsHideTokens(t *testing.T) {
	env := sdk.Env{HTTP: &http.Client{}}
	_, err := env.PostJSON(context.Background(), "robot send", "http://127.0.0.1:1/robot/send?access_token=SECRET-TOKEN", map[string]any{}, nil)
	if err == nil || strings.Contains(err.Error(), "SECRET-TOKEN") || !sdk.IsRetryable(err) {
		t.Fatalf("error %v", err)
	}
}

// TestPostErrorsHideSecretPaths: robot and incoming-webhook URLs carry their token in the
// path (Slack, Feishu, WeCom) or query (DingTalk); a failed Post names only scheme and host.
func TestPostErrorsHideSecretPaths(t *testing.T) {
	for _, u := range []string{
		"http://127.0.0.1:1/services/T000/B000/SECRET-TOKEN",
		"http://127.0.0.1:1/open-apis/bot/v2/hook/SECRET-TOKEN",
		"http://127.0.0.1:1/cgi-bin/webhook/send?key=SECRET-TOKEN",
		"http://user:SECRET-TOKEN@127.0.0.1:1/x",
	} {
		t.Run(u, func(t *testing.T) {
			env := sdk.Env{HTTP: &http.Client{}}
			_, err := env.PostJSON(context.Background(), "robot send", u, map[string]any{}, nil)
			if err == nil || strings.Contains(err.Error(), "SECRET-TOKEN") || !strings.Contains(err.Error(), "http://127.0.0.1:1/…") {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// TestValidationMessagesBilingual: every validation message carries en and zh-CN text.
func TestValidationMessagesBilingual(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]any
	}{
		{"required", map[string]any{}},
		{"unknown", map[string]any{"url": "u", "nope": 1}},
		{"option", map[string]any{"url": "u", "method": "PATCH"}},
		{"number", map[string]any{"url": "u", "timeout": "soon"}},
		{"range low", map[string]any{"url": "u", "timeout": 0.5}},
		{"range high", map[string]any{"url": "u", "timeout": 301}},
		{"bool", map[string]any{"url": "u", "follow": "maybe"}},
		{"json", map[string]any{"url": "u", "method": "POST", "body": "{nope"}},
		{"string", map[string]any{"url": []any{1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := sdk.ValidateParams(params, tc.values)
			if len(errs) == 0 {
				t.Fatal("no error")
			}
			for _, e := range errs {
				if !strings.Contains(e.Message, " / ") || !hasHan(e.Message) {
					t.Errorf("%s: message %q is not bilingual", e.Field, e.Message)
				}
			}
		})
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
