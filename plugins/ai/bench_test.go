package ai

import (
	"testing"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
)

// BenchmarkStepOverhead is the AI step's own cost without the model's time: rendering the
// prompt, the HTTP round trip to a loopback peer that answers at once, parsing (JSON or
// server-sent events), schema validation, usage and cost.
//
//	go test ./plugins/ai -run '^$' -bench StepOverhead -benchmem
func BenchmarkStepOverhead(b *testing.B) {
	extractAnswer := `{"name":"张三","company":"ACME","amount":12000,"stage":"qualified","tags":["vip"],"consent":true,"close_on":"2026-06-30"}`
	rec := sdk.RecordView{ID: "r1", Entity: "lead", Data: map[string]any{"name": "张三", "company": "ACME", "amount": 12000, "stage": "qualified"},
		History: []sdk.RecordEvent{{At: time.Now(), Kind: "updated", Changes: map[string]any{"stage": map[string]any{"from": "new", "to": "qualified"}}}}}
	for _, bc := range []struct {
		name, op string
		reply    reply
		params   map[string]any
	}{
		{"chat", "chat", reply{content: "您好，张三！"}, map[string]any{"system": "You are a sales assistant.", "prompt": "Greet 张三"}},
		{"chat-stream", "chat", reply{content: "您好，张三！这是一段稍长的流式回答，用于测量逐块解析的开销。", stream: true}, map[string]any{"prompt": "Greet 张三", "stream": true}},
		{"extract", "extract", reply{content: extractAnswer}, map[string]any{"text": "张三 from ACME wants 20 licences", "entity": "lead"}},
		{"classify", "classify", reply{content: `{"label":"purchase","confidence":0.9}`}, map[string]any{"text": "quote please", "labels": []any{"purchase", "support"}}},
		{"summarise", "summarise_record", reply{content: "张三 is qualified."}, map[string]any{"entity": "lead", "record_id": "r1"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h, _ := harness(b, newPeer(b, bc.reply))
			h.Env.Records = reader{ent: leadEntity, rec: rec}
			for b.Loop() {
				if _, err := h.Run(Connector{}, bc.op, bc.params); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
