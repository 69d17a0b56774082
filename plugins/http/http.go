// Package http is the HTTP request connector: any method, auth from a credential (none,
// basic, bearer, header, query), JSON/form/multipart/raw bodies, timeouts, through the
// host's SSRF-guarded client; and a polling trigger (json_items) that starts a run per new
// item of a JSON list.
package http

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
)

// MaxResponse is the largest response body read (bigger answers fail the step).
const MaxResponse = 10 << 20

func init() { sdk.Register(Connector{}) }

// Connector is the HTTP request connector ("http").
type Connector struct{}

var (
	methods   = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
	withBody  = []any{"POST", "PUT", "PATCH", "DELETE"}
	minTimout = 0.1
	maxTimout = 300.0
)

func opts(values ...string) []sdk.Option {
	out := make([]sdk.Option, len(values))
	for i, v := range values {
		out[i] = sdk.Option{Value: v, Label: sdk.T(v, v)}
	}
	return out
}

// Spec describes the connector.
func (Connector) Spec() sdk.Spec {
	return sdk.Spec{
		ID: "http", Version: "1.0.0", Category: "http", Icon: "globe",
		Label:       sdk.T("HTTP request", "HTTP 请求"),
		Description: sdk.T("Call any HTTP API.", "调用任意 HTTP 接口。"),
		Credentials: []sdk.Param{
			{Key: "base_url", Type: sdk.TypeString, Label: sdk.T("Base URL", "基础地址"),
				Help: sdk.T("Relative request URLs are resolved against it; the connection test calls it. When set, the authentication is only sent to its origin.",
					"相对地址基于此地址解析；连接测试会请求此地址。填写后，认证信息只发送到该地址的源（协议、主机、端口）。")},
			{Key: "auth", Type: sdk.TypeSelect, Label: sdk.T("Authentication", "认证方式"), Default: "none", Options: []sdk.Option{
				{Value: "none", Label: sdk.T("None", "无")}, {Value: "basic", Label: sdk.T("Basic", "Basic 认证")},
				{Value: "bearer", Label: sdk.T("Bearer token", "Bearer 令牌")}, {Value: "header", Label: sdk.T("API key in header", "请求头密钥")},
				{Value: "query", Label: sdk.T("API key in query", "查询参数密钥")}}},
			{Key: "username", Type: sdk.TypeString, Label: sdk.T("Username", "用户名"), Required: true, ShowIf: map[string][]any{"auth": {"basic"}}},
			{Key: "password", Type: sdk.TypeSecret, Label: sdk.T("Password", "密码"), ShowIf: map[string][]any{"auth": {"basic"}}},
			{Key: "token", Type: sdk.TypeSecret, Label: sdk.T("Token", "令牌"), Required: true, ShowIf: map[string][]any{"auth": {"bearer"}}},
			{Key: "header_name", Type: sdk.TypeString, Label: sdk.T("Header name", "请求头名称"), Required: true, Placeholder: "X-API-Key", ShowIf: map[string][]any{"auth": {"header"}}},
			{Key: "header_value", Type: sdk.TypeSecret, Label: sdk.T("Header value", "请求头值"), Required: true, ShowIf: map[string][]any{"auth": {"header"}}},
			{Key: "query_name", Type: sdk.TypeString, Label: sdk.T("Query parameter", "查询参数名"), Required: true, Placeholder: "api_key", ShowIf: map[string][]any{"auth": {"query"}}},
			{Key: "query_value", Type: sdk.TypeSecret, Label: sdk.T("Query value", "查询参数值"), Required: true, ShowIf: map[string][]any{"auth": {"query"}}},
		},
		Operations: []sdk.Operation{{
			ID: "request", Label: sdk.T("Send request", "发送请求"),
			Description: sdk.T("Sends one HTTP request and returns the answer.", "发送一个 HTTP 请求并返回响应。"),
			Params: []sdk.Param{
				{Key: "method", Type: sdk.TypeSelect, Label: sdk.T("Method", "方法"), Default: "GET", Options: opts(methods...)},
				{Key: "url", Type: sdk.TypeString, Label: sdk.T("URL", "地址"), Required: true, Placeholder: "https://api.example.com/v1/items"},
				{Key: "query", Type: sdk.TypeJSON, Label: sdk.T("Query parameters", "查询参数"), Help: sdk.T(`An object, e.g. {"page": 1}.`, `对象，例如 {"page": 1}。`)},
				{Key: "headers", Type: sdk.TypeJSON, Label: sdk.T("Headers", "请求头"), Help: sdk.T(`An object, e.g. {"X-Trace": "1"}.`, `对象，例如 {"X-Trace": "1"}。`)},
				{Key: "body_type", Type: sdk.TypeSelect, Label: sdk.T("Body", "请求体类型"), Default: "none", ShowIf: map[string][]any{"method": withBody},
					Options: []sdk.Option{{Value: "none", Label: sdk.T("None", "无")}, {Value: "json", Label: sdk.T("JSON", "JSON")},
						{Value: "form", Label: sdk.T("Form (urlencoded)", "表单 (urlencoded)")}, {Value: "multipart", Label: sdk.T("Multipart form", "Multipart 表单")},
						{Value: "raw", Label: sdk.T("Raw text", "原始文本")}}},
				{Key: "body", Type: sdk.TypeJSON, Label: sdk.T("Body", "请求体"), Required: true, ShowIf: map[string][]any{"method": withBody, "body_type": {"json", "form", "multipart"}},
					Help: sdk.T(`JSON: any value. Form and multipart: an object; in multipart a value {"filename","content_type","data"(base64)} is sent as a file.`,
						`JSON：任意值。表单与 multipart：对象；multipart 中形如 {"filename","content_type","data"(base64)} 的值作为文件发送。`)},
				{Key: "raw", Type: sdk.TypeText, Label: sdk.T("Raw body", "原始请求体"), ShowIf: map[string][]any{"method": withBody, "body_type": {"raw"}}},
				{Key: "content_type", Type: sdk.TypeString, Label: sdk.T("Content type", "内容类型"), Default: "text/plain; charset=utf-8", ShowIf: map[string][]any{"method": withBody, "body_type": {"raw"}}},
				{Key: "timeout", Type: sdk.TypeNumber, Label: sdk.T("Timeout (seconds)", "超时（秒）"), Default: 30.0, Min: &minTimout, Max: &maxTimout},
				{Key: "follow_redirects", Type: sdk.TypeBoolean, Label: sdk.T("Follow redirects", "跟随重定向"), Default: true,
					Help: sdk.T("At most 5 hops, never with a Referer; a hop to another origin carries no authentication, cookie or custom header.",
						"最多 5 次，从不发送 Referer；跳转到其他源时不携带认证信息、Cookie 或自定义请求头。")},
				{Key: "fail_on_status", Type: sdk.TypeBoolean, Label: sdk.T("Fail on 4xx/5xx", "4xx/5xx 时失败"), Default: true},
				{Key: "response", Type: sdk.TypeSelect, Label: sdk.T("Response format", "响应格式"), Default: "auto", Options: []sdk.Option{
					{Value: "auto", Label: sdk.T("Auto (JSON when JSON)", "自动")}, {Value: "json", Label: sdk.T("JSON", "JSON")},
					{Value: "text", Label: sdk.T("Text", "文本")}, {Value: "base64", Label: sdk.T("Binary (base64)", "二进制 (base64)")}}},
			},
			Output: []sdk.OutputField{
				{Key: "status", Type: "number", Label: sdk.T("Status", "状态码")},
				{Key: "headers", Type: "object", Label: sdk.T("Headers", "响应头")},
				{Key: "body", Type: "any", Label: sdk.T("Body", "响应体")},
				{Key: "url", Type: "string", Label: sdk.T("Final URL", "最终地址")},
			},
			Run: run,
		}},
		Triggers: triggers(),
	}
}

// Test calls the credential's base URL: 401/403 and 5xx answers and network errors fail.
func (Connector) Test(ctx context.Context, env sdk.Env) error {
	base := env.Credential("base_url")
	if base == "" {
		return errors.New("set a base URL to test the connection / 请填写基础地址以测试连接")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base, nil)
	if err != nil {
		return fmt.Errorf("building test request: %w", err)
	}
	if err := applyAuth(req, env); err != nil {
		return err
	}
	resp, err := env.Client().Do(req)
	if err != nil {
		return fmt.Errorf("calling %s: %w", sdk.RedactURL(req.URL), sdk.StripURL(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode >= 500 {
		return fmt.Errorf("%s answered %s", redactor(env)(req.URL), resp.Status)
	}
	return nil
}

func applyAuth(req *http.Request, env sdk.Env) error {
	switch a := env.Credential("auth"); a {
	case "", "none":
	case "basic":
		req.SetBasicAuth(env.Credential("username"), env.Credential("password"))
	case "bearer":
		req.Header.Set("Authorization", "Bearer "+env.Credential("token"))
	case "header":
		req.Header.Set(env.Credential("header_name"), env.Credential("header_value"))
	case "query":
		q := req.URL.Query()
		q.Set(env.Credential("query_name"), env.Credential("query_value"))
		req.URL.RawQuery = q.Encode()
	default:
		return sdk.Permanent(fmt.Errorf("unknown auth type %q", a))
	}
	return nil
}

// checkAuthOrigin refuses to send a credential's authentication (token, password, API key)
// to another origin than the credential's base URL: otherwise whoever edits a flow could point
// a node's absolute url at their own server and read the secret the API never shows. A
// credential without a base URL, or without authentication, may call any URL.
func checkAuthOrigin(env sdk.Env, target *url.URL) error {
	a, base := env.Credential("auth"), strings.TrimSpace(env.Credential("base_url"))
	if a == "" || a == "none" || base == "" {
		return nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return sdk.Permanent(fmt.Errorf("base_url: %w", err))
	}
	if sdk.SameOrigin(b, target) {
		return nil
	}
	o := url.URL{Scheme: b.Scheme, Host: b.Host}
	return sdk.Permanent(fmt.Errorf("url %s is outside the credential's base URL %s, and its authentication is only sent there; use a relative url or another credential / 请求地址不在凭据的基础地址 %s 之内，凭据的认证信息只发送到该地址：请使用相对地址或其他凭据",
		(&url.URL{Scheme: target.Scheme, Host: target.Host}).String(), o.String(), o.String()))
}

// guardAuthOnRedirect returns client with a redirect policy that never sends a Referer (it
// would carry the previous URL with a query credential) and drops the credential's
// authentication and cookies when a redirect leaves the first request's origin (net/http keeps
// Authorization for another port of the same host, and an API-key header or query parameter
// everywhere), then applies the client's own policy (the SSRF guard's redirect limit and
// schemes, which also strips the other headers across origins).
func guardAuthOnRedirect(env sdk.Env, client *http.Client) *http.Client {
	a := env.Credential("auth")
	c := *client
	next := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		req.Header.Del("Referer")
		if !sdk.SameOrigin(req.URL, via[0].URL) {
			req.Header.Del("Authorization")
			req.Header.Del("Cookie")
			if a == "header" {
				req.Header.Del(env.Credential("header_name"))
			}
			if a == "query" {
				if q := req.URL.Query(); q.Has(env.Credential("query_name")) {
					q.Del(env.Credential("query_name"))
					req.URL.RawQuery = q.Encode()
				}
			}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// requestURL is the URL of a request: params.url against the credential's base_url, with
// params.query added (keys sorted).
func requestURL(env sdk.Env, p map[string]any) (*url.URL, error) {
	target, err := resolveURL(env.Credential("base_url"), sdk.String(p, "url"))
	if err != nil {
		return nil, sdk.Permanent(err)
	}
	if q := sdk.StringMap(p, "query"); len(q) > 0 {
		vals := target.Query()
		for _, k := range sortedKeys(q) {
			vals.Set(k, q[k])
		}
		target.RawQuery = vals.Encode()
	}
	return target, nil
}

func run(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	method := sdk.String(p, "method")
	target, err := requestURL(env, p)
	if err != nil {
		return nil, err
	}
	body, contentType, err := buildBody(p)
	if err != nil {
		return nil, sdk.Permanent(err)
	}
	timeout := time.Duration(sdk.Number(p, "timeout") * float64(time.Second))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target.String(), body)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("building request: %w", err))
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range sdk.StringMap(p, "headers") {
		req.Header.Set(k, v)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "Tessera/1 (+connector http)")
	}
	if env.IdempotencyKey != "" && req.Header.Get("Idempotency-Key") == "" && method != "GET" && method != "HEAD" {
		req.Header.Set("Idempotency-Key", env.IdempotencyKey)
	}
	if err := checkAuthOrigin(env, target); err != nil {
		return nil, err
	}
	if err := applyAuth(req, env); err != nil {
		return nil, err
	}
	redact := redactor(env)
	client := guardAuthOnRedirect(env, env.Client())
	if !sdk.Bool(p, "follow_redirects") {
		c := *client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		client = &c
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return nil, sdk.Temporary(fmt.Errorf("%s %s: timed out after %s", method, redact(target), timeout))
		}
		return nil, sdk.Temporary(fmt.Errorf("%s %s: %w", method, redact(target), sdk.StripURL(err)))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, sdk.Temporary(fmt.Errorf("reading response: %w", err))
	}
	if len(raw) > MaxResponse {
		return nil, sdk.Permanent(fmt.Errorf("response is larger than %d bytes", MaxResponse))
	}
	env.Log().Info("http request", "method", method, "url", redact(target), "status", resp.StatusCode, "ms", time.Since(start).Milliseconds())
	if sdk.Bool(p, "fail_on_status") && resp.StatusCode >= 400 {
		return nil, sdk.StatusError(method+" "+redact(target), resp.StatusCode, string(raw))
	}
	decoded, err := decodeBody(sdk.String(p, "response"), resp.Header.Get("Content-Type"), raw)
	if err != nil {
		return nil, sdk.Permanent(err)
	}
	headers := map[string]any{}
	for k, v := range resp.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return map[string]any{"status": resp.StatusCode, "headers": headers, "body": decoded, "url": redact(resp.Request.URL)}, nil
}

// redactor hides user info and the credential's query key from URLs in logs and outputs.
func redactor(env sdk.Env) func(*url.URL) string {
	key := ""
	if env.Credential("auth") == "query" {
		key = env.Credential("query_name")
	}
	return func(u *url.URL) string {
		c := *u
		c.User = nil
		if key != "" && c.Query().Has(key) {
			q := c.Query()
			q.Set(key, "***")
			c.RawQuery = q.Encode()
		}
		return c.String()
	}
}

func resolveURL(base, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if !u.IsAbs() && base != "" {
		b, err := url.Parse(base)
		if err != nil {
			return nil, fmt.Errorf("base_url: %w", err)
		}
		u = b.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url must start with http:// or https:// (got %q)", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("url %q has no host", raw)
	}
	return u, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func buildBody(p map[string]any) (io.Reader, string, error) {
	switch sdk.String(p, "body_type") {
	case "", "none":
		return nil, "", nil
	case "raw":
		return strings.NewReader(sdk.String(p, "raw")), sdk.String(p, "content_type"), nil
	case "json":
		b, err := json.Marshal(p["body"])
		if err != nil {
			return nil, "", fmt.Errorf("encoding JSON body: %w", err)
		}
		return bytes.NewReader(b), "application/json", nil
	case "form":
		fields, ok := p["body"].(map[string]any)
		if !ok {
			return nil, "", errors.New("a form body must be an object")
		}
		vals := url.Values{}
		for _, k := range sortedKeys(fields) {
			switch v := fields[k].(type) {
			case []any:
				for _, x := range v {
					vals.Add(k, scalar(x))
				}
			default:
				vals.Set(k, scalar(v))
			}
		}
		return strings.NewReader(vals.Encode()), "application/x-www-form-urlencoded", nil
	case "multipart":
		fields, ok := p["body"].(map[string]any)
		if !ok {
			return nil, "", errors.New("a multipart body must be an object")
		}
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, k := range sortedKeys(fields) {
			if f, ok := fields[k].(map[string]any); ok && f["data"] != nil && f["filename"] != nil {
				data, err := base64.StdEncoding.DecodeString(scalar(f["data"]))
				if err != nil {
					return nil, "", fmt.Errorf("multipart file %s: data is not base64: %w", k, err)
				}
				ct := scalar(f["content_type"])
				if f["content_type"] == nil {
					ct = "application/octet-stream"
				}
				h := make(map[string][]string)
				h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, k, scalar(f["filename"]))}
				h["Content-Type"] = []string{ct}
				part, err := w.CreatePart(h)
				if err != nil {
					return nil, "", err
				}
				part.Write(data)
				continue
			}
			if err := w.WriteField(k, scalar(fields[k])); err != nil {
				return nil, "", err
			}
		}
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return &buf, w.FormDataContentType(), nil
	}
	return nil, "", fmt.Errorf("unknown body type %q", sdk.String(p, "body_type"))
}

func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func decodeBody(format, contentType string, raw []byte) (any, error) {
	switch format {
	case "text":
		return string(raw), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(raw), nil
	case "json":
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("response is not JSON: %w", err)
		}
		return v, nil
	default:
		ct := strings.ToLower(contentType)
		if strings.Contains(ct, "json") && len(bytes.TrimSpace(raw)) > 0 {
			var v any
			if json.Unmarshal(raw, &v) == nil {
				return v, nil
			}
		}
		if strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "xml") || ct == "" || isUTF8Text(raw) {
			return string(raw), nil
		}
		return base64.StdEncoding.EncodeToString(raw), nil
	}
}

func isUTF8Text(b []byte) bool {
	return !bytes.ContainsRune(b, 0) && strings.ToValidUTF8(string(b), "\uFFFD") == string(b)
}
