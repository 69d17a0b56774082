package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/server/apitest"
)

// eventually polls f until it returns "" or the deadline passes, then fails with its last answer.
func eventually(t *testing.T, within time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func recordData(t *testing.T, e *apitest.Env, entity, id string) map[string]any {
	t.Helper()
	r := e.Must(200, "GET", "/api/v1/apps/sales/entities/"+entity+"/records/"+id, nil, e.AdminToken).JSON()
	return r["data"].(map[string]any)
}

// TestSalesTemplateFlows runs the template's flows end to end: lead scoring, the contract
// approval chain routed by amount to people found by their roles, and the tiering script.
func TestSalesTemplateFlows(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	people := map[string]string{}
	for _, role := range []string{"sales_director", "legal", "finance"} {
		id, tok := e.CreateUser(role+"@example.com", role, nil)
		e.Must(200, "PUT", "/api/v1/admin/users/"+id.String()+"/roles", fmt.Sprintf(`{"roles":[{"app":"sales","role":%q}]}`, role), e.AdminToken)
		people[role] = tok
	}

	// S1: an ad platform posts a lead to the webhook: 202 with the run id as its receipt (the
	// answer never depends on whether the lead existed); the lead is created, normalised.
	hook := e.Do("POST", "/hooks/sales-lead-in", `{"name":"孙八","phone":"132 0013 2000","channel":"wechat","utm_source":"wx"}`, "")
	if hook.Status != 202 || hook.JSON()["run_id"] == nil {
		t.Fatalf("webhook lead: %d %s", hook.Status, hook.Body)
	}
	eventually(t, 30*time.Second, func() string {
		l := leadByPhone(t, e, "+8613200132000")
		if l == nil || l["source"] != "wechat" || l["utm_source"] != "wx" {
			return fmt.Sprintf("webhook lead: %v", l)
		}
		return ""
	})

	// S2: 50 (form) + 10 (manufacturing) + 20 (CEO) = 80 -> MQL.
	lead := e.Must(201, "POST", "/api/v1/apps/sales/entities/lead/records", `{"name":"钱九","phone":"13300133000","industry":"manufacturing","title":"CEO","score":50}`, e.AdminToken).JSON()
	eventually(t, 30*time.Second, func() string {
		d := recordData(t, e, "lead", lead["id"].(string))
		if d["status"] != "mql" || fmt.Sprint(d["score"]) != "80" {
			return fmt.Sprintf("lead after scoring: %v", d)
		}
		return ""
	})

	// S3: an SQL is assigned to the least-loaded rep, who owns the lead from then on (so their
	// own scope shows it) and has the first-contact task.
	repID, repToken := e.CreateUser("rep@example.com", "Rep", nil)
	e.Must(200, "PUT", "/api/v1/admin/users/"+repID.String()+"/roles", `{"roles":[{"app":"sales","role":"sales_rep"}]}`, e.AdminToken)
	e.Must(200, "PATCH", "/api/v1/apps/sales/entities/lead/records/"+lead["id"].(string), `{"status":"sql"}`, e.AdminToken)
	eventually(t, 30*time.Second, func() string {
		r := e.Do("GET", "/api/v1/apps/sales/entities/lead/records/"+lead["id"].(string), nil, repToken)
		if r.Status != 200 {
			return fmt.Sprintf("the assigned rep reads the lead: %d %s", r.Status, r.Body)
		}
		if owner := r.JSON()["owner_id"]; owner != repID.String() {
			return fmt.Sprintf("lead owner %v, want the rep", owner)
		}
		return ""
	})

	// S5: a 600k contract goes director -> legal -> finance, in order.
	deal := e.Must(201, "POST", "/api/v1/apps/sales/entities/deal/records", `{"name":"大单","stage":"new_lead","amount":600000}`, e.AdminToken).JSON()
	contract := e.Must(201, "POST", "/api/v1/apps/sales/entities/contract/records", fmt.Sprintf(`{"deal":%q,"amount":600000}`, deal["id"]), e.AdminToken).JSON()
	for _, role := range []string{"sales_director", "legal", "finance"} {
		var taskID string
		eventually(t, 30*time.Second, func() string {
			r := e.Must(200, "GET", "/api/v1/tasks?status=open", nil, people[role])
			var body struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			_ = json.Unmarshal(r.Body, &body)
			if len(body.Items) != 1 {
				return fmt.Sprintf("%s has tasks %s", role, r.Body)
			}
			taskID = body.Items[0].ID
			return ""
		})
		for _, other := range []string{"sales_director", "legal", "finance"} {
			if other != role && strings.Contains(string(e.Must(200, "GET", "/api/v1/tasks?status=open", nil, people[other]).Body), taskID) {
				t.Fatalf("%s sees %s's task", other, role)
			}
		}
		e.Must(200, "POST", "/api/v1/tasks/"+taskID+"/complete", `{"outcome":"approve","comment":"ok"}`, people[role])
	}
	eventually(t, 30*time.Second, func() string {
		if d := recordData(t, e, "contract", contract["id"].(string)); d["status"] != "approved" {
			return fmt.Sprintf("contract: %v", d)
		}
		return ""
	})

	// S5: an approved quote gets its PDF (Chinese text, rendered by the pdf connector) attached.
	product := e.Must(201, "POST", "/api/v1/apps/sales/entities/product/records", `{"name":"MES 系统许可","price":150000,"max_discount":10}`, e.AdminToken).JSON()
	quote := e.Must(201, "POST", "/api/v1/apps/sales/entities/quote/records", fmt.Sprintf(`{"deal":%q,"items":[{"product":%q,"quantity":2}]}`, deal["id"], product["id"]), e.AdminToken).JSON()
	e.Must(200, "PATCH", "/api/v1/apps/sales/entities/quote/records/"+quote["id"].(string), `{"status":"approved"}`, e.AdminToken)
	eventually(t, 60*time.Second, func() string {
		d := recordData(t, e, "quote", quote["id"].(string))
		files, _ := d["pdf"].([]any)
		if len(files) != 1 || !strings.HasSuffix(fmt.Sprint(files[0].(map[string]any)["name"]), ".pdf") {
			return fmt.Sprintf("quote: %v", d)
		}
		return ""
	})

	// S6: the tiering script (sandbox) marks a 600k, 5-year customer strategic.
	acct := e.Must(201, "POST", "/api/v1/apps/sales/entities/account/records", `{"name":"华东制造"}`, e.AdminToken).JSON()
	e.Must(200, "PATCH", "/api/v1/apps/sales/entities/account/records/"+acct["id"].(string), `{"annual_purchase":600000,"relationship_since":"2020-01-01"}`, e.AdminToken)
	eventually(t, 60*time.Second, func() string {
		if d := recordData(t, e, "account", acct["id"].(string)); d["tier"] != "strategic" {
			return fmt.Sprintf("account: %v", d)
		}
		return ""
	})
}

// TestTaskReminderIsVisible: a task whose reminder fired shows reminded_at (the inbox tags it
// 已催办) and names its app for links.
func TestTaskReminderIsVisible(t *testing.T) {
	e := apitest.New(t)
	publishFlow(t, e, map[string]any{"slug": "remind", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "todo", "type": "task", "params": map[string]any{
			"title": "回访客户", "assignee": e.AdminID.String(), "due": "1h", "remind": "1s"}}}})
	e.Must(202, "POST", "/api/v1/apps/crm/flows/remind/run", map[string]any{}, e.AdminToken)
	eventually(t, 60*time.Second, func() string {
		r := e.Must(200, "GET", "/api/v1/tasks?status=open", nil, e.AdminToken)
		var body struct {
			Items []struct {
				App        *string `json:"app"`
				RemindedAt *string `json:"reminded_at"`
			} `json:"items"`
		}
		_ = json.Unmarshal(r.Body, &body)
		if len(body.Items) != 1 || body.Items[0].RemindedAt == nil || body.Items[0].App == nil || *body.Items[0].App != "crm" {
			return string(r.Body)
		}
		return ""
	})
}

// TestSalesTemplateReportFlows (S7): the weekly report flow puts last week's figures in the
// directors' and managers' notification bell; the QA sampling flow asks the managers to score
// 5% (at least one) of last week's unscored follow-ups, linking each record.
func TestSalesTemplateReportFlows(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	toks := map[string]string{}
	for _, role := range []string{"sales_director", "sales_manager"} {
		id, tok := e.CreateUser(role+"@example.com", role, nil)
		e.Must(200, "PUT", "/api/v1/admin/users/"+id.String()+"/roles", fmt.Sprintf(`{"roles":[{"app":"sales","role":%q}]}`, role), e.AdminToken)
		toks[role] = tok
	}
	var followups []string
	for i := 0; i < 3; i++ {
		r := e.Must(201, "POST", "/api/v1/apps/sales/entities/followup/records",
			map[string]any{"call_at": "2026-11-20T10:00:00+08:00", "need": "报价", "next_step": fmt.Sprintf("下周二回访 %d", i)}, e.AdminToken).JSON()
		followups = append(followups, r["id"].(string))
	}
	scored := e.Must(201, "POST", "/api/v1/apps/sales/entities/followup/records",
		map[string]any{"call_at": "2026-11-20T10:00:00+08:00", "need": "报价", "next_step": "已评分", "qa_score": 90}, e.AdminToken).JSON()["id"].(string)

	run := func(flow string) map[string]any {
		t.Helper()
		id := e.Must(202, "POST", "/api/v1/apps/sales/flows/"+flow+"/run", map[string]any{}, e.AdminToken).JSON()["run_id"].(string)
		r := waitRun(t, e, id)
		if r["status"] != "succeeded" {
			t.Fatalf("%s run: %v", flow, r)
		}
		return r
	}
	qa := run("qa-sampling")
	pick := qa["steps"].([]any)[0].(map[string]any)["output"].(map[string]any)
	if pick["total"] != 3.0 || len(pick["sample"].([]any)) != 1 {
		t.Fatalf("sampling picked %v", pick)
	}
	p := notes(t, e, "", toks["sales_manager"])
	if len(p.Items) != 1 || p.Items[0].Kind != "message" || p.Items[0].RecordID == nil || *p.Items[0].RecordID == scored ||
		!strings.Contains(fmt.Sprint(followups), *p.Items[0].RecordID) || !strings.HasPrefix(fmt.Sprint(p.Items[0].Params["body"]), "下周二回访") {
		t.Fatalf("manager's QA notification %+v", p)
	}

	// the report's week (last week) has 4 new leads and 1 won deal, the week before 3 and 2
	// (the conversion rate is won deals over new leads of the same week)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(sh)
	monday := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, sh).AddDate(0, 0, -(int(now.Weekday())+6)%7)
	for _, seed := range []struct {
		entity string
		n      int
		at     time.Time
	}{
		{"lead", 4, monday.AddDate(0, 0, -5)}, {"deal", 1, monday.AddDate(0, 0, -5)},
		{"lead", 3, monday.AddDate(0, 0, -12)}, {"deal", 2, monday.AddDate(0, 0, -12)},
	} {
		if _, err := e.DB.Pool.Exec(context.Background(), `INSERT INTO records (app_id, entity, data, created_at, updated_at)
			SELECT a.id, $1, jsonb_build_object('name', $1 || g, 'stage', 'won', 'amount', 1000), $3, $3
			FROM apps a, generate_series(1, $2::int) g WHERE a.slug = 'sales'`, seed.entity, seed.n, seed.at); err != nil {
			t.Fatal(err)
		}
	}
	run("weekly-report")
	for role, tok := range toks {
		p := notes(t, e, "?limit=1", tok)
		body := fmt.Sprint(p.Items[0].Params["body"])
		if p.Items[0].Title != "上周销售周报 / Last week's sales report" || !strings.Contains(body, "线索 / Leads\n") || !strings.Contains(body, "赢单与客单价") ||
			!strings.Contains(body, "Lead → won conversion: 本周 this week 25%（1/4），上周 last week 66.7%（2/3）") {
			t.Fatalf("%s's weekly report %+v", role, p.Items[0])
		}
	}
}

// leadByPhone is the data of the sales lead with this (E.164) phone, or nil.
func leadByPhone(t *testing.T, e *apitest.Env, phone string) map[string]any {
	t.Helper()
	r := e.Must(200, "GET", "/api/v1/apps/sales/entities/lead/records?filter="+url.QueryEscape(`{"phone":{"eq":"`+phone+`"}}`), nil, e.AdminToken).JSON()
	items, _ := r["items"].([]any)
	if len(items) == 0 {
		return nil
	}
	rec := items[0].(map[string]any)
	d := rec["data"].(map[string]any)
	d["id"] = rec["id"]
	return d
}
