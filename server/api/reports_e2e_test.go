package api_test

import (
	"encoding/json"
	"testing"
)

// TestReportsOverRecordsAPI builds the S7 funnel end to end: entity and report published through
// the definitions API, records created and moved through the records API (which writes the
// history), report data read back as the admin and as a rep who sees only own records.
func TestReportsOverRecordsAPI(t *testing.T) {
	e := newReportsEnv(t) // roles and users; its app "crm" already exists
	tok := e.AdminToken
	ok := func(method, path string, body any) {
		t.Helper()
		if r := e.Do(method, path, body, tok); r.Status/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
	}
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "s7", "name": "S7"}, tok)
	ent := `{"slug":"deal","fields":[{"key":"name","type":"text","required":true},{"key":"amount","type":"money"},
	  {"key":"channel","type":"select","options":["web","sem"]},
	  {"key":"stage","type":"select","options":["lead","opportunity","proposal","won"]}],
	  "stages":{"field":"stage","order":["lead","opportunity","proposal","won"],"terminal":["won"],"probability":{"lead":0.1,"opportunity":0.3,"proposal":0.6,"won":1}},
	  "report_index":["stage","channel"]}`
	ok("PUT", "/api/v1/apps/s7/entities/deal", ent)
	ok("POST", "/api/v1/apps/s7/entities/deal/publish", nil)
	ok("PUT", "/api/v1/apps/s7/reports/funnel", `{"slug":"funnel","entity":"deal","kind":"funnel","dimensions":[{"field":"channel"}]}`)
	ok("POST", "/api/v1/apps/s7/reports/funnel/publish", nil)
	if r := e.Do("PUT", "/api/v1/admin/roles", map[string]any{"app": "s7", "name": "rep", "permissions": []any{
		map[string]any{"resource": "entity:deal", "actions": []string{"read", "create", "update"}, "scope": "own"},
		map[string]any{"resource": "report:*", "actions": []string{"read"}, "scope": "all"},
	}}, tok); r.Status/100 != 2 {
		t.Fatalf("role: %d %s", r.Status, r.Body)
	}
	e.Must(200, "PUT", "/api/v1/admin/users/"+e.repID.String()+"/roles", map[string]any{"roles": []any{map[string]string{"app": "s7", "role": "rep"}}}, tok)

	create := func(token, name, channel string, moves ...string) {
		t.Helper()
		var rec struct {
			ID      string `json:"id"`
			Version int    `json:"version"`
		}
		e.Must(201, "POST", "/api/v1/apps/s7/entities/deal/records", map[string]any{"name": name, "channel": channel, "amount": 1000, "stage": "lead"}, token).Decode(t, &rec)
		for _, st := range moves {
			r := e.Must(200, "PATCH", "/api/v1/apps/s7/entities/deal/records/"+rec.ID, map[string]any{"stage": st}, token)
			r.Decode(t, &rec)
		}
	}
	create(tok, "a", "web", "opportunity", "proposal", "won")
	create(tok, "b", "web", "proposal") // skips opportunity: still counts there
	create(tok, "c", "sem")
	create(e.repToken, "d", "sem", "opportunity")
	create(e.repToken, "e", "web", "opportunity", "lead") // moved back: reached opportunity

	get := func(token string) string {
		t.Helper()
		r := e.Must(200, "GET", "/api/v1/apps/s7/reports/funnel/data", nil, token)
		var b resultBody
		r.Decode(t, &b)
		out, _ := json.Marshal(b.Rows)
		return string(out)
	}
	if got, want := get(tok), `[["sem","lead",1,2,100,100],["sem","opportunity",2,1,50,50],["sem","proposal",3,0,0,0],["sem","won",4,0,null,0],`+
		`["web","lead",1,3,100,100],["web","opportunity",2,3,100,100],["web","proposal",3,2,66.67,66.67],["web","won",4,1,50,33.33]]`; got != want {
		t.Errorf("admin funnel\n got %s\nwant %s", got, want)
	}
	if got, want := get(e.repToken), `[["sem","lead",1,1,100,100],["sem","opportunity",2,1,100,100],["sem","proposal",3,0,0,0],["sem","won",4,0,null,0],`+
		`["web","lead",1,1,100,100],["web","opportunity",2,1,100,100],["web","proposal",3,0,0,0],["web","won",4,0,null,0]]`; got != want {
		t.Errorf("rep funnel\n got %s\nwant %s", got, want)
	}
	// The published entity got its stage-event report index.
	var n int
	if err := e.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_indexes WHERE tablename = 'record_events' AND indexname LIKE 'rpt\_%'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("report indexes: %d %v", n, err)
	}
}
