// Package slack posts messages through a Slack incoming webhook.
package slack

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/tessera/tessera/plugins/sdk"
)

func init() { sdk.Register(Connector{}) }

// Connector is the Slack incoming webhook connector ("slack").
type Connector struct{}

// Spec describes the connector.
func (Connector) Spec() sdk.Spec {
	return sdk.Spec{
		ID: "slack", Version: "1.0.0", Category: "messaging", Icon: "slack",
		Label:       sdk.T("Slack", "Slack"),
		Description: sdk.T("Post to a Slack channel through an incoming webhook.", "通过 Incoming Webhook 向 Slack 频道发送消息。"),
		Credentials: []sdk.Param{
			{Key: "webhook_url", Type: sdk.TypeSecret, Label: sdk.T("Webhook URL", "Webhook 地址"), Required: true,
				Placeholder: "https://hooks.slack.com/services/T000/B000/XXXX"},
		},
		Operations: []sdk.Operation{{
			ID: "send", Label: sdk.T("Send message", "发送消息"),
			Params: []sdk.Param{
				{Key: "text", Type: sdk.TypeText, Label: sdk.T("Text (mrkdwn)", "文本 (mrkdwn)"), Required: true,
					Help: sdk.T("Also the notification fallback when blocks are set.", "设置了 blocks 时也作为通知摘要。")},
				{Key: "blocks", Type: sdk.TypeJSON, Label: sdk.T("Blocks (Block Kit JSON array)", "Blocks（Block Kit JSON 数组）")},
				{Key: "unfurl_links", Type: sdk.TypeBoolean, Label: sdk.T("Unfurl links", "展开链接预览"), Default: false},
			},
			Output: []sdk.OutputField{{Key: "ok", Type: "boolean", Label: sdk.T("Delivered", "已送达")}},
			Run:    send,
		}},
	}
}

func send(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	u, err := url.Parse(env.Credential("webhook_url"))
	if err != nil || u.Host == "" {
		return nil, sdk.Permanent(fmt.Errorf("the credential's webhook URL is invalid"))
	}
	msg := map[string]any{"text": sdk.String(p, "text"), "unfurl_links": sdk.Bool(p, "unfurl_links")}
	if b, ok := p["blocks"]; ok && b != nil {
		if _, isList := b.([]any); !isList {
			return nil, sdk.Permanent(fmt.Errorf("blocks must be a JSON array"))
		}
		msg["blocks"] = b
	}
	reply, err := env.PostJSON(ctx, "slack send", u.String(), msg, nil)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(string(reply)) != "ok" {
		return nil, sdk.Permanent(fmt.Errorf("slack send: unexpected answer %q", reply))
	}
	return map[string]any{"ok": true}, nil
}
