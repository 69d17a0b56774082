package api_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// TestUnstorableTextRefusedAtTheEdge: for every kind of body the server accepts (JSON, form,
// multipart), query parameters and stored headers, text PostgreSQL cannot store (a NUL
// character, invalid UTF-8, a lone surrogate escape) answers 422 naming the field or JSON path,
// never a 500, and nothing is written.
func TestUnstorableTextRefusedAtTheEdge(t *testing.T) {
	e := apitest.New(t)
	publishFlow(t, e, map[string]any{"slug": "greet", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "hello", "type": "set", "params": map[string]any{"values": map[string]any{"x": "1"}}}}})
	publishFlow(t, e, map[string]any{"slug": "inbound", "trigger": map[string]any{"type": "webhook", "key": "lead-in", "mode": "sync"},
		"nodes": []any{map[string]any{"id": "echo", "type": "set", "params": map[string]any{"values": map[string]any{"name": "{{ trigger.body.name }}"}}}}})
	e.Must(201, "PUT", "/api/v1/apps/crm/entities/lead", map[string]any{"slug": "lead", "label": map[string]any{"en": "Lead"},
		"fields": []any{map[string]any{"key": "name", "type": "text"}}}, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/crm/entities/lead/publish", nil, e.AdminToken)

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "a\xff.txt")
	fw.Write([]byte("hello"))
	mw.Close()

	form := "Content-Type: application/x-www-form-urlencoded"
	cases := []struct {
		name, method, path string
		body               any
		headers            []string
		field              string
	}{
		{"webhook JSON", "POST", "/hooks/lead-in", `{"name":"a\u0000"}`, nil, "name"},
		{"webhook JSON nested", "POST", "/hooks/lead-in", `{"lead":{"tags":["ok","\u0000"]}}`, nil, "lead.tags[1]"},
		{"webhook JSON key", "POST", "/hooks/lead-in", `{"na\u0000me":"x"}`, nil, "name"},
		{"webhook form body", "POST", "/hooks/lead-in", `name=a%00b`, []string{form}, "name"},
		{"webhook form invalid UTF-8", "POST", "/hooks/lead-in", `name=%ff`, []string{form}, "name"},
		{"webhook query", "POST", "/hooks/lead-in?ref=%00", `{"name":"a"}`, nil, "ref"},
		{"webhook lone surrogate", "POST", "/hooks/lead-in", `{"name":"\ud800"}`, nil, "name"},
		{"webhook invalid UTF-8", "POST", "/hooks/lead-in", "{\"name\":\"\xff\xfe\"}", nil, "name"},
		{"entity label", "PUT", "/api/v1/apps/crm/entities/lead", `{"slug":"lead","label":{"en":"L\u0000"},"fields":[{"key":"name","type":"text"}]}`, nil, "label.en"},
		{"app name", "POST", "/api/v1/apps", `{"slug":"nul","name":"N\u0000"}`, nil, "name"},
		{"manual run input", "POST", "/api/v1/apps/crm/flows/greet/run", `{"input":{"a":"\u0000"}}`, nil, "input.a"},
		{"record body", "POST", "/api/v1/apps/crm/entities/lead/records", `{"name":"\u0000"}`, nil, "name"},
		{"record search", "GET", "/api/v1/apps/crm/entities/lead/records?q=%00", nil, nil, "q"},
		{"credential values", "POST", "/api/v1/apps/crm/credentials", `{"name":"c","connector":"http","values":{"token":"t\u0000"}}`, nil, "values.token"},
		{"admin user", "POST", "/api/v1/admin/users", `{"email":"n@example.com","name":"\u0000","password":"a-long-passphrase-1"}`, nil, "name"},
		{"admin team", "POST", "/api/v1/admin/teams", `{"name":"T\u0000"}`, nil, "name"},
		{"report preview", "POST", "/api/v1/apps/crm/reports/preview", `{"slug":"r","entity":"lead\u0000","kind":"table"}`, nil, "entity"},
		{"public form", "POST", "/api/v1/public/forms/abc/submit", `{"name":"\u0000"}`, nil, "name"},
		{"token name", "POST", "/api/v1/me/tokens", `{"name":"\u0000"}`, nil, "name"},
		{"upload file name", "POST", "/api/v1/files", mp.Bytes(), []string{"Content-Type: " + mw.FormDataContentType()}, "file"},
	}
	var runs0, apps0 int
	ctx := context.Background()
	_ = e.DB.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM flow_runs), (SELECT count(*) FROM apps)`).Scan(&runs0, &apps0)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do(tc.method, tc.path, tc.body, e.AdminToken, tc.headers...)
			if tc.method == "POST" && tc.path[:7] == "/hooks/" {
				r = e.Do(tc.method, tc.path, tc.body, "", tc.headers...)
			}
			if r.Status != 422 {
				t.Fatalf("status %d, want 422: %s", r.Status, r.Body)
			}
			errs, _ := r.JSON()["errors"].([]any)
			if len(errs) == 0 || errs[0].(map[string]any)["field"] != tc.field {
				t.Fatalf("errors %v, want the field %q", errs, tc.field)
			}
		})
	}
	var runs, apps int
	_ = e.DB.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM flow_runs), (SELECT count(*) FROM apps)`).Scan(&runs, &apps)
	if runs != runs0 || apps != apps0 {
		t.Fatalf("refused requests wrote: runs %d -> %d, apps %d -> %d", runs0, runs, apps0, apps)
	}
	// a NUL in the path is not found; legitimate text still goes through
	e.Must(404, "GET", "/api/v1/apps/a%00b", nil, e.AdminToken)
	e.Must(200, "POST", "/hooks/lead-in", `{"name":"a\\u0000 is text, \ud83d\ude00 a pair"}`, "")
}
