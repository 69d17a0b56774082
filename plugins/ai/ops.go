package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/tessera/tessera/plugins/sdk"
)

func chatOp() sdk.Operation {
	return sdk.Operation{
		ID: "chat", Label: sdk.T("Chat", "对话"),
		Description: sdk.T("Sends a system and a user prompt ({{ }} templates allowed) and returns the model's answer.", "发送系统提示词和用户提示词（可使用 {{ }} 模板），返回模型的回答。"),
		Params: withCommon([]sdk.Param{
			{Key: "system", Type: sdk.TypeText, Label: sdk.T("System prompt", "系统提示词"), Placeholder: "You are a helpful sales assistant."},
			{Key: "prompt", Type: sdk.TypeText, Label: sdk.T("User prompt", "用户提示词"), Required: true, Placeholder: "Draft a follow-up e-mail to {{ trigger.record.name }}"},
			{Key: "json", Type: sdk.TypeBoolean, Label: sdk.T("Answer in JSON", "以 JSON 回答"), Default: false,
				Help: sdk.T("Asks for a JSON object; it is parsed into output.json.", "要求模型返回 JSON 对象，并解析到 output.json。")},
		}),
		Output: outputs(sdk.OutputField{Key: "text", Type: "string", Label: sdk.T("Answer", "回答")},
			sdk.OutputField{Key: "json", Type: "object", Label: sdk.T("Answer as JSON", "JSON 回答")}),
		Run: runChat,
	}
}

func runChat(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	s, err := resolve(env, p)
	if err != nil {
		return nil, err
	}
	req, o := options(p)
	if sys := sdk.String(p, "system"); sys != "" {
		req.Messages = append(req.Messages, message{Role: "system", Content: sys})
	}
	req.Messages = append(req.Messages, message{Role: "user", Content: sdk.String(p, "prompt")})
	asJSON := sdk.Bool(p, "json")
	if asJSON {
		req.ResponseFormat = map[string]any{"type": "json_object"}
	}
	a, err := call(ctx, env, s, req, o)
	if err != nil {
		return nil, err
	}
	out := base(s, a)
	out["text"] = a.Text
	if asJSON {
		obj, err := parseObject(a.Text)
		if err != nil {
			return nil, err
		}
		out["json"] = obj
	}
	return out, nil
}

func extractOp() sdk.Operation {
	return sdk.Operation{
		ID: "extract", Label: sdk.T("Extract fields", "提取字段"),
		Description: sdk.T("Reads free text (an e-mail, a chat) and fills chosen fields of an entity; the answer is checked against the fields' types and options.",
			"从自由文本（邮件、聊天记录）中提取实体的指定字段；回答按字段类型和可选项校验。"),
		Params: withCommon([]sdk.Param{
			{Key: "text", Type: sdk.TypeText, Label: sdk.T("Text", "文本"), Required: true, Placeholder: "{{ trigger.body.email_text }}"},
			{Key: "entity", Type: sdk.TypeString, Label: sdk.T("Entity", "实体"), Required: true, DynamicOptions: true,
				Help: sdk.T("Its fields (as the flow's identity may read them) make the schema.", "以其字段（流程身份可读的部分）构建模式。")},
			{Key: "fields", Type: sdk.TypeJSON, Label: sdk.T("Fields", "字段"), DynamicOptions: true,
				Help: sdk.T(`A list of field keys, e.g. ["name", "company", "phone"]; empty: every field that can be filled.`, `字段键列表，例如 ["name", "company", "phone"]；留空则提取全部可填字段。`)},
			{Key: "instructions", Type: sdk.TypeText, Label: sdk.T("Extra instructions", "补充说明")},
		}),
		Output: outputs(sdk.OutputField{Key: "data", Type: "object", Label: sdk.T("Extracted values (by field key)", "提取结果（按字段键）")},
			sdk.OutputField{Key: "schema", Type: "object", Label: sdk.T("JSON schema used", "使用的 JSON 模式")}),
		Run: runExtract,
	}
}

// stringList reads a list parameter given as a JSON array or a comma-separated string.
func stringList(p map[string]any, key string) ([]string, error) {
	var out []string
	switch v := p[key].(type) {
	case nil:
	case string:
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case []any:
		for _, x := range v {
			s, ok := x.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return nil, sdk.FieldErrors{{Field: key, Code: sdk.CodeType, Message: "must be a list of strings / 应为字符串列表"}}
			}
			out = append(out, strings.TrimSpace(s))
		}
	default:
		return nil, sdk.FieldErrors{{Field: key, Code: sdk.CodeType, Message: "must be a list of strings / 应为字符串列表"}}
	}
	return out, nil
}

func runExtract(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	s, err := resolve(env, p)
	if err != nil {
		return nil, err
	}
	rr, err := env.RecordReader()
	if err != nil {
		return nil, err
	}
	ent, err := rr.Entity(ctx, sdk.String(p, "entity"))
	if err != nil {
		return nil, err
	}
	keys, err := stringList(p, "fields")
	if err != nil {
		return nil, err
	}
	sch, err := buildSchema(ent, keys)
	if err != nil {
		return nil, err
	}
	schemaJSON, _ := json.Marshal(sch.JSON())
	req, o := options(p)
	sys := "You extract structured data from text. Answer with one JSON object that matches this JSON schema, and nothing else. " +
		"Use null for a value the text does not state; never invent values. Use only the listed enum values.\nSchema: " + string(schemaJSON)
	if extra := sdk.String(p, "instructions"); extra != "" {
		sys += "\n" + extra
	}
	req.Messages = []message{{Role: "system", Content: sys}, {Role: "user", Content: sdk.String(p, "text")}}
	req.ResponseFormat = map[string]any{"type": "json_object"}
	a, err := call(ctx, env, s, req, o)
	if err != nil {
		return nil, err
	}
	data, err := sch.validate(a.Text)
	if err != nil {
		return nil, err
	}
	out := base(s, a)
	out["data"] = data
	out["schema"] = sch.JSON()
	return out, nil
}

func classifyOp() sdk.Operation {
	return sdk.Operation{
		ID: "classify", Label: sdk.T("Classify", "分类"),
		Description: sdk.T("Picks one of the given labels for a text, with a confidence between 0 and 1.", "为文本从给定标签中选出一个，并给出 0 到 1 之间的置信度。"),
		Params: withCommon([]sdk.Param{
			{Key: "text", Type: sdk.TypeText, Label: sdk.T("Text", "文本"), Required: true},
			{Key: "labels", Type: sdk.TypeJSON, Label: sdk.T("Labels", "标签"), Required: true,
				Help: sdk.T(`A list, e.g. ["purchase intent", "support", "spam"], or comma-separated text.`, `列表，例如 ["购买意向", "售后", "垃圾信息"]，或逗号分隔的文本。`)},
			{Key: "instructions", Type: sdk.TypeText, Label: sdk.T("Extra instructions", "补充说明")},
		}),
		Output: outputs(sdk.OutputField{Key: "label", Type: "string", Label: sdk.T("Label", "标签")},
			sdk.OutputField{Key: "confidence", Type: "number", Label: sdk.T("Confidence (0-1)", "置信度（0-1）")},
			sdk.OutputField{Key: "reason", Type: "string", Label: sdk.T("Reason", "理由")}),
		Run: runClassify,
	}
}

func runClassify(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	s, err := resolve(env, p)
	if err != nil {
		return nil, err
	}
	labels, err := stringList(p, "labels")
	if err != nil {
		return nil, err
	}
	if len(labels) < 2 {
		return nil, sdk.FieldErrors{{Field: "labels", Code: sdk.CodeRequired, Message: "give at least two labels / 请至少给出两个标签"}}
	}
	lj, _ := json.Marshal(labels)
	req, o := options(p)
	sys := `You classify text. Answer with one JSON object {"label": <one of the labels, exactly as written>, "confidence": <number between 0 and 1>, "reason": <one short sentence>} and nothing else.` +
		"\nLabels: " + string(lj)
	if extra := sdk.String(p, "instructions"); extra != "" {
		sys += "\n" + extra
	}
	req.Messages = []message{{Role: "system", Content: sys}, {Role: "user", Content: sdk.String(p, "text")}}
	req.ResponseFormat = map[string]any{"type": "json_object"}
	a, err := call(ctx, env, s, req, o)
	if err != nil {
		return nil, err
	}
	obj, err := parseObject(a.Text)
	if err != nil {
		return nil, err
	}
	label, _ := obj["label"].(string)
	label = strings.TrimSpace(label)
	if !contains(labels, label) {
		return nil, sdk.Permanent(fmt.Errorf("the model answered label %q, which is not one of %s / 模型给出的标签 %q 不在可选标签中", label, strings.Join(labels, ", "), label))
	}
	conf, ok := number(obj["confidence"])
	if !ok || conf < 0 || conf > 1 {
		return nil, sdk.Permanent(fmt.Errorf("the model's confidence %v is not a number between 0 and 1 / 模型给出的置信度不是 0 到 1 之间的数字", obj["confidence"]))
	}
	reason, _ := obj["reason"].(string)
	out := base(s, a)
	out["label"], out["confidence"], out["reason"] = label, conf, reason
	return out, nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil && !math.IsNaN(f)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil && !math.IsNaN(f)
	case float64:
		return n, true
	}
	return 0, false
}

var maxEventsCap, maxRelatedCap = 200.0, 50.0

func summariseOp() sdk.Operation {
	return sdk.Operation{
		ID: "summarise_record", Label: sdk.T("Summarise record", "记录摘要"),
		Description: sdk.T("Summarises a record, its history and related records. Only fields the flow's identity may read are sent to the model.",
			"总结一条记录及其历史和关联记录。只有流程身份有权读取的字段才会发送给模型。"),
		Params: withCommon([]sdk.Param{
			{Key: "entity", Type: sdk.TypeString, Label: sdk.T("Entity", "实体"), Required: true, DynamicOptions: true},
			{Key: "record_id", Type: sdk.TypeString, Label: sdk.T("Record id", "记录 ID"), Required: true, Placeholder: "{{ trigger.record.id }}"},
			{Key: "history", Type: sdk.TypeBoolean, Label: sdk.T("Include history", "包含历史"), Default: true},
			{Key: "max_events", Type: sdk.TypeNumber, Label: sdk.T("History events (most recent)", "历史事件数（最近）"), Default: 20.0, Min: &one, Max: &maxEventsCap, ShowIf: map[string][]any{"history": {true}}},
			{Key: "related", Type: sdk.TypeBoolean, Label: sdk.T("Include related records", "包含关联记录"), Default: true},
			{Key: "max_related", Type: sdk.TypeNumber, Label: sdk.T("Related records", "关联记录数"), Default: 10.0, Min: &one, Max: &maxRelatedCap, ShowIf: map[string][]any{"related": {true}}},
			{Key: "exclude_fields", Type: sdk.TypeJSON, Label: sdk.T("Never send these fields", "不发送的字段"),
				Help: sdk.T(`Field keys kept out of the prompt besides the hidden ones, e.g. ["phone", "email"].`, `除隐藏字段外，额外不写入提示词的字段键，例如 ["phone", "email"]。`)},
			{Key: "instructions", Type: sdk.TypeText, Label: sdk.T("Instructions", "要求"),
				Default: "Summarise for a sales rep before the first call: who they are, what they want, what happened so far, and a suggested next step."},
			{Key: "language", Type: sdk.TypeSelect, Label: sdk.T("Answer language", "回答语言"), Default: "zh-CN", Options: []sdk.Option{
				{Value: "zh-CN", Label: sdk.T("Chinese", "中文")}, {Value: "en", Label: sdk.T("English", "英文")}}},
		}),
		Output: outputs(sdk.OutputField{Key: "text", Type: "string", Label: sdk.T("Summary", "摘要")},
			sdk.OutputField{Key: "record_id", Type: "string", Label: sdk.T("Record id", "记录 ID")},
			sdk.OutputField{Key: "fields", Type: "array", Label: sdk.T("Fields sent to the model", "发送给模型的字段")}),
		Run: runSummarise,
	}
}

func runSummarise(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	s, err := resolve(env, p)
	if err != nil {
		return nil, err
	}
	rr, err := env.RecordReader()
	if err != nil {
		return nil, err
	}
	entity := sdk.String(p, "entity")
	ent, err := rr.Entity(ctx, entity)
	if err != nil {
		return nil, err
	}
	excluded, err := stringList(p, "exclude_fields")
	if err != nil {
		return nil, err
	}
	rec, err := rr.Record(ctx, entity, sdk.String(p, "record_id"), sdk.RecordOptions{
		History: sdk.Bool(p, "history"), MaxEvents: int(sdk.Number(p, "max_events")),
		Related: sdk.Bool(p, "related"), MaxRelated: int(sdk.Number(p, "max_related"))})
	if err != nil {
		return nil, err
	}
	doc, used := describe(ent, rec, excluded)
	lang := "Chinese (简体中文)"
	if sdk.String(p, "language") == "en" {
		lang = "English"
	}
	req, o := options(p)
	sys := "You help sales teams. " + sdk.String(p, "instructions") + "\nAnswer in " + lang + ", in plain text, briefly. Use only the facts given; say so when something is unknown."
	b, _ := json.MarshalIndent(doc, "", " ")
	req.Messages = []message{{Role: "system", Content: sys}, {Role: "user", Content: string(b)}}
	a, err := call(ctx, env, s, req, o)
	if err != nil {
		return nil, err
	}
	out := base(s, a)
	out["text"] = strings.TrimSpace(a.Text)
	out["record_id"] = rec.ID
	out["fields"] = used
	return out, nil
}

// describe turns a record view into the prompt document: values under their labels, minus the
// excluded fields (the host already removed what the identity may not read).
func describe(ent sdk.EntityInfo, rec sdk.RecordView, excluded []string) (map[string]any, []string) {
	skip := map[string]bool{}
	for _, k := range excluded {
		skip[k] = true
	}
	label := func(k string) string {
		if f, ok := ent.Field(k); ok && f.Label.En != "" {
			if f.Label.ZhCN != "" && f.Label.ZhCN != f.Label.En {
				return f.Label.En + " / " + f.Label.ZhCN
			}
			return f.Label.En
		}
		return k
	}
	used := []string{}
	fields := map[string]any{}
	for k, v := range rec.Data {
		if skip[k] || v == nil || v == "" {
			continue
		}
		fields[label(k)] = v
		used = append(used, k)
	}
	sort.Strings(used)
	doc := map[string]any{"entity": ent.Label.En, "created_at": rec.CreatedAt, "updated_at": rec.UpdatedAt, "fields": fields}
	if len(rec.History) > 0 {
		hist := make([]map[string]any, 0, len(rec.History))
		for _, e := range rec.History {
			ch := map[string]any{}
			for k, v := range e.Changes {
				if !skip[k] {
					ch[label(k)] = v
				}
			}
			hist = append(hist, map[string]any{"at": e.At, "kind": e.Kind, "changes": ch})
		}
		doc["history"] = hist
	}
	if len(rec.Related) > 0 {
		rel := make([]map[string]any, 0, len(rec.Related))
		for _, r := range rec.Related {
			rel = append(rel, map[string]any{"entity": r.Entity, "via": r.Field, "links": r.Links, "fields": r.Data})
		}
		doc["related"] = rel
	}
	return doc, used
}
