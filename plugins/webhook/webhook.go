// Package webhook sends outgoing webhooks signed per the Standard Webhooks specification
// (https://www.standardwebhooks.com): webhook-id, webhook-timestamp and webhook-signature
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" with a "whsec_" secret.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tessera/tessera/plugins/sdk"
)

func init() { sdk.Register(Connector{}) }

// Connector is the outgoing webhook connector ("webhook").
type Connector struct{}

// Spec describes the connector.
func (Connector) Spec() sdk.Spec {
	return sdk.Spec{
		ID: "webhook", Version: "1.0.0", Category: "http", Icon: "webhook",
		Label:       sdk.T("Outgoing webhook", "外发 Webhook"),
		Description: sdk.T("POST a signed JSON event (Standard Webhooks) to a receiver.", "向接收方 POST 带签名的 JSON 事件（Standard Webhooks 规范）。"),
		Credentials: []sdk.Param{
			{Key: "secret", Type: sdk.TypeSecret, Label: sdk.T("Signing secret (whsec_...)", "签名密钥 (whsec_...)"), Required: true,
				Help: sdk.T("Shared with the receiver: whsec_ followed by base64 of 24 to 64 random bytes.", "与接收方共享：whsec_ 加 24 到 64 个随机字节的 base64。")},
		},
		Operations: []sdk.Operation{{
			ID: "send", Label: sdk.T("Send event", "发送事件"),
			Params: []sdk.Param{
				{Key: "url", Type: sdk.TypeString, Label: sdk.T("Receiver URL", "接收地址"), Required: true},
				{Key: "event", Type: sdk.TypeString, Label: sdk.T("Event type", "事件类型"), Placeholder: "lead.won",
					Help: sdk.T(`When set the body is {"type","timestamp","data"}; otherwise the payload is sent as is.`, `填写后请求体为 {"type","timestamp","data"}；否则原样发送 payload。`)},
				{Key: "payload", Type: sdk.TypeJSON, Label: sdk.T("Payload", "数据"), Required: true},
				{Key: "headers", Type: sdk.TypeJSON, Label: sdk.T("Extra headers", "附加请求头")},
			},
			Output: []sdk.OutputField{
				{Key: "id", Type: "string", Label: sdk.T("Message id", "消息 ID")},
				{Key: "status", Type: "number", Label: sdk.T("Receiver status", "接收方状态码")},
				{Key: "response", Type: "string", Label: sdk.T("Receiver answer", "接收方响应")},
			},
			Run: send,
		}},
	}
}

// DecodeSecret returns the key bytes of a "whsec_<base64>" secret.
func DecodeSecret(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(strings.TrimSpace(secret), "whsec_")
	if !ok {
		return nil, errors.New(`the secret must start with "whsec_"`)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("the secret after whsec_ is not base64: %w", err)
	}
	if len(key) < 16 {
		return nil, errors.New("the secret is shorter than 16 bytes")
	}
	return key, nil
}

// Sign returns the webhook-signature header value "v1,<base64 HMAC-SHA256(key,
// id.timestamp.body)>".
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// NewSecret returns a fresh "whsec_" secret of 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// messageID is stable across retries of the same step (receivers de-duplicate on it).
func messageID(env sdk.Env) string {
	if env.IdempotencyKey != "" {
		sum := sha256.Sum256([]byte(env.IdempotencyKey))
		return "msg_" + hex.EncodeToString(sum[:12])
	}
	b := make([]byte, 12)
	rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}

func send(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	key, err := DecodeSecret(env.Credential("secret"))
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("webhook credential: %w", err))
	}
	now := env.Time()
	payload := p["payload"]
	if ev := sdk.String(p, "event"); ev != "" {
		payload = map[string]any{"type": ev, "timestamp": now.UTC().Format("2006-01-02T15:04:05.000Z07:00"), "data": payload}
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("encoding payload: %w", err))
	}
	id := messageID(env)
	ts := now.Unix()
	headers := sdk.StringMap(p, "headers")
	if headers == nil {
		headers = map[string]string{}
	}
	headers["webhook-id"] = id
	headers["webhook-timestamp"] = strconv.FormatInt(ts, 10)
	headers["webhook-signature"] = Sign(key, id, ts, body)
	reply, err := env.Post(ctx, "webhook send", sdk.String(p, "url"), "application/json", body, headers)
	if err != nil {
		return nil, err
	}
	if len(reply) > 4096 {
		reply = reply[:4096]
	}
	return map[string]any{"id": id, "status": 200, "response": string(reply)}, nil
}
