package api_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/report"
	"github.com/tessera/tessera/server/apitest"
)

// TestReportNodeAndNotify: a flow runs a published report (with a period and an extra
// filter), and sends its figures as an in-app notification to everyone in a role; the report
// output carries text, HTML and a CSV attachment for the email connector.
func TestReportNodeAndNotify(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	for _, d := range [][2]string{
		{"entities/lead", `{"slug":"lead","fields":[{"key":"name","type":"text"},{"key":"channel","type":"select","options":[{"value":"web","label":{"en":"Website","zh-CN":"官网"}},"phone"]},{"key":"amount","type":"money"}]}`},
		{"reports/by-channel", `{"slug":"by-channel","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"measures":[{"agg":"count"},{"agg":"sum","field":"amount"}],"sort":["channel"]}`},
	} {
		e.Must(201, "PUT", "/api/v1/apps/crm/"+d[0], d[1], e.AdminToken)
		e.Must(200, "POST", "/api/v1/apps/crm/"+d[0]+"/publish", nil, e.AdminToken)
	}
	for i, l := range []struct {
		channel string
		amount  float64
	}{{"web", 100}, {"web", 50.5}, {"phone", 7}, {"phone", 1}} {
		e.Must(201, "POST", "/api/v1/apps/crm/entities/lead/records", map[string]any{"name": fmt.Sprintf("客户%d", i), "channel": l.channel, "amount": l.amount}, e.AdminToken)
	}
	e.Must(201, "PUT", "/api/v1/admin/roles", map[string]any{"app": "crm", "name": "director",
		"permissions": []any{map[string]any{"resource": "entity:lead", "actions": []string{"read"}, "scope": "all"}}}, e.AdminToken)
	var toks []string
	for _, email := range []string{"d1@example.com", "d2@example.com"} {
		id, tok := e.CreateUser(email, email, nil)
		e.Must(200, "PUT", "/api/v1/admin/users/"+id.String()+"/roles", map[string]any{"roles": []any{map[string]any{"app": "crm", "role": "director"}}}, e.AdminToken)
		toks = append(toks, tok)
	}
	publishFlow(t, e, map[string]any{"slug": "weekly", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{
			map[string]any{"id": "r", "type": "report", "params": map[string]any{"report": "by-channel", "period": "this_week", "filter": map[string]any{"amount": map[string]any{"gt": "{{ trigger.input.min }}"}}, "locale": "en"}},
			map[string]any{"id": "tell", "type": "notify", "params": map[string]any{"to": []any{"role:director", "email:d1@example.com", "role:auditor"},
				"title": "周报：{{ steps.r.count }} 个渠道", "body": "{{ steps.r.text }}", "link": "/apps/crm/reports/by-channel"}},
		},
		"edges": []any{map[string]any{"from": "r", "to": "tell"}}})
	id := e.Must(202, "POST", "/api/v1/apps/crm/flows/weekly/run", map[string]any{"input": map[string]any{"min": 5}}, e.AdminToken).JSON()["run_id"].(string)
	run := waitRun(t, e, id)
	if run["status"] != "succeeded" {
		t.Fatalf("run %v", run)
	}
	out := run["steps"].([]any)[0].(map[string]any)["output"].(map[string]any)
	// the filter (amount > 5) leaves web 100 + 50.5 and phone 7
	if out["count"] != 2.0 || fmt.Sprint(out["rows"]) != "[[phone 1 7] [web 2 150.5]]" {
		t.Fatalf("report output %v", out)
	}
	if items := out["items"].([]any); fmt.Sprint(items[1]) != "map[channel:web count:2 sum_amount:150.5]" {
		t.Fatalf("items %v", items)
	}
	text := out["text"].(string)
	if !strings.HasPrefix(text, "channel | ") || !strings.Contains(text, "\nWebsite | 2 | 150.5") {
		t.Fatalf("text %q", text)
	}
	if h := out["html"].(string); !strings.Contains(h, "<td>Website</td><td>2</td><td>150.5</td>") {
		t.Fatalf("html %q", h)
	}
	csvFile := out["csv"].(map[string]any)
	raw, err := base64.StdEncoding.DecodeString(csvFile["data"].(string))
	if err != nil || csvFile["name"] != "by-channel.csv" || !strings.HasPrefix(string(raw), "\uFEFFchannel,") || !strings.Contains(string(raw), "Website,2,150.5") {
		t.Fatalf("csv %v %q", err, raw)
	}
	// both directors once (d1 named twice), with the body and link
	for _, tok := range toks {
		p := notes(t, e, "", tok)
		if len(p.Items) != 1 || p.Items[0].Kind != "message" || p.Items[0].Title != "周报：2 个渠道" || p.Items[0].Text["en"] != "周报：2 个渠道" ||
			p.Items[0].Params["body"] != text || p.Items[0].Params["link"] != "/apps/crm/reports/by-channel" || p.Items[0].RunID == nil {
			t.Fatalf("notifications %+v", p)
		}
	}
	// a role nobody holds is skipped and named in the output
	if got := run["steps"].([]any)[1].(map[string]any)["output"].(map[string]any); got["sent"] != 2.0 || fmt.Sprint(got["nobody"]) != "[role:auditor]" {
		t.Fatalf("notify output %v", got)
	}

	// publish-time errors name the params; a missing report fails the run with a clear error
	bad := e.Do("PUT", "/api/v1/apps/crm/flows/bad", map[string]any{"slug": "bad", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "r", "type": "report", "params": map[string]any{"period": "fortnight", "limit": -1}},
			map[string]any{"id": "n", "type": "notify", "params": map[string]any{"to": "role:director", "link": "https://evil.example"}}}}, e.AdminToken)
	if bad.Status < 300 {
		bad = e.Do("POST", "/api/v1/apps/crm/flows/bad/publish", nil, e.AdminToken)
	}
	for _, f := range []string{"nodes[0].params.report", "nodes[0].params.period", "nodes[0].params.limit", "nodes[1].params.title", "nodes[1].params.link"} {
		if bad.Status != 422 || !strings.Contains(string(bad.Body), `"`+f+`"`) {
			t.Errorf("bad flow: want 422 naming %s, got %d %s", f, bad.Status, bad.Body)
		}
	}
	// a report the app does not have is refused at publish; one that is only a draft fails the run
	e.Must(201, "PUT", "/api/v1/apps/crm/flows/typo", map[string]any{"slug": "typo", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "r", "type": "report", "params": map[string]any{"report": "by-chanel"}}}}, e.AdminToken)
	if r := e.Do("POST", "/api/v1/apps/crm/flows/typo/publish", nil, e.AdminToken); r.Status != 422 || !strings.Contains(string(r.Body), `"nodes[0].params.report"`) {
		t.Fatalf("publishing a flow naming an unknown report: %d %s", r.Status, r.Body)
	}
	e.Must(201, "PUT", "/api/v1/apps/crm/reports/nope", `{"slug":"nope","entity":"lead","kind":"pivot","measures":[{"agg":"count"}]}`, e.AdminToken)
	publishFlow(t, e, map[string]any{"slug": "missing", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "r", "type": "report", "params": map[string]any{"report": "nope"}}}})
	mid := e.Must(202, "POST", "/api/v1/apps/crm/flows/missing/run", map[string]any{}, e.AdminToken).JSON()["run_id"].(string)
	if mr := waitRun(t, e, mid); mr["status"] != "failed" || !strings.Contains(fmt.Sprint(mr), `report \"nope\" is not published`) && !strings.Contains(fmt.Sprint(mr), `report "nope" is not published`) {
		t.Fatalf("missing report run %v", mr)
	}
}

// TestReportNodePeriodsAreKnown: every period the report node accepts has a date range.
func TestReportNodePeriodsAreKnown(t *testing.T) {
	for _, p := range engine.ReportPeriods {
		if _, _, err := report.PeriodRange(p, time.Now(), time.UTC); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
