// Package sms sends text messages through a configurable HTTP provider. The first provider
// is Aliyun SMS (阿里云短信服务, dysmsapi SendSms) with the classic RPC request signature
// (HMAC-SHA1 over the canonicalised query); the endpoint is configurable (tests point it at
// a local peer that verifies the signature).
package sms

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/tessera/tessera/plugins/sdk"
)

func init() { sdk.Register(Connector{}) }

// Connector is the SMS connector ("sms").
type Connector struct{}

// DefaultAliyunEndpoint is the public Aliyun SMS endpoint.
const DefaultAliyunEndpoint = "https://dysmsapi.aliyuncs.com/"

// provider sends one message; new providers are added here.
type provider func(ctx context.Context, env sdk.Env, msg message) (map[string]any, error)

type message struct {
	Phones        []string
	TemplateCode  string
	TemplateParam map[string]any
	OutID         string
}

var providers = map[string]provider{"aliyun": sendAliyun, "custom": sendCustom}

var (
	aliyunOnly = map[string][]any{"provider": {"aliyun"}}
	customOnly = map[string][]any{"provider": {"custom"}}
)

// Spec describes the connector.
func (Connector) Spec() sdk.Spec {
	return sdk.Spec{
		ID: "sms", Version: "1.0.0", Category: "messaging", Icon: "sms",
		Label:       sdk.T("SMS", "短信"),
		Description: sdk.T("Send template text messages through an SMS provider (Aliyun).", "通过短信服务商（阿里云）发送模板短信。"),
		Credentials: []sdk.Param{
			{Key: "provider", Type: sdk.TypeSelect, Label: sdk.T("Provider", "服务商"), Default: "aliyun",
				Options: []sdk.Option{{Value: "aliyun", Label: sdk.T("Aliyun SMS", "阿里云短信服务")},
					{Value: "custom", Label: sdk.T("Custom HTTP gateway", "自定义 HTTP 网关")}}},
			{Key: "access_key_id", Type: sdk.TypeString, Label: sdk.T("AccessKey ID", "AccessKey ID"), Required: true, ShowIf: aliyunOnly},
			{Key: "access_key_secret", Type: sdk.TypeSecret, Label: sdk.T("AccessKey secret", "AccessKey Secret"), Required: true, ShowIf: aliyunOnly},
			{Key: "sign_name", Type: sdk.TypeString, Label: sdk.T("Signature name", "短信签名"), Required: true,
				Help: sdk.T("The approved signature shown as 【...】.", "已审核通过的短信签名（显示为【...】）。")},
			{Key: "region", Type: sdk.TypeString, Label: sdk.T("Region", "地域"), Default: "cn-hangzhou", ShowIf: aliyunOnly},
			{Key: "endpoint", Type: sdk.TypeString, Label: sdk.T("Endpoint", "接入地址"), Default: DefaultAliyunEndpoint, ShowIf: aliyunOnly},
			{Key: "gateway_url", Type: sdk.TypeString, Label: sdk.T("Gateway URL", "网关地址"), Required: true, ShowIf: customOnly,
				Help: sdk.T(`Receives POST {"phones","sign_name","template_code","template_param","out_id"} as JSON and answers 2xx, optionally {"id"}.`,
					`以 JSON 接收 POST {"phones","sign_name","template_code","template_param","out_id"}，成功时返回 2xx，可带 {"id"}。`)},
			{Key: "gateway_token", Type: sdk.TypeSecret, Label: sdk.T("Gateway bearer token", "网关令牌 (Bearer)"), ShowIf: customOnly},
		},
		Operations: []sdk.Operation{{
			ID: "send", Label: sdk.T("Send template SMS", "发送模板短信"),
			Params: []sdk.Param{
				{Key: "phone", Type: sdk.TypeString, Label: sdk.T("Phone numbers (comma-separated)", "手机号（逗号分隔）"), Required: true},
				{Key: "template_code", Type: sdk.TypeString, Label: sdk.T("Template code", "模板 CODE"), Required: true, Placeholder: "SMS_123456789"},
				{Key: "template_param", Type: sdk.TypeJSON, Label: sdk.T("Template variables", "模板变量"), Help: sdk.T(`An object, e.g. {"name": "张三"}.`, `对象，例如 {"name": "张三"}。`)},
				{Key: "out_id", Type: sdk.TypeString, Label: sdk.T("Your reference", "外部流水号")},
			},
			Output: []sdk.OutputField{
				{Key: "biz_id", Type: "string", Label: sdk.T("Receipt id", "回执 ID")},
				{Key: "request_id", Type: "string", Label: sdk.T("Request id", "请求 ID")},
				{Key: "code", Type: "string", Label: sdk.T("Code", "状态码")},
			},
			Run: send,
		}},
	}
}

func send(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	name := env.Credential("provider")
	if name == "" {
		name = "aliyun"
	}
	prov, ok := providers[name]
	if !ok {
		return nil, sdk.Permanent(fmt.Errorf("unknown SMS provider %q", name))
	}
	var phones []string
	for _, ph := range strings.FieldsFunc(sdk.String(p, "phone"), func(r rune) bool { return r == ',' || r == '，' || r == ';' }) {
		ph = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(ph)
		if ph != "" {
			phones = append(phones, ph)
		}
	}
	if len(phones) == 0 || len(phones) > 1000 {
		return nil, sdk.Permanent(fmt.Errorf("give 1 to 1000 phone numbers"))
	}
	tp, _ := p["template_param"].(map[string]any)
	if p["template_param"] != nil && tp == nil {
		return nil, sdk.Permanent(fmt.Errorf("template_param must be a JSON object"))
	}
	return prov(ctx, env, message{Phones: phones, TemplateCode: sdk.String(p, "template_code"), TemplateParam: tp, OutID: sdk.String(p, "out_id")})
}

// PercentEncode encodes per Aliyun's RPC rules (RFC 3986: space as %20, '*' as %2A, '~' kept).
func PercentEncode(s string) string {
	e := url.QueryEscape(s)
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(e)
}

// AliyunSignature computes the RPC signature of params (without Signature) for method:
// base64(HMAC-SHA1(secret+"&", method&%2F&percentEncode(sorted k=v joined by &))).
func AliyunSignature(method string, params map[string]string, secret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = PercentEncode(k) + "=" + PercentEncode(params[k])
	}
	toSign := method + "&" + PercentEncode("/") + "&" + PercentEncode(strings.Join(parts, "&"))
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func nonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func sendAliyun(ctx context.Context, env sdk.Env, msg message) (map[string]any, error) {
	region := env.Credential("region")
	if region == "" {
		region = "cn-hangzhou"
	}
	endpoint := env.Credential("endpoint")
	if endpoint == "" {
		endpoint = DefaultAliyunEndpoint
	}
	params := map[string]string{
		"AccessKeyId":      env.Credential("access_key_id"),
		"Action":           "SendSms",
		"Format":           "JSON",
		"RegionId":         region,
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   nonce(),
		"SignatureVersion": "1.0",
		"Timestamp":        env.Time().UTC().Format("2006-01-02T15:04:05Z"),
		"Version":          "2017-05-25",
		"PhoneNumbers":     strings.Join(msg.Phones, ","),
		"SignName":         env.Credential("sign_name"),
		"TemplateCode":     msg.TemplateCode,
	}
	if len(msg.TemplateParam) > 0 {
		b, err := json.Marshal(msg.TemplateParam)
		if err != nil {
			return nil, sdk.Permanent(fmt.Errorf("encoding template variables: %w", err))
		}
		params["TemplateParam"] = string(b)
	}
	if msg.OutID != "" {
		params["OutId"] = msg.OutID
	}
	sig := AliyunSignature("POST", params, env.Credential("access_key_secret"))
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	form.Set("Signature", sig)
	reply, err := env.Post(ctx, "aliyun sms send", endpoint, "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
	var r struct {
		Code, Message, RequestID, BizID string
	}
	if reply != nil {
		var raw map[string]any
		if json.Unmarshal(reply, &raw) == nil {
			r.Code, _ = raw["Code"].(string)
			r.Message, _ = raw["Message"].(string)
			r.RequestID, _ = raw["RequestId"].(string)
			r.BizID, _ = raw["BizId"].(string)
		}
	}
	if err != nil {
		if r.Code != "" {
			return nil, classify(r.Code, r.Message, err)
		}
		return nil, err
	}
	if r.Code != "OK" {
		return nil, classify(r.Code, r.Message, nil)
	}
	env.Log().Info("sms sent", "provider", "aliyun", "count", len(msg.Phones), "biz_id", r.BizID)
	return map[string]any{"biz_id": r.BizID, "request_id": r.RequestID, "code": r.Code}, nil
}

func classify(code, msg string, cause error) error {
	err := fmt.Errorf("aliyun sms send: %s: %s", code, msg)
	if cause != nil {
		err = fmt.Errorf("%w (%v)", err, cause)
	}
	if strings.HasPrefix(code, "Throttling") || code == "isp.SYSTEM_ERROR" || code == "ServiceUnavailable" {
		return sdk.Temporary(err)
	}
	return sdk.Permanent(err)
}

// sendCustom posts the message as JSON to the administrator's own SMS gateway.
func sendCustom(ctx context.Context, env sdk.Env, msg message) (map[string]any, error) {
	url := env.Credential("gateway_url")
	if url == "" {
		return nil, sdk.Permanent(fmt.Errorf("the credential has no gateway URL"))
	}
	headers := map[string]string{}
	if tok := env.Credential("gateway_token"); tok != "" {
		headers["Authorization"] = "Bearer " + tok
	}
	if env.IdempotencyKey != "" {
		headers["Idempotency-Key"] = env.IdempotencyKey
	}
	body := map[string]any{"phones": msg.Phones, "sign_name": env.Credential("sign_name"), "template_code": msg.TemplateCode,
		"template_param": msg.TemplateParam, "out_id": msg.OutID}
	reply, err := env.PostJSON(ctx, "sms gateway send", url, body, headers)
	if err != nil {
		return nil, err
	}
	var r struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(reply, &r) // the id is optional
	env.Log().Info("sms sent", "provider", "custom", "count", len(msg.Phones))
	return map[string]any{"biz_id": r.ID, "request_id": "", "code": "OK"}, nil
}
