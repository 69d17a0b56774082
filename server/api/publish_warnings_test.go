package api_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// Publishing a flow whose approval, task or notification names a role without active members
// still publishes, but answers warnings naming the node, the param and the role.
func TestPublishWarnsAboutRolesWithoutMembers(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	for _, role := range []string{"director", "legal"} {
		e.Must(201, "PUT", "/api/v1/admin/roles", map[string]any{"app": "crm", "name": role,
			"permissions": []any{map[string]any{"resource": "entity:lead", "actions": []any{"read"}, "scope": "all"}}}, e.AdminToken)
	}
	u := e.Must(201, "POST", "/api/v1/admin/users", map[string]any{"email": "dir@example.com", "password": "zhangsan#2026"}, e.AdminToken).JSON()
	e.Must(200, "PUT", "/api/v1/admin/users/"+u["id"].(string)+"/roles", map[string]any{"roles": []any{map[string]any{"app": "crm", "role": "director"}}}, e.AdminToken)

	level := func(roles ...any) map[string]any { return map[string]any{"name": "l", "assignees": roles} }
	cases := []struct {
		name  string
		node  map[string]any
		warns []string // "node|field|role"
	}{
		{"staffed role", map[string]any{"id": "a", "type": "approval", "params": map[string]any{"title": "t", "levels": []any{level("role:director")}}}, nil},
		{"empty role in the second level", map[string]any{"id": "a", "type": "approval", "params": map[string]any{"title": "t",
			"levels": []any{level("role:director"), level("role:legal")}}}, []string{"a|nodes[0].params.levels[1].assignees[0]|legal"}},
		{"unknown role in a route", map[string]any{"id": "a", "type": "approval", "params": map[string]any{"title": "t", "levels": []any{level("starter")},
			"routes": []any{map[string]any{"when": "true", "levels": []any{level("role:nobody")}}}}}, []string{"a|nodes[0].params.routes[0].levels[0].assignees[0]|nobody"}},
		{"task assignee", map[string]any{"id": "t", "type": "task", "params": map[string]any{"title": "t", "assignee": "role:legal"}}, []string{"t|nodes[0].params.assignee|legal"}},
		{"notify recipients", map[string]any{"id": "n", "type": "notify", "params": map[string]any{"title": "t", "to": []any{"role:director", "role:legal"}}}, []string{"n|nodes[0].params.to[1]|legal"}},
		{"no roles", map[string]any{"id": "n", "type": "notify", "params": map[string]any{"title": "t", "to": "starter"}}, nil},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			slug := fmt.Sprintf("f%d", i)
			e.Must(201, "PUT", "/api/v1/apps/crm/flows/"+slug, map[string]any{"slug": slug, "trigger": map[string]any{"type": "manual"}, "nodes": []any{tc.node}}, e.AdminToken)
			r := e.Must(200, "POST", "/api/v1/apps/crm/flows/"+slug+"/publish", nil, e.AdminToken)
			var out struct {
				Version  int `json:"version"`
				Warnings []struct {
					Node, Field, Code, Role, Message string
				} `json:"warnings"`
			}
			if err := json.Unmarshal(r.Body, &out); err != nil {
				t.Fatal(err)
			}
			if out.Version != 1 {
				t.Fatalf("version %d, want 1 (warnings never stop publishing): %s", out.Version, r.Body)
			}
			var got []string
			for _, w := range out.Warnings {
				if w.Code != "role_without_members" || w.Message == "" {
					t.Fatalf("warning %+v", w)
				}
				got = append(got, w.Node+"|"+w.Field+"|"+w.Role)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.warns) {
				t.Fatalf("warnings %v, want %v", got, tc.warns)
			}
		})
	}
}
