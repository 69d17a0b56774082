package records

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/events"
)

// StageStep is one entry of a generated record's stage history: the stage it entered and when.
type StageStep struct {
	Stage string
	At    time.Time
}

// InsertRow is one record of a bulk write: its values as a caller would send them, its owner and
// team, when it was created, and for an entity with stages the stages it went through in order
// (the first is the stage it was created in; the last is its current stage).
type InsertRow struct {
	ID        uuid.UUID // optional; generated when nil
	Values    map[string]any
	Owner     *uuid.UUID
	Team      *uuid.UUID
	CreatedAt time.Time
	Stages    []StageStep
	// UpdatedAt is the last change (default: the last stage step or CreatedAt).
	UpdatedAt time.Time
}

// BulkInsert writes many records of one entity at once for generated data such as the demo
// data of a template. Every row goes through the write path's validation and normalisation,
// defaults, autonumbers and formulas, and gets the history the write path would have written
// at its own times (a created event, one stage event per step), so reports and timelines read
// it like any other record; line items are filled from their chosen records as in a write.
// Unlike Create it runs no dedupe, gates, triggers or flows, and does not check that users
// and related records of the record itself exist: the caller generates consistent values. A row that fails validation fails the whole call, which writes nothing (one
// transaction, rows sent with COPY). It answers the ids in row order.
func (s *Store) BulkInsert(ctx context.Context, app *defs.App, entity string, rows []InsertRow) ([]uuid.UUID, error) {
	ent, ver, err := s.entity(ctx, app, entity)
	if err != nil {
		return nil, err
	}
	prog := s.progs.get(app.ID, ent, ver)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("bulk insert: %w", err)
	}
	defer tx.Rollback(ctx)
	next, err := reserveAutonumbers(ctx, tx, app, ent, len(rows))
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(rows))
	recRows := make([][]any, 0, len(rows))
	evRows := make([][]any, 0, len(rows)*2)
	for i, r := range rows {
		data, errs := ValidateValues(ent, r.Values, nil)
		created := r.CreatedAt
		if created.IsZero() {
			created = s.now()
		}
		w := WriteOptions{}
		if r.Owner != nil {
			w.Actor.UserID = *r.Owner
		}
		s.applyDefaults(ent, data, r.Values, w, created, &errs)
		for k, v := range data {
			if v == nil {
				delete(data, k)
			}
		}
		for j := range ent.Fields {
			f := &ent.Fields[j]
			if f.Required && f.Type != spec.TypeAutonumber && f.Type != spec.TypeFormula && isEmpty(data[f.Key]) {
				requiredError(&errs, f)
			}
		}
		// line items: check their links and copy what the fill mappings name (a product's
		// price) from the chosen records, as a write does
		for j := range ent.Fields {
			if f := &ent.Fields[j]; f.Type == spec.TypeLines {
				if err := s.resolveLines(ctx, tx, app, ent, f, data, nil, w, &errs); err != nil {
					return nil, err
				}
			}
		}
		if err := checkLineRows(ent, data); err != nil {
			return nil, fmt.Errorf("bulk insert of %s, row %d: %w", entity, i+1, err)
		}
		if len(errs) > 0 {
			return nil, fmt.Errorf("bulk insert of %s, row %d: %w", entity, i+1, errs)
		}
		for _, f := range next {
			data[f.key] = fmt.Sprintf("%s%0*d", f.prefix, f.width, f.first+int64(i))
		}
		var path []string
		var pathIn []time.Time
		var steps []StageStep
		if ent.Stages != nil && ent.Stages.Field != "" {
			steps = r.Stages
			if len(steps) == 0 {
				if st := stageOf(ent, data); st != "" {
					steps = []StageStep{{Stage: st, At: created}}
				}
			}
			if len(steps) > 0 {
				data[ent.Stages.Field] = steps[len(steps)-1].Stage
				for _, st := range steps {
					path, pathIn = append(path, st.Stage), append(pathIn, st.At)
				}
			}
		}
		computeFormulas(ent, prog, data, map[string]any{}, created)
		raw, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("encoding record: %w", err)
		}
		id := r.ID
		if id == uuid.Nil {
			id = newID()
		}
		ids[i] = id
		updated := r.UpdatedAt
		if updated.IsZero() {
			updated = created
			if len(steps) > 0 && steps[len(steps)-1].At.After(updated) {
				updated = steps[len(steps)-1].At
			}
		}
		recRows = append(recRows, []any{id, app.ID, entity, raw, r.Owner, r.Team, nilIfNoPath(path), nilIfNoTimes(pathIn), created, updated})
		changes := map[string]any{}
		for k, v := range data {
			changes[k] = []any{nil, v}
		}
		if ent.Stages != nil && len(steps) > 0 {
			changes[ent.Stages.Field] = []any{nil, steps[0].Stage}
		}
		cj, _ := json.Marshal(changes)
		evRows = append(evRows, []any{id, app.ID, entity, created, r.Owner, events.Created, cj})
		for k, st := range steps {
			var prev any
			if k > 0 {
				prev = steps[k-1].Stage
			}
			sj, _ := json.Marshal(map[string]any{ent.Stages.Field: []any{prev, st.Stage}})
			evRows = append(evRows, []any{id, app.ID, entity, st.At, r.Owner, events.Stage, sj})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"records"},
		[]string{"id", "app_id", "entity", "data", "owner_id", "team_id", "stage_path", "stage_in", "created_at", "updated_at"},
		pgx.CopyFromRows(recRows)); err != nil {
		return nil, s.writeError(ent, app, "bulk inserting records", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"record_events"},
		[]string{"record_id", "app_id", "entity", "at", "actor", "kind", "changes"},
		pgx.CopyFromRows(evRows)); err != nil {
		return nil, fmt.Errorf("bulk inserting record events: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("committing bulk insert: %w", err)
	}
	return ids, nil
}

func nilIfNoPath(p []string) any {
	if len(p) == 0 {
		return nil
	}
	return p
}

func nilIfNoTimes(p []time.Time) any {
	if len(p) == 0 {
		return nil
	}
	return p
}

// reservedNumbers is a block of autonumber values reserved for a bulk insert.
type reservedNumbers struct {
	key, prefix string
	width       int
	first       int64
}

// reserveAutonumbers takes n consecutive values of every autonumber counter of ent in one
// statement each (the counter row stays locked until the transaction ends).
func reserveAutonumbers(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity, n int) ([]reservedNumbers, error) {
	var out []reservedNumbers
	if n == 0 {
		return nil, nil
	}
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if f.Type != spec.TypeAutonumber {
			continue
		}
		var last int64
		if err := tx.QueryRow(ctx, `INSERT INTO record_counters (app_id, entity, field, value) VALUES ($1, $2, $3, $4)
			ON CONFLICT (app_id, entity, field) DO UPDATE SET value = record_counters.value + $4 RETURNING value`,
			app.ID, ent.Slug, f.Key, n).Scan(&last); err != nil {
			return nil, fmt.Errorf("numbering %s: %w", f.Key, err)
		}
		width := 4
		if f.Precision != nil && *f.Precision >= 0 && *f.Precision <= 18 {
			width = *f.Precision
		}
		out = append(out, reservedNumbers{key: f.Key, prefix: f.Prefix, width: width, first: last - int64(n) + 1})
	}
	return out, nil
}
