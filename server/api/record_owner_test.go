package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/server/apitest"
)

// TestRecordOwnerHandOver: a manager hands a sales template lead to a rep, who then sees it in
// their own scope; bad bodies, unknown users and callers who may not update the record are
// refused with problem+json and change nothing.
func TestRecordOwnerHandOver(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	ctx := context.Background()
	var team uuid.UUID
	if err := e.DB.Pool.QueryRow(ctx, `INSERT INTO teams (name) VALUES ('华东') RETURNING id`).Scan(&team); err != nil {
		t.Fatal(err)
	}
	rep, repToken := e.CreateUser("rep@example.com", "Rep", &team)
	other, otherToken := e.CreateUser("other@example.com", "Other", &team)
	for _, u := range []uuid.UUID{rep, other} {
		e.Must(200, "PUT", "/api/v1/admin/users/"+u.String()+"/roles", `{"roles":[{"app":"sales","role":"sales_rep"}]}`, e.AdminToken)
	}
	base := "/api/v1/apps/sales/entities/lead/records"
	lead := e.Must(201, "POST", base, `{"name":"王五","phone":"13900139000"}`, e.AdminToken).JSON()
	id := lead["id"].(string)
	e.Must(404, "GET", base+"/"+id, nil, repToken) // not theirs yet

	cases := []struct {
		name   string
		body   string
		token  string
		status int
	}{
		{"no body", ``, e.AdminToken, 422},
		{"not a uuid", `{"owner_id":"rep"}`, e.AdminToken, 422},
		{"extra keys", fmt.Sprintf(`{"owner_id":%q,"team_id":%q}`, rep, team), e.AdminToken, 422},
		{"unknown user", fmt.Sprintf(`{"owner_id":%q}`, uuid.New()), e.AdminToken, 422},
		{"a rep who cannot see it", fmt.Sprintf(`{"owner_id":%q}`, other), otherToken, 404},
		{"anonymous", fmt.Sprintf(`{"owner_id":%q}`, rep), "", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			r := e.Do("PUT", base+"/"+id+"/owner", body, c.token)
			if r.Status != c.status || r.Header["Content-Type"] != "application/problem+json" {
				t.Fatalf("status %d (%s), want %d problem+json: %s", r.Status, r.Header["Content-Type"], c.status, r.Body)
			}
		})
	}
	got := e.Must(200, "PUT", base+"/"+id+"/owner", fmt.Sprintf(`{"owner_id":%q}`, rep), e.AdminToken).JSON()
	if got["owner_id"] != rep.String() {
		t.Fatalf("owner after hand-over: %v", got["owner_id"])
	}
	seen := e.Must(200, "GET", base+"/"+id, nil, repToken).JSON()
	if seen["owner_id"] != rep.String() {
		t.Fatalf("the rep reads owner %v", seen["owner_id"])
	}
	// The rep may hand their lead on; afterwards it is out of their scope.
	e.Must(200, "PUT", base+"/"+id+"/owner", fmt.Sprintf(`{"owner_id":%q}`, other), repToken)
	e.Must(404, "GET", base+"/"+id, nil, repToken)
	e.Must(200, "GET", base+"/"+id, nil, otherToken)
}

// TestPeopleDirectory: the people of an app are its role holders and the admins, searchable by
// name (admins: also email), for anyone who can open the app; others get 404.
func TestPeopleDirectory(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	rep, repToken := e.CreateUser("zhang@example.com", "张三", nil)
	_, outsiderToken := e.CreateUser("li@example.com", "李四", nil)
	e.Must(200, "PUT", "/api/v1/admin/users/"+rep.String()+"/roles", `{"roles":[{"app":"sales","role":"sales_rep"}]}`, e.AdminToken)
	names := func(r *apitest.Resp) string {
		var b struct{ Items []struct{ Name string } }
		r.Decode(t, &b)
		var out []string
		for _, x := range b.Items {
			out = append(out, x.Name)
		}
		return fmt.Sprint(out)
	}
	all := names(e.Must(200, "GET", "/api/v1/apps/sales/people", nil, repToken))
	if !strings.Contains(all, "张三") || strings.Contains(all, "李四") {
		t.Fatalf("people of sales: %s (want the rep, not the outsider)", all)
	}
	if got := names(e.Must(200, "GET", "/api/v1/apps/sales/people?q=张", nil, repToken)); got != "[张三]" {
		t.Fatalf("search by name: %s", got)
	}
	// e-mail addresses are searched for platform admins only (see TestPeopleSearchIsNoEmailOracle)
	if got := names(e.Must(200, "GET", "/api/v1/apps/sales/people?q=ZHANG", nil, e.AdminToken)); got != "[张三]" {
		t.Fatalf("search by email: %s", got)
	}
	e.Must(404, "GET", "/api/v1/apps/sales/people", nil, outsiderToken)
	e.Must(401, "GET", "/api/v1/apps/sales/people", nil, "")
	e.Must(422, "GET", "/api/v1/apps/sales/people?limit=0", nil, repToken)
}
