package records_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/events"
)

// TestCreateSoloOrInTransaction: a create that needs no look-up and whose hooks are all quiet is
// one statement (the hooks are not called, the record and its history exist); otherwise the
// hooks run inside the write's transaction, see the new row, and their error rolls it back.
func TestCreateSoloOrInTransaction(t *testing.T) {
	cases := []struct {
		name      string
		entity    string
		quiet     bool
		hookErr   error
		wantHook  bool
		wantSaved bool
	}{
		{"quiet hooks: one statement", "note", true, nil, false, true},
		{"a hook to run: in the transaction", "note", false, nil, true, true},
		{"a failing hook rolls the record back", "note", false, errors.New("no"), true, false},
		{"a unique field is checked first: in the transaction", "tagged", true, nil, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.publish(spec.KindEntity, "note", `{"slug":"note","fields":[{"key":"title","type":"text"}]}`)
			e.publish(spec.KindEntity, "tagged", `{"slug":"tagged","fields":[{"key":"title","type":"text","unique":true}]}`)
			called, sawRow := false, false
			e.store.OnChanges(func(ctx context.Context, tx pgx.Tx, ch events.Change) error {
				called = true
				var n int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM records WHERE id = $1`, ch.RecordID).Scan(&n); err != nil {
					return err
				}
				sawRow = n == 1
				return c.hookErr
			}, nil, func(context.Context, events.Change) (bool, error) { return c.quiet, nil })
			rec, err := e.store.Create(context.Background(), e.app, c.entity, map[string]any{"title": "a"}, e.w())
			if (err == nil) != c.wantSaved {
				t.Fatalf("create: %v", err)
			}
			if called != c.wantHook || (called && !sawRow) {
				t.Fatalf("hook called %v (saw the row: %v), want called %v", called, sawRow, c.wantHook)
			}
			var recs, evs int
			_ = e.d.Pool.QueryRow(context.Background(), `SELECT count(*) FROM records WHERE entity = $1`, c.entity).Scan(&recs)
			_ = e.d.Pool.QueryRow(context.Background(), `SELECT count(*) FROM record_events WHERE entity = $1 AND kind = 'created'`, c.entity).Scan(&evs)
			want := 0
			if c.wantSaved {
				want = 1
				if rec == nil || rec.Data["title"] != "a" {
					t.Fatalf("answered %+v", rec)
				}
			}
			if recs != want || evs != want {
				t.Fatalf("%d records and %d created events, want %d", recs, evs, want)
			}
		})
	}
}
