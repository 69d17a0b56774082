package trigger_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/trigger"
)

// TestQuiet: the hook is quiet (a record create may skip its transaction) only where it
// would do nothing: no flow triggered by the change's kind on its entity or form, no watcher
// to look for, no flow step effect to note. A flow whose field filter or condition would skip
// the change still makes it not quiet.
func TestQuiet(t *testing.T) {
	e := newPollEnv(t)
	s := trigger.New(e.eng, nil)
	e.publish("on-deal", `{"slug":"on-deal","trigger":{"type":"record.created","entity":"deal","condition":"record.amount > 100"},"nodes":[{"id":"s","type":"set","params":{"values":{}}}]}`)
	e.publish("on-quote-form", `{"slug":"on-quote-form","trigger":{"type":"form.submitted","form":"quote-form"},"nodes":[{"id":"s","type":"set","params":{"values":{}}}]}`)
	e.publish("on-lead-stage", `{"slug":"on-lead-stage","trigger":{"type":"stage.changed","entity":"lead","to":"won"},"nodes":[{"id":"s","type":"set","params":{"values":{}}}]}`)
	change := func(kind, entity, form string, isNew bool) events.Change {
		return events.Change{Kind: kind, AppID: e.app, Entity: entity, Form: form, RecordID: uuid.New(), New: isNew,
			Record: map[string]any{"amount": 1}}
	}
	ctx := context.Background()
	cases := []struct {
		name  string
		ctx   context.Context
		c     events.Change
		quiet bool
	}{
		{"create of an entity no flow watches", ctx, change(events.Created, "lead", "", true), true},
		{"create that a flow's condition would skip", ctx, change(events.Created, "deal", "", true), false},
		{"form submission of a watched form", ctx, change(events.Form, "quote", "quote-form", true), false},
		{"form submission of another form", ctx, change(events.Form, "quote", "other-form", true), true},
		{"stage change of a watched entity", ctx, change(events.Stage, "lead", "", true), false},
		{"update of an existing record (watchers are looked for)", ctx, change(events.Updated, "lead", "", false), false},
		{"create written by a flow step (its effect is noted)", engine.WithEffectKey(ctx, "run:node"), change(events.Created, "lead", "", true), false},
		{"another app's change", ctx, events.Change{Kind: events.Created, AppID: uuid.New(), Entity: "deal", New: true}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Quiet(c.ctx, c.c)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.quiet {
				t.Fatalf("Quiet = %v, want %v", got, c.quiet)
			}
		})
	}
}
