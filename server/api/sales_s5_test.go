package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/server/apitest"
)

// s5 holds the people of the S5 walk and their tokens.
type s5 struct {
	t      *testing.T
	e      *apitest.Env
	tokens map[string]string
}

func (s *s5) role(who, role string, team *string) {
	s.t.Helper()
	var teamID *string
	if team != nil {
		teamID = team
	}
	body := map[string]any{"email": who + "@s5.example.com", "password": "Pass-" + who + "-2026!", "name": who}
	if teamID != nil {
		body["team_id"] = *teamID
	}
	id := s.e.Must(201, "POST", "/api/v1/admin/users", body, s.e.AdminToken).JSON()["id"].(string)
	s.e.Must(200, "PUT", "/api/v1/admin/users/"+id+"/roles", fmt.Sprintf(`{"roles":[{"app":"sales","role":%q}]}`, role), s.e.AdminToken)
	s.tokens[who] = s.e.Login(who+"@s5.example.com", "Pass-"+who+"-2026!")
}

// openTask waits for who's single open task whose title contains want and answers its id.
func (s *s5) openTask(who, want string) string {
	s.t.Helper()
	var id string
	eventually(s.t, 60*time.Second, func() string {
		var body struct {
			Items []struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"items"`
		}
		s.e.Must(200, "GET", "/api/v1/tasks?status=open", nil, s.tokens[who]).Decode(s.t, &body)
		for _, it := range body.Items {
			if strings.Contains(it.Title, want) {
				id = it.ID
				return ""
			}
		}
		return fmt.Sprintf("%s has no open task %q: %+v", who, want, body.Items)
	})
	return id
}

func (s *s5) record(entity, id string) map[string]any {
	s.t.Helper()
	return s.e.Must(200, "GET", "/api/v1/apps/sales/entities/"+entity+"/records/"+id, nil, s.e.AdminToken).JSON()["data"].(map[string]any)
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// TestSalesS5QuoteToHandover walks S5 through the HTTP API: a rep quotes two products with the
// product picker's price list (line items), a discount over the product's limit goes to the
// sales manager, the customer accepts, a Chinese contract PDF is generated from the template,
// the > 500k contract passes director -> legal -> finance, the deal is won and after-sales
// gets the hand-over task. Rows are validated per row, formulas hold on the API, import and
// flow write paths, and revenue by product is reported inside each reader's scope.
func TestSalesS5QuoteToHandover(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	s := &s5{t: t, e: e, tokens: map[string]string{}}
	s.role("manager", "sales_manager", nil)
	var mgr struct {
		Items []struct{ ID, Email string } `json:"items"`
	}
	e.Must(200, "GET", "/api/v1/admin/users", nil, e.AdminToken).Decode(t, &mgr)
	var mgrID string
	for _, u := range mgr.Items {
		if u.Email == "manager@s5.example.com" {
			mgrID = u.ID
		}
	}
	team := e.Must(201, "POST", "/api/v1/admin/teams", map[string]any{"name": "华东销售", "manager_id": mgrID}, e.AdminToken).JSON()["id"].(string)
	e.Must(200, "PATCH", "/api/v1/admin/users/"+mgrID, map[string]any{"team_id": team}, e.AdminToken)
	s.role("rep", "sales_rep", &team)
	s.role("rep2", "sales_rep", nil)
	for _, r := range []string{"sales_director", "legal", "finance", "after_sales"} {
		s.role(r, r, nil)
	}
	rep := s.tokens["rep"]

	// the price list (admin): the rep may give 10% on licences and 5% on services
	product := func(body string) string {
		return e.Must(201, "POST", "/api/v1/apps/sales/entities/product/records", body, e.AdminToken).JSON()["id"].(string)
	}
	lic := product(`{"name":"MES 企业版许可证","sku":"MES-EE","price":100000,"cost":30000,"max_discount":10}`)
	svc := product(`{"name":"实施服务","sku":"IMPL","price":50000,"max_discount":5}`)
	deal := e.Must(201, "POST", "/api/v1/apps/sales/entities/deal/records", `{"name":"华东制造 MES 项目","amount":600000}`, rep).JSON()["id"].(string)

	// per-row validation: the error names the row and the column; nothing is written
	bad := []struct{ items, field, code string }{
		{fmt.Sprintf(`[{"product":%q,"quantity":2},{"product":%q,"quantity":0}]`, lic, svc), "items[1].quantity", "too_small"},
		{`[{"product":"6b1f0f9e-9c39-4c55-9a3e-2b6f4f7e0a11"}]`, "items[0].product", "not_found"},
		{fmt.Sprintf(`[{"product":%q,"discount":"a lot"}]`, lic), "items[0].discount", "invalid_type"},
		{`[{"quantity":1}]`, "items[0].product", "required"},
	}
	for _, b := range bad {
		r := e.Must(422, "POST", "/api/v1/apps/sales/entities/quote/records", fmt.Sprintf(`{"deal":%q,"items":%s}`, deal, b.items), rep)
		if !strings.Contains(string(r.Body), fmt.Sprintf(`"field":%q`, b.field)) || !strings.Contains(string(r.Body), b.code) {
			t.Fatalf("items %s: want %s/%s, got %s", b.items, b.field, b.code, r.Body)
		}
	}

	// the quote: the product picker fills the price list's price and limit; 15% on licences is
	// over the 10% limit
	q := e.Must(201, "POST", "/api/v1/apps/sales/entities/quote/records",
		fmt.Sprintf(`{"deal":%q,"items":[{"product":%q,"quantity":5,"discount":15,"max_discount":90},{"product":%q,"quantity":2}]}`, deal, lic, svc), rep).JSON()
	quote := q["id"].(string)
	d := q["data"].(map[string]any)
	rows := d["items"].([]any)
	r0, r1 := rows[0].(map[string]any), rows[1].(map[string]any)
	if num(r0["unit_price"]) != 100000 || num(r0["max_discount"]) != 10 || r0["item_name"] != "MES 企业版许可证" || num(r0["line_total"]) != 425000 || num(r1["line_total"]) != 100000 {
		t.Fatalf("filled rows: %v", rows)
	}
	if num(d["subtotal"]) != 525000 || num(d["tax"]) != 68250 || num(d["total"]) != 593250 || d["over_limit"] != true || num(d["discount"]) != 15 {
		t.Fatalf("quote totals: %v", d)
	}
	// the rep can neither accept it nor mark the discount approved
	r := e.Must(422, "PATCH", "/api/v1/apps/sales/entities/quote/records/"+quote, `{"status":"accepted"}`, rep)
	if !strings.Contains(string(r.Body), "stage_gate") {
		t.Fatalf("accepting an over-limit quote: %s", r.Body)
	}
	e.Must(403, "PATCH", "/api/v1/apps/sales/entities/quote/records/"+quote, fmt.Sprintf(`{"approved_key":%q}`, d["discount_key"]), rep)

	// the discount approval starts by itself and goes to the sales manager
	task := s.openTask("manager", "报价折扣审批")
	e.Must(200, "POST", "/api/v1/tasks/"+task+"/complete", `{"outcome":"approve","comment":"战略客户，同意"}`, s.tokens["manager"])
	eventually(t, 60*time.Second, func() string {
		d := s.record("quote", quote)
		files, _ := d["pdf"].([]any)
		if d["status"] != "approved" || d["approved_key"] != d["discount_key"] || len(files) != 1 {
			return fmt.Sprintf("quote after approval: %v", d)
		}
		return ""
	})

	// the customer accepts: a contract is generated from the template (Chinese, embedded font)
	e.Must(200, "PATCH", "/api/v1/apps/sales/entities/quote/records/"+quote, `{"status":"accepted"}`, rep)
	var contract map[string]any
	eventually(t, 60*time.Second, func() string {
		f := url.QueryEscape(fmt.Sprintf(`{"quote":{"eq":%q}}`, quote))
		var page struct {
			Items []map[string]any `json:"items"`
		}
		e.Must(200, "GET", "/api/v1/apps/sales/entities/contract/records?filter="+f, nil, e.AdminToken).Decode(t, &page)
		if len(page.Items) != 1 {
			return fmt.Sprintf("contracts for the quote: %v", page.Items)
		}
		contract = page.Items[0]
		return ""
	})
	cd := contract["data"].(map[string]any)
	if num(cd["amount"]) != 593250 || cd["deal"] != deal {
		t.Fatalf("contract: %v", cd)
	}
	pdfs, _ := cd["pdf"].([]any)
	if len(pdfs) != 1 {
		t.Fatalf("contract without its PDF: %v", cd)
	}
	file := e.Must(200, "GET", "/api/v1/files/"+pdfs[0].(map[string]any)["id"].(string), nil, e.AdminToken)
	if !bytes.HasPrefix(file.Body, []byte("%PDF")) || !bytes.Contains(file.Body, []byte("FontFile2")) || !strings.Contains(fmt.Sprint(pdfs[0].(map[string]any)["name"]), "销售合同") {
		t.Fatalf("contract PDF: %d bytes, name %v", len(file.Body), pdfs[0])
	}

	// over 500k: director -> legal -> finance, in order
	for _, who := range []string{"sales_director", "legal", "finance"} {
		task := s.openTask(who, "合同审批")
		e.Must(200, "POST", "/api/v1/tasks/"+task+"/complete", `{"outcome":"approve","comment":"ok"}`, s.tokens[who])
	}
	eventually(t, 60*time.Second, func() string {
		if d := s.record("deal", deal); d["stage"] != "won" {
			return fmt.Sprintf("deal after the contract approval: %v", d)
		}
		return ""
	})
	task = s.openTask("after_sales", "售后交接")
	e.Must(200, "POST", "/api/v1/tasks/"+task+"/complete", `{"outcome":"done","comment":"已接收"}`, s.tokens["after_sales"])
	eventually(t, 60*time.Second, func() string {
		if d := s.record("contract", contract["id"].(string)); d["handover_done"] != true {
			return fmt.Sprintf("contract after the hand-over: %v", d)
		}
		return ""
	})

	// revenue by product, inside each reader's scope: finance sees the accepted quote's lines,
	// another rep (no access to the quote) sees none of its lines
	revenue := func(tok string) map[string]float64 {
		var res struct {
			Columns []struct {
				Key     string
				Options map[string]string
			} `json:"columns"`
			Rows [][]any `json:"rows"`
		}
		e.Must(200, "GET", "/api/v1/apps/sales/reports/revenue-by-product/data", nil, tok).Decode(t, &res)
		out := map[string]float64{}
		for _, row := range res.Rows {
			out[fmt.Sprint(row[0])] = num(row[1])
			// the product column names each product (within the reader's scope)
			if id := fmt.Sprint(row[0]); res.Columns[0].Options[id] == "" {
				t.Errorf("revenue by product: product %s has no name: %v", id, res.Columns[0].Options)
			}
		}
		if len(res.Rows) > 0 && res.Columns[0].Options[lic] != "MES 企业版许可证" {
			t.Errorf("revenue by product: the licence is named %q", res.Columns[0].Options[lic])
		}
		return out
	}
	if got := revenue(s.tokens["finance"]); got[lic] != 425000 || got[svc] != 100000 {
		t.Fatalf("revenue by product (finance): %v", got)
	}
	if got := revenue(s.tokens["rep2"]); len(got) != 0 {
		t.Fatalf("revenue by product (another rep): %v", got)
	}
	e.Must(404, "GET", "/api/v1/apps/sales/entities/quote/records/"+quote, nil, s.tokens["rep2"])
	var page struct {
		Items []any `json:"items"`
	}
	e.Must(200, "GET", "/api/v1/apps/sales/entities/quote/records?filter="+url.QueryEscape(fmt.Sprintf(`{"items.product":{"eq":%q}}`, lic)), nil, s.tokens["rep2"]).Decode(t, &page)
	if len(page.Items) != 0 {
		t.Fatalf("another rep filtered the quote by its lines: %v", page.Items)
	}

	// formulas on the other write paths: an import (items as a JSON column) and a flow
	csv := "deal,items\n" + deal + `,"[{""product"":""` + svc + `"",""quantity"":3,""discount"":5}]"` + "\n"
	e.Must(201, "POST", "/api/v1/apps/sales/entities/quote/import", csv, e.AdminToken, "Content-Type: text/csv")
	flow := map[string]any{"slug": "quote-from-flow", "trigger": map[string]any{"type": "manual"}, "nodes": []any{
		map[string]any{"id": "q", "type": "record.create", "params": map[string]any{"entity": "quote", "values": map[string]any{
			"deal": deal, "items": []any{map[string]any{"product": lic, "quantity": 2}}}}}}}
	e.Must(201, "PUT", "/api/v1/apps/sales/flows/quote-from-flow", flow, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/sales/flows/quote-from-flow/publish", nil, e.AdminToken)
	e.Must(202, "POST", "/api/v1/apps/sales/flows/quote-from-flow/run", `{"input":{}}`, e.AdminToken)
	eventually(t, 60*time.Second, func() string {
		var page struct {
			Items []struct {
				Data map[string]any `json:"data"`
			} `json:"items"`
		}
		e.Must(200, "GET", "/api/v1/apps/sales/entities/quote/records?sort=created_at&limit=10", nil, e.AdminToken).Decode(t, &page)
		got := map[float64]bool{}
		for _, it := range page.Items {
			got[num(it.Data["subtotal"])] = true
		}
		// import: 3 x 50,000 x 95% = 142,500; flow: 2 x 100,000 = 200,000
		if len(page.Items) != 3 || !got[142500] || !got[200000] {
			b, _ := json.Marshal(page.Items)
			return "quotes: " + string(b)
		}
		return ""
	})
}
