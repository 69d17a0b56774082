package records_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/records"
)

// TestAddActivity appends outside activities by id or by an identifying field (normalised),
// fires the activity hook in the write's transaction, changes no field, and refuses what does
// not identify one record in the writer's scope.
func TestAddActivity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	lead, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "张三", "phone": "13800138000", "email": "z@example.com"}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	var fired []events.Change
	e.store.OnChange(func(_ context.Context, _ pgx.Tx, c events.Change) error {
		if c.Kind == events.Activity {
			fired = append(fired, c)
		}
		return nil
	})
	other := access.Subject{UserID: uuid.New()}
	cases := []struct {
		name  string
		match records.Match
		typ   string
		w     records.WriteOptions
		field string // 422 field; "" = ok; "404" = not found
	}{
		{"by id", records.Match{ID: lead.ID}, "pricing_visit", e.w(), ""},
		{"by phone, normalised", records.Match{Field: "phone", Value: "138 0013 8000"}, "webinar_attended", e.w(), ""},
		{"by email, case-folded", records.Match{Field: "email", Value: "Z@EXAMPLE.COM"}, "email_opened", e.w(), ""},
		{"not identifying", records.Match{Field: "name", Value: "张三"}, "x", e.w(), "match.name"},
		{"no match given", records.Match{}, "x", e.w(), "match"},
		{"bad type", records.Match{ID: lead.ID}, "Pricing Visit", e.w(), "type"},
		{"nobody has it", records.Match{Field: "email", Value: "nobody@example.com"}, "x", e.w(), "404"},
		{"outside the writer's scope", records.Match{ID: lead.ID}, "x", records.WriteOptions{Actor: other, Grant: access.Grant{Scope: "own"}}, "404"},
	}
	ok := 0
	for _, c := range cases {
		_, err := e.store.AddActivity(ctx, e.app, "lead", c.match, records.Activity{Type: c.typ, Data: map[string]any{"k": "v"}}, c.w)
		var se spec.Errors
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.field == "":
			ok++
		case c.field == "404" && !errors.Is(err, records.ErrNotFound):
			t.Errorf("%s: %v, want not found", c.name, err)
		case c.field != "404" && (!errors.As(err, &se) || se[0].Field != c.field):
			t.Errorf("%s: %v, want a 422 at %s", c.name, err, c.field)
		}
	}
	if len(fired) != ok || fired[0].Activity["type"] != "pricing_visit" || fired[0].RecordID != lead.ID {
		t.Fatalf("hooks fired %d times (want %d): %+v", len(fired), ok, fired)
	}
	hist, err := e.store.History(ctx, e.app, "lead", lead.ID, access.All())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range hist {
		if h.Kind == records.ActivityEvent {
			n++
		}
	}
	got, _ := e.store.Get(ctx, e.app, "lead", lead.ID, access.All())
	if n != ok || got.Version != lead.Version {
		t.Fatalf("%d activity events (want %d), version %d -> %d", n, ok, lead.Version, got.Version)
	}
}
