package api_test

import (
	"fmt"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// TestLinksOnlyToReadableRecords: a rep (own scope on accounts) may link a deal to their own
// account but not to a colleague's, which answers exactly like a missing account; an admin may
// link any; an unchanged link on a record is not re-checked.
func TestLinksOnlyToReadableRecords(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	rep, repToken := e.CreateUser("rep@example.com", "Rep", nil)
	other, otherToken := e.CreateUser("other@example.com", "Other", nil)
	for _, u := range []string{rep.String(), other.String()} {
		e.Must(200, "PUT", "/api/v1/admin/users/"+u+"/roles", `{"roles":[{"app":"sales","role":"sales_rep"}]}`, e.AdminToken)
	}
	accounts := "/api/v1/apps/sales/entities/account/records"
	deals := "/api/v1/apps/sales/entities/deal/records"
	mine := e.Must(201, "POST", accounts, `{"name":"甲公司"}`, repToken).JSON()["id"].(string)
	theirs := e.Must(201, "POST", accounts, `{"name":"乙公司"}`, otherToken).JSON()["id"].(string)

	e.Must(201, "POST", deals, fmt.Sprintf(`{"name":"一单","account":%q}`, mine), repToken)
	refused := e.Must(422, "POST", deals, fmt.Sprintf(`{"name":"二单","account":%q}`, theirs), repToken)
	missing := e.Must(422, "POST", deals, `{"name":"三单","account":"00000000-0000-0000-0000-000000000001"}`, repToken)
	var a, b struct {
		Errors []struct{ Field, Code, Message string } `json:"errors"`
	}
	refused.Decode(t, &a)
	missing.Decode(t, &b)
	if len(a.Errors) != 1 || a.Errors[0].Field != "account" || a.Errors[0].Code != "not_found" || fmt.Sprint(a.Errors) != fmt.Sprint(b.Errors) {
		t.Fatalf("linking a colleague's account: %s\nlinking a missing one: %s", refused.Body, missing.Body)
	}
	// The admin links it; the rep's later edit of that deal (once theirs) keeps the link.
	deal := e.Must(201, "POST", deals, fmt.Sprintf(`{"name":"四单","account":%q}`, theirs), e.AdminToken).JSON()["id"].(string)
	e.Must(200, "PUT", deals+"/"+deal+"/owner", fmt.Sprintf(`{"owner_id":%q}`, rep), e.AdminToken)
	e.Must(200, "PATCH", deals+"/"+deal, `{"amount":1000}`, repToken)
}
