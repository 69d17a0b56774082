package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// TestEncodedRequestBody: a record create reads its body as sent, plain or gzip-encoded
// (Content-Encoding), and a NUL inside an encoded body is still refused (422).
func TestEncodedRequestBody(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "lead", "fields": []any{map[string]any{"key": "name", "type": "text", "required": true}}})
	post := func(body string, encoding string) (int, map[string]any) {
		t.Helper()
		raw := []byte(body)
		if encoding == "gzip" {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			_, _ = zw.Write(raw)
			_ = zw.Close()
			raw = b.Bytes()
		}
		req := httptest.NewRequest("POST", "/api/v1/apps/crm/entities/lead/records", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.AdminToken)
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		res, err := e.Srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		return res.StatusCode, m
	}
	for _, enc := range []string{"", "gzip"} {
		status, m := post(`{"name": "客户 A"}`, enc)
		if status != 201 || m["data"].(map[string]any)["name"] != "客户 A" {
			t.Fatalf("encoding %q: %d %v", enc, status, m)
		}
		if status, m := post(`{"name": "bad \u0000 text"}`, enc); status != 422 {
			t.Fatalf("encoding %q, a NUL: %d %v", enc, status, m)
		}
	}
}
