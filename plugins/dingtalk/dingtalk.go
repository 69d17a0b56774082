// Package dingtalk sends messages through a DingTalk (钉钉) custom robot, signed with the
// robot's secret (timestamp + HMAC-SHA256, URL-encoded sign).
package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/tessera/tessera/plugins/sdk"
)

func init() { sdk.Register(Connector{}) }

// Connector is the DingTalk robot connector ("dingtalk").
type Connector struct{}

// Spec describes the connector.
func (Connector) Spec() sdk.Spec {
	return sdk.Spec{
		ID: "dingtalk", Version: "1.0.0", Category: "messaging", Icon: "dingtalk",
		Label:       sdk.T("DingTalk robot", "钉钉机器人"),
		Description: sdk.T("Post to a DingTalk group through a custom robot.", "通过自定义机器人向钉钉群发送消息。"),
		Credentials: []sdk.Param{
			{Key: "webhook_url", Type: sdk.TypeSecret, Label: sdk.T("Webhook URL", "Webhook 地址"), Required: true,
				Placeholder: "https://oapi.dingtalk.com/robot/send?access_token=...",
				Help:        sdk.T("From the robot's settings in the group.", "在群设置的机器人详情中复制。")},
			{Key: "secret", Type: sdk.TypeSecret, Label: sdk.T("Signing secret (SEC...)", "加签密钥 (SEC...)"),
				Help: sdk.T("Set when the robot's security setting is \"sign\".", "机器人安全设置为“加签”时填写。")},
		},
		Operations: []sdk.Operation{{
			ID: "send", Label: sdk.T("Send message", "发送消息"),
			Params: []sdk.Param{
				{Key: "type", Type: sdk.TypeSelect, Label: sdk.T("Message type", "消息类型"), Default: "text",
					Options: []sdk.Option{{Value: "text", Label: sdk.T("Text", "文本")}, {Value: "markdown", Label: sdk.T("Markdown", "Markdown")}}},
				{Key: "title", Type: sdk.TypeString, Label: sdk.T("Title", "标题"), Required: true, ShowIf: map[string][]any{"type": {"markdown"}}},
				{Key: "content", Type: sdk.TypeText, Label: sdk.T("Content", "内容"), Required: true},
				{Key: "at_mobiles", Type: sdk.TypeString, Label: sdk.T("@ mobiles (comma-separated)", "@手机号（逗号分隔）")},
				{Key: "at_all", Type: sdk.TypeBoolean, Label: sdk.T("@ everyone", "@所有人"), Default: false},
			},
			Output: []sdk.OutputField{{Key: "errcode", Type: "number", Label: sdk.T("Error code", "错误码")}, {Key: "errmsg", Type: "string", Label: sdk.T("Message", "返回信息")}},
			Run:    send,
		}},
	}
}

// Sign returns DingTalk's signature of a millisecond timestamp: base64(HMAC-SHA256(secret,
// timestamp + "\n" + secret)), not yet URL-encoded.
func Sign(timestampMS int64, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestampMS, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == ' ' || r == ';' }) {
		out = append(out, strings.TrimSpace(x))
	}
	return out
}

func send(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	u, err := url.Parse(env.Credential("webhook_url"))
	if err != nil || u.Host == "" {
		return nil, sdk.Permanent(fmt.Errorf("the credential's webhook URL is invalid"))
	}
	if secret := env.Credential("secret"); secret != "" {
		ts := env.Time().UnixMilli()
		q := u.Query()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", Sign(ts, secret)) // Encode URL-encodes it
		u.RawQuery = q.Encode()
	}
	mobiles := splitList(sdk.String(p, "at_mobiles"))
	content := sdk.String(p, "content")
	msg := map[string]any{"at": map[string]any{"atMobiles": mobiles, "isAtAll": sdk.Bool(p, "at_all")}}
	if sdk.String(p, "type") == "markdown" {
		for _, m := range mobiles { // DingTalk only notifies mobiles mentioned in the text
			if !strings.Contains(content, "@"+m) {
				content += " @" + m
			}
		}
		msg["msgtype"] = "markdown"
		msg["markdown"] = map[string]any{"title": sdk.String(p, "title"), "text": content}
	} else {
		msg["msgtype"] = "text"
		msg["text"] = map[string]any{"content": content}
	}
	reply, err := env.PostJSON(ctx, "dingtalk send", u.String(), msg, nil)
	if err != nil {
		return nil, err
	}
	var r struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(reply, &r); err != nil {
		return nil, sdk.Temporary(fmt.Errorf("dingtalk send: unexpected answer %q", reply))
	}
	if r.ErrCode != 0 {
		err := fmt.Errorf("dingtalk send: error %d: %s", r.ErrCode, r.ErrMsg)
		if r.ErrCode == 130101 || r.ErrCode == -1 { // rate limited, system busy
			return nil, sdk.Temporary(err)
		}
		return nil, sdk.Permanent(err)
	}
	env.Log().Info("dingtalk message sent", "type", msg["msgtype"])
	return map[string]any{"errcode": r.ErrCode, "errmsg": r.ErrMsg}, nil
}
