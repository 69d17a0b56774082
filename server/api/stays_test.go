package api_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// TestDwellHeatmapFollowsWrites: installing the sales template builds the stage stays of its
// deals (report_index office and channel), and the dwell heatmap by office answered through the
// API follows stage changes, an office edit and a delete made through the records API.
func TestDwellHeatmapFollowsWrites(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	var sets []string
	rows, err := e.DB.Pool.Query(context.Background(), `SELECT s.field FROM stage_stay_sets s JOIN apps a ON a.id = s.app_id
		WHERE a.slug = 'sales' AND s.entity = 'deal' ORDER BY s.field`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			t.Fatal(err)
		}
		sets = append(sets, f)
	}
	rows.Close()
	if fmt.Sprint(sets) != "[channel office]" {
		t.Fatalf("stay sets of deal after install: %v, want [channel office]", sets)
	}

	base := "/api/v1/apps/sales/entities/deal/records"
	create := func(name, office string) string {
		r := e.Must(201, "POST", base, fmt.Sprintf(`{"name":%q,"office":%q,"channel":"web","stage":"new_lead"}`, name, office), e.AdminToken).JSON()
		return r["id"].(string)
	}
	move := func(id, stage string) {
		e.Must(200, "PATCH", base+"/"+id, fmt.Sprintf(`{"stage":%q}`, stage), e.AdminToken)
	}
	heatmap := func() string {
		r := e.Must(200, "POST", "/api/v1/apps/sales/reports/preview", map[string]any{
			"entity": "deal", "kind": "dwell", "dimensions": []any{map[string]string{"field": "office"}}}, e.AdminToken)
		var b resultBody
		r.Decode(t, &b)
		var cells [][]any
		for _, row := range b.Rows { // office, stage, stays (the hours depend on the clock)
			cells = append(cells, row[:3])
		}
		return fmt.Sprint(cells)
	}

	d1, d2 := create("一号", "shanghai"), create("二号", "hangzhou")
	move(d1, "first_call")
	move(d1, "demo_done")
	move(d2, "first_call")
	if got, want := heatmap(), "[[hangzhou new_lead 1] [shanghai new_lead 1] [shanghai first_call 1]]"; got != want {
		t.Fatalf("after stage changes: %s, want %s", got, want)
	}
	e.Must(200, "PATCH", base+"/"+d1, `{"office":"hangzhou"}`, e.AdminToken)
	if got, want := heatmap(), "[[hangzhou new_lead 2] [hangzhou first_call 1]]"; got != want {
		t.Fatalf("after moving 一号 to hangzhou: %s, want %s", got, want)
	}
	e.Must(204, "DELETE", base+"/"+d2, nil, e.AdminToken)
	if got, want := heatmap(), "[[hangzhou new_lead 1] [hangzhou first_call 1]]"; got != want {
		t.Fatalf("after deleting 二号: %s, want %s", got, want)
	}
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM stage_stays`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("stage stays rows: %d (%v), want 4 (2 stays x office, channel)", n, err)
	}
}
