package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/events"
)

// RecordCall is one record operation a flow asks for.
type RecordCall struct {
	AppID   uuid.UUID
	Subject access.Subject
	Entity  string
	ID      uuid.UUID
	Values  map[string]any
	Filter  map[string]any
	Limit   int
}

// RecordStore is what record.* nodes and script host calls use; the server wires it to
// runtime/records. Records are returned in the API shape {"id","data","version","owner_id",
// "created_at","updated_at"}. Create and Update get a context carrying the step's
// idempotency key (EffectKey); stores that run events.Hook in their transaction get
// exactly-once writes from EffectsHook.
type RecordStore interface {
	Create(ctx context.Context, c RecordCall) (map[string]any, error)
	Get(ctx context.Context, c RecordCall) (map[string]any, error)
	Update(ctx context.Context, c RecordCall) (map[string]any, error)
	Delete(ctx context.Context, c RecordCall) error
	Find(ctx context.Context, c RecordCall) ([]map[string]any, error)
}

// ErrRecordNotFound is returned by stores for a missing record.
var ErrRecordNotFound = errors.New("record not found")

type effectKeyCtx struct{}

// effectMark is the idempotency key of one write; done is set once the key is stored, so the
// several changes one write reports (merged + updated, created + stage) store it once.
type effectMark struct {
	key  string
	done bool
}

// WithEffectKey returns ctx carrying an idempotency key for the write made with it.
func WithEffectKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, effectKeyCtx{}, &effectMark{key: key})
}

// EffectKey returns the idempotency key carried by ctx ("" when none).
func EffectKey(ctx context.Context) string {
	if m, ok := ctx.Value(effectKeyCtx{}).(*effectMark); ok {
		return m.key
	}
	return ""
}

// RecordEffect stores key -> record id in tx; a duplicate key fails the transaction, so a
// replayed write rolls back instead of writing twice.
func RecordEffect(ctx context.Context, tx pgx.Tx, key string, recordID uuid.UUID) error {
	return recordEffect(ctx, tx, key, recordID, nil)
}

// recordEffect stores key -> record id, and the receipt's submission id of an intake write
// (a replay then answers the receipt again, never the record).
func recordEffect(ctx context.Context, tx pgx.Tx, key string, recordID uuid.UUID, submission *uuid.UUID) error {
	if key == "" {
		return nil
	}
	_, err := tx.Exec(ctx, heldEffectsSQL, heldArgs([]heldEffect{{key: key, record: recordID, submission: submission}})...)
	if err != nil {
		return fmt.Errorf("recording effect %s: %w", key, err)
	}
	return nil
}

// EffectsHook is an events.Hook that records the idempotency key of flow-made writes in the
// writing transaction. Chain it with the trigger hook when wiring runtime/records. In a
// one-transaction working the key is held instead (heldEffects).
func EffectsHook(ctx context.Context, tx pgx.Tx, c events.Change) error {
	if !EffectPending(ctx, c) {
		return nil
	}
	m := ctx.Value(effectKeyCtx{}).(*effectMark)
	if h, ok := ctx.Value(heldKey{}).(*heldEffects); ok {
		h.add(heldEffect{key: m.key, record: c.RecordID, submission: c.Submission})
		m.done = true
		return nil
	}
	if err := recordEffect(ctx, tx, m.key, c.RecordID, c.Submission); err != nil {
		return err
	}
	m.done = true
	return nil
}

type heldKey struct{}

// heldEffects are the effects of the writes of a one-transaction working (workOnce), held in
// memory instead of written as they happen (#18: a statement and a round trip per write).
// A step that succeeds commits with its writes, so nothing replays it and its effect rows
// would never be read: they are dropped. A step that fails or waits after writing may be
// worked again under the same keys (a retry, a resumption), so its effects are written with
// it (keep). A script's host call may end after the script call it belongs to (a worker
// killed on a timeout), hence the mutex.
type heldEffects struct {
	mu   sync.Mutex
	rows []heldEffect
}

func (h *heldEffects) add(r heldEffect) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rows = append(h.rows, r)
}

// undoOnError returns a function to call with the outcome of a write made in a savepoint: when
// the write failed, its savepoint was rolled back, and the effects it held name undone writes.
func undoOnError(ctx context.Context) func(err error) {
	h, ok := ctx.Value(heldKey{}).(*heldEffects)
	if !ok {
		return func(error) {}
	}
	h.mu.Lock()
	n := len(h.rows)
	h.mu.Unlock()
	return func(err error) {
		if err == nil {
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.rows) > n {
			h.rows = h.rows[:n]
		}
	}
}

type heldEffect struct {
	key        string
	record     uuid.UUID
	submission *uuid.UUID
}

// heldEffectsSQL writes effects (key → record id and intake submission), any number in one
// statement: recordEffect's one, or a step's held ones.
const heldEffectsSQL = `INSERT INTO flow_effects (key, result)
	SELECT x.key, jsonb_strip_nulls(jsonb_build_object('id', x.id, 'submission', x.submission))
	FROM unnest($1::text[], $2::text[], $3::text[]) AS x(key, id, submission)`

// take removes and answers the held effects of the step whose key is stepKey (its own writes'
// keys are stepKey, or stepKey followed by ":" for a script's host calls or "[" for a foreach
// item's); all of them when stepKey is "".
func (h *heldEffects) take(stepKey string) []heldEffect {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.rows) == 0 {
		return nil // most steps write nothing
	}
	var mine, rest []heldEffect
	for _, r := range h.rows {
		if stepKey == "" || r.key == stepKey || strings.HasPrefix(r.key, stepKey+":") || strings.HasPrefix(r.key, stepKey+"[") {
			mine = append(mine, r)
		} else {
			rest = append(rest, r)
		}
	}
	h.rows = rest
	return mine
}

// heldArgs are heldEffectsSQL's arguments for rows.
func heldArgs(rows []heldEffect) []any {
	keys, ids, subs := make([]string, len(rows)), make([]string, len(rows)), make([]*string, len(rows))
	for i, r := range rows {
		keys[i], ids[i] = r.key, r.record.String()
		if r.submission != nil {
			s := r.submission.String()
			subs[i] = &s
		}
	}
	return []any{keys, ids, subs}
}

// keep writes in tx the held effects of the step keyed stepKey, which failed or waits after
// writing (a step that succeeded drops them with take).
func (h *heldEffects) keep(ctx context.Context, q querier, stepKey string) error {
	rows := h.take(stepKey)
	if len(rows) == 0 {
		return nil
	}
	if _, err := q.Exec(ctx, heldEffectsSQL, heldArgs(rows)...); err != nil {
		return fmt.Errorf("recording effects of %s: %w", stepKey, err)
	}
	return nil
}

// EffectPending reports whether EffectsHook would note c as the effect of the flow step
// writing it (ctx is a record step's, and its effect is not noted yet).
func EffectPending(ctx context.Context, c events.Change) bool {
	m, ok := ctx.Value(effectKeyCtx{}).(*effectMark)
	return ok && !m.done && (c.Kind == events.Created || c.Kind == events.Updated || c.Kind == events.Merged || c.Kind == events.Intake)
}

// lookupEffect returns the record id written earlier under key, and the submission id when
// the write was intake (its answer was a receipt).
func (e *Engine) lookupEffect(ctx context.Context, key string) (uuid.UUID, *uuid.UUID, bool, error) {
	if fresh(ctx) {
		return uuid.Nil, nil, false, nil // a run's first, inline working: nothing written before
	}
	var id string
	var sub *string
	err := e.Pool.QueryRow(ctx, `SELECT result->>'id', result->>'submission' FROM flow_effects WHERE key = $1`, key).Scan(&id, &sub)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, nil, false, nil
	}
	if err != nil {
		return uuid.Nil, nil, false, fmt.Errorf("looking up effect: %w", err)
	}
	u, err := uuid.Parse(id)
	if sub != nil {
		if s, serr := uuid.Parse(*sub); serr == nil {
			return u, &s, err == nil, nil
		}
	}
	return u, nil, err == nil, nil
}

// SQLRecords is a minimal RecordStore on the records table: no field validation, no dedupe.
// It runs Hooks in the writing transaction like runtime/records. Tests and the fallback use it.
type SQLRecords struct {
	Pool  *pgxpool.Pool
	Hooks []events.Hook
}

func recordJSON(id uuid.UUID, data []byte, version int, owner *uuid.UUID, created, updated time.Time) map[string]any {
	var d map[string]any
	_ = json.Unmarshal(data, &d)
	out := map[string]any{"id": id.String(), "data": d, "version": version, "created_at": created.Format(time.RFC3339Nano), "updated_at": updated.Format(time.RFC3339Nano)}
	if owner != nil {
		out["owner_id"] = owner.String()
	} else {
		out["owner_id"] = nil
	}
	return out
}

// beginner is the run's transaction of an inline working (writes take a savepoint in it), else
// the pool.
func (s *SQLRecords) beginner(ctx context.Context) interface {
	Begin(context.Context) (pgx.Tx, error)
} {
	if tx := RunTx(ctx); tx != nil {
		return tx
	}
	return s.Pool
}

func (s *SQLRecords) runHooks(ctx context.Context, tx pgx.Tx, c events.Change) error {
	if err := EffectsHook(ctx, tx, c); err != nil {
		return err
	}
	for _, h := range s.Hooks {
		if err := h(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

func owner(sub access.Subject) *uuid.UUID {
	if sub.UserID == uuid.Nil {
		return nil
	}
	u := sub.UserID
	return &u
}

// Create inserts a record.
func (s *SQLRecords) Create(ctx context.Context, c RecordCall) (map[string]any, error) {
	data, err := json.Marshal(c.Values)
	if err != nil {
		return nil, fmt.Errorf("encoding values: %w", err)
	}
	var out map[string]any
	undo := undoOnError(ctx) // the savepoint below undoes the write on an error
	err = pgx.BeginFunc(ctx, s.beginner(ctx), func(tx pgx.Tx) error {
		var id uuid.UUID
		var created, updated time.Time
		var own *uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO records (app_id, entity, data, owner_id, team_id) VALUES ($1, $2, $3, $4, $5)
			RETURNING id, owner_id, created_at, updated_at`, c.AppID, c.Entity, data, owner(c.Subject), c.Subject.TeamID).Scan(&id, &own, &created, &updated); err != nil {
			return fmt.Errorf("inserting record: %w", err)
		}
		out = recordJSON(id, data, 1, own, created, updated)
		return s.runHooks(ctx, tx, events.Change{Kind: events.Created, AppID: c.AppID, Entity: c.Entity, RecordID: id, Record: c.Values, Actor: owner(c.Subject), At: created})
	})
	undo(err)
	return out, err
}

// Get reads a record.
func (s *SQLRecords) Get(ctx context.Context, c RecordCall) (map[string]any, error) {
	var data []byte
	var version int
	var own *uuid.UUID
	var created, updated time.Time
	err := s.Pool.QueryRow(ctx, `SELECT data, version, owner_id, created_at, updated_at FROM records WHERE app_id = $1 AND entity = $2 AND id = $3 AND deleted_at IS NULL`,
		c.AppID, c.Entity, c.ID).Scan(&data, &version, &own, &created, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrRecordNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading record: %w", err)
	}
	return recordJSON(c.ID, data, version, own, created, updated), nil
}

// Update merges values into a record.
func (s *SQLRecords) Update(ctx context.Context, c RecordCall) (map[string]any, error) {
	patch, err := json.Marshal(c.Values)
	if err != nil {
		return nil, fmt.Errorf("encoding values: %w", err)
	}
	var out map[string]any
	undo := undoOnError(ctx)
	err = pgx.BeginFunc(ctx, s.beginner(ctx), func(tx pgx.Tx) error {
		var oldData, data []byte
		var version int
		var own *uuid.UUID
		var created, updated time.Time
		if err := tx.QueryRow(ctx, `SELECT data FROM records WHERE app_id = $1 AND entity = $2 AND id = $3 AND deleted_at IS NULL FOR UPDATE`, c.AppID, c.Entity, c.ID).Scan(&oldData); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrRecordNotFound
			}
			return fmt.Errorf("locking record: %w", err)
		}
		if err := tx.QueryRow(ctx, `UPDATE records SET data = data || $4, version = version + 1, updated_at = now()
			WHERE app_id = $1 AND entity = $2 AND id = $3 RETURNING data, version, owner_id, created_at, updated_at`, c.AppID, c.Entity, c.ID, patch).
			Scan(&data, &version, &own, &created, &updated); err != nil {
			return fmt.Errorf("updating record: %w", err)
		}
		out = recordJSON(c.ID, data, version, own, created, updated)
		var oldM, newM map[string]any
		_ = json.Unmarshal(oldData, &oldM)
		_ = json.Unmarshal(data, &newM)
		var changed []string
		for k := range c.Values {
			a, _ := json.Marshal(oldM[k])
			b, _ := json.Marshal(newM[k])
			if string(a) != string(b) {
				changed = append(changed, k)
			}
		}
		return s.runHooks(ctx, tx, events.Change{Kind: events.Updated, AppID: c.AppID, Entity: c.Entity, RecordID: c.ID, Record: newM, Old: oldM, Changed: changed, Actor: owner(c.Subject), At: updated})
	})
	undo(err)
	return out, err
}

// Delete soft-deletes a record (deleting a missing one is not an error).
func (s *SQLRecords) Delete(ctx context.Context, c RecordCall) error {
	return pgx.BeginFunc(ctx, s.beginner(ctx), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE records SET deleted_at = now() WHERE app_id = $1 AND entity = $2 AND id = $3 AND deleted_at IS NULL`, c.AppID, c.Entity, c.ID)
		if err != nil {
			return fmt.Errorf("deleting record: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return s.runHooks(ctx, tx, events.Change{Kind: events.Deleted, AppID: c.AppID, Entity: c.Entity, RecordID: c.ID, Actor: owner(c.Subject), At: time.Now()})
	})
}

// Find lists records whose fields equal the filter's values ({"stage":"new"} or
// {"stage":{"eq":"new"}}), newest first.
func (s *SQLRecords) Find(ctx context.Context, c RecordCall) ([]map[string]any, error) {
	match := map[string]any{}
	for k, v := range c.Filter {
		if m, ok := v.(map[string]any); ok {
			if eq, ok := m["eq"]; ok {
				v = eq
			} else {
				return nil, fmt.Errorf("filter on %s: only equality is supported by this store", k)
			}
		}
		match[k] = v
	}
	mj, _ := json.Marshal(match)
	limit := c.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.Pool.Query(ctx, `SELECT id, data, version, owner_id, created_at, updated_at FROM records
		WHERE app_id = $1 AND entity = $2 AND deleted_at IS NULL AND data @> $3 ORDER BY created_at DESC, id LIMIT $4`, c.AppID, c.Entity, mj, limit)
	if err != nil {
		return nil, fmt.Errorf("finding records: %w", err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var id uuid.UUID
		var data []byte
		var version int
		var own *uuid.UUID
		var created, updated time.Time
		if err := rows.Scan(&id, &data, &version, &own, &created, &updated); err != nil {
			return nil, fmt.Errorf("finding records: %w", err)
		}
		out = append(out, recordJSON(id, data, version, own, created, updated))
	}
	return out, rows.Err()
}
