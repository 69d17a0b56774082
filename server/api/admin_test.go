package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/server/api"
	"github.com/tessera/tessera/server/apitest"
)

// step is one request of a table-driven admin scenario.
type step struct {
	name   string
	method string
	path   string
	body   any
	token  string
	want   int
	// field, when set, is the expected errors[0].field of a 422.
	field string
	check func(t *testing.T, r *apitest.Resp)
}

func runSteps(t *testing.T, e *apitest.Env, steps []step) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := e.Do(s.method, s.path, s.body, s.token)
			if r.Status != s.want {
				t.Fatalf("%s %s: status %d, want %d: %s", s.method, s.path, r.Status, s.want, r.Body)
			}
			if r.Status >= 400 && !strings.HasPrefix(r.Header["Content-Type"], "application/problem+json") {
				t.Fatalf("error content type %q", r.Header["Content-Type"])
			}
			if s.field != "" {
				errs, _ := r.JSON()["errors"].([]any)
				if len(errs) == 0 || errs[0].(map[string]any)["field"] != s.field {
					t.Fatalf("errors %s, want field %q first", r.Body, s.field)
				}
			}
			if s.check != nil {
				s.check(t, r)
			}
		})
	}
}

func TestAdminUsersAPI(t *testing.T) {
	e := apitest.New(t)
	_, userTok := e.CreateUser("plain@example.com", "Plain", nil)
	var teamID string
	r := e.Must(201, "POST", "/api/v1/admin/teams", map[string]any{"name": "Sales"}, e.AdminToken)
	teamID, _ = r.JSON()["id"].(string)
	var newID string
	runSteps(t, e, []step{
		{name: "list anonymous", method: "GET", path: "/api/v1/admin/users", want: 401},
		{name: "list non-admin", method: "GET", path: "/api/v1/admin/users", token: userTok, want: 403},
		{name: "create non-admin", method: "POST", path: "/api/v1/admin/users", body: map[string]any{"email": "x@example.com", "password": "password-1-ok"}, token: userTok, want: 403},
		{name: "create", method: "POST", path: "/api/v1/admin/users", body: map[string]any{"email": "Rep.A@example.com", "password": "rep-a-password", "name": "销售 A", "team_id": teamID}, token: e.AdminToken, want: 201,
			check: func(t *testing.T, r *apitest.Resp) {
				m := r.JSON()
				newID, _ = m["id"].(string)
				if newID == "" || m["team_id"] != teamID || m["name"] != "销售 A" || m["password_hash"] != nil {
					t.Fatalf("created user %s", r.Body)
				}
			}},
		{name: "duplicate email ignores case", method: "POST", path: "/api/v1/admin/users", body: map[string]any{"email": "rep.a@EXAMPLE.com", "password": "rep-a-password"}, token: e.AdminToken, want: 409},
		{name: "bad email", method: "POST", path: "/api/v1/admin/users", body: map[string]any{"email": "not-an-email", "password": "password-1-ok"}, token: e.AdminToken, want: 422, field: "email"},
		{name: "missing email", method: "POST", path: "/api/v1/admin/users", body: map[string]any{"password": "password-1-ok"}, token: e.AdminToken, want: 422, field: "email"},
		{name: "weak password", method: "POST", path: "/api/v1/admin/users", body: map[string]any{"email": "w@example.com", "password": "short"}, token: e.AdminToken, want: 422, field: "password"},
		{name: "unknown team", method: "POST", path: "/api/v1/admin/users", body: map[string]any{"email": "t@example.com", "password": "password-1-ok", "team_id": uuid.NewString()}, token: e.AdminToken, want: 422, field: "team_id"},
		{name: "malformed team", method: "POST", path: "/api/v1/admin/users", body: map[string]any{"email": "t@example.com", "password": "password-1-ok", "team_id": "sales"}, token: e.AdminToken, want: 422, field: "team_id"},
		{name: "unknown key", method: "POST", path: "/api/v1/admin/users", body: `{"email":"k@example.com","password":"password-1-ok","role":"god"}`, token: e.AdminToken, want: 422, field: "role"},
		{name: "bad json", method: "POST", path: "/api/v1/admin/users", body: `{"email":`, token: e.AdminToken, want: 422},
		{name: "wrong type", method: "POST", path: "/api/v1/admin/users", body: `{"email":1}`, token: e.AdminToken, want: 422},
		{name: "NUL in name", method: "POST", path: "/api/v1/admin/users", body: `{"email":"nul@example.com","password":"password-1-ok","name":"a\u0000b"}`, token: e.AdminToken, want: 422, field: "name"},
		{name: "control character in name", method: "POST", path: "/api/v1/admin/users", body: `{"email":"ctl@example.com","password":"password-1-ok","name":"a\u001bb"}`, token: e.AdminToken, want: 422, field: "name"},
		{name: "long password message", method: "POST", path: "/api/v1/admin/users", body: map[string]any{"email": "lp@example.com", "password": strings.Repeat("p", 300)}, token: e.AdminToken, want: 422, field: "password",
			check: func(t *testing.T, r *apitest.Resp) {
				if !strings.Contains(string(r.Body), "密码最多 256 字节") {
					t.Fatalf("message %s", r.Body)
				}
			}},
		{name: "list", method: "GET", path: "/api/v1/admin/users?q=rep.a", token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				items, _ := r.JSON()["items"].([]any)
				if len(items) != 1 || items[0].(map[string]any)["email"] != "Rep.A@example.com" {
					t.Fatalf("search: %s", r.Body)
				}
			}},
		{name: "list bad limit", method: "GET", path: "/api/v1/admin/users?limit=0", token: e.AdminToken, want: 422},
		{name: "list bad cursor", method: "GET", path: "/api/v1/admin/users?cursor=%%%", token: e.AdminToken, want: 422},
	})
	runSteps(t, e, []step{
		{name: "patch NUL in name", method: "PATCH", path: "/api/v1/admin/users/" + newID, body: `{"name":"a\u0000b"}`, token: e.AdminToken, want: 422, field: "name"},
	})
	// The new user can log in with the password set by the admin.
	repTok := e.Login("rep.a@example.com", "rep-a-password")

	// Paging: three users, limit 2.
	r = e.Must(200, "GET", "/api/v1/admin/users?limit=2", nil, e.AdminToken)
	page := r.JSON()
	cur, _ := page["next_cursor"].(string)
	if len(page["items"].([]any)) != 2 || cur == "" {
		t.Fatalf("page 1: %s", r.Body)
	}
	r = e.Must(200, "GET", "/api/v1/admin/users?limit=2&cursor="+cur, nil, e.AdminToken)
	if len(r.JSON()["items"].([]any)) != 1 || r.JSON()["next_cursor"] != nil {
		t.Fatalf("page 2: %s", r.Body)
	}

	u := "/api/v1/admin/users/" + newID
	runSteps(t, e, []step{
		{name: "get", method: "GET", path: u, token: e.AdminToken, want: 200},
		{name: "patch non-admin", method: "PATCH", path: u, body: map[string]any{"name": "x"}, token: userTok, want: 403},
		{name: "patch anonymous", method: "PATCH", path: u, body: map[string]any{"name": "x"}, want: 401},
		{name: "patch name and clear team", method: "PATCH", path: u, body: map[string]any{"name": "Rep A", "team_id": nil}, token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				if m := r.JSON(); m["name"] != "Rep A" || m["team_id"] != nil {
					t.Fatalf("patched %s", r.Body)
				}
			}},
		{name: "patch keeps absent fields", method: "PATCH", path: u, body: map[string]any{"team_id": teamID}, token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				if m := r.JSON(); m["name"] != "Rep A" || m["team_id"] != teamID {
					t.Fatalf("patched %s", r.Body)
				}
			}},
		{name: "patch weak password", method: "PATCH", path: u, body: map[string]any{"password": "x"}, token: e.AdminToken, want: 422, field: "password"},
		{name: "patch duplicate email", method: "PATCH", path: u, body: map[string]any{"email": "plain@example.com"}, token: e.AdminToken, want: 409},
		{name: "patch unknown user", method: "PATCH", path: "/api/v1/admin/users/" + uuid.NewString(), body: map[string]any{"name": "x"}, token: e.AdminToken, want: 404},
		{name: "patch malformed id", method: "PATCH", path: "/api/v1/admin/users/nope", body: map[string]any{"name": "x"}, token: e.AdminToken, want: 404},
		{name: "admin cannot disable self", method: "PATCH", path: "/api/v1/admin/users/" + e.AdminID.String(), body: map[string]any{"disabled": true}, token: e.AdminToken, want: 422, field: "disabled"},
		{name: "admin cannot drop own admin", method: "PATCH", path: "/api/v1/admin/users/" + e.AdminID.String(), body: map[string]any{"is_admin": false}, token: e.AdminToken, want: 422, field: "is_admin"},
	})

	// Password reset ends the sessions; the new password works.
	e.Must(200, "GET", "/api/v1/me", nil, repTok)
	e.Must(200, "PATCH", u, map[string]any{"password": "new-password-1"}, e.AdminToken)
	e.Must(401, "GET", "/api/v1/me", nil, repTok)
	repTok = e.Login("rep.a@example.com", "new-password-1")
	// Disabling ends the sessions and blocks login; enabling restores login.
	e.Must(200, "PATCH", u, map[string]any{"disabled": true}, e.AdminToken)
	e.Must(401, "GET", "/api/v1/me", nil, repTok)
	e.Must(401, "POST", "/api/v1/auth/login", map[string]string{"email": "rep.a@example.com", "password": "new-password-1"}, "")
	var sessions int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE user_id = $1`, newID).Scan(&sessions); err != nil || sessions != 0 {
		t.Fatalf("sessions left after disable: %d %v", sessions, err)
	}
	e.Must(200, "PATCH", u, map[string]any{"disabled": false}, e.AdminToken)
	e.Login("rep.a@example.com", "new-password-1")
	// Promotion to admin takes effect on the next request.
	e.Must(200, "PATCH", u, map[string]any{"is_admin": true}, e.AdminToken)
	tok := e.Login("rep.a@example.com", "new-password-1")
	e.Must(200, "GET", "/api/v1/admin/users", nil, tok)
}

func TestAdminTeamsAPI(t *testing.T) {
	e := apitest.New(t)
	mgr, userTok := e.CreateUser("mgr@example.com", "Manager", nil)
	ids := map[string]string{}
	keep := func(key string) func(t *testing.T, r *apitest.Resp) {
		return func(t *testing.T, r *apitest.Resp) { ids[key], _ = r.JSON()["id"].(string) }
	}
	runSteps(t, e, []step{
		{name: "anonymous", method: "GET", path: "/api/v1/admin/teams", want: 401},
		{name: "non-admin", method: "POST", path: "/api/v1/admin/teams", body: map[string]any{"name": "x"}, token: userTok, want: 403},
		{name: "root", method: "POST", path: "/api/v1/admin/teams", body: map[string]any{"name": "销售部", "manager_id": mgr.String()}, token: e.AdminToken, want: 201, check: keep("root")},
	})
	runSteps(t, e, []step{
		{name: "child", method: "POST", path: "/api/v1/admin/teams", body: map[string]any{"name": "East", "parent_id": ids["root"]}, token: e.AdminToken, want: 201, check: keep("child")},
	})
	runSteps(t, e, []step{
		{name: "grandchild", method: "POST", path: "/api/v1/admin/teams", body: map[string]any{"name": "East-1", "parent_id": ids["child"], "manager_id": nil}, token: e.AdminToken, want: 201, check: keep("grand")},
		{name: "missing name", method: "POST", path: "/api/v1/admin/teams", body: map[string]any{"parent_id": ids["root"]}, token: e.AdminToken, want: 422, field: "name"},
		{name: "blank name", method: "POST", path: "/api/v1/admin/teams", body: map[string]any{"name": "  "}, token: e.AdminToken, want: 422, field: "name"},
		{name: "NUL in name", method: "POST", path: "/api/v1/admin/teams", body: `{"name":"a\u0000b"}`, token: e.AdminToken, want: 422, field: "name"},
		{name: "unknown parent", method: "POST", path: "/api/v1/admin/teams", body: map[string]any{"name": "x", "parent_id": uuid.NewString()}, token: e.AdminToken, want: 422, field: "parent_id"},
		{name: "unknown manager", method: "POST", path: "/api/v1/admin/teams", body: map[string]any{"name": "x", "manager_id": uuid.NewString()}, token: e.AdminToken, want: 422, field: "manager_id"},
	})
	runSteps(t, e, []step{
		{name: "cycle through grandchild", method: "PATCH", path: "/api/v1/admin/teams/" + ids["root"], body: map[string]any{"parent_id": ids["grand"]}, token: e.AdminToken, want: 422, field: "parent_id"},
		{name: "own parent", method: "PATCH", path: "/api/v1/admin/teams/" + ids["child"], body: map[string]any{"parent_id": ids["child"]}, token: e.AdminToken, want: 422, field: "parent_id"},
		{name: "move grandchild to root", method: "PATCH", path: "/api/v1/admin/teams/" + ids["grand"], body: map[string]any{"parent_id": ids["root"], "name": "Root-2"}, token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				if m := r.JSON(); m["parent_id"] != ids["root"] || m["name"] != "Root-2" {
					t.Fatalf("moved %s", r.Body)
				}
			}},
		{name: "detach child", method: "PATCH", path: "/api/v1/admin/teams/" + ids["child"], body: map[string]any{"parent_id": nil}, token: e.AdminToken, want: 200},
		{name: "unknown team", method: "PATCH", path: "/api/v1/admin/teams/" + uuid.NewString(), body: map[string]any{"name": "x"}, token: e.AdminToken, want: 404},
		{name: "list", method: "GET", path: "/api/v1/admin/teams", token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				if items, _ := r.JSON()["items"].([]any); len(items) != 3 {
					t.Fatalf("teams %s", r.Body)
				}
			}},
	})
}

func TestAdminRolesAPI(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, e.AdminToken)
	repID, repTok := e.CreateUser("rep@example.com", "Rep", nil)
	salesRep := map[string]any{"app": "crm", "name": "sales_rep",
		"permissions": []any{map[string]any{"resource": "entity:lead", "actions": []string{"read", "create", "update"}, "scope": "own"}},
		"fields":      map[string]any{"lead": map[string]any{"hidden": []string{"cost"}, "readonly": []string{}}}}
	bad := func(mut func(m map[string]any)) map[string]any {
		m := map[string]any{"app": "crm", "name": "r2", "permissions": []any{map[string]any{"resource": "entity:lead", "actions": []string{"read"}, "scope": "own"}}}
		mut(m)
		return m
	}
	roles := "/api/v1/admin/users/" + repID.String() + "/roles"
	e.Must(201, "PUT", "/api/v1/apps/crm/entities/account", map[string]any{"slug": "account", "fields": []any{map[string]any{"key": "name", "type": "text"}}}, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/crm/entities/account/publish", nil, e.AdminToken)
	fieldRule := func(hidden, readonly []string) map[string]any {
		return bad(func(m map[string]any) {
			m["fields"] = map[string]any{"account": map[string]any{"hidden": hidden, "readonly": readonly}}
		})
	}
	runSteps(t, e, []step{
		{name: "anonymous", method: "PUT", path: "/api/v1/admin/roles", body: salesRep, want: 401},
		{name: "non-admin", method: "PUT", path: "/api/v1/admin/roles", body: salesRep, token: repTok, want: 403},
		{name: "app hidden before any role", method: "GET", path: "/api/v1/apps/crm", token: repTok, want: 404},
		{name: "put", method: "PUT", path: "/api/v1/admin/roles", body: salesRep, token: e.AdminToken, want: 201,
			check: func(t *testing.T, r *apitest.Resp) {
				m := r.JSON()
				if m["name"] != "sales_rep" || fmt.Sprint(m["fields"]) != "map[lead:map[hidden:[cost] readonly:[]]]" {
					t.Fatalf("role %s", r.Body)
				}
			}},
		{name: "put again replaces", method: "PUT", path: "/api/v1/admin/roles", body: salesRep, token: e.AdminToken, want: 200},
		{name: "post existing", method: "POST", path: "/api/v1/admin/roles", body: salesRep, token: e.AdminToken, want: 409},
		{name: "post new", method: "POST", path: "/api/v1/admin/roles", body: bad(func(m map[string]any) { m["name"] = "viewer" }), token: e.AdminToken, want: 201},
		{name: "unknown app", method: "PUT", path: "/api/v1/admin/roles", body: bad(func(m map[string]any) { m["app"] = "nope" }), token: e.AdminToken, want: 422, field: "app"},
		{name: "unknown action", method: "PUT", path: "/api/v1/admin/roles", body: bad(func(m map[string]any) {
			m["permissions"] = []any{map[string]any{"resource": "entity:lead", "actions": []string{"fly"}, "scope": "own"}}
		}), token: e.AdminToken, want: 422, field: "permissions[0].actions[0]"},
		{name: "unknown scope", method: "PUT", path: "/api/v1/admin/roles", body: bad(func(m map[string]any) {
			m["permissions"] = []any{map[string]any{"resource": "entity:lead", "actions": []string{"read"}, "scope": "world"}}
		}), token: e.AdminToken, want: 422, field: "permissions[0].scope"},
		{name: "bad resource", method: "PUT", path: "/api/v1/admin/roles", body: bad(func(m map[string]any) {
			m["permissions"] = []any{map[string]any{"resource": "lead", "actions": []string{"read"}, "scope": "all"}}
		}), token: e.AdminToken, want: 422, field: "permissions[0].resource"},
		{name: "built-in name", method: "PUT", path: "/api/v1/admin/roles", body: bad(func(m map[string]any) { m["name"] = "builder" }), token: e.AdminToken, want: 422, field: "name"},
		{name: "unknown key", method: "PUT", path: "/api/v1/admin/roles", body: bad(func(m map[string]any) { m["color"] = "red" }), token: e.AdminToken, want: 422, field: "color"},
		// a misspelt field rule would leave the field it meant visible or writable
		{name: "hidden field not in the published entity", method: "PUT", path: "/api/v1/admin/roles", body: fieldRule([]string{"nmae"}, nil), token: e.AdminToken, want: 422, field: "fields.account.hidden[0]"},
		{name: "read-only field not in the published entity", method: "PUT", path: "/api/v1/admin/roles", body: fieldRule([]string{"name"}, []string{"Name"}), token: e.AdminToken, want: 422, field: "fields.account.readonly[0]"},
		{name: "list", method: "GET", path: "/api/v1/admin/roles?app=crm", token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				var names []string
				for _, it := range r.JSON()["items"].([]any) {
					names = append(names, it.(map[string]any)["name"].(string))
				}
				if strings.Join(names, ",") != "builder,member,sales_rep,viewer" {
					t.Fatalf("roles %v", names)
				}
			}},
		{name: "list unknown app", method: "GET", path: "/api/v1/admin/roles?app=nope", token: e.AdminToken, want: 404},
		{name: "list all apps", method: "GET", path: "/api/v1/admin/roles", token: e.AdminToken, want: 200},
		{name: "assign", method: "PUT", path: roles, body: map[string]any{"roles": []any{map[string]string{"app": "crm", "role": "sales_rep"}}}, token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				if fmt.Sprint(r.JSON()["roles"]) != "[map[app:crm app_name:CRM role:sales_rep]]" {
					t.Fatalf("assigned %s", r.Body)
				}
			}},
		{name: "app visible with a role", method: "GET", path: "/api/v1/apps/crm", token: repTok, want: 200},
		{name: "assign non-admin", method: "PUT", path: roles, body: map[string]any{"roles": []any{}}, token: repTok, want: 403},
		{name: "assign unknown role", method: "PUT", path: roles, body: map[string]any{"roles": []any{map[string]string{"app": "crm", "role": "ghost"}}}, token: e.AdminToken, want: 422, field: "roles[0].role"},
		{name: "assign unknown app", method: "PUT", path: roles, body: map[string]any{"roles": []any{map[string]string{"app": "ghost", "role": "member"}}}, token: e.AdminToken, want: 422, field: "roles[0].app"},
		{name: "assign missing roles", method: "PUT", path: roles, body: map[string]any{}, token: e.AdminToken, want: 422, field: "roles"},
		{name: "assign unknown user", method: "PUT", path: "/api/v1/admin/users/" + uuid.NewString() + "/roles", body: map[string]any{"roles": []any{}}, token: e.AdminToken, want: 404},
		{name: "user shows roles", method: "GET", path: "/api/v1/admin/users/" + repID.String(), token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				if fmt.Sprint(r.JSON()["roles"]) != "[map[app:crm app_name:CRM role:sales_rep]]" {
					t.Fatalf("user %s", r.Body)
				}
			}},
		{name: "builder role", method: "PUT", path: roles, body: map[string]any{"roles": []any{map[string]string{"app": "crm", "role": "builder"}}}, token: e.AdminToken, want: 200},
		{name: "revoke all", method: "PUT", path: roles, body: map[string]any{"roles": []any{}}, token: e.AdminToken, want: 200},
		{name: "app hidden after revoke", method: "GET", path: "/api/v1/apps/crm", token: repTok, want: 404},
		{name: "assign again", method: "PUT", path: roles, body: map[string]any{"roles": []any{map[string]string{"app": "crm", "role": "viewer"}}}, token: e.AdminToken, want: 200},
		{name: "delete non-admin", method: "DELETE", path: "/api/v1/admin/roles/crm/viewer", token: repTok, want: 403},
		{name: "delete built-in", method: "DELETE", path: "/api/v1/admin/roles/crm/member", token: e.AdminToken, want: 422, field: "name"},
		{name: "delete unknown role", method: "DELETE", path: "/api/v1/admin/roles/crm/ghost", token: e.AdminToken, want: 404},
		{name: "delete unknown app", method: "DELETE", path: "/api/v1/admin/roles/nope/viewer", token: e.AdminToken, want: 404},
		{name: "delete", method: "DELETE", path: "/api/v1/admin/roles/crm/viewer", token: e.AdminToken, want: 204},
		{name: "deleted role unassigned", method: "GET", path: "/api/v1/admin/users/" + repID.String(), token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				if fmt.Sprint(r.JSON()["roles"]) != "[]" {
					t.Fatalf("user %s", r.Body)
				}
			}},
		{name: "audit has the delete", method: "GET", path: "/api/v1/admin/audit?action=role.delete", token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				items := r.JSON()["items"].([]any)
				if len(items) != 1 || fmt.Sprint(items[0].(map[string]any)["after"]) != "map[unassigned:1]" {
					t.Fatalf("audit %s", r.Body)
				}
			}},
	})
}

func TestAdminAuditAPI(t *testing.T) {
	e := apitest.New(t)
	_, userTok := e.CreateUser("plain@example.com", "Plain", nil)
	e.Must(201, "POST", "/api/v1/admin/teams", map[string]any{"name": "A"}, e.AdminToken)
	r := e.Must(201, "POST", "/api/v1/admin/teams", map[string]any{"name": "B"}, e.AdminToken)
	teamB, _ := r.JSON()["id"].(string)
	e.Must(200, "PATCH", "/api/v1/admin/teams/"+teamB, map[string]any{"name": "B2"}, e.AdminToken)
	e.Must(201, "POST", "/api/v1/admin/users", map[string]any{"email": "n@example.com", "password": "password-1-ok"}, e.AdminToken)
	runSteps(t, e, []step{
		{name: "anonymous", method: "GET", path: "/api/v1/admin/audit", want: 401},
		{name: "non-admin", method: "GET", path: "/api/v1/admin/audit", token: userTok, want: 403},
		{name: "newest first", method: "GET", path: "/api/v1/admin/audit", token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				var acts []string
				for _, it := range r.JSON()["items"].([]any) {
					acts = append(acts, it.(map[string]any)["action"].(string))
				}
				// apitest.New logs the admin in and CreateUser logs the user in: logins are audited.
				if strings.Join(acts, ",") != "user.create,team.update,team.create,team.create,auth.login,auth.login" {
					t.Fatalf("actions %v", acts)
				}
			}},
		{name: "filter by action with before/after", method: "GET", path: "/api/v1/admin/audit?action=team.update", token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				items := r.JSON()["items"].([]any)
				it := items[0].(map[string]any)
				if len(items) != 1 || it["before"].(map[string]any)["name"] != "B" || it["after"].(map[string]any)["name"] != "B2" ||
					it["actor"] != e.AdminID.String() || it["target"] != "team:"+teamB {
					t.Fatalf("audit %s", r.Body)
				}
			}},
		{name: "filter by actor", method: "GET", path: "/api/v1/admin/audit?actor=" + uuid.NewString(), token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				if len(r.JSON()["items"].([]any)) != 0 {
					t.Fatalf("audit %s", r.Body)
				}
			}},
		{name: "names resolved", method: "GET", path: "/api/v1/admin/audit?action=team.update", token: e.AdminToken, want: 200,
			check: func(t *testing.T, r *apitest.Resp) {
				it := r.JSON()["items"].([]any)[0].(map[string]any)
				if it["actor_email"] != apitest.AdminEmail || it["actor_name"] == "" || it["target_kind"] != "team" || it["target_name"] != "B2" {
					t.Fatalf("audit %s", r.Body)
				}
			}},
		{name: "filter by actor and family", method: "GET", path: "/api/v1/admin/audit?action=team.&actor=" + e.AdminID.String(), token: e.AdminToken, want: 200,
			check: auditActions("team.update,team.create,team.create")},
		{name: "a family matches only its own", method: "GET", path: "/api/v1/admin/audit?action=team_.", token: e.AdminToken, want: 200, check: auditActions("")},
		{name: "filter by target", method: "GET", path: "/api/v1/admin/audit?target=team:" + teamB, token: e.AdminToken, want: 200, check: auditActions("team.update,team.create")},
		{name: "time range covering now", method: "GET", path: "/api/v1/admin/audit?action=team.&from=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), token: e.AdminToken, want: 200,
			check: auditActions("team.update,team.create,team.create")},
		{name: "time range in the past", method: "GET", path: "/api/v1/admin/audit?to=2020-01-01", token: e.AdminToken, want: 200, check: auditActions("")},
		{name: "time range in the future", method: "GET", path: "/api/v1/admin/audit?from=2999-01-01T00:00:00Z", token: e.AdminToken, want: 200, check: auditActions("")},
		{name: "bad from", method: "GET", path: "/api/v1/admin/audit?from=yesterday", token: e.AdminToken, want: 422, field: "from"},
		{name: "to before from", method: "GET", path: "/api/v1/admin/audit?from=2026-02-01&to=2026-01-01", token: e.AdminToken, want: 422, field: "to"},
		{name: "non-admin with filters", method: "GET", path: "/api/v1/admin/audit?action=user.", token: userTok, want: 403},
		{name: "bad actor", method: "GET", path: "/api/v1/admin/audit?actor=bob", token: e.AdminToken, want: 422},
		{name: "bad cursor", method: "GET", path: "/api/v1/admin/audit?cursor=x", token: e.AdminToken, want: 422},
		{name: "bad limit", method: "GET", path: "/api/v1/admin/audit?limit=100000", token: e.AdminToken, want: 422},
	})
	// Paging walks every entry once.
	seen, cursor := 0, ""
	for i := 0; i < 10; i++ {
		r := e.Must(200, "GET", "/api/v1/admin/audit?limit=3&cursor="+cursor, nil, e.AdminToken)
		seen += len(r.JSON()["items"].([]any))
		next, _ := r.JSON()["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if seen != 6 {
		t.Fatalf("paged through %d entries, want 6", seen)
	}
}

// auditActions checks an audit page lists exactly these actions, newest first.
func auditActions(want string) func(t *testing.T, r *apitest.Resp) {
	return func(t *testing.T, r *apitest.Resp) {
		var acts []string
		for _, it := range r.JSON()["items"].([]any) {
			acts = append(acts, it.(map[string]any)["action"].(string))
		}
		if strings.Join(acts, ",") != want {
			t.Fatalf("actions %v, want %s", acts, want)
		}
	}
}

// TestRoleChangesReachAnotherServer runs a second API server on the same database (a replica)
// and checks that a role granted and revoked through the first is honoured by the second
// within 2 s.
func TestRoleChangesReachAnotherServer(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, e.AdminToken)
	userID, tok := e.CreateUser("rep@example.com", "Rep", nil)
	d2, err := db.Open(context.Background(), e.DB.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d2.Close)
	srv2, err := api.New(e.Cfg, d2, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv2.Shutdown(0) })
	replica := &apitest.Env{T: t, Srv: srv2, DB: d2, Cfg: e.Cfg, AdminToken: e.AdminToken, AdminID: e.AdminID}
	roles := "/api/v1/admin/users/" + userID.String() + "/roles"
	waitStatus := func(want int) time.Duration {
		t.Helper()
		start := time.Now()
		for time.Since(start) < 2*time.Second {
			if replica.Do("GET", "/api/v1/apps/crm", nil, tok).Status == want {
				return time.Since(start)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("replica did not answer %d within 2s", want)
		return 0
	}
	replica.Must(404, "GET", "/api/v1/apps/crm", nil, tok)
	e.Must(200, "PUT", roles, map[string]any{"roles": []any{map[string]string{"app": "crm", "role": "member"}}}, e.AdminToken)
	t.Logf("grant reached the replica after %v", waitStatus(200))
	e.Must(200, "PUT", roles, map[string]any{"roles": []any{}}, e.AdminToken)
	t.Logf("revoke reached the replica after %v", waitStatus(404))
}

// TestAdminRefusesNUL: text PostgreSQL cannot hold (NUL, invalid UTF-8) in a query parameter, a
// JSON key or a JSON string of an admin route is a 422 naming it, never a 500.
func TestAdminRefusesNUL(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, e.AdminToken)
	uid, userTok := e.CreateUser("u@example.com", "U", nil)
	runSteps(t, e, []step{
		{name: "non-admin first", method: "GET", path: "/api/v1/admin/audit?action=%00", token: userTok, want: 403},
		{name: "audit action", method: "GET", path: "/api/v1/admin/audit?action=%00", token: e.AdminToken, want: 422, field: "action"},
		{name: "audit target", method: "GET", path: "/api/v1/admin/audit?target=a%00", token: e.AdminToken, want: 422, field: "target"},
		{name: "users q invalid UTF-8", method: "GET", path: "/api/v1/admin/users?q=%ff", token: e.AdminToken, want: 422, field: "q"},
		{name: "roles app", method: "GET", path: "/api/v1/admin/roles?app=crm%00", token: e.AdminToken, want: 422, field: "app"},
		{name: "role app", method: "PUT", path: "/api/v1/admin/roles", body: `{"app":"crm\u0000","name":"ab","permissions":[]}`, token: e.AdminToken, want: 422, field: "app"},
		{name: "role field rule", method: "PUT", path: "/api/v1/admin/roles", body: `{"app":"crm","name":"ab","permissions":[],"fields":{"lead":{"hidden":["x\u0000"]}}}`, token: e.AdminToken, want: 422, field: "fields.lead.hidden[0]"},
		{name: "role field key", method: "PUT", path: "/api/v1/admin/roles", body: `{"app":"crm","name":"ab","permissions":[],"fields":{"le\u0000ad":{}}}`, token: e.AdminToken, want: 422, field: "fields.lead"},
		{name: "user roles", method: "PUT", path: "/api/v1/admin/users/" + uid.String() + "/roles", body: `{"roles":[{"app":"crm","role":"a\u0000"}]}`, token: e.AdminToken, want: 422, field: "roles[0].role"},
		{name: "a plain role still works", method: "PUT", path: "/api/v1/admin/roles", body: `{"app":"crm","name":"ab","permissions":[]}`, token: e.AdminToken, want: 201},
	})
}
