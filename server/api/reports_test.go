package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/tessera/tessera/server/apitest"
)

const reportsEntity = `{"slug":"lead","label":{"en":"Lead","zh-CN":"线索"},"title_field":"name","fields":[
 {"key":"name","type":"text"},{"key":"amount","type":"money"},{"key":"cost","type":"money"},
 {"key":"stage","type":"select","options":["new","contacted","won"]},{"key":"channel","type":"select","options":["web","sem"]}],
 "stages":{"field":"stage","order":["new","contacted","won"],"terminal":["won"],"probability":{"new":0.1,"contacted":0.5,"won":1}}}`

// reportsEnv is an API with app crm, entity lead, published reports and a dashboard, records of
// the admin and of a sales rep (own scope, cost hidden, may export).
type reportsEnv struct {
	*apitest.Env
	appID    uuid.UUID
	repID    uuid.UUID
	repToken string
	nobody   string // a user without any role in crm
}

func newReportsEnv(t *testing.T) *reportsEnv {
	t.Helper()
	e := &reportsEnv{Env: apitest.New(t)}
	ctx := context.Background()
	pool := e.DB.Pool
	if err := pool.QueryRow(ctx, `INSERT INTO apps (slug, name, settings) VALUES ('crm', 'CRM', '{"timezone":"Asia/Shanghai"}') RETURNING id`).Scan(&e.appID); err != nil {
		t.Fatal(err)
	}
	e.publishDef(t, "entities", "lead", reportsEntity)
	e.publishDef(t, "reports", "by-channel", `{"slug":"by-channel","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"measures":[{"agg":"count"},{"agg":"sum","field":"amount"}]}`)
	e.publishDef(t, "reports", "funnel", `{"slug":"funnel","entity":"lead","kind":"funnel"}`)
	e.publishDef(t, "reports", "cost", `{"slug":"cost","entity":"lead","kind":"kpi","measures":[{"agg":"sum","field":"cost"}]}`)
	e.publishDef(t, "dashboards", "sales", `{"slug":"sales","widgets":[{"id":"w1","report":"by-channel","x":0,"y":0,"w":6,"h":4},{"id":"w2","report":"funnel","x":6,"y":0,"w":6,"h":4},{"id":"w3","report":"cost","x":0,"y":4,"w":6,"h":4}],"filters":{"amount":{"gte":0}}}`)
	e.repID, e.repToken = e.CreateUser("rep@example.com", "Rep", nil)
	_, e.nobody = e.CreateUser("nobody@example.com", "Nobody", nil)
	if r := e.Do("PUT", "/api/v1/admin/roles", map[string]any{"app": "crm", "name": "sales_rep", "permissions": []any{
		map[string]any{"resource": "entity:lead", "actions": []string{"read", "export"}, "scope": "own"},
		map[string]any{"resource": "report:*", "actions": []string{"read"}, "scope": "all"},
		map[string]any{"resource": "dashboard:*", "actions": []string{"read"}, "scope": "all"},
	}, "fields": map[string]any{"lead": map[string]any{"hidden": []string{"cost"}, "readonly": []string{}}}}, e.AdminToken); r.Status/100 != 2 {
		t.Fatalf("creating role: %d %s", r.Status, r.Body)
	}
	e.Must(200, "PUT", "/api/v1/admin/users/"+e.repID.String()+"/roles", map[string]any{"roles": []any{map[string]string{"app": "crm", "role": "sales_rep"}}}, e.AdminToken)
	t0 := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
	// Admin's records: web/new, web/contacted, sem/won (skipping contacted). Rep's: sem/contacted, web/new.
	e.record(t, e.AdminID, "a1", "web", 100, t0, "new")
	e.record(t, e.AdminID, "a2", "web", 200, t0, "new", "contacted")
	e.record(t, e.AdminID, "a3", "sem", 300, t0, "new", "won")
	e.record(t, e.repID, "r1", "sem", 400, t0, "new", "contacted")
	e.record(t, e.repID, "r2", "web", 500, t0.AddDate(0, 0, 10), "new")
	return e
}

func (e *reportsEnv) publishDef(t *testing.T, kind, slug, body string) {
	t.Helper()
	_, err := e.DB.Pool.Exec(context.Background(), `WITH d AS (
		INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, $2, $3, $4, 1) RETURNING id)
		INSERT INTO definition_versions (definition_id, version, body) SELECT id, 1, $4 FROM d`, e.appID, kind, slug, body)
	if err != nil {
		t.Fatalf("publishing %s %s: %v", kind, slug, err)
	}
}

// record inserts a lead that went through stages (one stage event per move, a day apart).
func (e *reportsEnv) record(t *testing.T, owner uuid.UUID, name, channel string, amount float64, created time.Time, stages ...string) {
	t.Helper()
	ctx := context.Background()
	data, _ := json.Marshal(map[string]any{"name": name, "channel": channel, "amount": amount, "cost": amount / 2, "stage": stages[len(stages)-1]})
	var id uuid.UUID
	if err := e.DB.Pool.QueryRow(ctx, `INSERT INTO records (app_id, entity, data, owner_id, created_at, updated_at) VALUES ($1, 'lead', $2, $3, $4, $4) RETURNING id`,
		e.appID, data, owner, created).Scan(&id); err != nil {
		t.Fatal(err)
	}
	// Like runtime/records: the creation writes a stage event [null, first stage].
	for i := 0; i < len(stages); i++ {
		var from any
		if i > 0 {
			from = stages[i-1]
		}
		ch, _ := json.Marshal(map[string]any{"stage": []any{from, stages[i]}})
		if _, err := e.DB.Pool.Exec(ctx, `INSERT INTO record_events (record_id, app_id, entity, at, kind, changes) VALUES ($1, $2, 'lead', $3, 'stage', $4)`,
			id, e.appID, created.Add(time.Duration(i)*24*time.Hour), ch); err != nil {
			t.Fatal(err)
		}
	}
}

type resultBody struct {
	Columns []struct{ Key, Label string } `json:"columns"`
	Rows    [][]any                       `json:"rows"`
}

func rowsOf(t *testing.T, r *apitest.Resp) string {
	t.Helper()
	var b resultBody
	r.Decode(t, &b)
	out, _ := json.Marshal(b.Rows)
	return string(out)
}

// TestReportRoutes covers data, preview, permissions and parameters as an actor x action matrix.
func TestReportRoutes(t *testing.T) {
	e := newReportsEnv(t)
	base := "/api/v1/apps/crm/reports/"
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		token  string
		status int
		rows   string
		errKey string
	}{
		{"admin pivot", "GET", base + "by-channel/data", nil, e.AdminToken, 200, `[["sem",2,700],["web",3,800]]`, ""},
		{"rep pivot own rows", "GET", base + "by-channel/data", nil, e.repToken, 200, `[["sem",1,400],["web",1,500]]`, ""},
		{"admin funnel", "GET", base + "funnel/data", nil, e.AdminToken, 200, `[["new",1,5,100,100],["contacted",2,3,60,60],["won",3,1,33.33,20]]`, ""},
		{"rep funnel own rows", "GET", base + "funnel/data", nil, e.repToken, 200, `[["new",1,2,100,100],["contacted",2,1,50,50],["won",3,0,0,0]]`, ""},
		{"rep hidden field report", "GET", base + "cost/data", nil, e.repToken, 422, "", "measures[0].field"},
		{"admin hidden field report", "GET", base + "cost/data", nil, e.AdminToken, 200, `[[750]]`, ""},
		{"no role", "GET", base + "by-channel/data", nil, e.nobody, 404, "", ""},
		{"anonymous", "GET", base + "by-channel/data", nil, "", 401, "", ""},
		{"unknown report", "GET", base + "nope/data", nil, e.AdminToken, 404, "", ""},
		{"unknown app", "GET", "/api/v1/apps/nope/reports/funnel/data", nil, e.AdminToken, 404, "", ""},
		{"range", "GET", base + "by-channel/data?from=2026-03-05&to=2026-03-31", nil, e.AdminToken, 200, `[["web",1,500]]`, ""},
		{"bad range", "GET", base + "by-channel/data?from=yesterday", nil, e.AdminToken, 422, "", "from"},
		{"runtime filter", "GET", base + "by-channel/data?filter=" + url.QueryEscape(`{"amount":{"gte":300}}`), nil, e.AdminToken, 200, `[["sem",2,700],["web",1,500]]`, ""},
		{"runtime filter unknown field", "GET", base + "by-channel/data?filter=" + url.QueryEscape(`{"nope":1}`), nil, e.AdminToken, 422, "", "filter.nope"},
		{"runtime filter hidden field", "GET", base + "by-channel/data?filter=" + url.QueryEscape(`{"cost":{"gt":1}}`), nil, e.repToken, 422, "", "filter.cost"},
		{"preview", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "forecast"}, e.AdminToken, 200, `[[4,1200,360]]`, ""},
		{"preview rep scope", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "kpi", "measures": []any{map[string]string{"agg": "count"}}}, e.repToken, 200, `[[2]]`, ""},
		{"preview unknown key", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "pivot", "dimension": []any{}}, e.AdminToken, 422, "", "dimension"},
		{"preview unknown field", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "pivot", "dimensions": []any{map[string]string{"field": "nope"}}}, e.AdminToken, 422, "", "dimensions[0].field"},
		{"preview hidden field", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "pivot", "dimensions": []any{map[string]string{"field": "cost"}}}, e.repToken, 422, "", "dimensions[0].field"},
		{"preview no entity", "POST", base + "preview", map[string]any{"kind": "pivot"}, e.AdminToken, 422, "", "entity"},
		{"preview unknown entity", "POST", base + "preview", map[string]any{"entity": "nope", "kind": "pivot"}, e.AdminToken, 422, "", "entity"},
		{"preview no role", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "pivot"}, e.nobody, 404, "", ""},
		{"range to before from", "GET", base + "by-channel/data?from=2026-03-31&to=2026-03-05", nil, e.AdminToken, 422, "", "to"},
		{"range of one day", "GET", base + "by-channel/data?from=2026-03-12&to=2026-03-12", nil, e.AdminToken, 200, `[["web",1,500]]`, ""},
		{"preview negative days", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "stagnation", "params": map[string]any{"days": -3}}, e.AdminToken, 422, "", "params.days"},
		{"preview negative hours", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "penetration", "params": map[string]any{"from_stage": "new", "to_stage": "won", "hours": -1}}, e.AdminToken, 422, "", "params.hours"},
		{"preview duplicate dimension", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "pivot", "dimensions": []any{map[string]string{"field": "channel"}, map[string]string{"field": "channel"}}}, e.AdminToken, 422, "", "dimensions[1]"},
		{"preview too many measures", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "pivot", "measures": manyMeasures(2000)}, e.AdminToken, 422, "", "measures"},
		{"preview SQL-ish field", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "pivot", "dimensions": []any{map[string]string{"field": "name'); DROP TABLE records;--"}}}, e.AdminToken, 422, "", "dimensions[0].field"},
		{"preview SQL-ish value", "POST", base + "preview", map[string]any{"entity": "lead", "kind": "kpi", "filters": map[string]any{"name": map[string]string{"contains": "'; DROP TABLE records;--"}}}, e.AdminToken, 200, `[[0]]`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do(tc.method, tc.path, tc.body, tc.token)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.rows != "" {
				if got := rowsOf(t, r); got != tc.rows {
					t.Errorf("rows %s, want %s", got, tc.rows)
				}
			}
			if tc.errKey != "" {
				var pb struct {
					Errors []struct{ Field, Code string } `json:"errors"`
				}
				r.Decode(t, &pb)
				if len(pb.Errors) == 0 || pb.Errors[0].Field != tc.errKey {
					t.Errorf("errors %s, want field %s", r.Body, tc.errKey)
				}
			}
			if tc.status >= 400 && !strings.HasPrefix(r.Header["Content-Type"], "application/problem+json") {
				t.Errorf("content type %q", r.Header["Content-Type"])
			}
		})
	}
}

func manyMeasures(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]string{"agg": "sum", "field": "amount", "key": fmt.Sprintf("m%d", i)}
	}
	return out
}

// TestPreviewLimits: a wrong content type is 415, an oversized definition 413, both problem+json.
func TestPreviewLimits(t *testing.T) {
	e := newReportsEnv(t)
	path := "/api/v1/apps/crm/reports/preview"
	big := `{"entity":"lead","kind":"pivot","label":{"en":"` + strings.Repeat("x", 300<<10) + `"}}`
	for _, tc := range []struct {
		name, ctype, body string
		status            int
	}{
		{"json", "application/json", `{"entity":"lead","kind":"kpi"}`, 200},
		{"text", "text/plain", `{"entity":"lead","kind":"kpi"}`, 415},
		{"form", "application/x-www-form-urlencoded", `entity=lead`, 415},
		{"oversized", "application/json", big, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do("POST", path, tc.body, e.AdminToken, "Content-Type: "+tc.ctype)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.Status, tc.status, r.Body)
			}
			if tc.status >= 400 && !strings.HasPrefix(r.Header["Content-Type"], "application/problem+json") {
				t.Errorf("content type %q", r.Header["Content-Type"])
			}
		})
	}
}

// TestDashboardData: each widget carries its data, or its own error (hidden field for the rep).
func TestDashboardData(t *testing.T) {
	e := newReportsEnv(t)
	var body struct {
		Widgets []struct {
			ID    string          `json:"id"`
			Data  *resultBody     `json:"data"`
			Error json.RawMessage `json:"error"`
		} `json:"widgets"`
	}
	e.Must(200, "GET", "/api/v1/apps/crm/dashboards/sales/data", nil, e.repToken).Decode(t, &body)
	if len(body.Widgets) != 3 || body.Widgets[0].Data == nil || len(body.Widgets[0].Data.Rows) != 2 || body.Widgets[1].Data == nil {
		t.Fatalf("widgets %+v", body.Widgets)
	}
	if body.Widgets[2].Data != nil || !strings.Contains(string(body.Widgets[2].Error), `"status":422`) {
		t.Errorf("hidden-field widget: %+v %s", body.Widgets[2].Data, body.Widgets[2].Error)
	}
	r := e.Must(200, "GET", "/api/v1/apps/crm/dashboards/sales/data?filter="+url.QueryEscape(`{"channel":"web"}`), nil, e.AdminToken)
	r.Decode(t, &body)
	if got, _ := json.Marshal(body.Widgets[0].Data.Rows); string(got) != `[["web",3,800]]` {
		t.Errorf("shared filter rows %s", got)
	}
	// A shared condition on a field the widget's entity lacks is left out for that widget and
	// named; the dashboard's own filters are served with the widgets.
	var narrowed struct {
		Filters json.RawMessage `json:"filters"`
		Widgets []struct {
			Data    *resultBody     `json:"data"`
			Error   json.RawMessage `json:"error"`
			Ignored []string        `json:"ignored_filters"`
		} `json:"widgets"`
	}
	e.Must(200, "GET", "/api/v1/apps/crm/dashboards/sales/data?filter="+url.QueryEscape(`{"channel":"web","office":"shanghai"}`), nil, e.AdminToken).Decode(t, &narrowed)
	if string(narrowed.Filters) != `{"amount":{"gte":0}}` {
		t.Errorf("dashboard filters %s", narrowed.Filters)
	}
	if w := narrowed.Widgets[0]; w.Data == nil || fmt.Sprint(w.Ignored) != "[office]" {
		t.Errorf("narrowed widget: %+v %s", w, w.Error)
	} else if got, _ := json.Marshal(w.Data.Rows); string(got) != `[["web",3,800]]` {
		t.Errorf("narrowed rows %s", got)
	}
	e.Must(404, "GET", "/api/v1/apps/crm/dashboards/nope/data", nil, e.AdminToken)
	e.Must(404, "GET", "/api/v1/apps/crm/dashboards/sales/data", nil, e.nobody)
}

// TestExports: CSV and XLSX of a report and of a record list, row scope applied, audited.
func TestExports(t *testing.T) {
	e := newReportsEnv(t)
	auditRows := func(target string) (n int, rows float64) {
		var after []byte
		err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) OVER (), after FROM audit_log WHERE action = 'export' AND target = $1 ORDER BY id DESC LIMIT 1`, target).Scan(&n, &after)
		if err != nil {
			t.Fatalf("audit row for %s: %v", target, err)
		}
		var a struct{ Rows float64 }
		_ = json.Unmarshal(after, &a)
		return n, a.Rows
	}
	r := e.Must(200, "GET", "/api/v1/apps/crm/reports/by-channel/export?format=csv", nil, e.AdminToken)
	if !bytes.HasPrefix(r.Body, []byte("\ufeff")) || !strings.Contains(string(r.Body), "sem,2,700\n") || !strings.Contains(r.Header["Content-Disposition"], ".csv") {
		t.Errorf("csv %q %v", r.Body, r.Header)
	}
	if n, rows := auditRows("crm:reports/by-channel"); n != 1 || rows != 2 {
		t.Errorf("audit: %d rows %v", n, rows)
	}
	r = e.Must(200, "GET", "/api/v1/apps/crm/reports/funnel/export?format=xlsx", nil, e.repToken)
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("xlsx: %v", err)
	}
	rows, _ := f.GetRows("Sheet1")
	if len(rows) != 4 || rows[1][0] != "new" || rows[1][2] != "2" {
		t.Errorf("xlsx rows %v", rows)
	}
	// Record list export: the rep gets only own records and never the hidden cost column.
	r = e.Must(200, "GET", "/api/v1/apps/crm/entities/lead/export?format=csv&filter="+url.QueryEscape(`{"channel":"web"}`), nil, e.repToken)
	lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "r2") || strings.Contains(lines[0], "cost") {
		t.Errorf("entity csv %q", r.Body)
	}
	if n, rows := auditRows("crm:entities/lead"); n != 1 || rows != 1 {
		t.Errorf("entity audit: %d rows %v", n, rows)
	}
	r = e.Must(200, "GET", "/api/v1/apps/crm/entities/lead/export?format=xlsx", nil, e.AdminToken)
	f, err = excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("xlsx: %v", err)
	}
	rows, _ = f.GetRows("Sheet1")
	if len(rows) != 6 {
		t.Errorf("admin xlsx has %d rows, want header + 5", len(rows))
	}
	for _, tc := range []struct {
		path, token string
		status      int
	}{
		{"/api/v1/apps/crm/entities/lead/export?format=pdf", e.AdminToken, 422},
		{"/api/v1/apps/crm/entities/nope/export", e.AdminToken, 404},
		{"/api/v1/apps/crm/entities/lead/export", e.nobody, 404},
		{"/api/v1/apps/crm/reports/by-channel/export", e.nobody, 404},
		{"/api/v1/apps/crm/reports/cost/export", e.repToken, 422},
		{"/api/v1/apps/crm/entities/lead/export?filter=" + url.QueryEscape(`{"cost":1}`), e.repToken, 422},
	} {
		if r := e.Do("GET", tc.path, nil, tc.token); r.Status != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.path, r.Status, tc.status, r.Body)
		}
	}
	// Text that a spreadsheet would run as a formula is written as text; the audit row says
	// what was exported.
	for _, name := range []string{"=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)"} {
		e.record(t, e.AdminID, name, "sem", 10, time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC), "new")
	}
	r = e.Must(200, "GET", "/api/v1/apps/crm/entities/lead/export?format=csv&sort=name&filter="+url.QueryEscape(`{"amount":10}`), nil, e.AdminToken)
	body := string(r.Body)
	for _, want := range []string{`,'+1,`, `,'-2+3,`, `,"'=HYPERLINK(""http://x"")",`, `,'@SUM(A1),`, `,10,`} {
		if !strings.Contains(body, want) {
			t.Errorf("csv lacks %s:\n%s", want, body)
		}
	}
	var after string
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT after::text FROM audit_log WHERE action = 'export' ORDER BY id DESC LIMIT 1`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(after, `"filter": {"amount": 10}`) || !strings.Contains(after, `"sort": ["name"]`) || !strings.Contains(after, `"rows": 4`) {
		t.Errorf("audit after %s", after)
	}
}
