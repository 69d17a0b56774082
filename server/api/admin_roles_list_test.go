package api_test

import (
	"fmt"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// TestAdminUsersListShowsRoles: the users list carries every user's app roles, so the role
// dialog starts from them (saving it with a second role keeps the first).
func TestAdminUsersListShowsRoles(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	for _, r := range []string{"rep", "legal"} {
		putDef(t, e, "/api/v1/admin/roles", fmt.Sprintf(`{"app":"crm","name":%q,"permissions":[{"resource":"app","actions":["read"],"scope":"all"}]}`, r))
	}
	id, _ := e.CreateUser("rep@example.com", "Rep", nil)
	e.CreateUser("none@example.com", "None", nil)
	rolesOf := func() map[string]string {
		out := map[string]string{}
		for _, it := range e.Must(200, "GET", "/api/v1/admin/users", nil, e.AdminToken).JSON()["items"].([]any) {
			u := it.(map[string]any)
			out[u["email"].(string)] = fmt.Sprint(u["roles"])
		}
		return out
	}
	steps := []struct {
		body string
		want string
	}{
		{`{"roles":[{"app":"crm","role":"rep"}]}`, "[map[app:crm app_name:CRM role:rep]]"},
		{`{"roles":[{"app":"crm","role":"rep"},{"app":"crm","role":"legal"}]}`, "[map[app:crm app_name:CRM role:legal] map[app:crm app_name:CRM role:rep]]"},
	}
	for _, st := range steps {
		e.Must(200, "PUT", fmt.Sprintf("/api/v1/admin/users/%s/roles", id), st.body, e.AdminToken)
		got := rolesOf()
		if got["rep@example.com"] != st.want || got["none@example.com"] != "[]" {
			t.Fatalf("after %s: roles %v, want %s", st.body, got, st.want)
		}
	}
}
