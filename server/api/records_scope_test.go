package api_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/server/apitest"
)

// TestWriteOutsideScopeOfAVisibleRecord: a role that reads its team's deals but updates and
// deletes only its own. A teammate's deal is visible, so PATCH and DELETE on it answer 403
// out_of_scope (not a 404 that contradicts the GET) and change nothing; a deal of another team
// stays a 404 for every verb.
func TestWriteOutsideScopeOfAVisibleRecord(t *testing.T) {
	e := apitest.New(t)
	adm := e.AdminToken
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, adm)
	e.Must(201, "PUT", "/api/v1/apps/crm/entities/deal", map[string]any{"slug": "deal", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true}}}, adm)
	e.Must(200, "POST", "/api/v1/apps/crm/entities/deal/publish", nil, adm)
	e.Must(201, "POST", "/api/v1/admin/roles", map[string]any{"app": "crm", "name": "mixed", "permissions": []any{
		map[string]any{"resource": "entity:deal", "actions": []string{"read", "create"}, "scope": "team"},
		map[string]any{"resource": "entity:deal", "actions": []string{"update", "delete"}, "scope": "own"}}}, adm)
	teamOf := func(name string) *uuid.UUID {
		id := uuid.MustParse(e.Must(201, "POST", "/api/v1/admin/teams", map[string]any{"name": name}, adm).JSON()["id"].(string))
		return &id
	}
	east, west := teamOf("East"), teamOf("West")
	tokens := map[string]string{}
	for _, u := range []struct {
		name string
		team *uuid.UUID
	}{{"a", east}, {"b", east}, {"c", west}} {
		id, tok := e.CreateUser(u.name+"@example.com", u.name, u.team)
		e.Must(200, "PUT", "/api/v1/admin/users/"+id.String()+"/roles", map[string]any{"roles": []any{map[string]string{"app": "crm", "role": "mixed"}}}, adm)
		tokens[u.name] = tok
	}
	const deals = "/api/v1/apps/crm/entities/deal/records/"
	aDeal := e.Must(201, "POST", deals, map[string]any{"name": "A's deal"}, tokens["a"]).JSON()["id"].(string)
	bDeal := e.Must(201, "POST", deals, map[string]any{"name": "B's deal"}, tokens["b"]).JSON()["id"].(string)

	cases := []struct {
		name, actor, method, id string
		want                    int
		code                    string
	}{
		{"teammate reads", "b", "GET", aDeal, 200, ""},
		{"teammate updates", "b", "PATCH", aDeal, 403, "out_of_scope"},
		{"teammate updates a stale version", "b", "PATCH", aDeal + "?v", 403, "out_of_scope"},
		{"teammate deletes", "b", "DELETE", aDeal, 403, "out_of_scope"},
		{"other team reads", "c", "GET", aDeal, 404, ""},
		{"other team updates", "c", "PATCH", aDeal, 404, ""},
		{"other team deletes", "c", "DELETE", aDeal, 404, ""},
		{"unknown id updates", "b", "PATCH", uuid.NewString(), 404, ""},
		{"owner updates", "b", "PATCH", bDeal, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			path := deals + tc.id
			if tc.method == "PATCH" {
				body = map[string]any{"name": "changed"}
				if len(tc.id) > 36 { // "?v": a stale version in the body
					path = deals + tc.id[:36]
					body = map[string]any{"name": "changed", "version": 99}
				}
			}
			r := e.Do(tc.method, path, body, tokens[tc.actor])
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.code != "" && r.JSON()["code"] != tc.code {
				t.Fatalf("code %v, want %s: %s", r.JSON()["code"], tc.code, r.Body)
			}
			if tc.want == 404 && len(r.Body) > 0 && string(r.Body) != "" {
				if d, _ := r.JSON()["detail"].(string); d != "record not found (记录不存在)" {
					t.Fatalf("a 404 must say only that: %s", r.Body)
				}
			}
		})
	}
	got := e.Must(200, "GET", deals+aDeal, nil, tokens["a"]).JSON()
	if got["data"].(map[string]any)["name"] != "A's deal" || got["version"].(float64) != 1 {
		t.Fatalf("A's deal changed: %v", got)
	}
}

// TestReadOnlyFieldWrites: writing a read-only field with a new value is 403 read_only naming
// the field in errors[] (as a 422 would), and nothing of the request is written; the unchanged
// value passes; a hidden field is unknown (422) and never named as hidden.
func TestReadOnlyFieldWrites(t *testing.T) {
	e := apitest.New(t)
	adm := e.AdminToken
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, adm)
	e.Must(201, "PUT", "/api/v1/apps/crm/entities/deal", map[string]any{"slug": "deal", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true},
		map[string]any{"key": "amount", "type": "number"},
		map[string]any{"key": "cost", "type": "number"}}}, adm)
	e.Must(200, "POST", "/api/v1/apps/crm/entities/deal/publish", nil, adm)
	e.Must(201, "POST", "/api/v1/admin/roles", map[string]any{"app": "crm", "name": "rep", "permissions": []any{
		map[string]any{"resource": "entity:deal", "actions": []string{"read", "create", "update"}, "scope": "own"}},
		"fields": map[string]any{"deal": map[string]any{"hidden": []string{"cost"}, "readonly": []string{"amount"}}}}, adm)
	id, tok := e.CreateUser("rep@example.com", "Rep", nil)
	e.Must(200, "PUT", "/api/v1/admin/users/"+id.String()+"/roles", map[string]any{"roles": []any{map[string]string{"app": "crm", "role": "rep"}}}, adm)
	deal := e.Must(201, "POST", "/api/v1/apps/crm/entities/deal/records", map[string]any{"name": "D"}, tok).JSON()["id"].(string)
	path := "/api/v1/apps/crm/entities/deal/records/" + deal
	e.Must(200, "PATCH", path, map[string]any{"amount": 100, "cost": 7}, adm)

	cases := []struct {
		name   string
		body   map[string]any
		want   int
		code   string
		fields []string
	}{
		{"read-only with a new value", map[string]any{"name": "changed", "amount": 5}, 403, "read_only", []string{"amount"}},
		{"hidden field is unknown", map[string]any{"name": "changed", "cost": 1}, 422, "", []string{"cost"}},
		{"read-only unchanged passes", map[string]any{"amount": 100}, 200, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do("PATCH", path, tc.body, tok)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			m := r.JSON()
			if tc.code != "" && m["code"] != tc.code {
				t.Fatalf("code %v: %s", m["code"], r.Body)
			}
			if tc.fields != nil {
				errs, _ := m["errors"].([]any)
				if len(errs) != len(tc.fields) || errs[0].(map[string]any)["field"] != tc.fields[0] {
					t.Fatalf("errors %s, want fields %v", r.Body, tc.fields)
				}
				if tc.want == 422 && errs[0].(map[string]any)["code"] != "unknown_field" {
					t.Fatalf("a hidden field must look unknown: %s", r.Body)
				}
			}
			got := e.Must(200, "GET", path, nil, tok).JSON()["data"].(map[string]any)
			if got["name"] != "D" || got["amount"] != float64(100) || got["cost"] != nil {
				t.Fatalf("after %s the record reads %v", tc.name, got)
			}
		})
	}
}
