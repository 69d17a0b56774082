package api_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/server/apitest"
)

// TestNoExistenceLeaks is the attack table of "no existence leaks": a user of another app asks
// for an app, its entities, records, forms, flows, runs, reports and definitions. Every answer
// is the 404 a missing name or id gets, byte for byte once the names in the path are aligned;
// people search matches names only for non-admins.
func TestNoExistenceLeaks(t *testing.T) {
	e := apitest.New(t)
	adm := e.AdminToken
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "hr", "name": "HR"}, adm)
	e.Must(201, "PUT", "/api/v1/apps/hr/entities/staff", map[string]any{"slug": "staff", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true}}}, adm)
	e.Must(200, "POST", "/api/v1/apps/hr/entities/staff/publish", nil, adm)
	e.Must(201, "PUT", "/api/v1/apps/hr/forms/join", map[string]any{"slug": "join", "entity": "staff", "layout": []any{map[string]any{"field": "name"}}}, adm)
	e.Must(200, "POST", "/api/v1/apps/hr/forms/join/publish", nil, adm)
	e.Must(201, "PUT", "/api/v1/apps/hr/reports/heads", map[string]any{"slug": "heads", "entity": "staff", "kind": "kpi", "measures": []any{map[string]any{"agg": "count"}}}, adm)
	e.Must(200, "POST", "/api/v1/apps/hr/reports/heads/publish", nil, adm)
	e.Must(201, "PUT", "/api/v1/apps/hr/flows/boom", map[string]any{"slug": "boom", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "fail", "type": "script", "params": map[string]any{"code": "throw new Error('x')"}}}}, adm)
	e.Must(200, "POST", "/api/v1/apps/hr/flows/boom/publish", nil, adm)
	staff := e.Must(201, "POST", "/api/v1/apps/hr/entities/staff/records", map[string]any{"name": "王五"}, adm).JSON()["id"].(string)
	run := e.Must(202, "POST", "/api/v1/apps/hr/flows/boom/run", nil, adm).JSON()["run_id"].(string)
	if r := waitRun(t, e, run); r["status"] != "failed" {
		t.Fatalf("run %v", r)
	}

	// The attacker holds a role in another app (sales), none in hr.
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, adm)
	rep, repTok := e.CreateUser("rep@example.com", "Rep", nil)
	e.Must(200, "PUT", "/api/v1/admin/users/"+rep.String()+"/roles", `{"roles":[{"app":"sales","role":"sales_rep"}]}`, adm)

	missing := uuid.NewString()
	tests := []struct {
		name, method, real, fake string
		body                     any
	}{
		{"app", "GET", "/api/v1/apps/hr", "/api/v1/apps/nosuch", nil},
		{"entity definition", "GET", "/api/v1/apps/hr/entities/staff", "/api/v1/apps/nosuch/entities/staff", nil},
		{"form definition", "GET", "/api/v1/apps/hr/forms/join", "/api/v1/apps/nosuch/forms/join", nil},
		{"flow definition", "GET", "/api/v1/apps/hr/flows/boom", "/api/v1/apps/nosuch/flows/boom", nil},
		{"report definition", "GET", "/api/v1/apps/hr/reports/heads", "/api/v1/apps/nosuch/reports/heads", nil},
		{"definition versions", "GET", "/api/v1/apps/hr/entities/staff/versions", "/api/v1/apps/nosuch/entities/staff/versions", nil},
		{"records list", "GET", "/api/v1/apps/hr/entities/staff/records", "/api/v1/apps/nosuch/entities/staff/records", nil},
		{"records of a missing entity", "GET", "/api/v1/apps/hr/entities/nosuch/records", "/api/v1/apps/nosuch/entities/nosuch/records", nil},
		{"record create", "POST", "/api/v1/apps/hr/entities/staff/records", "/api/v1/apps/nosuch/entities/staff/records", map[string]any{"name": "x"}},
		{"record", "GET", "/api/v1/apps/hr/entities/staff/records/" + staff, "/api/v1/apps/nosuch/entities/staff/records/" + missing, nil},
		{"record history", "GET", "/api/v1/apps/hr/entities/staff/records/" + staff + "/history", "/api/v1/apps/nosuch/entities/staff/records/" + missing + "/history", nil},
		{"record update", "PATCH", "/api/v1/apps/hr/entities/staff/records/" + staff, "/api/v1/apps/nosuch/entities/staff/records/" + missing, map[string]any{"name": "y"}},
		{"form submit", "POST", "/api/v1/apps/hr/forms/join/submit", "/api/v1/apps/nosuch/forms/join/submit", map[string]any{"name": "x"}},
		{"flow run", "POST", "/api/v1/apps/hr/flows/boom/run", "/api/v1/apps/nosuch/flows/boom/run", nil},
		{"flow runs", "GET", "/api/v1/apps/hr/flows/boom/runs", "/api/v1/apps/nosuch/flows/boom/runs", nil},
		{"run", "GET", "/api/v1/runs/" + run, "/api/v1/runs/" + missing, nil},
		{"run retry", "POST", "/api/v1/runs/" + run + "/retry", "/api/v1/runs/" + missing + "/retry", nil},
		{"report data", "GET", "/api/v1/apps/hr/reports/heads/data", "/api/v1/apps/nosuch/reports/heads/data", nil},
		{"people", "GET", "/api/v1/apps/hr/people", "/api/v1/apps/nosuch/people", nil},
	}
	align := func(b []byte) string {
		s := string(b)
		for _, x := range []string{"/apps/hr", "/apps/nosuch"} {
			s = strings.ReplaceAll(s, x, "/apps/APP")
		}
		for _, x := range []string{"app hr ", "app nosuch ", "应用 hr ", "应用 nosuch "} {
			s = strings.ReplaceAll(s, x, "app APP ")
		}
		for _, x := range []string{staff, run, missing} {
			s = strings.ReplaceAll(s, x, "ID")
		}
		return s
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			real := e.Do(tc.method, tc.real, tc.body, repTok)
			fake := e.Do(tc.method, tc.fake, tc.body, repTok)
			if real.Status != 404 || fake.Status != 404 {
				t.Fatalf("%s %s: %d %s; missing: %d %s (want 404 for both)", tc.method, tc.real, real.Status, real.Body, fake.Status, fake.Body)
			}
			if align(real.Body) != align(fake.Body) {
				t.Fatalf("the answers differ:\n%s\n%s", real.Body, fake.Body)
			}
			if d, _ := real.JSON()["detail"].(string); strings.Contains(d, "boom") || strings.Contains(d, "staff") {
				t.Fatalf("the answer names what it hides: %s", real.Body)
			}
		})
	}
	// nothing was written through the routes above
	var n int
	if err := e.DB.Pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM records WHERE entity = 'staff') + (SELECT count(*) FROM flow_runs WHERE flow = 'boom')`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("records + runs = %d (%v), want 2", n, err)
	}
}

// TestPeopleSearchIsNoEmailOracle: a rep finds colleagues by name, never by (part of) an e-mail
// address, and answers carry no addresses; a platform admin may search addresses.
func TestPeopleSearchIsNoEmailOracle(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	rep, repTok := e.CreateUser("rep@example.com", "Rep", nil)
	vip, _ := e.CreateUser("ceo.secret@bigcorp.example", "赵六", nil)
	for _, u := range []uuid.UUID{rep, vip} {
		e.Must(200, "PUT", "/api/v1/admin/users/"+u.String()+"/roles", `{"roles":[{"app":"sales","role":"sales_rep"}]}`, e.AdminToken)
	}
	tests := []struct {
		who, token, q string
		want          string
	}{
		{"rep by e-mail", repTok, "ceo.secret", "[]"},
		{"rep by domain", repTok, "bigcorp", "[]"},
		{"rep by full address", repTok, "ceo.secret@bigcorp.example", "[]"},
		{"rep by name", repTok, "赵", "[赵六]"},
		{"admin by e-mail", e.AdminToken, "ceo.secret", "[赵六]"},
	}
	for _, tc := range tests {
		t.Run(tc.who, func(t *testing.T) {
			r := e.Must(200, "GET", "/api/v1/apps/sales/people?q="+tc.q, nil, tc.token)
			var b struct{ Items []struct{ Name string } }
			r.Decode(t, &b)
			var names []string
			for _, x := range b.Items {
				names = append(names, x.Name)
			}
			if got := fmt.Sprint(names); got != tc.want {
				t.Fatalf("people?q=%s: %s, want %s", tc.q, got, tc.want)
			}
			if bytes.Contains(r.Body, []byte("@")) {
				t.Fatalf("the directory answers e-mail addresses: %s", r.Body)
			}
		})
	}
}
