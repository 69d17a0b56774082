// Package all registers every built-in connector: import it for its side effects.
package all

import (
	_ "github.com/tessera/tessera/plugins/ai"       // AI chat models (OpenAI-compatible)
	_ "github.com/tessera/tessera/plugins/dingtalk" // DingTalk robot (signed)
	_ "github.com/tessera/tessera/plugins/email"    // email over SMTP
	_ "github.com/tessera/tessera/plugins/feishu"   // Feishu bot (signed)
	_ "github.com/tessera/tessera/plugins/http"     // HTTP request
	_ "github.com/tessera/tessera/plugins/pdf"      // PDF documents (quote, contract)
	_ "github.com/tessera/tessera/plugins/slack"    // Slack incoming webhook
	_ "github.com/tessera/tessera/plugins/sms"      // SMS (Aliyun)
	_ "github.com/tessera/tessera/plugins/webhook"  // outgoing webhook (Standard Webhooks)
	_ "github.com/tessera/tessera/plugins/wecom"    // WeCom robot
)
