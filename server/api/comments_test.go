package api_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/server/apitest"
)

// TestRecordCommentMentions: a comment notifies the mentioned manager with a link to the record;
// mentioning someone who may not read the record is refused whole (nothing written, nobody
// notified); people who may not read the record see no comments.
func TestRecordCommentMentions(t *testing.T) {
	e := apitest.New(t)
	rep, repTok := e.CreateUser("rep@example.com", "Rep Zhang", nil)
	manager, mgrTok := e.CreateUser("manager@example.com", "Manager Liu", nil)
	rep2, rep2Tok := e.CreateUser("rep2@example.com", "Rep Two", nil)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "deal", "title_field": "name", "fields": []any{map[string]any{"key": "name", "type": "text", "required": true}}})
	for _, r := range []map[string]any{
		{"app": "crm", "name": "rep", "permissions": []any{
			map[string]any{"resource": "app", "actions": []any{"read"}, "scope": "all"},
			map[string]any{"resource": "entity:deal", "actions": []any{"read", "create", "update"}, "scope": "own"}}},
		{"app": "crm", "name": "manager", "permissions": []any{
			map[string]any{"resource": "app", "actions": []any{"read"}, "scope": "all"},
			map[string]any{"resource": "entity:deal", "actions": []any{"read"}, "scope": "all"}}},
	} {
		e.Must(201, "PUT", "/api/v1/admin/roles", r, e.AdminToken)
	}
	for u, role := range map[uuid.UUID]string{rep: "rep", rep2: "rep", manager: "manager"} {
		e.Must(200, "PUT", "/api/v1/admin/users/"+u.String()+"/roles", map[string]any{"roles": []any{map[string]any{"app": "crm", "role": role}}}, e.AdminToken)
	}
	deal := e.Must(201, "POST", "/api/v1/apps/crm/entities/deal/records", map[string]any{"name": "华为 ERP"}, repTok).JSON()
	base := "/api/v1/apps/crm/entities/deal/records/" + deal["id"].(string) + "/comments"

	cases := []struct {
		name     string
		tok      string
		body     map[string]any
		want     int
		notified map[string]int // user token -> mention notifications after the request
	}{
		{"empty body", repTok, map[string]any{"body": "  "}, 422, nil},
		{"unknown key", repTok, map[string]any{"body": "x", "extra": 1}, 422, nil},
		{"mention of someone outside their scope", repTok, map[string]any{"body": "@Rep Two 看看", "mentions": []any{rep2.String()}}, 422, map[string]int{rep2Tok: 0}},
		{"mention of an unknown user", repTok, map[string]any{"body": "@x", "mentions": []any{uuid.NewString()}}, 422, nil},
		{"a reader outside the record's scope may not comment", rep2Tok, map[string]any{"body": "hi"}, 404, nil},
		{"mention of the manager", repTok, map[string]any{"body": "@Manager Liu 请审核报价", "mentions": []any{manager.String()}}, 201, map[string]int{mgrTok: 1, rep2Tok: 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.Must(c.want, "POST", base, c.body, c.tok)
			for tok, n := range c.notified {
				got := 0
				for _, it := range e.Must(200, "GET", "/api/v1/notifications", nil, tok).JSON()["items"].([]any) {
					if it.(map[string]any)["kind"] == "mention" {
						got++
					}
				}
				if got != n {
					t.Fatalf("%d mention notifications, want %d", got, n)
				}
			}
		})
	}
	// one comment was written, by the rep, naming the manager
	items := e.Must(200, "GET", base, nil, mgrTok).JSON()["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["author_name"] != "Rep Zhang" || items[0].(map[string]any)["body"] != "@Manager Liu 请审核报价" {
		t.Fatalf("comments %v", items)
	}
	// the manager's notification links to the record
	for _, it := range e.Must(200, "GET", "/api/v1/notifications", nil, mgrTok).JSON()["items"].([]any) {
		n := it.(map[string]any)
		if n["kind"] == "mention" && (n["record_id"] != deal["id"] || n["app"] != "crm" || n["entity"] != "deal" || n["text"].(map[string]any)["zh-CN"] != "Rep Zhang 在「华为 ERP」中提到了您") {
			t.Fatalf("notification %v", n)
		}
	}
	// someone who may not read the record sees no comments
	e.Must(404, "GET", base, nil, rep2Tok)
}
