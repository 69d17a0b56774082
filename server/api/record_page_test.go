package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// recordPageEnv: the sales template with two reps (own scope), a legal user (reads deals and
// quotes, may not update deals, cannot read follow-ups) and a marketing user (cannot read deals).
type recordPageEnv struct {
	*apitest.Env
	rep, other, legal, marketing string
}

func newRecordPageEnv(t *testing.T) *recordPageEnv {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	env := &recordPageEnv{Env: e}
	for _, u := range []struct {
		email, role string
		tok         *string
	}{{"rep@example.com", "sales_rep", &env.rep}, {"other@example.com", "sales_rep", &env.other}, {"legal@example.com", "legal", &env.legal}, {"mkt@example.com", "marketing", &env.marketing}} {
		id, tok := e.CreateUser(u.email, u.email, nil)
		e.Must(200, "PUT", "/api/v1/admin/users/"+id.String()+"/roles", fmt.Sprintf(`{"roles":[{"app":"sales","role":%q}]}`, u.role), e.AdminToken)
		*u.tok = tok
	}
	return env
}

const salesAPI = "/api/v1/apps/sales/entities/"

type relatedPanel struct {
	Entity, Field, Direction, TitleField string
	Count                                int64
	Filter                               map[string]any
}

func (p *relatedPanel) key() string { return p.Direction + ":" + p.Entity + "." + p.Field }

// TestRecordRelatedPanels: a deal's page lists its own relations (account, lead) and the
// relations of other entities pointing at it (quotes, contracts, follow-ups), each counting only
// records the viewer may read, and listing nothing of an entity they may not read; the panel's
// filter on the list API yields exactly the counted records; a record outside the viewer's scope
// answers 404 like a missing one.
func TestRecordRelatedPanels(t *testing.T) {
	e := newRecordPageEnv(t)
	acc := e.Must(201, "POST", salesAPI+"account/records", `{"name":"甲公司"}`, e.rep).JSON()["id"].(string)
	deal := e.Must(201, "POST", salesAPI+"deal/records", fmt.Sprintf(`{"name":"大单","account":%q}`, acc), e.rep).JSON()["id"].(string)
	otherDeal := e.Must(201, "POST", salesAPI+"deal/records", `{"name":"小单"}`, e.rep).JSON()["id"].(string)
	prod := e.Must(201, "POST", salesAPI+"product/records", `{"name":"软件许可","price":100}`, e.AdminToken).JSON()["id"].(string)
	quote := func(deal, token string) string {
		return e.Must(201, "POST", salesAPI+"quote/records", fmt.Sprintf(`{"deal":%q,"items":[{"product":%q,"quantity":1}]}`, deal, prod), token).JSON()["id"].(string)
	}
	myQuote := quote(deal, e.rep)
	e.Must(201, "POST", salesAPI+"followup/records", fmt.Sprintf(`{"deal":%q,"call_at":"2026-12-01T08:00:00Z","need":"预算","next_step":"演示"}`, deal), e.rep)
	// a quote of the admin on the same deal: the rep (own scope) may not read it
	quote(deal, e.AdminToken)
	e.Must(201, "POST", salesAPI+"contract/records", fmt.Sprintf(`{"deal":%q,"amount":100}`, deal), e.AdminToken)
	// a quote of another deal
	quote(otherDeal, e.rep)

	related := func(token string, want int) map[string]relatedPanel {
		t.Helper()
		r := e.Must(want, "GET", salesAPI+"deal/records/"+deal+"/related", nil, token)
		if want != 200 {
			return nil
		}
		var body struct {
			Items []struct {
				Entity, Field, Direction string
				TitleField               string `json:"title_field"`
				Count                    int64
				Filter                   map[string]any
			}
		}
		r.Decode(t, &body)
		out := map[string]relatedPanel{}
		for _, it := range body.Items {
			p := relatedPanel{Entity: it.Entity, Field: it.Field, Direction: it.Direction, TitleField: it.TitleField, Count: it.Count, Filter: it.Filter}
			out[p.key()] = p
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		token  string
		status int
		want   map[string]int64 // panel -> count; panels not listed must be absent
	}{
		{"rep sees their own related records only", e.rep, 200, map[string]int64{"out:account.account": 1, "out:lead.lead": 0, "in:quote.deal": 1, "in:followup.deal": 1}},
		{"admin sees every related record", e.AdminToken, 200, map[string]int64{"out:account.account": 1, "out:lead.lead": 0, "in:quote.deal": 2, "in:followup.deal": 1, "in:contract.deal": 1}},
		{"legal reads quotes and contracts of every deal, not accounts or follow-ups", e.legal, 200, map[string]int64{"in:quote.deal": 2, "in:contract.deal": 1}},
		{"another rep cannot see the deal", e.other, 404, nil},
		{"marketing may not read deals", e.marketing, 403, nil},
		{"anonymous", "", 401, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := related(tc.token, tc.status)
			if tc.status != 200 {
				return
			}
			for k, n := range tc.want {
				if p, ok := got[k]; !ok || p.Count != n {
					t.Errorf("panel %s: %+v (present %v), want count %d; all: %+v", k, p, ok, n, got)
				}
			}
			for k := range got {
				if _, ok := tc.want[k]; !ok && !(k == "in:contract.quote" || k == "in:deal.lead") {
					t.Errorf("unexpected panel %s", k)
				}
			}
		})
	}
	// the rep's quote panel filter, on the list API, lists exactly their quote
	p := related(e.rep, 200)["in:quote.deal"]
	rawb, _ := json.Marshal(p.Filter)
	raw := string(rawb)
	list := e.Must(200, "GET", salesAPI+"quote/records?filter="+url.QueryEscape(raw), nil, e.rep).JSON()
	items, _ := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != myQuote {
		t.Fatalf("quote panel filter %s lists %v, want only %s", raw, items, myQuote)
	}
	// a missing record is a 404 like one outside the scope
	missing := e.Do("GET", salesAPI+"deal/records/00000000-0000-0000-0000-000000000001/related", nil, e.rep)
	hidden := e.Do("GET", salesAPI+"deal/records/"+deal+"/related", nil, e.other)
	if missing.Status != 404 || hidden.Status != 404 || strings.ReplaceAll(string(missing.Body), "00000000-0000-0000-0000-000000000001", deal) != string(hidden.Body) {
		t.Fatalf("missing: %d %s\nout of scope: %d %s", missing.Status, missing.Body, hidden.Status, hidden.Body)
	}
}

// TestRecordStageChecks: the stage bar learns, before any move, which stages the record's gates
// let it move to, with the gate's message in the caller's language; the check writes nothing and
// agrees with the refusal of the real move; only readers of the record get an answer.
func TestRecordStageChecks(t *testing.T) {
	e := newRecordPageEnv(t)
	deal := e.Must(201, "POST", salesAPI+"deal/records", `{"name":"大单","stage":"proposal"}`, e.rep).JSON()["id"].(string)
	// a won deal: moving back to contract checks only that transition's gate
	won := e.Must(201, "POST", salesAPI+"deal/records", `{"name":"成单","stage":"won"}`, e.rep).JSON()["id"].(string)
	type check struct {
		Stage   string
		Current bool
		Allowed bool
		Message string
	}
	stages := func(deal, token, lang string, want int) (bool, map[string]check) {
		t.Helper()
		r := e.Must(want, "GET", salesAPI+"deal/records/"+deal+"/stages?lang="+lang, nil, token)
		if want != 200 {
			return false, nil
		}
		var body struct {
			Field    string
			Editable bool
			Stages   []check
		}
		r.Decode(t, &body)
		if body.Field != "stage" || len(body.Stages) != 8 {
			t.Fatalf("stages: %s", r.Body)
		}
		out := map[string]check{}
		for _, c := range body.Stages {
			out[c.Stage] = c
		}
		return body.Editable, out
	}
	for _, tc := range []struct {
		name, deal, token, lang string
		editable                bool
		want                    map[string]check
	}{
		{"rep: the next stage's gate", deal, e.rep, "en", true, map[string]check{
			"proposal":    {Stage: "proposal", Current: true, Allowed: true},
			"first_call":  {Stage: "first_call", Allowed: true},
			"negotiation": {Stage: "negotiation", Message: "Upload the formal quotation bearing the customer's name"},
			// a forward skip passes the gates of every stage between
			"contract": {Stage: "contract", Message: "Upload the formal quotation bearing the customer's name"},
			"won":      {Stage: "won", Allowed: true},
		}},
		{"rep in English", won, e.rep, "en", true, map[string]check{
			"won":      {Stage: "won", Current: true, Allowed: true},
			"contract": {Stage: "contract", Message: "Legal review and customer qualification documents are required before the contract stage"},
		}},
		{"rep in Chinese", won, e.rep, "zh-CN", true, map[string]check{
			"contract": {Stage: "contract", Message: "进入合同待签署前需完成法务审核并上传客户资质文件"},
		}},
		{"the next stage's gate in Chinese", deal, e.rep, "zh-CN", true, map[string]check{
			"negotiation": {Stage: "negotiation", Message: "请上传带客户名称的正式报价单"},
		}},
		{"legal reads but may not move", deal, e.legal, "en", false, map[string]check{
			"negotiation": {Stage: "negotiation", Message: "Upload the formal quotation bearing the customer's name"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			editable, got := stages(tc.deal, tc.token, tc.lang, 200)
			if editable != tc.editable {
				t.Errorf("editable %v, want %v", editable, tc.editable)
			}
			for k, w := range tc.want {
				if got[k] != w {
					t.Errorf("stage %s: %+v, want %+v", k, got[k], w)
				}
			}
		})
	}
	for _, tc := range []struct {
		name, token string
		status      int
	}{{"another rep", e.other, 404}, {"marketing", e.marketing, 403}, {"anonymous", "", 401}} {
		t.Run(tc.name, func(t *testing.T) { stages(deal, tc.token, "en", tc.status) })
	}
	// nothing was written; the real move is refused with the same gate
	rec := e.Must(200, "GET", salesAPI+"deal/records/"+deal, nil, e.rep).JSON()
	if rec["version"].(float64) != 1 || rec["data"].(map[string]any)["stage"] != "proposal" {
		t.Fatalf("the check changed the record: %v", rec)
	}
	refused := e.Must(422, "PATCH", salesAPI+"deal/records/"+deal, `{"stage":"negotiation"}`, e.rep)
	if !strings.Contains(string(refused.Body), "请上传带客户名称的正式报价单") {
		t.Fatalf("move refused with %s", refused.Body)
	}
	// an entity without stages has no stage bar
	acc := e.Must(201, "POST", salesAPI+"account/records", `{"name":"甲"}`, e.rep).JSON()["id"].(string)
	e.Must(404, "GET", salesAPI+"account/records/"+acc+"/stages", nil, e.rep)
}

// TestFilePreviewInline: ?inline=1 serves images and PDFs inline (a PDF may be framed by the app
// itself only), any other type stays a download; readers only, like the download.
func TestFilePreviewInline(t *testing.T) {
	e := newRecordPageEnv(t)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	ids := map[string]string{}
	for name, content := range map[string][]byte{"photo.png": png, "报价单.pdf": []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"), "notes.csv": []byte("a,b\n1,2\n")} {
		body, ct := multipartFile(t, name, content)
		ids[name] = e.Must(201, "POST", "/api/v1/files", body, e.rep, ct).JSON()["id"].(string)
	}
	for _, tc := range []struct {
		name, file, query, token string
		status                   int
		disposition, frame       string
	}{
		{"image inline", "photo.png", "?inline=1", e.rep, 200, "inline", ""},
		{"image download", "photo.png", "", e.rep, 200, "attachment", "'none'"},
		{"pdf inline, framed by the app only", "报价单.pdf", "?inline=1", e.rep, 200, "inline", "frame-ancestors 'self'"},
		{"csv is always a download", "notes.csv", "?inline=1", e.rep, 200, "attachment", "'none'"},
		{"another user cannot preview", "photo.png", "?inline=1", e.other, 404, "", ""},
		{"anonymous", "photo.png", "?inline=1", "", 401, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Must(tc.status, "GET", "/api/v1/files/"+ids[tc.file]+tc.query, nil, tc.token)
			if tc.status != 200 {
				return
			}
			if cd := r.Header["Content-Disposition"]; !strings.HasPrefix(cd, tc.disposition+";") {
				t.Errorf("Content-Disposition %q, want %s", cd, tc.disposition)
			}
			if csp := r.Header["Content-Security-Policy"]; !strings.Contains(csp, tc.frame) {
				t.Errorf("Content-Security-Policy %q, want it to contain %q", csp, tc.frame)
			}
			if r.Header["X-Content-Type-Options"] != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", r.Header["X-Content-Type-Options"])
			}
		})
	}
}
