// Package records stores and queries the records of published entities: validation and
// normalisation per field type, dedupe, unique checks, stage gates, optimistic concurrency,
// row scopes and field rules, and the record_events history. Every write path (API, forms,
// imports, flows) goes through Store, so the same rules hold everywhere.
package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/dynjson"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/filter"
	"github.com/tessera/tessera/runtime/pgtx"
)

// Errors of the store. Validation problems are spec.Errors (422).
var (
	// ErrNotFound: no such entity or record, or the record is outside the caller's scope.
	ErrNotFound = errors.New("record not found")
	// ErrConflict: the expected version is stale (409).
	ErrConflict = errors.New("the record was changed by someone else; reload and try again")
	// ErrReadOnlyField: the write touches a field the caller may only read (403).
	ErrReadOnlyField = errors.New("field is read-only for you")
	// ErrForbidden: the grant does not allow the action at all (403).
	ErrForbidden = errors.New("not allowed")
)

// DuplicateError is returned when a dedupe key matches an existing record and the entity
// rejects duplicates, or the match is outside the caller's scope (409). ExistingID is
// uuid.Nil when the caller may not see the existing record.
type DuplicateError struct {
	ExistingID uuid.UUID
	Keys       []string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("a record with the same %s already exists (%s)", strings.Join(e.Keys, "+"), e.ExistingID)
}

// Options configure a Store.
type Options struct {
	// FilesDir is where uploaded files live (DataDir/files).
	FilesDir string
	// Now is the clock of writes (event times, creation and stage entry times); nil: time.Now.
	Now func() time.Time
	// Grants answers a subject's grant for an action on a resource ("entity:<slug>") of an app
	// (the server wires its authorizer). A dedupe hit merges only for a writer whose read and
	// update grants cover the matched record. nil: the write's own grant stands for both.
	Grants func(ctx context.Context, sub access.Subject, appID uuid.UUID, resource, action string) (access.Grant, error)
}

// Store reads and writes records.
type Store struct {
	pool  *pgxpool.Pool
	defs  *defs.Loader
	opts  Options
	hooks []events.Hook
	// batch holds, per hook, its form for many changes at once (nil: called once per change)
	batch []events.BatchHook
	// quiet holds, per hook, its test for a change it has nothing to do for (nil: none)
	quiet []events.Quiet
	progs programs
	now   func() time.Time
	// traceQuery, when set (tests), sees every list query before it runs.
	traceQuery func(sql string, args []any)
}

// New returns a store.
func New(pool *pgxpool.Pool, loader *defs.Loader, opts Options) *Store {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Store{pool: pool, defs: loader, opts: opts, now: now}
}

// Options returns the store's options.
func (s *Store) Options() Options { return s.opts }

// OnChange registers a hook that runs inside every write transaction (register at start-up,
// before serving). An error from a hook rolls the write back.
func (s *Store) OnChange(h events.Hook) { s.OnChanges(h, nil, nil) }

// OnChanges registers a hook with its form for many changes of one write (a bulk import
// reports a batch of created records at once; batch nil: h is called per change) and the test
// that says it has nothing to do for a change (quiet nil: it always may).
func (s *Store) OnChanges(h events.Hook, batch events.BatchHook, quiet events.Quiet) {
	s.hooks = append(s.hooks, h)
	s.batch = append(s.batch, batch)
	s.quiet = append(s.quiet, quiet)
}

// quietFor reports that no hook has anything to do for any of cs.
func (s *Store) quietFor(ctx context.Context, cs ...events.Change) (bool, error) {
	for _, q := range s.quiet {
		if q == nil {
			return false, nil
		}
		for _, c := range cs {
			if ok, err := q(ctx, c); err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}

// Record is one record as the API shows it.
type Record struct {
	ID        uuid.UUID      `json:"id"`
	Entity    string         `json:"entity"`
	Data      map[string]any `json:"data"`
	Version   int            `json:"version"`
	OwnerID   *uuid.UUID     `json:"owner_id"`
	TeamID    *uuid.UUID     `json:"team_id"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Merged    bool           `json:"merged,omitempty"`
	// Display maps the relation, user and team ids the record holds (and its owner and team) to
	// their names, when the caller asked for them (see Store.Display).
	Display map[string]string `json:"display,omitempty"`
	// Receipt, when set, is all the writer may learn of a Create (see intake.go): the other
	// fields are empty and the record encodes as the receipt.
	Receipt *events.Receipt `json:"-"`
}

// MarshalJSON encodes a receipt-only answer as the receipt, so no caller can return more.
func (r *Record) MarshalJSON() ([]byte, error) {
	if r.Receipt != nil {
		return json.Marshal(r.Receipt)
	}
	// written out (the data with dynjson): the same bytes as encoding/json gives for the struct,
	// without its reflection (TestRecordJSON)
	b := make([]byte, 0, 256)
	b = append(b, `{"id":"`...)
	b = append(b, r.ID.String()...)
	b = append(dynjson.AppendString(append(b, `","entity":`...), r.Entity), `,"data":`...)
	b, err := dynjson.Object(b, r.Data)
	if err != nil {
		return nil, err
	}
	b = strconv.AppendInt(append(b, `,"version":`...), int64(r.Version), 10)
	b = appendIDOrNull(append(b, `,"owner_id":`...), r.OwnerID)
	b = appendIDOrNull(append(b, `,"team_id":`...), r.TeamID)
	for _, t := range []struct {
		key string
		at  time.Time
	}{{`,"created_at":`, r.CreatedAt}, {`,"updated_at":`, r.UpdatedAt}} {
		ts, err := t.at.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("json: error calling MarshalJSON for type time.Time: %w", err)
		}
		b = append(append(b, t.key...), ts...)
	}
	if r.Merged {
		b = append(b, `,"merged":true`...)
	}
	if len(r.Display) > 0 {
		keys := make([]string, 0, len(r.Display))
		for k := range r.Display {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, `,"display":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = dynjson.AppendString(append(dynjson.AppendString(b, k), ':'), r.Display[k])
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendIDOrNull(b []byte, id *uuid.UUID) []byte {
	if id == nil {
		return append(b, "null"...)
	}
	return append(append(append(b, '"'), id.String()...), '"')
}

// WriteOptions say who writes and how.
type WriteOptions struct {
	Actor  access.Subject
	Grant  access.Grant
	Source string // api, form:<slug>, import, flow:<slug>
	Form   string // form slug when the write is a form submission
	// Tx joins the caller's transaction (a savepoint is used); nil opens one.
	Tx pgx.Tx
	// NoSavepoint writes straight in Tx, without a savepoint: a failed write aborts the
	// caller's transaction (an inline flow working, which then hands the run to the queue).
	NoSavepoint bool
	// Entity and EntityVersion, when Entity is set, are the published entity definition to
	// write with (callers that loaded it already save the look-up); otherwise the current
	// published version is loaded.
	Entity        *spec.Entity
	EntityVersion int
	// IfVersion, when set, makes Delete fail with ErrConflict unless the record is at this
	// version (an HTTP If-Match); Update takes its expected version as an argument.
	IfVersion *int
	// LinkGrant, when set, is the writer's read grant on another entity: a relation value may
	// then only link records the writer can read (others are "not found", like missing ones,
	// so a link never reveals that a record exists). Unchanged links are not re-checked.
	LinkGrant func(ctx context.Context, entity string) (access.Grant, error)
	// Files lists file ids the writer may attach although it did not upload them (the uploads
	// an anonymous visitor's one-time tokens of a public form stand for).
	Files map[string]bool
	// noKeyLock: the dedupe look-up takes no advisory lock on the key. An import's one-by-one
	// rows set it: their locks lasted to the import's commit, one per row, and a re-import of
	// some 10,000 existing records ran PostgreSQL out of lock space ("out of shared memory").
	// The import's other rows take none either; a merge still locks its record (FOR UPDATE).
	noKeyLock bool
}

// ListQuery selects records.
type ListQuery struct {
	Filter json.RawMessage
	Sort   string
	Limit  int
	Cursor string
	Q      string
}

// Page is one page of records.
type Page struct {
	Items      []*Record `json:"items"`
	NextCursor *string   `json:"next_cursor"`
	// Display maps the ids the page's records hold to names (see Store.Display).
	Display map[string]string `json:"display,omitempty"`
}

// Event is one history entry of a record.
type Event struct {
	ID      int64          `json:"id"`
	At      time.Time      `json:"at"`
	Actor   *uuid.UUID     `json:"actor"`
	Kind    string         `json:"kind"`
	Changes map[string]any `json:"changes"`
	// ActorName is the actor's name (filled by callers that resolved it).
	ActorName string `json:"actor_name,omitempty"`
}

// q is what both a pool and a transaction can do.
type q interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) entity(ctx context.Context, app *defs.App, slug string) (*spec.Entity, int, error) {
	if app == nil {
		return nil, 0, ErrNotFound
	}
	ent, ver, err := s.defs.Entity(ctx, app.ID, slug)
	if errors.Is(err, defs.ErrNotFound) {
		return nil, 0, fmt.Errorf("entity %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return nil, 0, err
	}
	return ent, ver, nil
}

// entityFor returns the entity a write uses: the pinned one of w, or the published one.
func (s *Store) entityFor(ctx context.Context, app *defs.App, slug string, w WriteOptions) (*spec.Entity, int, error) {
	if w.Entity != nil && w.Entity.Slug == slug && app != nil {
		return w.Entity, w.EntityVersion, nil
	}
	return s.entity(ctx, app, slug)
}

// grantOf returns the grant of a write, defaulting to all for system work.
func grantOf(w WriteOptions) access.Grant {
	if w.Grant.Scope == "" && (w.Actor.System || w.Actor.IsAdmin) {
		return access.All()
	}
	return w.Grant
}

// begin opens a transaction, or a savepoint inside the caller's.
func (s *Store) begin(ctx context.Context, w WriteOptions) (pgx.Tx, error) {
	if w.Tx != nil && w.NoSavepoint {
		return joined{w.Tx}, nil
	}
	if w.Tx != nil {
		return w.Tx.Begin(ctx)
	}
	return s.pool.Begin(ctx)
}

// joined is the caller's transaction, written in directly: its owner commits or rolls back.
type joined struct{ pgx.Tx }

func (joined) Commit(context.Context) error   { return nil }
func (joined) Rollback(context.Context) error { return nil }

const recordCols = `id, data, version, owner_id, team_id, created_at, updated_at`

func scanRecord(row pgx.Row, entity string) (*Record, error) {
	r := &Record{Entity: entity}
	var raw []byte
	if err := row.Scan(&r.ID, &raw, &r.Version, &r.OwnerID, &r.TeamID, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, err
	}
	if err := decodeData(raw, &r.Data); err != nil {
		return nil, fmt.Errorf("decoding record data: %w", err)
	}
	return r, nil
}

func decodeData(raw []byte, into *map[string]any) error {
	if len(raw) > 0 {
		// the usual case, an object, without encoding/json's reflection (same values)
		if v, err := dynjson.Unmarshal(raw, false); err == nil {
			if m, ok := v.(map[string]any); ok {
				*into = m
				return nil
			}
		}
	}
	m := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
	}
	*into = m
	return nil
}

// visible removes hidden fields from a record.
func visible(r *Record, g access.Grant) *Record {
	for k := range g.Hidden {
		delete(r.Data, k)
	}
	return r
}

// Get returns one record inside the grant's scope.
func (s *Store) Get(ctx context.Context, app *defs.App, entity string, id uuid.UUID, g access.Grant) (*Record, error) {
	if _, _, err := s.entity(ctx, app, entity); err != nil {
		return nil, err
	}
	if !g.Allowed() {
		return nil, ErrNotFound
	}
	r, err := s.load(ctx, s.pool, app, entity, id, g, false)
	if err != nil {
		return nil, err
	}
	return visible(r, g), nil
}

func (s *Store) load(ctx context.Context, db q, app *defs.App, entity string, id uuid.UUID, g access.Grant, forUpdate bool) (*Record, error) {
	args := []any{app.ID, entity, id}
	sql := `SELECT ` + recordCols + ` FROM records r WHERE r.app_id = $1 AND r.entity = $2 AND r.id = $3 AND r.deleted_at IS NULL`
	if p := g.RowPredicate("r", &args); p != "" {
		sql += " AND " + p
	}
	if forUpdate {
		sql += " FOR UPDATE"
	}
	r, err := scanRecord(db.QueryRow(ctx, sql, args...), entity)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("loading record: %w", err)
	}
	return r, nil
}

// checkReadOnly rejects values for read-only fields.
func checkReadOnly(values map[string]any, g access.Grant) error {
	keys := make([]string, 0)
	for k := range values {
		if g.ReadOnly[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		return &ReadOnlyError{Fields: keys}
	}
	return nil
}

// ReadOnlyError names the read-only fields a write touched; it unwraps to ErrReadOnlyField.
type ReadOnlyError struct{ Fields []string }

func (e *ReadOnlyError) Error() string {
	return strings.Join(e.Fields, ", ") + ": " + ErrReadOnlyField.Error()
}

// Unwrap makes errors.Is(err, ErrReadOnlyField) hold.
func (e *ReadOnlyError) Unwrap() error { return ErrReadOnlyField }

// Create validates and inserts a record (or merges into a duplicate when the entity's dedupe
// says so, answering the existing record with Merged set). For an anonymous writer (see
// access.Subject.Anonymous) and for a writer who may not read and update the duplicate, a hit
// changes nothing and leaves a pending submission on the existing record instead (intake.go);
// anonymous writers get a receipt whether or not a record matched.
func (s *Store) Create(ctx context.Context, app *defs.App, entity string, values map[string]any, w WriteOptions) (*Record, error) {
	ent, ver, err := s.entityFor(ctx, app, entity, w)
	if err != nil {
		return nil, err
	}
	g := grantOf(w)
	if !g.Allowed() {
		return nil, ErrForbidden
	}
	// a read-only field sent empty (a form posting every field) sets nothing: only values count
	given := make(map[string]any, len(values))
	for k, v := range values {
		if !isEmpty(v) {
			given[k] = v
		}
	}
	if err := checkReadOnly(given, g); err != nil {
		return nil, err
	}
	data, errs := ValidateValues(ent, values, g.Hidden)
	now := s.now()
	s.applyDefaults(ent, data, values, w, now, &errs)
	for k, v := range data {
		if v == nil {
			delete(data, k)
		}
	}
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if f.Required && f.Type != spec.TypeAutonumber && f.Type != spec.TypeFormula && isEmpty(data[f.Key]) {
			requiredError(&errs, f)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	prog := s.progs.get(app.ID, ent, ver)

	var tx pgx.Tx
	if w.Tx == nil {
		tx = &pgtx.Lazy{Send: s.pool.SendBatch} // begins at its first statement (see solo below)
	} else if tx, err = s.begin(ctx, w); err != nil {
		return nil, fmt.Errorf("creating record: %w", err)
	}
	defer tx.Rollback(ctx)

	if err := s.resolveRefs(ctx, tx, app, ent, data, nil, w); err != nil {
		return nil, err
	}
	// Dedupe: lock the key values, then look for a live match. Anonymous intake also treats
	// unique fields as keys, so a unique value answers like a dedupe hit, not with a 422.
	intake := w.Actor.Anonymous()
	dup, keys, checked, err := s.findDuplicate(ctx, tx, app, ent, data, dedupeKeys(ent, intake), !w.noKeyLock)
	if err != nil {
		return nil, err
	}
	if dup != nil {
		rg, ug, err := s.mergeGrants(ctx, app, ent.Slug, w)
		if err != nil {
			return nil, err
		}
		canRead := !intake && rg.Allowed() && rg.Visible(dup.OwnerID, dup.TeamID)
		canUpdate := canRead && ug.Allowed() && ug.Visible(dup.OwnerID, dup.TeamID)
		if canRead && ent.Dedupe != nil && ent.Dedupe.OnDuplicate == "reject" {
			return nil, &DuplicateError{ExistingID: dup.ID, Keys: keys}
		}
		if !canUpdate {
			// never reveal or change a record the writer may not read and update: keep the
			// values as a pending submission for someone who may
			status := events.PendingReview
			if intake {
				status = events.Received
			}
			rcpt, err := s.submitIntake(ctx, tx, app, ent, dup, submitted(ent, values, data), keys, w, now, status)
			if err != nil {
				return nil, err
			}
			if err := tx.Commit(ctx); err != nil {
				return nil, fmt.Errorf("committing submission: %w", err)
			}
			return &Record{Receipt: rcpt}, nil
		}
		g = rg
		before := dup.Data
		rec, err := s.merge(ctx, tx, app, ent, prog, dup, data, w, now)
		if err != nil {
			return nil, err
		}
		if w.Form != "" {
			// a repeated form submission is still a submission (scoring, notifications)
			fc := s.change(events.Form, app, entity, rec, before, w, now)
			if err := s.fire(ctx, tx, fc); err != nil {
				return nil, err
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return nil, fmt.Errorf("committing merge: %w", err)
		}
		return visible(rec, g), nil
	}
	if err := s.autonumbers(ctx, tx, app, ent, data); err != nil {
		return nil, err
	}
	computeFormulas(ent, prog, data, map[string]any{}, now)
	if err := s.checkUnique(ctx, tx, app, ent, data, uuid.Nil, checked); err != nil {
		return nil, err
	}
	stage := stageOf(ent, data)
	initial := ""
	if ent.Stages != nil && len(ent.Stages.Order) > 0 {
		initial = ent.Stages.Order[0]
	}
	if stage != "" && stage != initial {
		if err := checkGates(ent, prog, "", stage, gateRecord(data, nil), map[string]any{}, now, s.counter(ctx, tx, app)); err != nil {
			return nil, err
		}
	}
	var owner *uuid.UUID
	if w.Actor.UserID != uuid.Nil {
		id := w.Actor.UserID
		owner = &id
	}
	// the data and its "created" changes ({key: [null, value]}), each value encoded once
	raw, created, err := dynjson.Created(data)
	if err != nil {
		return nil, fmt.Errorf("encoding record: %w", err)
	}
	id := newID()
	evs := []eventRow{{kind: events.Created, raw: created}}
	if stage != "" {
		evs = append(evs, eventRow{kind: events.Stage, changes: map[string]any{ent.Stages.Field: []any{nil, stage}}})
	}
	evSQL, args, err := eventsInsert(app, entity, id, w, now, evs)
	if err != nil {
		return nil, err
	}
	// The stage path (see migrations/00060_stage_paths.sql) starts with the initial stage,
	// entered now, like the stage event below.
	var path []string
	var pathIn []time.Time
	if stage != "" {
		path, pathIn = []string{stage}, []time.Time{now}
	}
	// The row and its events are one statement (#18): a data-modifying CTE whose foreign-key
	// checks run at the statement's end, when the record row exists. $1..$4 are shared with the
	// events insert (id, app, entity, now).
	n := len(args)
	args = append(args, raw, owner, w.Actor.TeamID, path, pathIn)
	// Anonymous intake also logs the submission that created the record (its receipt), in
	// the same statement; $5 is the events' actor.
	intakeSQL := ""
	var submission uuid.UUID
	if intake {
		submission = uuid.New()
		args = append(args, submission, w.Source)
		intakeSQL = fmt.Sprintf(`, i AS (INSERT INTO record_intake (id, app_id, entity, record_id, status, source, actor, created_at) VALUES ($%d, $2, $3, $1, '%s', $%d, $5, $4))`,
			n+6, IntakeCreated, n+7)
	}
	insert := fmt.Sprintf(`WITH r AS (INSERT INTO records (id, app_id, entity, data, owner_id, team_id, stage_path, stage_in, created_at, updated_at) VALUES ($1, $2, $3, $%d, $%d, $%d, $%d, $%d, $4, $4) RETURNING %s), e AS (%s)%s SELECT %s FROM r`,
		n+1, n+2, n+3, n+4, n+5, recordCols, evSQL, intakeSQL, recordCols)
	// The changes the hooks will hear of, known before the row exists (its id is generated
	// above; the values are data).
	c := s.change(events.Created, app, entity, &Record{ID: id, Data: data}, nil, w, now)
	c.New = true
	fired := []events.Change{c}
	if stage != "" && stage != initial {
		// entering the initial stage on create is not a stage change for triggers (the stage
		// event row above still records it for dwell analytics)
		sc := c
		sc.Kind, sc.ToStage = events.Stage, stage
		fired = append(fired, sc)
	}
	if w.Form != "" {
		fc := c
		fc.Kind, fc.Form = events.Form, w.Form
		fired = append(fired, fc)
	}
	// solo: nothing before needed the database (no dedupe key, unique field, autonumber,
	// relation or gate look-up), the writer is not anonymous intake (its receipt is written
	// too) and no hook has anything to do: the insert is the whole write, one statement
	// outside a transaction (#18).
	solo := false
	if lt, ok := tx.(*pgtx.Lazy); ok && !lt.Begun() && !intake {
		if solo, err = s.quietFor(ctx, fired...); err != nil {
			return nil, fmt.Errorf("creating record: %w", err)
		}
	}
	var q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	} = tx
	if solo {
		q = s.pool
	}
	rec, err := scanRecord(q.QueryRow(ctx, insert, args...), entity)
	if err != nil {
		return nil, s.writeError(ent, app, "inserting record", err)
	}
	if solo {
		return visible(rec, g), nil
	}
	for i := range fired {
		fired[i].Record = gateRecord(rec.Data, rec)
	}
	c = fired[0]
	var rcpt *events.Receipt
	if intake {
		rcpt = &events.Receipt{SubmissionID: submission, Status: events.Received}
		c.Submission = &rcpt.SubmissionID
	}
	for i := range fired {
		fired[i].Submission = c.Submission
		if err := s.fire(ctx, tx, fired[i]); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("committing record: %w", err)
	}
	if rcpt != nil {
		return &Record{Receipt: rcpt}, nil
	}
	return visible(rec, g), nil
}

// applyDefaults fills fields missing from values with their definition defaults ("$now",
// "$today" and "$me" are resolved) and the initial stage.
func (s *Store) applyDefaults(ent *spec.Entity, data, values map[string]any, w WriteOptions, now time.Time, errs *spec.Errors) {
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if _, given := values[f.Key]; given && !isEmpty(values[f.Key]) {
			continue
		}
		if len(f.Default) > 0 && string(f.Default) != "null" {
			var d any
			if err := json.Unmarshal(f.Default, &d); err == nil {
				switch d {
				case "$now":
					d = now.UTC().Format(time.RFC3339Nano)
				case "$today":
					d = now.Format("2006-01-02")
				case "$me":
					if w.Actor.UserID == uuid.Nil {
						continue
					}
					d = w.Actor.UserID.String()
				}
				var derrs spec.Errors
				if v := Normalize(f, d, f.Key, &derrs); v != nil && len(derrs) == 0 {
					data[f.Key] = v
				}
			}
		}
	}
	if st := ent.Stages; st != nil && st.Field != "" && len(st.Order) > 0 && isEmpty(data[st.Field]) {
		if _, given := values[st.Field]; !given {
			if f := ent.Field(st.Field); f != nil {
				data[st.Field] = st.Order[0]
			}
		}
	}
}

func stageOf(ent *spec.Entity, data map[string]any) string {
	if ent.Stages == nil || ent.Stages.Field == "" {
		return ""
	}
	s, _ := data[ent.Stages.Field].(string)
	return s
}

// gateRecord is the record as gates and formulas see it.
func gateRecord(data map[string]any, rec *Record) map[string]any {
	m := make(map[string]any, len(data)+4)
	for k, v := range data {
		m[k] = v
	}
	if rec != nil {
		m["id"] = rec.ID.String()
		m["created_at"] = rec.CreatedAt.UTC().Format(time.RFC3339Nano)
		if rec.OwnerID != nil {
			m["owner_id"] = rec.OwnerID.String()
		}
	}
	return m
}

// Update applies a partial change. expectedVersion, when set, must equal the stored version.
func (s *Store) Update(ctx context.Context, app *defs.App, entity string, id uuid.UUID, patch map[string]any, expectedVersion *int, w WriteOptions) (*Record, error) {
	ent, ver, err := s.entityFor(ctx, app, entity, w)
	if err != nil {
		return nil, err
	}
	g := grantOf(w)
	if !g.Allowed() {
		return nil, ErrForbidden
	}
	norm, errs := ValidateValues(ent, patch, g.Hidden)
	for k, v := range norm {
		if f := ent.Field(k); f != nil && f.Required && v == nil {
			requiredError(&errs, f)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	prog := s.progs.get(app.ID, ent, ver)
	now := s.now()
	tx, err := s.begin(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("updating record: %w", err)
	}
	defer tx.Rollback(ctx)
	cur, err := s.load(ctx, tx, app, entity, id, g, true)
	if err != nil {
		return nil, err
	}
	if expectedVersion != nil && *expectedVersion != cur.Version {
		return nil, ErrConflict
	}
	// read-only fields may be sent back unchanged (forms post whole records), not changed
	changedRO := map[string]any{}
	for k, v := range norm {
		if g.ReadOnly[k] && !reflect.DeepEqual(normJSON(v), normJSON(cur.Data[k])) {
			changedRO[k] = v
		}
	}
	if err := checkReadOnly(changedRO, g); err != nil {
		return nil, err
	}
	rec, err := s.apply(ctx, tx, app, ent, prog, cur, norm, w, now, events.Updated)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("committing update: %w", err)
	}
	return visible(rec, g), nil
}

// apply writes norm (normalised values; nil clears) over cur: references, formulas, unique,
// gates, the row, its events and the hooks. kind is Updated or Merged.
func (s *Store) apply(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity, prog *compiled, cur *Record, norm map[string]any, w WriteOptions, now time.Time, kind string) (*Record, error) {
	old := cur.Data
	data := make(map[string]any, len(old)+len(norm))
	for k, v := range old {
		data[k] = v
	}
	for k, v := range norm {
		if v == nil {
			delete(data, k)
		} else {
			data[k] = v
		}
	}
	if err := s.resolveRefs(ctx, tx, app, ent, data, old, w); err != nil {
		return nil, err
	}
	computeFormulas(ent, prog, data, old, now)
	changes := map[string]any{}
	var changed []string
	for _, k := range unionKeys(old, data) {
		if !reflect.DeepEqual(normJSON(old[k]), normJSON(data[k])) {
			changes[k] = []any{old[k], data[k]}
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		if kind == events.Merged {
			// nothing new, but the repeated contact is activity: record it and tell the hooks
			if err := s.event(ctx, tx, app, ent.Slug, cur.ID, w, events.Merged, changes, now); err != nil {
				return nil, err
			}
			if err := s.fire(ctx, tx, s.change(events.Merged, app, ent.Slug, cur, old, w, now)); err != nil {
				return nil, err
			}
		}
		return cur, nil
	}
	if err := s.checkUnique(ctx, tx, app, ent, data, cur.ID, nil); err != nil {
		return nil, err
	}
	from, to := stageOf(ent, old), stageOf(ent, data)
	if from != to && to != "" {
		if err := checkGates(ent, prog, from, to, gateRecord(data, cur), gateRecord(old, cur), now, s.counter(ctx, tx, app)); err != nil {
			return nil, err
		}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encoding record: %w", err)
	}
	var rec *Record
	if from != to {
		// A stage change also extends the stage path in the same statement (a record without a
		// path yet starts one from its previous stage, entered at creation).
		rec, err = scanRecord(tx.QueryRow(ctx, `UPDATE records SET data = $2, version = version + 1, updated_at = now(),
			stage_path = array_append(coalesce(stage_path, CASE WHEN $3::text IS NULL THEN '{}'::text[] ELSE ARRAY[$3::text] END), $4::text),
			stage_in = array_append(coalesce(stage_in, CASE WHEN $3::text IS NULL THEN '{}'::timestamptz[] ELSE ARRAY[created_at] END), $5::timestamptz)
			WHERE id = $1 RETURNING `+recordCols, cur.ID, raw, nilIfEmpty(from), nilIfEmpty(to), now), ent.Slug)
	} else {
		rec, err = scanRecord(tx.QueryRow(ctx, `UPDATE records SET data = $2, version = version + 1, updated_at = now()
			WHERE id = $1 RETURNING `+recordCols, cur.ID, raw), ent.Slug)
	}
	if err != nil {
		return nil, s.writeError(ent, app, "updating record", err)
	}
	if err := s.event(ctx, tx, app, ent.Slug, rec.ID, w, kind, changes, now); err != nil {
		return nil, err
	}
	if from != to {
		if err := s.event(ctx, tx, app, ent.Slug, rec.ID, w, events.Stage, map[string]any{ent.Stages.Field: []any{nilIfEmpty(from), nilIfEmpty(to)}}, now); err != nil {
			return nil, err
		}
	}
	c := s.change(events.Updated, app, ent.Slug, rec, old, w, now)
	c.Changed = changed
	if kind == events.Merged {
		c.Kind = events.Merged
	}
	if err := s.fire(ctx, tx, c); err != nil {
		return nil, err
	}
	if kind == events.Merged {
		// a merge is also an update for the triggers that watch updates
		uc := c
		uc.Kind = events.Updated
		if err := s.fire(ctx, tx, uc); err != nil {
			return nil, err
		}
	}
	if from != to {
		sc := c
		sc.Kind, sc.FromStage, sc.ToStage = events.Stage, from, to
		if err := s.fire(ctx, tx, sc); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// normJSON makes values comparable across a JSON round trip.
func normJSON(v any) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func unionKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// merge folds incoming values into the duplicate dup: fields empty in dup are filled, list
// fields (multiselect, multiple relations/users, attachments) get the union; other existing
// values are kept. It answers the updated record with Merged set.
func (s *Store) merge(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity, prog *compiled, dup *Record, data map[string]any, w WriteOptions, now time.Time) (*Record, error) {
	norm := map[string]any{}
	for k, v := range data {
		f := ent.Field(k)
		if f == nil || f.Type == spec.TypeAutonumber || f.Type == spec.TypeFormula {
			continue
		}
		cur, has := dup.Data[k]
		switch {
		case !has || isEmpty(cur):
			norm[k] = v
		case isList(v) && isList(cur):
			norm[k] = unionList(cur.([]any), v.([]any))
		}
	}
	rec, err := s.apply(ctx, tx, app, ent, prog, dup, norm, w, now, events.Merged)
	if err != nil {
		return nil, err
	}
	rec.Merged = true
	return rec, nil
}

func isList(v any) bool { _, ok := v.([]any); return ok }

func unionList(a, b []any) []any {
	out := append([]any{}, a...)
	seen := map[string]bool{}
	key := func(v any) string {
		if m, ok := v.(map[string]any); ok {
			return fmt.Sprint(m["id"])
		}
		return fmt.Sprint(v)
	}
	for _, v := range a {
		seen[key(v)] = true
	}
	for _, v := range b {
		if !seen[key(v)] {
			seen[key(v)] = true
			out = append(out, v)
		}
	}
	return out
}

// Delete soft-deletes a record inside the grant's scope.
func (s *Store) Delete(ctx context.Context, app *defs.App, entity string, id uuid.UUID, w WriteOptions) error {
	if _, _, err := s.entity(ctx, app, entity); err != nil {
		return err
	}
	g := grantOf(w)
	if !g.Allowed() {
		return ErrForbidden
	}
	now := s.now()
	tx, err := s.begin(ctx, w)
	if err != nil {
		return fmt.Errorf("deleting record: %w", err)
	}
	defer tx.Rollback(ctx)
	cur, err := s.load(ctx, tx, app, entity, id, g, true)
	if err != nil {
		return err
	}
	if w.IfVersion != nil && cur.Version != *w.IfVersion {
		return ErrConflict
	}
	if _, err := tx.Exec(ctx, `UPDATE records SET deleted_at = now(), version = version + 1, updated_at = now() WHERE id = $1`, id); err != nil {
		return fmt.Errorf("deleting record: %w", err)
	}
	if err := s.event(ctx, tx, app, entity, id, w, events.Deleted, map[string]any{}, now); err != nil {
		return err
	}
	c := s.change(events.Deleted, app, entity, cur, cur.Data, w, now)
	c.Record = nil
	if err := s.fire(ctx, tx, c); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing delete: %w", err)
	}
	return nil
}

// History lists the events of a record in the grant's scope (hidden fields removed).
func (s *Store) History(ctx context.Context, app *defs.App, entity string, id uuid.UUID, g access.Grant) ([]Event, error) {
	if _, _, err := s.entity(ctx, app, entity); err != nil {
		return nil, err
	}
	if !g.Allowed() {
		return nil, ErrNotFound
	}
	args := []any{app.ID, entity, id}
	sql := `SELECT 1 FROM records r WHERE r.app_id = $1 AND r.entity = $2 AND r.id = $3`
	if p := g.RowPredicate("r", &args); p != "" {
		sql += " AND " + p
	}
	var one int
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("loading record: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, kind, changes FROM record_events WHERE record_id = $1 AND app_id = $2 ORDER BY at, id`, id, app.ID)
	if err != nil {
		return nil, fmt.Errorf("loading history: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var raw []byte
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Kind, &raw); err != nil {
			return nil, fmt.Errorf("reading history: %w", err)
		}
		if err := decodeData(raw, &e.Changes); err != nil {
			return nil, fmt.Errorf("decoding history: %w", err)
		}
		had := len(e.Changes)
		for k := range g.Hidden {
			delete(e.Changes, k)
		}
		if had > 0 && len(e.Changes) == 0 && e.Kind != "created" && e.Kind != "deleted" {
			// A change of hidden fields only: showing an empty event would reveal that something
			// the caller cannot see exists and changed.
			continue
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// eventRow is one record_events row to write.
type eventRow struct {
	kind    string
	changes map[string]any
	raw     []byte // the changes already encoded (then changes is unused)
}

// eventsInsert builds one INSERT for several events of a record.
func eventsInsert(app *defs.App, entity string, id uuid.UUID, w WriteOptions, now time.Time, evs []eventRow) (string, []any, error) {
	var actor *uuid.UUID
	if w.Actor.UserID != uuid.Nil {
		a := w.Actor.UserID
		actor = &a
	}
	args := []any{id, app.ID, entity, now, actor}
	var vals []string
	for _, e := range evs {
		raw := e.raw
		if raw == nil {
			var err error
			if raw, err = dynjson.Marshal(e.changes); err != nil {
				return "", nil, fmt.Errorf("encoding changes: %w", err)
			}
		}
		args = append(args, e.kind, raw)
		vals = append(vals, fmt.Sprintf("($1, $2, $3, $4, $5, $%d, $%d)", len(args)-1, len(args)))
	}
	return `INSERT INTO record_events (record_id, app_id, entity, at, actor, kind, changes) VALUES ` + strings.Join(vals, ", "), args, nil
}

func (s *Store) event(ctx context.Context, tx pgx.Tx, app *defs.App, entity string, id uuid.UUID, w WriteOptions, kind string, changes map[string]any, now time.Time) error {
	var actor *uuid.UUID
	if w.Actor.UserID != uuid.Nil {
		a := w.Actor.UserID
		actor = &a
	}
	raw, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("encoding changes: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO record_events (record_id, app_id, entity, at, actor, kind, changes) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, app.ID, entity, now, actor, kind, raw); err != nil {
		return fmt.Errorf("writing %s event: %w", kind, err)
	}
	return nil
}

func (s *Store) change(kind string, app *defs.App, entity string, rec *Record, old map[string]any, w WriteOptions, now time.Time) events.Change {
	var actor *uuid.UUID
	if w.Actor.UserID != uuid.Nil {
		a := w.Actor.UserID
		actor = &a
	}
	c := events.Change{Kind: kind, AppID: app.ID, AppSlug: app.Slug, Entity: entity, RecordID: rec.ID,
		Record: gateRecord(rec.Data, rec), Old: old, Form: w.Form, Actor: actor, At: now, Intake: w.Actor.Anonymous()}
	if kind == events.Created {
		for k := range rec.Data {
			c.Changed = append(c.Changed, k)
		}
		sort.Strings(c.Changed)
	}
	return c
}

func (s *Store) fire(ctx context.Context, tx pgx.Tx, c events.Change) error {
	for _, h := range s.hooks {
		if err := h(ctx, tx, c); err != nil {
			return fmt.Errorf("record %s hook: %w", c.Kind, err)
		}
	}
	return nil
}

// fireBatch tells every hook about many changes of one transaction (in order).
func (s *Store) fireBatch(ctx context.Context, tx pgx.Tx, cs []events.Change) error {
	if len(cs) == 0 {
		return nil
	}
	for i, h := range s.hooks {
		if b := s.batch[i]; b != nil {
			if err := b(ctx, tx, cs); err != nil {
				return fmt.Errorf("record hook: %w", err)
			}
			continue
		}
		for _, c := range cs {
			if err := h(ctx, tx, c); err != nil {
				return fmt.Errorf("record %s hook: %w", c.Kind, err)
			}
		}
	}
	return nil
}

// writeError maps unique violations from the expression indexes to field errors.
func (s *Store) writeError(ent *spec.Entity, app *defs.App, step string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		for i := range ent.Fields {
			f := &ent.Fields[i]
			if f.Unique && IndexName(app.ID, ent.Slug, f) == pe.ConstraintName {
				return spec.Errors{{Field: f.Key, Code: "unique", Message: fmt.Sprintf("%s must be unique: another record has this value (该值已存在)", fieldLabel(f))}}
			}
		}
		return spec.Errors{{Field: "$", Code: "unique", Message: "a unique value is already taken (值重复)"}}
	}
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22") {
		return spec.Errors{{Field: "$", Code: "invalid_value", Message: "a value cannot be stored (值无法保存)"}}
	}
	return fmt.Errorf("%s: %w", step, err)
}

// checkUnique reports unique fields whose value another live record already has (one round
// trip for all fields). skip names fields already proven unique in this transaction.
func (s *Store) checkUnique(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity, data map[string]any, self uuid.UUID, skip map[string]bool) error {
	args := []any{self}
	var exists []string
	var fields []*spec.Field
	for i := range ent.Fields {
		f := &ent.Fields[i]
		v, ok := data[f.Key]
		if !f.Unique || !ok || isEmpty(v) || skip[f.Key] {
			continue
		}
		exists = append(exists, "EXISTS (SELECT 1 FROM records WHERE "+liveSQL(app, ent, &args)+" AND id <> $1 AND "+matchSQL(f, v, &args)+")")
		fields = append(fields, f)
	}
	if len(fields) == 0 {
		return nil
	}
	var found []bool
	if err := tx.QueryRow(ctx, "SELECT ARRAY["+strings.Join(exists, ", ")+"]", args...).Scan(&found); err != nil {
		return fmt.Errorf("checking unique fields: %w", err)
	}
	var errs spec.Errors
	for i, f := range fields {
		if i < len(found) && found[i] {
			errs.Add(f.Key, "unique", "%s must be unique: another record has this value (该值已存在)", fieldLabel(f))
		}
	}
	return errs.Err()
}

// counter returns the countRecords helper of gates, reading inside tx (at most 20 calls per
// write).
func (s *Store) counter(ctx context.Context, tx pgx.Tx, app *defs.App) CountFunc {
	calls := 0
	return func(entity string, f map[string]any) (int, error) {
		calls++
		if calls > 20 {
			return 0, errors.New("countRecords called too often")
		}
		ent, _, err := s.entity(ctx, app, entity)
		if err != nil {
			return 0, err
		}
		raw, err := json.Marshal(f)
		if err != nil {
			return 0, err
		}
		var args []any
		cond := liveSQL(app, ent, &args)
		pred, err := filter.Compile(raw, ent, nil, "", &args)
		if err != nil {
			return 0, err
		}
		if pred != "" {
			cond += " AND " + pred
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM records WHERE `+cond, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("counting %s: %w", entity, err)
		}
		return n, nil
	}
}

// liveSQL restricts to the live records of the entity. The app id and the validated slug are
// inlined as literals so the planner can use the partial expression indexes of the entity.
func liveSQL(app *defs.App, ent *spec.Entity, args *[]any) string {
	if slugRe.MatchString(ent.Slug) {
		return fmt.Sprintf("app_id = '%s' AND entity = %s AND deleted_at IS NULL", app.ID.String(), quoteLit(ent.Slug))
	}
	*args = append(*args, app.ID, ent.Slug)
	return fmt.Sprintf("app_id = $%d AND entity = $%d AND deleted_at IS NULL", len(*args)-1, len(*args))
}

// matchSQL is "field f equals the normalised value v", written with the same typed expression
// as the field's index.
func matchSQL(f *spec.Field, v any, args *[]any) string {
	expr, kind := filter.FieldExpr("", f)
	arg := func(x any, cast string) string {
		*args = append(*args, x)
		return fmt.Sprintf("$%d%s", len(*args), cast)
	}
	switch kind {
	case filter.KindNumeric:
		if n, ok := numberOf(v); ok {
			return expr + " = " + arg(strconv.FormatFloat(n, 'f', -1, 64), "::numeric")
		}
	case filter.KindDate, filter.KindTimestamp:
		if s, ok := v.(string); ok {
			return expr + " = " + arg(s, "::"+string(kind))
		}
	case filter.KindText:
		if s, ok := textOf(v); ok {
			return expr + " = " + arg(s, "::text")
		}
	}
	raw, _ := json.Marshal(v)
	return fmt.Sprintf("data->%s = %s", quoteLit(f.Key), arg(string(raw), "::jsonb"))
}

// findDuplicate looks for a live record matching one of the entity's dedupe keys, holding a
// transaction advisory lock per key value so concurrent writers of the same key serialise
// (locks are taken in the order of the keys, then the look-ups run, all in one round trip).
// checked lists the fields of single-field keys that were looked up without a match: their
// values are unique among live records, so the unique check can skip them.
func (s *Store) findDuplicate(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity, data map[string]any, dedupe [][]string, lock bool) (dup *Record, key []string, checked map[string]bool, err error) {
	if len(dedupe) == 0 {
		return nil, nil, nil, nil
	}
	b := &pgx.Batch{}
	var keys [][]string
	var lookups []string
	var lookupArgs [][]any
	for _, k := range dedupe {
		if len(k) == 0 {
			continue
		}
		match := map[string]any{}
		complete := true
		for _, f := range k {
			v, ok := data[f]
			if !ok || isEmpty(v) || ent.Field(f) == nil {
				complete = false
				break
			}
			match[f] = v
		}
		if !complete {
			continue
		}
		if lock {
			raw, _ := json.Marshal(match)
			b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, app.ID.String()+"|"+ent.Slug+"|"+string(raw))
		}
		var args []any
		cond := liveSQL(app, ent, &args)
		for _, f := range k {
			cond += " AND " + matchSQL(ent.Field(f), match[f], &args)
		}
		keys = append(keys, k)
		lookups = append(lookups, `SELECT `+recordCols+` FROM records WHERE `+cond+` ORDER BY created_at, id LIMIT 1 FOR UPDATE`)
		lookupArgs = append(lookupArgs, args)
	}
	if len(keys) == 0 {
		return nil, nil, nil, nil
	}
	for i := range lookups {
		b.Queue(lookups[i], lookupArgs[i]...)
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	for range keys {
		if !lock {
			break
		}
		if _, err := br.Exec(); err != nil {
			return nil, nil, nil, fmt.Errorf("locking dedupe key: %w", err)
		}
	}
	checked = map[string]bool{}
	for i, k := range keys {
		rec, err := scanRecord(br.QueryRow(), ent.Slug)
		if errors.Is(err, pgx.ErrNoRows) {
			if len(k) == 1 {
				checked[k[0]] = true
			}
			continue
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("looking for duplicates: %w", err)
		}
		if dup == nil {
			dup, key = rec, keys[i]
		}
	}
	if dup != nil {
		checked = nil
	}
	return dup, key, checked, nil
}

// autonumbers assigns the next counter value to every autonumber field (race-free: the
// counter row stays locked until the transaction ends).
func (s *Store) autonumbers(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity, data map[string]any) error {
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if f.Type != spec.TypeAutonumber {
			continue
		}
		var n int64
		if err := tx.QueryRow(ctx, `INSERT INTO record_counters (app_id, entity, field, value) VALUES ($1, $2, $3, 1)
			ON CONFLICT (app_id, entity, field) DO UPDATE SET value = record_counters.value + 1 RETURNING value`,
			app.ID, ent.Slug, f.Key).Scan(&n); err != nil {
			return fmt.Errorf("numbering %s: %w", f.Key, err)
		}
		width := 4
		if f.Precision != nil && *f.Precision >= 0 && *f.Precision <= 18 {
			width = *f.Precision
		}
		data[f.Key] = fmt.Sprintf("%s%0*d", f.Prefix, width, n)
	}
	return nil
}

// resolveRefs checks users, teams and relations exist and fills attachment values from the
// files table. old holds the values before the write (files already attached stay allowed).
func (s *Store) resolveRefs(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity, data, old map[string]any, w WriteOptions) error {
	var errs spec.Errors
	for i := range ent.Fields {
		f := &ent.Fields[i]
		v, ok := data[f.Key]
		if !ok || v == nil {
			continue
		}
		if old != nil && reflect.DeepEqual(normJSON(old[f.Key]), normJSON(v)) && f.Type != spec.TypeAttachment {
			continue
		}
		if f.Type == spec.TypeLines {
			if err := s.resolveLines(ctx, tx, app, ent, f, data, old, w, &errs); err != nil {
				return err
			}
			continue
		}
		ids := idsOf(v)
		switch f.Type {
		case spec.TypeUser, spec.TypeTeam:
			table := "users"
			if f.Type == spec.TypeTeam {
				table = "teams"
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE id = ANY($1::uuid[])`, ids).Scan(&n); err != nil {
				return fmt.Errorf("checking %s: %w", f.Key, err)
			}
			if n != len(ids) {
				errs.Add(f.Key, "not_found", "unknown %s (不存在)", strings.TrimSuffix(table, "s"))
			}
		case spec.TypeRelation:
			target := f.Target
			if target == "" {
				target = ent.Slug
			}
			args := []any{ids, app.ID, target}
			sql := `SELECT count(*) FROM records r WHERE r.id = ANY($1::uuid[]) AND r.app_id = $2 AND r.entity = $3 AND r.deleted_at IS NULL`
			if w.LinkGrant != nil {
				lg, err := w.LinkGrant(ctx, target)
				if err != nil {
					return fmt.Errorf("checking %s: %w", f.Key, err)
				}
				if !lg.Allowed() {
					sql += " AND false"
				} else if pred := lg.RowPredicate("r", &args); pred != "" {
					sql += " AND " + pred
				}
			}
			var n int
			if err := tx.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
				return fmt.Errorf("checking %s: %w", f.Key, err)
			}
			if n != len(ids) {
				errs.Add(f.Key, "not_found", "the linked %s record does not exist (关联记录不存在)", target)
			}
		case spec.TypeAttachment:
			filled, err := s.fillFiles(ctx, tx, app, f, v, old[f.Key], w, &errs)
			if err != nil {
				return err
			}
			if filled != nil {
				data[f.Key] = filled
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return checkLineRows(ent, data)
}

func idsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, it := range x {
			switch y := it.(type) {
			case string:
				out = append(out, y)
			case map[string]any:
				if id, ok := y["id"].(string); ok {
					out = append(out, id)
				}
			}
		}
		return out
	}
	return nil
}

// fillFiles turns [{"id"}] into full attachment values from the files table.
func (s *Store) fillFiles(ctx context.Context, tx pgx.Tx, app *defs.App, f *spec.Field, v, oldV any, w WriteOptions, errs *spec.Errors) ([]any, error) {
	ids := idsOf(v)
	had := map[string]bool{}
	for _, id := range idsOf(oldV) {
		had[id] = true
	}
	rows, err := tx.Query(ctx, `SELECT id, name, type, size, uploaded_at, uploaded_by FROM files WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("loading files: %w", err)
	}
	type file struct {
		name, typ string
		size      int64
		at        time.Time
		by        *uuid.UUID
	}
	found := map[string]file{}
	for rows.Next() {
		var id uuid.UUID
		var fl file
		if err := rows.Scan(&id, &fl.name, &fl.typ, &fl.size, &fl.at, &fl.by); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading files: %w", err)
		}
		found[id.String()] = fl
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading files: %w", err)
	}
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		fl, ok := found[id]
		if !ok {
			errs.Add(f.Key, "not_found", "file %s does not exist (文件不存在)", id)
			continue
		}
		if !had[id] && !w.Actor.System && !w.Actor.IsAdmin && !w.Files[id] && (fl.by == nil || *fl.by != w.Actor.UserID) {
			errs.Add(f.Key, "not_found", "file %s does not exist (文件不存在)", id)
			continue
		}
		if len(f.Accept) > 0 && !Accepts(f.Accept, fl.typ, fl.name) {
			errs.Add(f.Key, "file_type", "file type %s is not accepted here (不支持的文件类型)", fl.typ)
			continue
		}
		if f.MaxSize > 0 && fl.size > f.MaxSize {
			errs.Add(f.Key, "file_size", "file is larger than %d bytes (文件过大)", f.MaxSize)
			continue
		}
		out = append(out, map[string]any{"id": id, "name": fl.name, "type": fl.typ, "size": fl.size,
			"uploaded_at": fl.at.UTC().Format(time.RFC3339Nano)})
		if !had[id] {
			if _, err := tx.Exec(ctx, `UPDATE files SET app_id = COALESCE(app_id, $2) WHERE id = $1`, id, app.ID); err != nil {
				return nil, fmt.Errorf("linking file: %w", err)
			}
		}
	}
	return out, nil
}

// Accepts reports whether a file of type typ named name matches an accept list (MIME types,
// "type/*" or extensions such as ".pdf").
func Accepts(accept []string, typ, name string) bool {
	typ, name = strings.ToLower(typ), strings.ToLower(name)
	for _, a := range accept {
		a = strings.ToLower(strings.TrimSpace(a))
		switch {
		case a == typ || a == "*/*":
			return true
		case strings.HasSuffix(a, "/*") && strings.HasPrefix(typ, strings.TrimSuffix(a, "*")):
			return true
		case strings.HasPrefix(a, ".") && strings.HasSuffix(name, a):
			// an extension, as in the HTML accept attribute (".pdf")
			return true
		}
	}
	return false
}
