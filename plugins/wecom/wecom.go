// Package wecom sends messages through a WeCom (企业微信) group robot webhook.
package wecom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/tessera/tessera/plugins/sdk"
)

func init() { sdk.Register(Connector{}) }

// Connector is the WeCom robot connector ("wecom").
type Connector struct{}

// Spec describes the connector.
func (Connector) Spec() sdk.Spec {
	return sdk.Spec{
		ID: "wecom", Version: "1.0.0", Category: "messaging", Icon: "wecom",
		Label:       sdk.T("WeCom robot", "企业微信机器人"),
		Description: sdk.T("Post to a WeCom group through its robot webhook.", "通过群机器人 Webhook 向企业微信群发送消息。"),
		Credentials: []sdk.Param{
			{Key: "webhook_url", Type: sdk.TypeSecret, Label: sdk.T("Webhook URL", "Webhook 地址"), Required: true,
				Placeholder: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."},
		},
		Operations: []sdk.Operation{{
			ID: "send", Label: sdk.T("Send message", "发送消息"),
			Params: []sdk.Param{
				{Key: "type", Type: sdk.TypeSelect, Label: sdk.T("Message type", "消息类型"), Default: "text",
					Options: []sdk.Option{{Value: "text", Label: sdk.T("Text", "文本")}, {Value: "markdown", Label: sdk.T("Markdown", "Markdown")}}},
				{Key: "content", Type: sdk.TypeText, Label: sdk.T("Content", "内容"), Required: true},
				{Key: "mentioned_mobiles", Type: sdk.TypeString, Label: sdk.T("@ mobiles (comma-separated, @all for everyone)", "@手机号（逗号分隔，@all 为所有人）"),
					ShowIf: map[string][]any{"type": {"text"}}},
				{Key: "mentioned_users", Type: sdk.TypeString, Label: sdk.T("@ user ids (comma-separated)", "@成员账号（逗号分隔）"),
					ShowIf: map[string][]any{"type": {"text"}}},
			},
			Output: []sdk.OutputField{{Key: "errcode", Type: "number", Label: sdk.T("Error code", "错误码")}, {Key: "errmsg", Type: "string", Label: sdk.T("Message", "返回信息")}},
			Run:    send,
		}},
	}
}

func splitList(s string) []string {
	out := []string{}
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
	var msg map[string]any
	if sdk.String(p, "type") == "markdown" {
		msg = map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": sdk.String(p, "content")}}
	} else {
		msg = map[string]any{"msgtype": "text", "text": map[string]any{
			"content":               sdk.String(p, "content"),
			"mentioned_list":        splitList(sdk.String(p, "mentioned_users")),
			"mentioned_mobile_list": splitList(sdk.String(p, "mentioned_mobiles")),
		}}
	}
	reply, err := env.PostJSON(ctx, "wecom send", u.String(), msg, nil)
	if err != nil {
		return nil, err
	}
	var r struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(reply, &r); err != nil {
		return nil, sdk.Temporary(fmt.Errorf("wecom send: unexpected answer %q", reply))
	}
	if r.ErrCode != 0 {
		err := fmt.Errorf("wecom send: error %d: %s", r.ErrCode, r.ErrMsg)
		if r.ErrCode == 45009 || r.ErrCode == -1 { // frequency limit, system busy
			return nil, sdk.Temporary(err)
		}
		return nil, sdk.Permanent(err)
	}
	return map[string]any{"errcode": r.ErrCode, "errmsg": r.ErrMsg}, nil
}
