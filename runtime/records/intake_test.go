package records_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/records"
)

// TestIntakeWritesOnlyAdd: the record layer decides what an anonymous writer gets. A public
// form (no identity) and a flow running as the service role for a webhook (System + Intake)
// get a receipt, whether the values create a record or match one by a dedupe key or by a
// unique field; a match is never changed and keeps the values as a pending submission, and
// the Intake hook carries the submission. Trusted work without Intake still merges.
func TestIntakeWritesOnlyAdd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var kinds []string
	e.store.OnChange(func(_ context.Context, _ pgx.Tx, c events.Change) error {
		if c.Submission != nil {
			kinds = append(kinds, c.Kind)
		}
		return nil
	})
	first, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "张三", "phone": "13800138000", "email": "z@example.com", "cost": 9}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	public := records.WriteOptions{Actor: access.Subject{}, Grant: access.All(), Source: "form:web"}
	webhook := records.WriteOptions{Actor: access.Subject{System: true, Intake: true}, Grant: access.All(), Source: "flow"}
	tests := []struct {
		name    string
		w       records.WriteOptions
		values  map[string]any
		matches bool
	}{
		{"public form, new", public, map[string]any{"name": "李四", "phone": "13900139000"}, false},
		{"public form, dedupe key", public, map[string]any{"name": "x", "phone": "+86 138 0013 8000", "amount": 5}, true},
		{"webhook flow, new", webhook, map[string]any{"name": "王五", "email": "w5@example.com"}, false},
		{"webhook flow, dedupe key", webhook, map[string]any{"name": "x", "email": "Z@example.com", "stage": "proposal"}, true},
	}
	pending := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kinds = nil
			rec, err := e.store.Create(ctx, e.app, "lead", tc.values, tc.w)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := json.Marshal(rec)
			if rec.Receipt == nil || rec.Receipt.Status != events.Received || string(out) != fmt.Sprintf(`{"submission_id":%q,"status":"received"}`, rec.Receipt.SubmissionID) {
				t.Fatalf("answer %s", out)
			}
			want := "[created]"
			if tc.matches {
				pending++
				want = "[intake]"
			}
			if fmt.Sprint(kinds) != want {
				t.Fatalf("hooks with the submission: %v, want %s", kinds, want)
			}
			cur, err := e.store.Get(ctx, e.app, "lead", first.ID, access.All())
			if err != nil || cur.Version != first.Version || cur.Data["amount"] != nil || cur.Data["stage"] != "new" {
				t.Fatalf("the matched record changed: %+v %v", cur, err)
			}
			subs, err := e.store.Intake(ctx, e.app, "lead", first.ID, access.All())
			if err != nil || len(subs) != pending {
				t.Fatalf("pending %v %v, want %d", subs, err, pending)
			}
		})
	}
	// a unique field that is no dedupe key answers the same receipt, not a revealing 422
	e.publish(spec.KindEntity, "contact", `{"slug":"contact","fields":[{"key":"name","type":"text"},{"key":"email","type":"email","unique":true}]}`)
	if _, err := e.store.Create(ctx, e.app, "contact", map[string]any{"name": "a", "email": "a@example.com"}, e.w()); err != nil {
		t.Fatal(err)
	}
	if c, err := e.store.Create(ctx, e.app, "contact", map[string]any{"name": "b", "email": "a@example.com"}, public); err != nil || c.Receipt == nil {
		t.Fatalf("unique value from the public: %+v %v", c, err)
	}
	// defaults and computed fields are not part of a submission
	subs, _ := e.store.Intake(ctx, e.app, "lead", first.ID, access.All())
	if _, ok := subs[0].Values["source"]; ok || subs[0].Values["amount"] == nil {
		t.Fatalf("submitted values %v", subs[0].Values)
	}
	// trusted work (a flow for an authenticated trigger, an admin) merges as before
	m, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "x", "phone": "13800138000", "amount": 7}, records.WriteOptions{Actor: access.Subject{System: true}, Grant: access.All()})
	if err != nil || !m.Merged || m.ID != first.ID || fmt.Sprint(m.Data["amount"]) != "7" {
		t.Fatalf("system merge %+v %v", m, err)
	}
	// accepting applies the values with the accepting user as actor
	rec, err := e.store.AcceptIntake(ctx, e.app, "lead", first.ID, subs[1].ID, nil, e.w())
	if err != nil || rec.Data["stage"] != "proposal" {
		t.Fatalf("accept %+v %v", rec, err)
	}
	if _, err := e.store.AcceptIntake(ctx, e.app, "lead", first.ID, subs[1].ID, nil, e.w()); err != records.ErrIntakeDecided {
		t.Fatalf("accept twice: %v", err)
	}
}
