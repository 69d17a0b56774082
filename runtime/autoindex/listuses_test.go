package autoindex_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/autoindex"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/filter"
)

// TestListUses: fields that lists are often filtered or sorted by (no saved view, no report)
// get an auto index once MinListUses requests used them lately; fewer uses, stale uses, keys
// that are not plain field keys and uses of a deleted app get none.
func TestListUses(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	var app, gone uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('crm','CRM') RETURNING id`).Scan(&app); err != nil {
		t.Fatal(err)
	}
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('gone','Gone') RETURNING id`).Scan(&gone); err != nil {
		t.Fatal(err)
	}
	publish(t, d, app, spec.KindEntity, "lead", `{"slug":"lead","fields":[{"key":"name","type":"text"},{"key":"score","type":"number"},
		{"key":"city","type":"text"},{"key":"due","type":"date"}]}`)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	lu := autoindex.NewListUses()
	for range 3 {
		lu.Note(app, "lead", nil, "-score")                                         // a column header clicked
		lu.Note(app, "lead", json.RawMessage(`{"score":{"gt":5}}`), "score,-score") // counted once per request
	}
	lu.Note(app, "lead", json.RawMessage(`{"city":{"eq":"沪"}}`), "") // twice: too few
	lu.Note(app, "lead", json.RawMessage(`{"city":{"eq":"京"}}`), "")
	lu.Note(app, "lead", json.RawMessage(`{"x'); DROP TABLE records; --":{"eq":1}}`), "")
	lu.Note(gone, "lead", nil, "-score")
	if _, err := d.Pool.Exec(ctx, `DELETE FROM apps WHERE id = $1`, gone); err != nil {
		t.Fatal(err)
	}
	if err := lu.Flush(ctx, d.Pool, now.Add(-20*24*time.Hour)); err != nil { // stale: three weeks ago
		t.Fatal(err)
	}
	lu.Note(app, "lead", nil, "due")
	if err := lu.Flush(ctx, d.Pool, now.Add(-20*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		lu.Note(app, "lead", nil, "due")
	}
	if err := lu.Flush(ctx, d.Pool, now.Add(-time.Hour)); err != nil { // due: 4 uses, the last an hour ago
		t.Fatal(err)
	}
	var rows int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM list_uses`).Scan(&rows); err != nil || rows != 3 {
		t.Fatalf("list_uses holds %d rows (%v), want 3: score, city, due (not the hostile key, not the deleted app)", rows, err)
	}
	var scoreUses int
	if err := d.Pool.QueryRow(ctx, `SELECT uses FROM list_uses WHERE field = 'score'`).Scan(&scoreUses); err != nil || scoreUses != 6 {
		t.Fatalf("score uses %d (%v), want 6", scoreUses, err)
	}

	m := autoindex.New(d.Pool, autoindex.Options{MinListUses: 3, UnusedFor: 14 * 24 * time.Hour, Now: func() time.Time { return now }})
	rep, err := m.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{autoindex.Name(app, "lead", "due", filter.KindDate)}
	if !reflect.DeepEqual(rep.Created, want) {
		t.Fatalf("created %v, want only due's index %v (score's uses are stale, city's too few)", rep.Created, want)
	}
}
