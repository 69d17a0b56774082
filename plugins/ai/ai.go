// Package ai is the AI connector: OpenAI-compatible chat completions (JSON and streamed answers)
// with presets for DeepSeek, Qwen (DashScope), Moonshot, Zhipu, OpenAI and a local Ollama;
// operations chat, extract (answer validated against a schema built from entity fields),
// classify and summarise_record (a record read as the flow's identity through the host's
// RecordReader, so hidden fields never reach the prompt). Every answer carries its token usage
// and an estimated cost.
package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/tessera/tessera/plugins/sdk"
)

func init() { sdk.Register(Connector{}) }

// Connector is the AI connector ("ai").
type Connector struct{}

// Preset is a provider's default base URL, model and price table.
type Preset struct {
	Label   sdk.Text
	BaseURL string
	Model   string
	// NoKey says the provider works without an API key (a local Ollama).
	NoKey bool
	// Prices per model, per million tokens.
	Prices map[string]Price
}

// Price is the cost of a million input and output tokens in Currency.
type Price struct {
	Input    float64 `json:"input"`
	Output   float64 `json:"output"`
	Currency string  `json:"currency"`
}

// Presets are the providers offered in the credential form. Prices are list prices per
// million tokens (estimates: check the provider's page; override them in the credential).
var Presets = map[string]Preset{
	"deepseek": {Label: sdk.T("DeepSeek", "DeepSeek 深度求索"), BaseURL: "https://api.deepseek.com/v1", Model: "deepseek-chat",
		Prices: map[string]Price{"deepseek-chat": {2, 8, "CNY"}, "deepseek-reasoner": {4, 16, "CNY"}}},
	"qwen": {Label: sdk.T("Qwen (DashScope)", "通义千问（百炼 DashScope）"), BaseURL: "https://dashscope.aliyuncs.com/compatible-mode/v1", Model: "qwen-plus",
		Prices: map[string]Price{"qwen-turbo": {0.3, 0.6, "CNY"}, "qwen-plus": {0.8, 2, "CNY"}, "qwen-max": {2.4, 9.6, "CNY"}}},
	"moonshot": {Label: sdk.T("Moonshot (Kimi)", "月之暗面 Kimi"), BaseURL: "https://api.moonshot.cn/v1", Model: "moonshot-v1-8k",
		Prices: map[string]Price{"moonshot-v1-8k": {12, 12, "CNY"}, "moonshot-v1-32k": {24, 24, "CNY"}, "moonshot-v1-128k": {60, 60, "CNY"}}},
	"zhipu": {Label: sdk.T("Zhipu GLM", "智谱 GLM"), BaseURL: "https://open.bigmodel.cn/api/paas/v4", Model: "glm-4-flash",
		Prices: map[string]Price{"glm-4-flash": {0, 0, "CNY"}, "glm-4-air": {0.5, 0.5, "CNY"}, "glm-4-plus": {5, 5, "CNY"}}},
	"openai": {Label: sdk.T("OpenAI", "OpenAI"), BaseURL: "https://api.openai.com/v1", Model: "gpt-4o-mini",
		Prices: map[string]Price{"gpt-4o-mini": {0.15, 0.6, "USD"}, "gpt-4o": {2.5, 10, "USD"}, "gpt-4.1-mini": {0.4, 1.6, "USD"}}},
	"ollama": {Label: sdk.T("Ollama (local)", "Ollama（本地部署）"), BaseURL: "http://localhost:11434/v1", Model: "qwen2.5", NoKey: true,
		Prices: map[string]Price{}},
	"custom": {Label: sdk.T("Other OpenAI-compatible", "其他 OpenAI 兼容服务")},
}

var presetOrder = []string{"deepseek", "qwen", "moonshot", "zhipu", "openai", "ollama", "custom"}

var (
	zero, one, two        = 0.0, 1.0, 2.0
	minTimeout, maxTimout = 1.0, 600.0
	maxRetries            = 5.0
	maxTokensCap          = 32768.0
)

// Spec describes the connector.
func (Connector) Spec() sdk.Spec {
	providers := make([]sdk.Option, 0, len(presetOrder))
	for _, id := range presetOrder {
		providers = append(providers, sdk.Option{Value: id, Label: Presets[id].Label})
	}
	return sdk.Spec{
		ID: "ai", Version: "1.0.0", Category: "ai", Icon: "robot",
		Label: sdk.T("AI (chat models)", "AI 大模型"),
		Description: sdk.T("Chat, extract fields, classify and summarise records with an OpenAI-compatible model (DeepSeek, Qwen, Moonshot, Zhipu, OpenAI, Ollama). The model only sees what the flow's identity may read.",
			"使用 OpenAI 兼容的大模型（DeepSeek、通义千问、Kimi、智谱、OpenAI、Ollama）进行对话、字段提取、分类和记录摘要。模型只能看到流程身份有权读取的内容。"),
		Credentials: []sdk.Param{
			{Key: "provider", Type: sdk.TypeSelect, Label: sdk.T("Provider", "服务商"), Required: true, Default: "deepseek", Options: providers,
				Help: sdk.T("Sets the base URL, default model and price table. A local Ollama needs the administrator's allow-list (TESSERA_NET_ALLOW_HOSTS).",
					"决定基础地址、默认模型和价格表。本地 Ollama 需要管理员将其加入允许列表（TESSERA_NET_ALLOW_HOSTS）。")},
			{Key: "base_url", Type: sdk.TypeString, Label: sdk.T("Base URL", "基础地址"), Placeholder: "https://api.deepseek.com/v1",
				Help: sdk.T("Leave empty for the provider's address; required for other OpenAI-compatible services. /chat/completions is appended.",
					"留空使用服务商默认地址；其他 OpenAI 兼容服务必填。请求时追加 /chat/completions。")},
			{Key: "api_key", Type: sdk.TypeSecret, Label: sdk.T("API key", "API 密钥"),
				Help: sdk.T("Sent only as the Authorization header to the base URL, never in a prompt.", "仅作为 Authorization 请求头发送到基础地址，绝不会写入提示词。")},
			{Key: "model", Type: sdk.TypeString, Label: sdk.T("Default model", "默认模型"), Placeholder: "deepseek-chat",
				Help: sdk.T("Used when a step names no model; empty means the provider's default.", "步骤未指定模型时使用；留空则使用服务商默认模型。")},
			{Key: "prices", Type: sdk.TypeText, Label: sdk.T("Prices (override)", "价格（覆盖）"),
				Help: sdk.T(`Per million tokens, e.g. {"deepseek-chat": {"input": 2, "output": 8, "currency": "CNY"}}; merged over the provider's table.`,
					`每百万 token 的价格，例如 {"deepseek-chat": {"input": 2, "output": 8, "currency": "CNY"}}；覆盖服务商默认价格表。`)},
		},
		Operations: []sdk.Operation{chatOp(), extractOp(), classifyOp(), summariseOp()},
	}
}

// commonParams are the model call parameters every operation has.
func commonParams() []sdk.Param {
	return []sdk.Param{
		{Key: "model", Type: sdk.TypeString, Label: sdk.T("Model", "模型"), DynamicOptions: true,
			Help: sdk.T("Empty: the credential's default model. The choices are the provider's models (listed by the service when it answers).", "留空使用凭据的默认模型。可选项为服务商的模型（服务可访问时由其列出）。")},
		{Key: "temperature", Type: sdk.TypeNumber, Label: sdk.T("Temperature", "温度"), Default: 0.2, Min: &zero, Max: &two},
		{Key: "max_tokens", Type: sdk.TypeNumber, Label: sdk.T("Max answer tokens", "回答最大 token 数"), Min: &one, Max: &maxTokensCap},
		{Key: "stream", Type: sdk.TypeBoolean, Label: sdk.T("Stream the answer", "流式接收回答"), Default: false,
			Help: sdk.T("Receive the answer as server-sent events (long answers are not cut by idle proxies).", "以 SSE 流式接收回答（长回答不会被空闲代理中断）。")},
		{Key: "timeout", Type: sdk.TypeNumber, Label: sdk.T("Timeout per attempt (seconds)", "每次请求超时（秒）"), Default: 60.0, Min: &minTimeout, Max: &maxTimout},
		{Key: "retries", Type: sdk.TypeNumber, Label: sdk.T("Retries on 429/5xx", "429/5xx 时重试次数"), Default: 2.0, Min: &zero, Max: &maxRetries,
			Help: sdk.T("With exponential backoff; a Retry-After header is respected.", "指数退避重试；遵循 Retry-After 响应头。")},
	}
}

var usageOutputs = []sdk.OutputField{
	{Key: "model", Type: "string", Label: sdk.T("Model", "模型")},
	{Key: "usage", Type: "object", Label: sdk.T("Token usage", "Token 用量")},
	{Key: "cost", Type: "object", Label: sdk.T("Estimated cost", "估算费用")},
}

func withCommon(ps []sdk.Param) []sdk.Param { return append(ps, commonParams()...) }

func outputs(fs ...sdk.OutputField) []sdk.OutputField { return append(fs, usageOutputs...) }

// settings are the resolved credential values.
type settings struct {
	endpoint string
	key      string
	model    string
	prices   map[string]Price
}

// resolve reads the credential: provider preset, base URL override, key and prices.
func resolve(env sdk.Env, p map[string]any) (settings, error) {
	provider := env.Credential("provider")
	if provider == "" {
		provider = "deepseek"
	}
	pre, ok := Presets[provider]
	if !ok {
		return settings{}, sdk.Permanent(fmt.Errorf("unknown AI provider %q / 未知的 AI 服务商", provider))
	}
	base := strings.TrimSpace(env.Credential("base_url"))
	if base == "" {
		base = pre.BaseURL
	}
	if base == "" {
		return settings{}, sdk.Permanent(fmt.Errorf("the credential needs a base URL / 凭据缺少基础地址"))
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return settings{}, sdk.Permanent(fmt.Errorf("the credential's base URL is not an http(s) URL / 凭据的基础地址不是 http(s) 地址"))
	}
	s := settings{endpoint: strings.TrimRight(base, "/") + "/chat/completions", key: env.Credential("api_key"), prices: map[string]Price{}}
	if s.key == "" && !pre.NoKey && provider != "custom" {
		return settings{}, sdk.Permanent(fmt.Errorf("the credential needs an API key for %s / 凭据缺少 API 密钥", provider))
	}
	for m, pr := range pre.Prices {
		s.prices[m] = pr
	}
	if raw := strings.TrimSpace(env.Credential("prices")); raw != "" && raw != "null" {
		var over map[string]Price
		if err := json.Unmarshal([]byte(raw), &over); err != nil {
			return settings{}, sdk.Permanent(fmt.Errorf("the credential's prices are not a JSON object of {input, output, currency} / 凭据的价格格式无效"))
		}
		for m, pr := range over {
			if pr.Currency == "" {
				pr.Currency = s.prices[m].Currency
			}
			s.prices[m] = pr
		}
	}
	s.model = sdk.String(p, "model")
	if s.model == "" {
		s.model = env.Credential("model")
	}
	if s.model == "" {
		s.model = pre.Model
	}
	if s.model == "" {
		return settings{}, sdk.Permanent(fmt.Errorf("name a model on the step or in the credential / 请在步骤或凭据中指定模型"))
	}
	return s, nil
}

// CheckCredentials implements sdk.CredentialChecker: a custom provider needs a base URL, a
// cloud provider an API key, and prices must be an object of {input, output, currency}.
func (Connector) CheckCredentials(values map[string]any) []sdk.FieldError {
	errs := sdk.CheckURL(values, "base_url")
	provider, _ := values["provider"].(string)
	pre := Presets[provider]
	if base, _ := values["base_url"].(string); provider == "custom" && strings.TrimSpace(base) == "" {
		errs = append(errs, sdk.FieldError{Field: "base_url", Code: sdk.CodeRequired, Message: "is required for another OpenAI-compatible service / 其他兼容服务须填写基础地址"})
	}
	if key, _ := values["api_key"].(string); key == "" && !pre.NoKey && provider != "custom" {
		errs = append(errs, sdk.FieldError{Field: "api_key", Code: sdk.CodeRequired, Message: "is required for this provider / 该服务商须填写 API 密钥"})
	}
	if v, ok := values["prices"].(string); ok && strings.TrimSpace(v) != "" {
		var over map[string]Price
		if json.Unmarshal([]byte(v), &over) != nil {
			errs = append(errs, sdk.FieldError{Field: "prices", Code: "invalid", Message: `must be an object like {"model": {"input": 2, "output": 8, "currency": "CNY"}} / 格式应为 {"模型": {"input": 2, "output": 8, "currency": "CNY"}}`})
		}
	}
	return errs
}

// Test sends a one-word chat to the model.
func (Connector) Test(ctx context.Context, env sdk.Env) error {
	s, err := resolve(env, nil)
	if err != nil {
		return err
	}
	_, err = call(ctx, env, s, request{Messages: []message{{Role: "user", Content: "ping"}}, MaxTokens: 1}, callOptions{timeout: 30e9, retries: 0})
	return err
}

// Options implements sdk.OptionsProvider: the credential's models (see modelOptions), the
// entities the editing user may read, and for the entity chosen, its fields.
func (Connector) Options(ctx context.Context, env sdk.Env, operation, param string, params map[string]any) ([]sdk.Option, error) {
	if param == "model" {
		return modelOptions(ctx, env), nil
	}
	rr, err := env.RecordReader()
	if err != nil {
		return nil, err
	}
	lister, ok := rr.(interface {
		Entities(ctx context.Context) ([]sdk.EntityInfo, error)
	})
	switch param {
	case "entity":
		if !ok {
			return nil, nil
		}
		ents, err := lister.Entities(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]sdk.Option, 0, len(ents))
		for _, e := range ents {
			out = append(out, sdk.Option{Value: e.Slug, Label: e.Label})
		}
		return out, nil
	case "fields":
		ent, err := rr.Entity(ctx, sdk.String(params, "entity"))
		if err != nil {
			return nil, err
		}
		out := []sdk.Option{}
		for _, f := range ent.Fields {
			if _, ok := jsonType(f); ok {
				out = append(out, sdk.Option{Value: f.Key, Label: f.Label})
			}
		}
		return out, nil
	}
	return nil, nil
}
