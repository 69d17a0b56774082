package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/events"
)

// Activity is something that happened to a record outside Tessera (a pricing page visit, a
// webinar attended, an e-mail opened): AddActivity appends it to the record's history (event
// kind "activity") and starts the flows triggered by "record.activity"; it changes no field.
type Activity struct {
	Type string         // 1-64 characters of a-z, 0-9, '_', '.', '-'
	Data map[string]any // free details (at most MaxActivityData bytes as JSON)
}

// MaxActivityData bounds an activity's data as JSON.
const MaxActivityData = 16 << 10

// Match picks the record an activity belongs to: by id, or by the value of a field that
// identifies one record (a unique field or a single-field dedupe key such as email or phone).
// The value is normalised like a write (phones to E.164, e-mails lower-cased).
type Match struct {
	ID    uuid.UUID
	Field string
	Value any
}

var activityTypeRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ActivityEvent is the record_events kind of an activity.
const ActivityEvent = "activity"

// AddActivity appends an activity to the record m matches, inside the writer's grant (a record
// outside it is ErrNotFound, like a missing one), and fires the record.activity hooks in the
// same transaction. It answers the record (hidden fields removed).
func (s *Store) AddActivity(ctx context.Context, app *defs.App, entity string, m Match, a Activity, w WriteOptions) (*Record, error) {
	ent, _, err := s.entityFor(ctx, app, entity, w)
	if err != nil {
		return nil, err
	}
	var errs spec.Errors
	if !activityTypeRe.MatchString(a.Type) {
		errs.Add("type", "invalid", "type must be 1-64 characters of a-z, 0-9, '_', '.' and '-' / 类型须为 1-64 个小写字母、数字或 _ . -")
	}
	if a.Data == nil {
		a.Data = map[string]any{}
	}
	if raw, err := json.Marshal(a.Data); err != nil || len(raw) > MaxActivityData {
		errs.Add("data", "too_large", "data must be an object of at most %d bytes as JSON / data 须为不超过 %d 字节的对象", MaxActivityData, MaxActivityData)
	}
	var f *spec.Field
	if m.ID == uuid.Nil {
		f = ent.Field(m.Field)
		switch {
		case m.Field == "":
			errs.Add("match", "required", "match names the record: {\"id\"} or {\"<unique field>\": value} / match 须指定记录")
		case f == nil || !identifies(ent, f):
			errs.Add("match."+m.Field, "not_unique", "%q is not a field that identifies one record (unique or a dedupe key) / 该字段不能唯一确定记录", m.Field)
		default:
			m.Value = Normalize(f, m.Value, "match."+m.Field, &errs)
			if isEmpty(m.Value) {
				errs.Add("match."+m.Field, "required", "the value to match is empty / 匹配值为空")
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	g := grantOf(w)
	if !g.Allowed() {
		return nil, ErrNotFound
	}
	tx, err := s.begin(ctx, w)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	id := m.ID
	if id == uuid.Nil {
		args := []any{}
		sql := `SELECT id FROM records WHERE ` + liveSQL(app, ent, &args) + ` AND ` + matchSQL(f, m.Value, &args) + ` ORDER BY created_at LIMIT 1`
		if err := tx.QueryRow(ctx, sql, args...).Scan(&id); errors.Is(err, pgx.ErrNoRows) {
			return nil, ErrNotFound
		} else if err != nil {
			return nil, fmt.Errorf("matching record: %w", err)
		}
	}
	rec, err := s.load(ctx, tx, app, entity, id, g, true)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	changes := map[string]any{"type": a.Type, "data": a.Data}
	if err := s.event(ctx, tx, app, ent.Slug, rec.ID, w, ActivityEvent, changes, now); err != nil {
		return nil, err
	}
	c := s.change(events.Activity, app, ent.Slug, rec, rec.Data, w, now)
	c.Activity = map[string]any{"type": a.Type, "data": a.Data, "at": now.UTC().Format(time.RFC3339Nano)}
	if err := s.fire(ctx, tx, c); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("committing activity: %w", err)
	}
	return visible(rec, g), nil
}

// identifies reports whether f's value picks one live record: a unique field or a one-field
// dedupe key.
func identifies(ent *spec.Entity, f *spec.Field) bool {
	if f.Unique {
		return true
	}
	if ent.Dedupe != nil {
		for _, k := range ent.Dedupe.Keys {
			if len(k) == 1 && k[0] == f.Key {
				return true
			}
		}
	}
	return false
}
