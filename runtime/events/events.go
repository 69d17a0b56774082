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
	// Intake: an intake write matched an existing record and left a pending submission on it
	// (nothing of the record changed; no flow starts). Hooks see it so a flow step's write is
	// still recorded exactly once.
	Intake = "intake"
	// Activity: an outside event was appended to the record (runtime/records.AddActivity);
	// no field changed. Change.Activity holds {type, data, at}.
	Activity = "activity"
)

// Receipt is all an intake writer (an anonymous caller, see access.Subject.Anonymous) learns of
// a record create, whether it created a record or left a pending submission on an existing
// one; an authenticated writer who may not change the matched record gets one too, with Status
// "pending_review".
type Receipt struct {
	SubmissionID uuid.UUID `json:"submission_id"`
	Status       string    `json:"status"` // received | pending_review
}

// Receipt statuses.
const (
	Received      = "received"
	PendingReview = "pending_review"
)

// Map is the receipt as a flow step's output.
func (r Receipt) Map() map[string]any {
	return map[string]any{"submission_id": r.SubmissionID.String(), "status": r.Status}
}

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
	// Intake is set for changes made for an anonymous caller (runs they start are Intake too);
	// Submission is the receipt's submission id of such a write.
	Intake     bool
	Submission *uuid.UUID
	// Activity is the appended activity of an Activity change: {type, data, at}.
	Activity map[string]any
	// New is set on the changes of a write that created the record with an id it generated:
	// nothing can be waiting for that id yet, so hooks may skip looking for watchers.
	New bool
}

// Hook runs inside the transaction that writes the change. Returning an error rolls the write
// back, so hooks that enqueue work (flow runs) enqueue exactly when the write commits.
type Hook func(ctx context.Context, tx pgx.Tx, c Change) error

// BatchHook is a Hook's form for many changes written in one transaction (a bulk import): it
// must do what the Hook would do for each change, in order, and may share look-ups among them.
type BatchHook func(ctx context.Context, tx pgx.Tx, cs []Change) error

// Quiet reports that a Hook has nothing to do for c: it would neither write nor start
// anything. A write whose every hook is quiet may skip its transaction (a record create is
// then one statement). It must never answer true where the Hook would act; when unsure,
// false.
type Quiet func(ctx context.Context, c Change) (bool, error)
