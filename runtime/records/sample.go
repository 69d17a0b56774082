package records

import (
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/events"
)

// SampleChange is the change a write of kind to rec would report to its hooks, for a flow
// test run on an existing record (the run sees trigger.record exactly as a real trigger
// delivers it). Nothing is written.
func SampleChange(kind string, app *defs.App, entity string, rec *Record, actor *uuid.UUID, now time.Time) events.Change {
	c := events.Change{Kind: kind, AppID: app.ID, AppSlug: app.Slug, Entity: entity, RecordID: rec.ID,
		Record: gateRecord(rec.Data, rec), Actor: actor, At: now}
	if kind == events.Created {
		for k := range rec.Data {
			c.Changed = append(c.Changed, k)
		}
	}
	return c
}
