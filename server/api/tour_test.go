package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/server/apitest"
)

// TestReadmeTour follows the README's tour of the sales template through the API, so the
// documented steps keep working.
func TestReadmeTour(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)

	form := e.Must(200, "GET", "/api/v1/apps/sales/forms/web-lead", nil, e.AdminToken).JSON()
	pid, _ := form["public_id"].(string)
	if pid == "" {
		t.Fatalf("web-lead has no public_id: %v", form)
	}
	page := e.Must(200, "GET", "/f/"+pid, nil, "")
	if !strings.Contains(string(page.Body), "<form") {
		t.Fatalf("public form page has no form")
	}

	first := e.Must(201, "POST", "/api/v1/public/forms/"+pid+"/submit", `{"name":"张三","phone":"138 0013 8000","email":"Zhang@Example.com","consent":true}`, "").JSON()
	// the same phone again: answered like a new lead (another submission id), the lead is not
	// changed; the values wait on it for review
	second := e.Must(201, "POST", "/api/v1/public/forms/"+pid+"/submit", `{"name":"张三","phone":"+86 138-0013-8000","company":"华东制造","consent":true}`, "").JSON()
	if second["id"] == first["id"] || len(second) != len(first) {
		t.Fatalf("second submission answered %v, first %v", second, first)
	}
	bad := e.Must(422, "POST", "/api/v1/public/forms/"+pid+"/submit", `{"name":"","phone":"12","consent":true}`, "")
	if !strings.Contains(string(bad.Body), `"field":"phone"`) || !strings.Contains(string(bad.Body), `"field":"name"`) {
		t.Fatalf("field errors: %s", bad.Body)
	}

	list := e.Must(200, "GET", "/api/v1/apps/sales/entities/lead/records?filter="+url.QueryEscape(`{"source":{"eq":"web"}}`), nil, e.AdminToken).JSON()
	items := list["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("leads: %v", list)
	}
	data := items[0].(map[string]any)["data"].(map[string]any)
	if data["phone"] != "+8613800138000" || data["email"] != "zhang@example.com" || data["source"] != "web" || data["company"] != nil {
		t.Fatalf("normalised lead: %v", data)
	}
	lead := items[0].(map[string]any)["id"].(string)
	pending := e.Must(200, "GET", "/api/v1/apps/sales/entities/lead/records/"+lead+"/intake", nil, e.AdminToken).JSON()["items"].([]any)
	if len(pending) != 1 || !strings.Contains(fmt.Sprint(pending[0].(map[string]any)["changes"]), "华东制造") {
		t.Fatalf("pending submissions: %v", pending)
	}
	e.Must(200, "POST", "/api/v1/apps/sales/entities/lead/records/"+lead+"/intake/"+pending[0].(map[string]any)["id"].(string)+"/accept", nil, e.AdminToken)
	hist := e.Must(200, "GET", "/api/v1/apps/sales/entities/lead/records/"+lead+"/history", nil, e.AdminToken)
	if !strings.Contains(string(hist.Body), `"intake.duplicate"`) || !strings.Contains(string(hist.Body), `"company":[null,"华东制造"]`) {
		t.Fatalf("history lacks the submission and its acceptance: %s", hist.Body)
	}

	deal := e.Must(201, "POST", "/api/v1/apps/sales/entities/deal/records", `{"name":"华东制造 MES 项目","stage":"proposal","amount":380000,"office":"shanghai"}`, e.AdminToken).JSON()
	gate := e.Must(422, "PATCH", "/api/v1/apps/sales/entities/deal/records/"+deal["id"].(string), `{"stage":"negotiation"}`, e.AdminToken)
	if !strings.Contains(string(gate.Body), "请上传带客户名称的正式报价单") {
		t.Fatalf("gate message: %s", gate.Body)
	}

	// Skipping over the gated stage is no way around the gate; moving to a terminal stage (lost) is.
	early := e.Must(201, "POST", "/api/v1/apps/sales/entities/deal/records", `{"name":"跳级","stage":"new_lead"}`, e.AdminToken).JSON()
	e.Must(422, "PATCH", "/api/v1/apps/sales/entities/deal/records/"+early["id"].(string), `{"stage":"negotiation"}`, e.AdminToken)
	e.Must(200, "PATCH", "/api/v1/apps/sales/entities/deal/records/"+early["id"].(string), `{"stage":"lost"}`, e.AdminToken)

	// UTM parameters on the submit URL are captured; defaults outside the layout cannot be overridden.
	e.Must(201, "POST", "/api/v1/public/forms/"+pid+"/submit?utm_source=baidu&utm_campaign=spring", `{"name":"赵六","phone":"13600136001","consent":true,"source":"hacker"}`, "")
	got := leadByPhone(t, e, "+8613600136001")
	if got["utm_source"] != "baidu" || got["utm_campaign"] != "spring" || got["source"] != "web" {
		t.Fatalf("utm/default capture: %v", got)
	}

	for _, r := range []string{"deal-funnel", "dwell-heatmap", "stagnation", "proposal-penetration", "forecast", "rep-kpi", "leads-by-source", "weekly-leads", "weekly-deals"} {
		res := e.Must(200, "GET", "/api/v1/apps/sales/reports/"+r+"/data", nil, e.AdminToken).JSON()
		if _, ok := res["columns"].([]any); !ok {
			t.Fatalf("report %s: %v", r, res)
		}
	}
	fc := e.Must(200, "GET", "/api/v1/apps/sales/reports/forecast/data", nil, e.AdminToken)
	if !strings.Contains(string(fc.Body), "152000") { // 380000 x 0.4 (proposal)
		t.Fatalf("forecast does not weight the proposal-stage deal: %s", fc.Body)
	}
	e.Must(200, "GET", "/api/v1/apps/sales/dashboards/sales-overview/data", nil, e.AdminToken)

	// A webhook lead, the admin made a sales rep, the lead marked SQL: a first-contact task and
	// its notification.
	if hook := e.Must(202, "POST", "/hooks/sales-lead-in", `{"name":"李四","phone":"13900139000","company":"西部物流"}`, "").JSON(); hook["run_id"] == nil {
		t.Fatalf("webhook answer without its receipt: %v", hook)
	}
	var web string
	eventually(t, 30*time.Second, func() string {
		if l := leadByPhone(t, e, "+8613900139000"); l != nil {
			web = l["id"].(string)
			return ""
		}
		return "the webhook lead was not created"
	})
	me := e.Must(200, "GET", "/api/v1/me", nil, e.AdminToken).JSON()["id"].(string)
	e.Must(200, "PUT", "/api/v1/admin/users/"+me+"/roles", `{"roles":[{"app":"sales","role":"sales_rep"}]}`, e.AdminToken)
	e.Must(200, "PATCH", "/api/v1/apps/sales/entities/lead/records/"+web, `{"status":"sql"}`, e.AdminToken)
	eventually(t, 30*time.Second, func() string {
		if r := e.Must(200, "GET", "/api/v1/tasks", nil, e.AdminToken); !strings.Contains(string(r.Body), "首次联系 / First contact: 李四 西部物流") {
			return "tasks: " + string(r.Body)
		}
		return ""
	})
	n := e.Must(200, "GET", "/api/v1/notifications?unread=true", nil, e.AdminToken)
	// the task, and the repeated web lead (it has no owner yet, so the admins review it)
	if !strings.Contains(string(n.Body), `"task_assigned"`) || !strings.Contains(string(n.Body), `"intake_pending"`) || !strings.Contains(string(n.Body), `"unread_count":2`) {
		t.Fatalf("notifications: %s", n.Body)
	}
}
