package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
)

// peer is a loopback chat-completions server: it answers from a script of replies and keeps
// every request body it received.
type peer struct {
	*httptest.Server
	mu      sync.Mutex
	bodies  []string
	headers []http.Header
	replies []reply
}

type reply struct {
	status     int
	retryAfter string
	content    string // the assistant's answer
	stream     bool   // answer as server-sent events
	raw        string // a literal body instead
}

func newPeer(t testing.TB, replies ...reply) *peer {
	p := &peer{replies: replies}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		n := len(p.bodies)
		p.bodies = append(p.bodies, string(b))
		p.headers = append(p.headers, r.Header.Clone())
		var rp reply
		if n < len(p.replies) {
			rp = p.replies[n]
		} else if len(p.replies) > 0 {
			rp = p.replies[len(p.replies)-1]
		}
		p.mu.Unlock()
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		if rp.retryAfter != "" {
			w.Header().Set("Retry-After", rp.retryAfter)
		}
		if rp.status != 0 && rp.status != 200 {
			w.WriteHeader(rp.status)
			fmt.Fprint(w, `{"error":{"message":"busy"}}`)
			return
		}
		if rp.raw != "" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, rp.raw)
			return
		}
		var req struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(b, &req)
		if rp.stream {
			w.Header().Set("Content-Type", "text/event-stream")
			runes := []rune(rp.content)
			for i := 0; i < len(runes); i += 3 {
				chunk, _ := json.Marshal(map[string]any{"model": req.Model, "choices": []any{map[string]any{"delta": map[string]any{"content": string(runes[i:min(i+3, len(runes))])}}}})
				fmt.Fprintf(w, "data: %s\n\n", chunk)
			}
			fmt.Fprintf(w, "data: %s\n\n", `{"choices":[{"delta":{},"finish_reason":"stop"}]}`)
			fmt.Fprintf(w, "data: %s\n\n", `{"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500}}`)
			fmt.Fprint(w, "data: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		out, _ := json.Marshal(map[string]any{"model": req.Model, "choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": rp.content}, "finish_reason": "stop"}},
			"usage": map[string]any{"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}})
		w.Write(out)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *peer) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.bodies...)
}

// harness returns a harness whose credential points at the peer (provider deepseek, so its
// price table applies) and whose backoff waits are recorded instead of slept.
func harness(t testing.TB, p *peer) (*sdktest.Harness, *[]time.Duration) {
	h := sdktest.New(t).WithCredentials(map[string]string{"provider": "deepseek", "base_url": p.URL + "/v1", "api_key": "sk-test-0123456789"})
	var waits []time.Duration
	old := sleep
	sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	t.Cleanup(func() { sleep = old })
	return h, &waits
}

type sentRequest struct {
	Model          string         `json:"model"`
	Stream         bool           `json:"stream"`
	ResponseFormat map[string]any `json:"response_format"`
	Messages       []message      `json:"messages"`
}

func decodeSent(t *testing.T, body string) sentRequest {
	t.Helper()
	var r sentRequest
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, body)
	}
	return r
}

func TestChatJSONAndStreamed(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			p := newPeer(t, reply{content: "您好，张三！Here is your follow-up.", stream: stream})
			h, _ := harness(t, p)
			out := h.MustRun(Connector{}, "chat", map[string]any{"system": "You are a sales assistant.", "prompt": "Greet 张三 from ACME", "stream": stream, "model": "deepseek-chat"}).(map[string]any)
			if out["text"] != "您好，张三！Here is your follow-up." {
				t.Fatalf("text = %q", out["text"])
			}
			u := out["usage"].(Usage)
			if u.PromptTokens != 1000 || u.CompletionTokens != 500 || u.TotalTokens != 1500 || u.Estimated {
				t.Fatalf("usage = %+v", u)
			}
			// deepseek-chat: 2 CNY per million input tokens, 8 per million output tokens
			if c := out["cost"].(Cost); !c.Priced || c.Currency != "CNY" || c.Amount != 0.006 {
				t.Fatalf("cost = %+v", c)
			}
			reqs := p.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			sent := decodeSent(t, reqs[0])
			if sent.Model != "deepseek-chat" || sent.Stream != stream || len(sent.Messages) != 2 ||
				sent.Messages[0] != (message{"system", "You are a sales assistant."}) || sent.Messages[1] != (message{"user", "Greet 张三 from ACME"}) {
				t.Fatalf("sent %+v", sent)
			}
			if got := p.headers[0].Get("Authorization"); got != "Bearer sk-test-0123456789" {
				t.Fatalf("Authorization = %q", got)
			}
		})
	}
}

// reader is a RecordReader the host would give: the fields listed are all the identity may read.
type reader struct {
	ent sdk.EntityInfo
	rec sdk.RecordView
}

func (r reader) Entity(ctx context.Context, entity string) (sdk.EntityInfo, error) {
	if entity != r.ent.Slug {
		return sdk.EntityInfo{}, sdk.Permanent(errors.New("entity not found"))
	}
	return r.ent, nil
}

func (r reader) Record(ctx context.Context, entity, id string, o sdk.RecordOptions) (sdk.RecordView, error) {
	if id != r.rec.ID {
		return sdk.RecordView{}, sdk.Permanent(errors.New("record not found"))
	}
	return r.rec, nil
}

var leadEntity = sdk.EntityInfo{Slug: "lead", Label: sdk.T("Lead", "线索"), Fields: []sdk.FieldInfo{
	{Key: "name", Type: "text", Label: sdk.T("Name", "姓名")},
	{Key: "company", Type: "text", Label: sdk.T("Company", "公司")},
	{Key: "amount", Type: "money", Label: sdk.T("Budget", "预算")},
	{Key: "stage", Type: "select", Label: sdk.T("Stage", "阶段"), Options: []string{"new", "qualified", "won"}},
	{Key: "tags", Type: "multiselect", Label: sdk.T("Tags", "标签"), Options: []string{"vip", "cold"}},
	{Key: "consent", Type: "boolean", Label: sdk.T("Consent", "同意")},
	{Key: "close_on", Type: "date", Label: sdk.T("Close date", "成交日期")},
	{Key: "files", Type: "attachment", Label: sdk.T("Files", "附件")},
}}

func TestExtract(t *testing.T) {
	good := `{"name":"张三","company":"ACME","amount":"12,000","stage":"qualified","tags":["vip"],"consent":true,"close_on":"2026-06-30"}`
	for _, tc := range []struct {
		name, answer, wantErr string
		stream                bool
	}{
		{name: "valid", answer: good},
		{name: "valid streamed", answer: good, stream: true},
		{name: "valid in a code fence", answer: "```json\n" + good + "\n```"},
		{name: "not JSON", answer: "Sure! The name is 张三.", wantErr: "模型的回答不是 JSON 对象"},
		{name: "wrong type", answer: `{"amount":"a lot"}`, wantErr: "amount: expected a number / 应为数字"},
		{name: "not an option", answer: `{"stage":"maybe"}`, wantErr: `stage: "maybe" is not one of new, qualified, won`},
		{name: "unknown key", answer: `{"cost":100}`, wantErr: "cost: not in the schema"},
		{name: "bad date", answer: `{"close_on":"next June"}`, wantErr: "close_on: expected a date"},
		{name: "boolean as text", answer: `{"consent":"yes"}`, wantErr: "consent: expected true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, reply{content: tc.answer, stream: tc.stream})
			h, _ := harness(t, p)
			h.Env.Records = reader{ent: leadEntity}
			out, err := h.Run(Connector{}, "extract", map[string]any{"text": "张三 from ACME wants to buy for 12,000 yuan by end of June", "entity": "lead", "stream": tc.stream})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || sdk.IsRetryable(err) {
					t.Fatalf("err = %v, want permanent %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), "模型") || !strings.Contains(err.Error(), "model") {
					t.Fatalf("error is not bilingual: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			data := out.(map[string]any)["data"].(map[string]any)
			want := map[string]any{"name": "张三", "company": "ACME", "amount": 12000.0, "stage": "qualified", "tags": []any{"vip"}, "consent": true, "close_on": "2026-06-30"}
			for k, v := range want {
				if fmt.Sprint(data[k]) != fmt.Sprint(v) || fmt.Sprintf("%T", data[k]) != fmt.Sprintf("%T", v) {
					t.Errorf("data[%s] = %#v, want %#v", k, data[k], v)
				}
			}
			if _, ok := data["files"]; ok {
				t.Error("an attachment field is in the schema")
			}
			sent := decodeSent(t, p.requests()[0])
			if sent.ResponseFormat["type"] != "json_object" || !strings.Contains(sent.Messages[0].Content, `"stage":{"description":"Stage / 阶段","enum":["new","qualified","won",null]`) ||
				sent.Messages[1].Content != "张三 from ACME wants to buy for 12,000 yuan by end of June" {
				t.Fatalf("sent %+v", sent)
			}
		})
	}
	t.Run("a field the identity may not read", func(t *testing.T) {
		p := newPeer(t, reply{content: good})
		h, _ := harness(t, p)
		h.Env.Records = reader{ent: leadEntity}
		_, err := h.Run(Connector{}, "extract", map[string]any{"text": "x", "entity": "lead", "fields": []any{"name", "cost"}})
		var fe sdk.FieldErrors
		if !errors.As(err, &fe) || fe[0].Field != "fields" || len(p.requests()) != 0 {
			t.Fatalf("err = %v, requests %d", err, len(p.requests()))
		}
	})
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct{ answer, wantLabel, wantErr string }{
		{answer: `{"label":"purchase","confidence":0.92,"reason":"asks for a quote"}`, wantLabel: "purchase"},
		{answer: `{"label":"refund","confidence":0.5}`, wantErr: `label "refund", which is not one of`},
		{answer: `{"label":"spam","confidence":7}`, wantErr: "not a number between 0 and 1"},
	} {
		p := newPeer(t, reply{content: tc.answer})
		h, _ := harness(t, p)
		out, err := h.Run(Connector{}, "classify", map[string]any{"text": "Please send me a quote for 20 licences", "labels": []any{"purchase", "support", "spam"}})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v", tc.answer, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		m := out.(map[string]any)
		if m["label"] != tc.wantLabel || m["confidence"] != 0.92 {
			t.Errorf("out = %v", m)
		}
		if !strings.Contains(decodeSent(t, p.requests()[0]).Messages[0].Content, `["purchase","support","spam"]`) {
			t.Error("labels are not in the prompt")
		}
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		replies   []reply
		retries   float64
		wantReqs  int
		wantErr   string
		wantWaits []time.Duration // exact waits; 0 means "a backoff" (>= 500ms)
	}{
		{name: "429 then 503 then ok", replies: []reply{{status: 429, retryAfter: "3"}, {status: 503}, {content: "ok"}}, retries: 2, wantReqs: 3, wantWaits: []time.Duration{3 * time.Second, 0}},
		{name: "Retry-After is capped", replies: []reply{{status: 429, retryAfter: "86400"}, {content: "ok"}}, retries: 2, wantReqs: 2, wantWaits: []time.Duration{maxRetryAfter}},
		{name: "gives up after the retries", replies: []reply{{status: 502}}, retries: 1, wantReqs: 2, wantErr: "remote answered 502", wantWaits: []time.Duration{0}},
		{name: "400 is not retried", replies: []reply{{status: 400}}, retries: 3, wantReqs: 1, wantErr: "remote answered 400"},
		{name: "401 is not retried", replies: []reply{{status: 401}}, retries: 3, wantReqs: 1, wantErr: "remote answered 401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, tc.replies...)
			h, waits := harness(t, p)
			out, err := h.Run(Connector{}, "chat", map[string]any{"prompt": "hi", "retries": tc.retries})
			if n := len(p.requests()); n != tc.wantReqs {
				t.Fatalf("%d requests, want %d", n, tc.wantReqs)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if out.(map[string]any)["attempts"] != tc.wantReqs {
				t.Fatalf("attempts = %v", out.(map[string]any)["attempts"])
			}
			if len(*waits) != len(tc.wantWaits) {
				t.Fatalf("waits %v, want %v", *waits, tc.wantWaits)
			}
			for i, w := range tc.wantWaits {
				got := (*waits)[i]
				if (w != 0 && got != w) || (w == 0 && got < 500*time.Millisecond) {
					t.Errorf("wait %d = %s, want %s", i, got, w)
				}
			}
		})
	}
}

func TestMalformedAnswers(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"not JSON", `<html>gateway</html>`, "模型的回答格式有误"},
		{"no choices", `{"choices":[]}`, "no choices"},
		{"error object", `{"error":{"message":"quota exceeded"}}`, "quota exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, reply{raw: tc.raw})
			h, _ := harness(t, p)
			_, err := h.Run(Connector{}, "chat", map[string]any{"prompt": "hi"})
			if err == nil || !strings.Contains(err.Error(), tc.want) || sdk.IsRetryable(err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestSummariseSendsOnlyWhatTheReaderGives(t *testing.T) {
	p := newPeer(t, reply{content: "张三 is a qualified lead from ACME."})
	h, _ := harness(t, p)
	h.Env.Records = reader{ent: leadEntity, rec: sdk.RecordView{ID: "r1", Entity: "lead",
		Data:    map[string]any{"name": "张三", "company": "ACME", "phone": "+8613800138000"},
		History: []sdk.RecordEvent{{At: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC), Kind: "stage", Changes: map[string]any{"stage": map[string]any{"from": "new", "to": "qualified"}}}},
		Related: []sdk.RelatedRecord{{Entity: "followup", ID: "f1", Field: "lead", Links: "from", Data: map[string]any{"need": "20 licences"}}}}}
	out := h.MustRun(Connector{}, "summarise_record", map[string]any{"entity": "lead", "record_id": "r1", "exclude_fields": []any{"phone"}}).(map[string]any)
	if out["text"] != "张三 is a qualified lead from ACME." || fmt.Sprint(out["fields"]) != "[company name]" {
		t.Fatalf("out = %v", out)
	}
	body := p.requests()[0]
	for _, want := range []string{"张三", "ACME", "20 licences", "qualified", "Chinese"} {
		if !strings.Contains(body, want) {
			t.Errorf("the prompt lacks %q: %s", want, body)
		}
	}
	if strings.Contains(body, "8613800138000") {
		t.Error("an excluded field reached the model")
	}
	_, err := h.Run(Connector{}, "summarise_record", map[string]any{"entity": "lead", "record_id": "nope"})
	if err == nil || len(p.requests()) != 1 {
		t.Fatalf("a missing record: err %v, %d requests", err, len(p.requests()))
	}
}

func TestCredentialNeverInAPrompt(t *testing.T) {
	p := newPeer(t, reply{content: "ok"})
	h, _ := harness(t, p)
	_, err := h.Run(Connector{}, "chat", map[string]any{"prompt": "my key is sk-test-0123456789"})
	if err == nil || !strings.Contains(err.Error(), "api_key") || len(p.requests()) != 0 {
		t.Fatalf("err = %v, %d requests", err, len(p.requests()))
	}
}

func TestCredentialsChecked(t *testing.T) {
	for _, tc := range []struct {
		values map[string]any
		field  string
	}{
		{map[string]any{"provider": "deepseek"}, "api_key"},
		{map[string]any{"provider": "custom", "api_key": "k"}, "base_url"},
		{map[string]any{"provider": "openai", "api_key": "k", "base_url": "ftp://x"}, "base_url"},
		{map[string]any{"provider": "qwen", "api_key": "k", "prices": "[1]"}, "prices"},
		{map[string]any{"provider": "ollama"}, ""},
	} {
		errs := Connector{}.CheckCredentials(tc.values)
		if (tc.field == "" && len(errs) > 0) || (tc.field != "" && (len(errs) == 0 || errs[0].Field != tc.field)) {
			t.Errorf("%v: %v", tc.values, errs)
		}
	}
	sdktest.CheckSpec(t, Connector{})
}

func TestPriceOverrideAndUnknownModel(t *testing.T) {
	p := newPeer(t, reply{content: "ok"})
	h, _ := harness(t, p)
	h.Env.Credentials["prices"] = `{"my-model": {"input": 1, "output": 1, "currency": "USD"}}`
	out := h.MustRun(Connector{}, "chat", map[string]any{"prompt": "hi", "model": "my-model"}).(map[string]any)
	if c := out["cost"].(Cost); c.Amount != 0.0015 || c.Currency != "USD" {
		t.Fatalf("cost = %+v", c)
	}
	out = h.MustRun(Connector{}, "chat", map[string]any{"prompt": "hi", "model": "other"}).(map[string]any)
	if c := out["cost"].(Cost); c.Priced || c.Amount != 0 {
		t.Fatalf("cost of an unpriced model = %+v", c)
	}
}

// TestModelOptions: the property form's model choices are the credential's default, the
// provider's priced models and what the service lists at /models; an unreachable service still
// leaves the known models.
func TestModelOptions(t *testing.T) {
	var auth string
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		auth = r.Header.Get("Authorization")
		fmt.Fprint(w, `{"object":"list","data":[{"id":"deepseek-chat"},{"id":"deepseek-coder-v9"}]}`)
	}))
	t.Cleanup(svc.Close)
	values := func(opts []sdk.Option) string {
		var out []string
		for _, o := range opts {
			out = append(out, o.Value)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		name  string
		creds map[string]string
		want  string
	}{
		{"listed by the service", map[string]string{"provider": "deepseek", "base_url": svc.URL + "/v1", "api_key": "sk-x"}, "deepseek-chat,deepseek-reasoner,deepseek-coder-v9"},
		{"credential default first", map[string]string{"provider": "deepseek", "base_url": svc.URL + "/v1", "api_key": "sk-x", "model": "deepseek-reasoner"}, "deepseek-reasoner,deepseek-chat,deepseek-coder-v9"},
		{"service unreachable", map[string]string{"provider": "qwen", "base_url": "http://127.0.0.1:1/v1", "api_key": "sk-x"}, "qwen-plus,qwen-max,qwen-turbo"},
		{"custom without prices", map[string]string{"provider": "custom", "base_url": "http://127.0.0.1:1/v1", "model": "m1"}, "m1"},
		{"no usable credential", map[string]string{"provider": "openai"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := sdktest.New(t).WithCredentials(tc.creds).Options(Connector{}, "chat", "model", nil)
			if err != nil || values(opts) != tc.want {
				t.Fatalf("options %q %v, want %q", values(opts), err, tc.want)
			}
		})
	}
	if auth != "Bearer sk-x" {
		t.Fatalf("the listing was not authorised with the key: %q", auth)
	}
	opts, _ := sdktest.New(t).WithCredentials(map[string]string{"provider": "deepseek", "base_url": svc.URL + "/v1", "api_key": "sk-x"}).Options(Connector{}, "extract", "model", nil)
	if opts[0].Label.En != "deepseek-chat (2 / 8 CNY per million tokens in / out) — default" || !strings.Contains(opts[0].Label.ZhCN, "默认") {
		t.Fatalf("label %+v", opts[0].Label)
	}
}
