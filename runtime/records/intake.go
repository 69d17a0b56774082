package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/notify"
)

// Anonymous intake can only add. A create made for an anonymous caller (a public form, a
// webhook, a run one of them started: access.Subject.Anonymous) never reads or changes an
// existing record: when it matches one (a dedupe key, or a unique field), the submitted values
// are kept as a pending submission on that record (a record_intake row and an
// "intake.duplicate" record event), its owner is notified, and whoever may update the record
// accepts them (applied through Update, with that user as actor) or dismisses them. The
// anonymous caller gets the same receipt (a fresh submission id) whether a record was created
// or matched. Authenticated writers who may not read and update the matched record leave a
// pending submission the same way (their receipt says "pending_review"); writers who may keep
// today's merge.

// EventIntake is the record event of a pending submission: changes are {field: [current,
// submitted]} for the submitted values that differ from the record's.
const EventIntake = "intake.duplicate"

// Intake statuses of a submission.
const (
	IntakeCreated   = "created"
	IntakePending   = "pending"
	IntakeAccepted  = "accepted"
	IntakeDismissed = "dismissed"
)

// Errors of a decision on a submission.
var (
	// ErrIntakeDecided: the submission was accepted or dismissed already (409).
	ErrIntakeDecided = errors.New("this submission was already accepted or dismissed")
	// ErrIntakeNotFound: no such submission on the record (it unwraps to ErrNotFound).
	ErrIntakeNotFound = fmt.Errorf("submission: %w", ErrNotFound)
)

// Submission is a pending submission on a record as its reviewers see it.
type Submission struct {
	ID       uuid.UUID `json:"id"`
	RecordID uuid.UUID `json:"record_id"`
	Status   string    `json:"status"`
	Source   string    `json:"source"`
	// Values are the submitted values; Changes the ones that differ from the record now,
	// {field: [current, submitted]}.
	Values    map[string]any `json:"values"`
	Changes   map[string]any `json:"changes"`
	CreatedAt time.Time      `json:"created_at"`
}

// dedupeKeys are the keys a create looks up: the entity's dedupe keys and, for anonymous
// intake, every unique field (so a taken unique value is a hit, not a revealing 422).
func dedupeKeys(ent *spec.Entity, intake bool) [][]string {
	var keys [][]string
	if ent.Dedupe != nil {
		keys = append(keys, ent.Dedupe.Keys...)
	}
	if !intake {
		return keys
	}
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if !f.Unique || slices.ContainsFunc(keys, func(k []string) bool { return len(k) == 1 && k[0] == f.Key }) {
			continue
		}
		keys = append(keys, []string{f.Key})
	}
	return keys
}

// mergeGrants are the writer's read and update grants on the entity: all for trusted work,
// the authorizer's answer otherwise (the write's grant when the store has none).
func (s *Store) mergeGrants(ctx context.Context, app *defs.App, entity string, w WriteOptions) (read, update access.Grant, err error) {
	if w.Actor.System || w.Actor.IsAdmin {
		return access.All(), access.All(), nil
	}
	if s.opts.Grants == nil || w.Actor.UserID == uuid.Nil {
		g := grantOf(w)
		return g, g, nil
	}
	if read, err = s.opts.Grants(ctx, w.Actor, app.ID, "entity:"+entity, "read"); err != nil {
		return read, update, fmt.Errorf("checking read rights: %w", err)
	}
	if update, err = s.opts.Grants(ctx, w.Actor, app.ID, "entity:"+entity, "update"); err != nil {
		return read, update, fmt.Errorf("checking update rights: %w", err)
	}
	return read, update, nil
}

// submitted keeps the values the writer gave (not defaults, the initial stage or computed
// fields): what a reviewer may accept onto the matched record.
func submitted(ent *spec.Entity, values, data map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range data {
		f := ent.Field(k)
		if f == nil || f.Type == spec.TypeAutonumber || f.Type == spec.TypeFormula || isEmpty(values[k]) {
			continue
		}
		out[k] = v
	}
	return out
}

// logIntake writes the record_intake row of a submission and answers its receipt.
func (s *Store) logIntake(ctx context.Context, tx pgx.Tx, app *defs.App, entity string, recordID uuid.UUID, status string, keys []string, values map[string]any, w WriteOptions, now time.Time) (*events.Receipt, error) {
	raw, err := json.Marshal(orEmptyMap(values))
	if err != nil {
		return nil, fmt.Errorf("encoding the submission: %w", err)
	}
	var actor *uuid.UUID
	if w.Actor.UserID != uuid.Nil {
		a := w.Actor.UserID
		actor = &a
	}
	if keys == nil {
		keys = []string{}
	}
	id := uuid.New()
	if _, err := tx.Exec(ctx, `INSERT INTO record_intake (id, app_id, entity, record_id, status, source, actor, keys, "values", created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, id, app.ID, entity, recordID, status, w.Source, actor, keys, raw, now); err != nil {
		return nil, fmt.Errorf("writing the submission: %w", err)
	}
	return &events.Receipt{SubmissionID: id, Status: events.Received}, nil
}

func orEmptyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// submitIntake keeps values as a pending submission on dup: the record_intake row, an
// intake.duplicate event, the owner's notification and the Intake hooks, all in tx. dup is
// not changed.
func (s *Store) submitIntake(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity, dup *Record, values map[string]any, keys []string, w WriteOptions, now time.Time, status string) (*events.Receipt, error) {
	rcpt, err := s.logIntake(ctx, tx, app, ent.Slug, dup.ID, IntakePending, keys, values, w, now)
	if err != nil {
		return nil, err
	}
	rcpt.Status = status
	if err := s.event(ctx, tx, app, ent.Slug, dup.ID, w, EventIntake, diffValues(dup.Data, values), now); err != nil {
		return nil, err
	}
	if err := s.notifyIntake(ctx, tx, app, ent, dup, rcpt.SubmissionID); err != nil {
		return nil, err
	}
	c := events.Change{Kind: events.Intake, AppID: app.ID, AppSlug: app.Slug, Entity: ent.Slug, RecordID: dup.ID,
		Form: w.Form, At: now, Intake: true, Submission: &rcpt.SubmissionID}
	if w.Actor.UserID != uuid.Nil {
		a := w.Actor.UserID
		c.Actor = &a
	}
	if err := s.fire(ctx, tx, c); err != nil {
		return nil, err
	}
	return rcpt, nil
}

// diffValues is {field: [current, submitted]} for the submitted values that differ.
func diffValues(cur, values map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range values {
		if !reflect.DeepEqual(normJSON(cur[k]), normJSON(v)) {
			out[k] = []any{cur[k], v}
		}
	}
	return out
}

// notifyIntake tells the record's owner that a submission waits for review (a record without
// an owner: its team's manager, else the platform admins), once per submission and user.
func (s *Store) notifyIntake(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity, rec *Record, sub uuid.UUID) error {
	rows, err := tx.Query(ctx, `SELECT u.id FROM users u WHERE NOT u.disabled AND CASE
			WHEN $1::uuid IS NOT NULL THEN u.id = $1
			WHEN (SELECT manager_id FROM teams WHERE id = $2) IS NOT NULL THEN u.id = (SELECT manager_id FROM teams WHERE id = $2)
			ELSE u.is_admin END`, rec.OwnerID, rec.TeamID)
	if err != nil {
		return fmt.Errorf("finding the reviewers: %w", err)
	}
	to, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return fmt.Errorf("finding the reviewers: %w", err)
	}
	appID, recID := app.ID, rec.ID
	for _, u := range to {
		if _, err := notify.Send(ctx, tx, notify.Notification{UserID: u, Kind: notify.KindIntakePending, Title: recordTitle(ent, rec.Data),
			Params: map[string]any{"entity": ent.Slug, "submission_id": sub.String()}, AppID: &appID, RecordID: &recID,
			Key: notify.KindIntakePending + ":" + sub.String() + ":" + u.String()}); err != nil {
			return err
		}
	}
	return nil
}

// recordTitle names a record: its entity's title field, else its first text field with a value.
func recordTitle(ent *spec.Entity, data map[string]any) string {
	if s, ok := data[ent.TitleField].(string); ok && ent.TitleField != "" && s != "" {
		return s
	}
	for i := range ent.Fields {
		if f := &ent.Fields[i]; f.Type == spec.TypeText {
			if s, ok := data[f.Key].(string); ok && s != "" {
				return s
			}
		}
	}
	return ent.Slug
}

// Intake lists the pending submissions on record id (inside the read grant g; hidden fields
// removed), oldest first.
func (s *Store) Intake(ctx context.Context, app *defs.App, entity string, id uuid.UUID, g access.Grant) ([]Submission, error) {
	cur, err := s.Get(ctx, app, entity, id, g)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, status, source, "values", created_at FROM record_intake
		WHERE record_id = $1 AND app_id = $2 AND entity = $3 AND status = 'pending' ORDER BY created_at, id`, id, app.ID, entity)
	if err != nil {
		return nil, fmt.Errorf("listing submissions: %w", err)
	}
	defer rows.Close()
	out := []Submission{}
	for rows.Next() {
		sub := Submission{RecordID: id}
		var raw []byte
		if err := rows.Scan(&sub.ID, &sub.Status, &sub.Source, &raw, &sub.CreatedAt); err != nil {
			return nil, fmt.Errorf("reading submissions: %w", err)
		}
		if err := decodeData(raw, &sub.Values); err != nil {
			return nil, fmt.Errorf("decoding a submission: %w", err)
		}
		for k := range g.Hidden {
			delete(sub.Values, k)
		}
		sub.Changes = diffValues(cur.Data, sub.Values)
		out = append(out, sub)
	}
	return out, rows.Err()
}

// pendingIntake locks submission sub of record id for a decision by the writer of w: the
// record must be inside w's grant (ErrNotFound) and the submission still pending
// (ErrIntakeDecided).
func (s *Store) pendingIntake(ctx context.Context, tx pgx.Tx, app *defs.App, entity string, id, sub uuid.UUID, g access.Grant) (*Record, map[string]any, error) {
	cur, err := s.load(ctx, tx, app, entity, id, g, true)
	if err != nil {
		return nil, nil, err
	}
	var status string
	var raw []byte
	err = tx.QueryRow(ctx, `SELECT status, "values" FROM record_intake WHERE id = $1 AND record_id = $2 AND app_id = $3 AND entity = $4 FOR UPDATE`,
		sub, id, app.ID, entity).Scan(&status, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, ErrIntakeNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("loading the submission: %w", err)
	}
	if status != IntakePending {
		return nil, nil, ErrIntakeDecided
	}
	var values map[string]any
	if err := decodeData(raw, &values); err != nil {
		return nil, nil, fmt.Errorf("decoding the submission: %w", err)
	}
	return cur, values, nil
}

// AcceptIntake applies pending submission sub to record id through Update, as the writer of w
// (who needs update rights on the record): submitted values replace the record's, lists are
// joined; fields, when not empty, limits what is applied. Fields hidden from the writer are
// left out. Validation, read-only fields, gates and hooks apply as for any update.
func (s *Store) AcceptIntake(ctx context.Context, app *defs.App, entity string, id, sub uuid.UUID, fields []string, w WriteOptions) (*Record, error) {
	ent, _, err := s.entityFor(ctx, app, entity, w)
	if err != nil {
		return nil, err
	}
	g := grantOf(w)
	if !g.Allowed() {
		return nil, ErrForbidden
	}
	tx, err := s.begin(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("accepting a submission: %w", err)
	}
	defer tx.Rollback(ctx)
	cur, values, err := s.pendingIntake(ctx, tx, app, entity, id, sub, g)
	if err != nil {
		return nil, err
	}
	patch := map[string]any{}
	for k, v := range values {
		f := ent.Field(k)
		if f == nil || g.Hidden[k] || (len(fields) > 0 && !slices.Contains(fields, k)) {
			continue
		}
		if old, ok := cur.Data[k].([]any); ok && isList(v) {
			v = unionList(old, v.([]any))
		}
		if !reflect.DeepEqual(normJSON(cur.Data[k]), normJSON(v)) {
			patch[k] = v
		}
	}
	uw := w
	uw.Tx, uw.Source = tx, "intake"
	rec, err := s.Update(ctx, app, entity, id, patch, nil, uw)
	if err != nil {
		return nil, err
	}
	if err := s.decideIntake(ctx, tx, sub, IntakeAccepted, w); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("committing the accepted submission: %w", err)
	}
	return rec, nil
}

// DismissIntake drops pending submission sub of record id, as the writer of w (who needs
// update rights on the record); the record is not changed.
func (s *Store) DismissIntake(ctx context.Context, app *defs.App, entity string, id, sub uuid.UUID, w WriteOptions) error {
	if _, _, err := s.entityFor(ctx, app, entity, w); err != nil {
		return err
	}
	g := grantOf(w)
	if !g.Allowed() {
		return ErrForbidden
	}
	tx, err := s.begin(ctx, w)
	if err != nil {
		return fmt.Errorf("dismissing a submission: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, _, err := s.pendingIntake(ctx, tx, app, entity, id, sub, g); err != nil {
		return err
	}
	if err := s.decideIntake(ctx, tx, sub, IntakeDismissed, w); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing the dismissal: %w", err)
	}
	return nil
}

func (s *Store) decideIntake(ctx context.Context, tx pgx.Tx, sub uuid.UUID, status string, w WriteOptions) error {
	var by *uuid.UUID
	if w.Actor.UserID != uuid.Nil {
		a := w.Actor.UserID
		by = &a
	}
	if _, err := tx.Exec(ctx, `UPDATE record_intake SET status = $2, decided_at = $3, decided_by = $4 WHERE id = $1`, sub, status, s.now(), by); err != nil {
		return fmt.Errorf("recording the decision: %w", err)
	}
	return nil
}
