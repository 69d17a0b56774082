package api_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/tessera/tessera/server/apitest"
)

// TestListRequestsCountColumnUses: the first page of a list sorted or filtered by a field counts
// one use of it (for auto indexes); its later pages do not.
func TestListRequestsCountColumnUses(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "lead", "fields": []any{
		map[string]any{"key": "name", "type": "text"},
		map[string]any{"key": "score", "type": "number"}}})
	for i := range 3 {
		e.Must(201, "POST", "/api/v1/apps/crm/entities/lead/records", map[string]any{"name": "n", "score": i}, e.AdminToken)
	}
	base := "/api/v1/apps/crm/entities/lead/records?limit=1&sort=-score&filter=" + url.QueryEscape(`{"name":{"eq":"n"}}`)
	first := e.Must(200, "GET", base, nil, e.AdminToken).JSON()
	cursor, _ := first["next_cursor"].(string)
	if cursor == "" {
		t.Fatalf("no next page: %v", first)
	}
	e.Must(200, "GET", base+"&cursor="+url.QueryEscape(cursor), nil, e.AdminToken)
	if e.Srv.ListUses == nil {
		t.Fatal("list uses are not counted although auto indexes are on")
	}
	ctx := context.Background()
	if err := e.Srv.ListUses.Flush(ctx, e.DB.Pool, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	rows, err := e.DB.Pool.Query(ctx, `SELECT field, uses FROM list_uses WHERE entity = 'lead'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var f string
		var n int
		if err := rows.Scan(&f, &n); err != nil {
			t.Fatal(err)
		}
		got[f] = n
	}
	if len(got) != 2 || got["score"] != 1 || got["name"] != 1 {
		t.Fatalf("list uses %v, want score 1 and name 1 (the second page is not a new use)", got)
	}
}
