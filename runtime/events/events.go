// Package events defines the record change notification that runtime/records emits inside the
// writing transaction and that triggers, audit and analytics consume.
package events

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Change kinds.
const (
	Created = "created"
	Updated = "updated"
	Deleted = "deleted"
	Stage   = "stage" // the stage field changed (also reported as Updated)
	Merged  = "merged"
	Form    = "form.submitted"
)

// Change is one committed-with-the-transaction change of a record.
type Change struct {
	Kind      string
	AppID     uuid.UUID
	AppSlug   string
	Entity    string
	RecordID  uuid.UUID
	Record    map[string]any // values after the change (nil for Deleted)
	Old       map[string]any // values before (nil for Created)
	Changed   []string       // keys whose value changed
	FromStage string
	ToStage   string
	Form      string // form slug for Form
	Actor     *uuid.UUID
	At        time.Time
}

// Hook runs inside the transaction that writes the change. Returning an error rolls the write
// back, so hooks that enqueue work (flow runs) enqueue exactly when the write commits.
type Hook func(ctx context.Context, tx pgx.Tx, c Change) error
