// Package feishu sends messages through a Feishu / Lark (飞书) custom bot webhook, signed
// with the bot's secret (timestamp + "\n" + secret as the HMAC-SHA256 key).
package feishu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/tessera/tessera/plugins/sdk"
)

func init() { sdk.Register(Connector{}) }

// Connector is the Feishu bot connector ("feishu").
type Connector struct{}

// Spec describes the connector.
func (Connector) Spec() sdk.Spec {
	return sdk.Spec{
		ID: "feishu", Version: "1.0.0", Category: "messaging", Icon: "feishu",
		Label:       sdk.T("Feishu bot", "飞书机器人"),
		Description: sdk.T("Post to a Feishu (Lark) group through a custom bot.", "通过自定义机器人向飞书群发送消息。"),
		Credentials: []sdk.Param{
			{Key: "webhook_url", Type: sdk.TypeSecret, Label: sdk.T("Webhook URL", "Webhook 地址"), Required: true,
				Placeholder: "https://open.feishu.cn/open-apis/bot/v2/hook/..."},
			{Key: "secret", Type: sdk.TypeSecret, Label: sdk.T("Signing secret", "签名校验密钥"),
				Help: sdk.T("Set when the bot's security setting uses signature verification.", "机器人安全设置开启“签名校验”时填写。")},
		},
		Operations: []sdk.Operation{{
			ID: "send", Label: sdk.T("Send message", "发送消息"),
			Params: []sdk.Param{
				{Key: "type", Type: sdk.TypeSelect, Label: sdk.T("Message type", "消息类型"), Default: "text",
					Options: []sdk.Option{{Value: "text", Label: sdk.T("Text", "文本")}, {Value: "card", Label: sdk.T("Card (Markdown)", "卡片（Markdown）")}}},
				{Key: "title", Type: sdk.TypeString, Label: sdk.T("Card title", "卡片标题"), Required: true, ShowIf: map[string][]any{"type": {"card"}}},
				{Key: "color", Type: sdk.TypeSelect, Label: sdk.T("Card color", "卡片颜色"), Default: "blue", ShowIf: map[string][]any{"type": {"card"}},
					Options: []sdk.Option{{Value: "blue", Label: sdk.T("Blue", "蓝")}, {Value: "green", Label: sdk.T("Green", "绿")},
						{Value: "orange", Label: sdk.T("Orange", "橙")}, {Value: "red", Label: sdk.T("Red", "红")}, {Value: "grey", Label: sdk.T("Grey", "灰")}}},
				{Key: "content", Type: sdk.TypeText, Label: sdk.T("Content", "内容"), Required: true,
					Help: sdk.T(`Text may mention people with <at user_id="all">所有人</at>.`, `文本可用 <at user_id="all">所有人</at> 提及成员。`)},
			},
			Output: []sdk.OutputField{{Key: "code", Type: "number", Label: sdk.T("Code", "返回码")}, {Key: "msg", Type: "string", Label: sdk.T("Message", "返回信息")}},
			Run:    send,
		}},
	}
}

// Sign returns Feishu's signature for a timestamp in seconds: base64(HMAC-SHA256 with key
// timestamp + "\n" + secret over an empty message).
func Sign(timestamp int64, secret string) string {
	m := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func send(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	u, err := url.Parse(env.Credential("webhook_url"))
	if err != nil || u.Host == "" {
		return nil, sdk.Permanent(fmt.Errorf("the credential's webhook URL is invalid"))
	}
	msg := map[string]any{}
	if secret := env.Credential("secret"); secret != "" {
		ts := env.Time().Unix()
		msg["timestamp"] = strconv.FormatInt(ts, 10)
		msg["sign"] = Sign(ts, secret)
	}
	if sdk.String(p, "type") == "card" {
		msg["msg_type"] = "interactive"
		msg["card"] = map[string]any{
			"config":   map[string]any{"wide_screen_mode": true},
			"header":   map[string]any{"template": sdk.String(p, "color"), "title": map[string]any{"tag": "plain_text", "content": sdk.String(p, "title")}},
			"elements": []any{map[string]any{"tag": "markdown", "content": sdk.String(p, "content")}},
		}
	} else {
		msg["msg_type"] = "text"
		msg["content"] = map[string]any{"text": sdk.String(p, "content")}
	}
	reply, err := env.PostJSON(ctx, "feishu send", u.String(), msg, nil)
	if err != nil {
		return nil, err
	}
	var r struct {
		Code       *int   `json:"code"`
		Msg        string `json:"msg"`
		StatusCode *int   `json:"StatusCode"` // older answers
	}
	if err := json.Unmarshal(reply, &r); err != nil {
		return nil, sdk.Temporary(fmt.Errorf("feishu send: unexpected answer %q", reply))
	}
	code := 0
	if r.Code != nil {
		code = *r.Code
	} else if r.StatusCode != nil {
		code = *r.StatusCode
	}
	if code != 0 {
		err := fmt.Errorf("feishu send: error %d: %s", code, r.Msg)
		if code == 11232 || code == 9499 && r.Msg == "too many request" {
			return nil, sdk.Temporary(err)
		}
		return nil, sdk.Permanent(err)
	}
	return map[string]any{"code": code, "msg": r.Msg}, nil
}
