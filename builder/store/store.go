// Package store keeps apps, definition drafts and their immutable published versions, and
// imports/exports whole apps as JSON bundles.
package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/builder/validate"
)

// Errors returned by the store.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)

// App is an application: a namespace of definitions, records and roles.
type App struct {
	ID        uuid.UUID       `json:"id"`
	Slug      string          `json:"slug"`
	Name      string          `json:"name"`
	Settings  json.RawMessage `json:"settings"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Definition is one entity, form, flow, report or dashboard with its current draft.
type Definition struct {
	ID               uuid.UUID       `json:"id"`
	Kind             string          `json:"kind"`
	Slug             string          `json:"slug"`
	Draft            json.RawMessage `json:"draft"`
	PublishedVersion int             `json:"published_version"`
	PublicID         *string         `json:"public_id,omitempty"`
	UpdatedAt        time.Time       `json:"updated_at"`
	// Modified is true when the draft differs from the published version.
	Modified bool `json:"modified"`
}

// Version is one immutable published version.
type Version struct {
	Version     int        `json:"version"`
	PublishedAt time.Time  `json:"published_at"`
	PublishedBy *uuid.UUID `json:"published_by"`
	// PublishedByName is the publisher's name (or email) for version lists.
	PublishedByName string          `json:"published_by_name,omitempty"`
	Body            json.RawMessage `json:"body,omitempty"`
}

// Hooks connect publishing to the runtime without builder importing it.
type Hooks struct {
	// Check runs extra semantic checks of a definition at publish (e.g. compiling a flow).
	Check func(ctx context.Context, app *App, kind string, def any, lk validate.Lookup) spec.Errors
	// Provision runs inside the publish transaction before the version goes live (indexes).
	Provision func(ctx context.Context, tx pgx.Tx, app *App, kind string, def any) error
	// ImportRoles installs a bundle's roles inside the import transaction.
	ImportRoles func(ctx context.Context, tx pgx.Tx, actor *uuid.UUID, app *App, roles json.RawMessage) error
	// ExportRoles returns an app's roles for a bundle.
	ExportRoles func(ctx context.Context, app *App) (json.RawMessage, error)
	// Catalog lists the node types flows may use (nil accepts any).
	Catalog validate.Catalog
}

// Store reads and writes definitions.
type Store struct {
	pool  *pgxpool.Pool
	hooks Hooks
}

// New returns a store on pool.
func New(pool *pgxpool.Pool, hooks Hooks) *Store { return &Store{pool: pool, hooks: hooks} }

// SetHooks replaces the hooks (the server wires the runtime in after construction).
func (s *Store) SetHooks(h Hooks) { s.hooks = h }

// Hooks returns the current hooks.
func (s *Store) Hooks() Hooks { return s.hooks }

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func audit(ctx context.Context, q querier, actor *uuid.UUID, action, target string, before, after any) error {
	var b, a []byte
	if before != nil {
		b, _ = json.Marshal(before)
	}
	if after != nil {
		a, _ = json.Marshal(after)
	}
	_, err := q.Exec(ctx, `INSERT INTO audit_log (actor, action, target, before, after) VALUES ($1, $2, $3, $4, $5)`, actor, action, target, b, a)
	if err != nil {
		return fmt.Errorf("writing audit log: %w", err)
	}
	return nil
}

const appCols = `id, slug, name, settings, created_at, updated_at`

func scanApp(row pgx.Row) (*App, error) {
	a := &App{}
	err := row.Scan(&a.ID, &a.Slug, &a.Name, &a.Settings, &a.CreatedAt, &a.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return a, err
}

// ValidateApp checks an app's slug, name and settings.
func ValidateApp(slug, name string, settings json.RawMessage) spec.Errors {
	var errs spec.Errors
	validate.Slug("slug", slug, &errs)
	if name == "" {
		errs.Add("name", "required", "name is required")
	} else if len([]rune(name)) > 200 {
		errs.Add("name", "too_long", "name must have at most 200 characters")
	}
	if len(settings) > 0 {
		var m map[string]any
		if err := json.Unmarshal(settings, &m); err != nil {
			errs.Add("settings", "invalid_type", "settings must be a JSON object")
		} else if tz, ok := m["timezone"]; ok {
			s, _ := tz.(string)
			if _, err := time.LoadLocation(s); err != nil || s == "" {
				errs.Add("settings.timezone", "invalid_timezone", "unknown time zone %v", tz)
			}
		}
	}
	return errs
}

// CreateApp creates an app.
func (s *Store) CreateApp(ctx context.Context, actor *uuid.UUID, slug, name string, settings json.RawMessage) (*App, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("creating app: %w", err)
	}
	defer tx.Rollback(ctx)
	a, err := createApp(ctx, tx, actor, slug, name, settings)
	if err != nil {
		return nil, err
	}
	return a, tx.Commit(ctx)
}

func createApp(ctx context.Context, tx pgx.Tx, actor *uuid.UUID, slug, name string, settings json.RawMessage) (*App, error) {
	if errs := ValidateApp(slug, name, settings); len(errs) > 0 {
		return nil, errs
	}
	if len(settings) == 0 {
		settings = json.RawMessage(`{}`)
	}
	a, err := scanApp(tx.QueryRow(ctx, `INSERT INTO apps (slug, name, settings, created_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (slug) DO NOTHING RETURNING `+appCols, slug, name, settings, actor))
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("app %q: %w", slug, ErrExists)
	}
	if err != nil {
		return nil, fmt.Errorf("creating app: %w", err)
	}
	return a, audit(ctx, tx, actor, "app.create", "app:"+slug, nil, a)
}

// ListApps lists every app, by slug.
func (s *Store) ListApps(ctx context.Context) ([]*App, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+appCols+` FROM apps ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("listing apps: %w", err)
	}
	defer rows.Close()
	var out []*App
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("listing apps: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// GetApp loads an app by slug.
func (s *Store) GetApp(ctx context.Context, slug string) (*App, error) {
	a, err := scanApp(s.pool.QueryRow(ctx, `SELECT `+appCols+` FROM apps WHERE slug = $1`, slug))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("loading app %q: %w", slug, err)
	}
	return a, err
}

// UpdateApp changes an app's name and/or settings.
func (s *Store) UpdateApp(ctx context.Context, actor *uuid.UUID, a *App, name string, settings json.RawMessage) (*App, error) {
	if name == "" {
		name = a.Name
	}
	if len(settings) == 0 {
		settings = a.Settings
	}
	if errs := ValidateApp(a.Slug, name, settings); len(errs) > 0 {
		return nil, errs
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("updating app: %w", err)
	}
	defer tx.Rollback(ctx)
	out, err := scanApp(tx.QueryRow(ctx, `UPDATE apps SET name = $2, settings = $3, updated_at = now() WHERE id = $1 RETURNING `+appCols, a.ID, name, settings))
	if err != nil {
		return nil, fmt.Errorf("updating app: %w", err)
	}
	if err := audit(ctx, tx, actor, "app.update", "app:"+a.Slug, a, out); err != nil {
		return nil, err
	}
	return out, tx.Commit(ctx)
}

// DecodeDraft strictly decodes and validates a definition body on its own (no references).
// The slug in the body, when present, must equal slug; when absent it is set.
func DecodeDraft(kind, slug string, body []byte) (any, []byte, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, nil, spec.Errors{{Field: "$", Code: "invalid_json", Message: "the definition must be a JSON object"}}
	}
	// Keys the GET answer adds around the definition are ignored, so a GET -> edit -> PUT round trip works.
	for _, k := range []string{"published_version", "public_id", "updated_at", "modified", "id", "status"} {
		delete(raw, k)
	}
	if s, ok := raw["slug"]; ok {
		var got string
		if json.Unmarshal(s, &got) != nil || got != slug {
			return nil, nil, spec.Errors{{Field: "slug", Code: "mismatch", Message: fmt.Sprintf("slug in the body (%s) differs from the URL (%s)", s, slug)}}
		}
	} else {
		raw["slug"], _ = json.Marshal(slug)
	}
	clean, _ := json.Marshal(raw)
	def, err := spec.Decode(kind, clean)
	if err != nil {
		return nil, nil, err
	}
	if errs := validate.Definition(def, nil, nil); len(errs) > 0 {
		return nil, nil, errs
	}
	norm, _ := json.Marshal(def)
	return def, norm, nil
}

// SaveDraft validates and stores a draft; created reports whether the definition is new.
func (s *Store) SaveDraft(ctx context.Context, actor *uuid.UUID, app *App, kind, slug string, body []byte) (*Definition, bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("saving draft: %w", err)
	}
	defer tx.Rollback(ctx)
	d, created, err := saveDraft(ctx, tx, actor, app, kind, slug, body)
	if err != nil {
		return nil, false, err
	}
	return d, created, tx.Commit(ctx)
}

func saveDraft(ctx context.Context, tx pgx.Tx, actor *uuid.UUID, app *App, kind, slug string, body []byte) (*Definition, bool, error) {
	if !validKind(kind) {
		return nil, false, ErrNotFound
	}
	_, norm, err := DecodeDraft(kind, slug, body)
	if err != nil {
		return nil, false, err
	}
	var created bool
	err = tx.QueryRow(ctx, `INSERT INTO definitions (app_id, kind, slug, draft, updated_by) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (app_id, kind, slug) DO UPDATE SET draft = EXCLUDED.draft, updated_at = now(), updated_by = EXCLUDED.updated_by
		RETURNING (xmax = 0)`, app.ID, kind, slug, norm, actor).Scan(&created)
	if err != nil {
		return nil, false, fmt.Errorf("saving draft %s/%s: %w", kind, slug, err)
	}
	if err := audit(ctx, tx, actor, "definition.save", fmt.Sprintf("%s:%s/%s", app.Slug, kind, slug), nil, json.RawMessage(norm)); err != nil {
		return nil, false, err
	}
	d, err := get(ctx, tx, app, kind, slug)
	return d, created, err
}

func validKind(kind string) bool {
	for _, k := range spec.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

const defCols = `d.id, d.kind, d.slug, d.draft, d.published_version, d.public_id, d.updated_at,
	COALESCE((SELECT v.body <> (d.draft - 'test_sample') FROM definition_versions v WHERE v.definition_id = d.id AND v.version = d.published_version), true)`

func scanDef(row pgx.Row) (*Definition, error) {
	d := &Definition{}
	err := row.Scan(&d.ID, &d.Kind, &d.Slug, &d.Draft, &d.PublishedVersion, &d.PublicID, &d.UpdatedAt, &d.Modified)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return d, err
}

// Get loads one definition with its draft.
func (s *Store) Get(ctx context.Context, app *App, kind, slug string) (*Definition, error) {
	return get(ctx, s.pool, app, kind, slug)
}

func get(ctx context.Context, q querier, app *App, kind, slug string) (*Definition, error) {
	d, err := scanDef(q.QueryRow(ctx, `SELECT `+defCols+` FROM definitions d WHERE d.app_id = $1 AND d.kind = $2 AND d.slug = $3`, app.ID, kind, slug))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("loading %s %q: %w", kind, slug, err)
	}
	return d, err
}

// List lists an app's definitions of kind ("" for every kind).
func (s *Store) List(ctx context.Context, app *App, kind string) ([]*Definition, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+defCols+` FROM definitions d WHERE d.app_id = $1 AND ($2 = '' OR d.kind = $2) ORDER BY d.kind, d.slug`, app.ID, kind)
	if err != nil {
		return nil, fmt.Errorf("listing definitions: %w", err)
	}
	defer rows.Close()
	out := []*Definition{}
	for rows.Next() {
		d, err := scanDef(rows)
		if err != nil {
			return nil, fmt.Errorf("listing definitions: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Versions lists the published versions of a definition, newest first.
func (s *Store) Versions(ctx context.Context, app *App, kind, slug string) ([]Version, error) {
	d, err := s.Get(ctx, app, kind, slug)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT v.version, v.published_at, v.published_by, COALESCE(NULLIF(u.name, ''), u.email, ''), v.body
		FROM definition_versions v LEFT JOIN users u ON u.id = v.published_by
		WHERE v.definition_id = $1 ORDER BY v.version DESC`, d.ID)
	if err != nil {
		return nil, fmt.Errorf("listing versions: %w", err)
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		var v Version
		if err := rows.Scan(&v.Version, &v.PublishedAt, &v.PublishedBy, &v.PublishedByName, &v.Body); err != nil {
			return nil, fmt.Errorf("listing versions: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Publish validates the draft against the app's published definitions, provisions what it
// needs and stores it as the next immutable version. A broken definition never goes live.
func (s *Store) Publish(ctx context.Context, actor *uuid.UUID, app *App, kind, slug string) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("publishing %s %q: %w", kind, slug, err)
	}
	defer tx.Rollback(ctx)
	v, err := s.publish(ctx, tx, actor, app, kind, slug, nil)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("publishing %s %q: %w", kind, slug, err)
	}
	return v, nil
}

// publish publishes one draft inside tx. pending holds entities that count as published for
// references (an import publishes a bundle's entities together); nil means none.
func (s *Store) publish(ctx context.Context, tx pgx.Tx, actor *uuid.UUID, app *App, kind, slug string, pending map[string]*spec.Entity) (int, error) {
	if !validKind(kind) {
		return 0, ErrNotFound
	}
	var id uuid.UUID
	var draft []byte
	var current int
	var publicID *string
	err := tx.QueryRow(ctx, `SELECT id, draft, published_version, public_id FROM definitions WHERE app_id = $1 AND kind = $2 AND slug = $3 FOR UPDATE`,
		app.ID, kind, slug).Scan(&id, &draft, &current, &publicID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("publishing %s %q: %w", kind, slug, err)
	}
	def, err := spec.Decode(kind, draft)
	if err != nil {
		return 0, err
	}
	lk := &txLookup{ctx: ctx, tx: tx, app: app.ID, pending: map[string]*spec.Entity{}}
	for k, e := range pending {
		lk.pending[k] = e
	}
	if e, ok := def.(*spec.Entity); ok {
		lk.pending[e.Slug] = e
	}
	errs := validate.Definition(def, lk, s.hooks.Catalog)
	if e, ok := def.(*spec.Entity); ok {
		errs = append(errs, validate.EntityRefs(e, lk)...)
	}
	if len(errs) == 0 && s.hooks.Check != nil {
		errs = append(errs, s.hooks.Check(ctx, app, kind, def, lk)...)
	}
	if len(errs) > 0 {
		return 0, errs
	}
	if s.hooks.Provision != nil {
		if err := s.hooks.Provision(ctx, tx, app, kind, def); err != nil {
			return 0, fmt.Errorf("publishing %s %q: provisioning: %w", kind, slug, err)
		}
	}
	version := current + 1
	// a flow's pinned test sample stays with the draft: the published version never carries it
	if _, err := tx.Exec(ctx, `INSERT INTO definition_versions (definition_id, version, body, published_by) VALUES ($1, $2, $3::jsonb - 'test_sample', $4)`, id, version, draft, actor); err != nil {
		return 0, fmt.Errorf("publishing %s %q: storing version: %w", kind, slug, err)
	}
	if f, ok := def.(*spec.Form); ok && f.Public && publicID == nil {
		pid := newPublicID()
		publicID = &pid
	}
	if _, err := tx.Exec(ctx, `UPDATE definitions SET published_version = $2, public_id = $3, updated_at = now() WHERE id = $1`, id, version, publicID); err != nil {
		return 0, fmt.Errorf("publishing %s %q: %w", kind, slug, err)
	}
	if err := audit(ctx, tx, actor, "definition.publish", fmt.Sprintf("%s:%s/%s", app.Slug, kind, slug), map[string]int{"version": current}, map[string]int{"version": version}); err != nil {
		return 0, err
	}
	return version, nil
}

const publicIDAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func newPublicID() string {
	b := make([]byte, 16)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(publicIDAlphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = publicIDAlphabet[n.Int64()]
	}
	return string(b)
}

// txLookup resolves references against published definitions inside the publish transaction,
// plus the entity being published.
type txLookup struct {
	ctx     context.Context
	tx      pgx.Tx
	app     uuid.UUID
	pending map[string]*spec.Entity
}

func (l *txLookup) body(kind, slug string) []byte {
	var b []byte
	_ = l.tx.QueryRow(l.ctx, `SELECT v.body FROM definitions d JOIN definition_versions v ON v.definition_id = d.id AND v.version = d.published_version
		WHERE d.app_id = $1 AND d.kind = $2 AND d.slug = $3`, l.app, kind, slug).Scan(&b)
	return b
}

func (l *txLookup) Entity(slug string) *spec.Entity {
	if e, ok := l.pending[slug]; ok {
		return e
	}
	b := l.body(spec.KindEntity, slug)
	if b == nil {
		return nil
	}
	v, err := spec.Decode(spec.KindEntity, b)
	if err != nil {
		return nil
	}
	l.pending[slug] = v.(*spec.Entity)
	return l.pending[slug]
}

func (l *txLookup) Report(slug string) bool { return l.body(spec.KindReport, slug) != nil }
func (l *txLookup) Flow(slug string) bool   { return l.body(spec.KindFlow, slug) != nil }

func (l *txLookup) Defined(kind, slug string) bool {
	var ok bool
	_ = l.tx.QueryRow(l.ctx, `SELECT EXISTS (SELECT 1 FROM definitions WHERE app_id = $1 AND kind = $2 AND slug = $3)`, l.app, kind, slug).Scan(&ok)
	return ok
}

// SetFlowTestSample pins (sample set) or unpins (nil) the test-run sample of a flow's draft,
// leaving the rest of the draft as it is. The sample is checked like the draft's own key.
func (s *Store) SetFlowTestSample(ctx context.Context, actor *uuid.UUID, app *App, slug string, sample *spec.TestSample) (*Definition, error) {
	var errs spec.Errors
	validate.TestSample(sample, &errs)
	if len(errs) > 0 {
		return nil, errs
	}
	var body []byte
	if sample != nil {
		var err error
		if body, err = json.Marshal(sample); err != nil {
			return nil, fmt.Errorf("encoding test sample: %w", err)
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("pinning test sample: %w", err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE definitions SET draft = CASE WHEN $4::jsonb IS NULL THEN draft - 'test_sample'
		ELSE jsonb_set(draft, '{test_sample}', $4::jsonb) END, updated_at = now()
		WHERE app_id = $1 AND kind = $2 AND slug = $3`, app.ID, spec.KindFlow, slug, body)
	if err != nil {
		return nil, fmt.Errorf("pinning test sample: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil, ErrNotFound
	}
	action := "flow.test_sample.pin"
	if sample == nil {
		action = "flow.test_sample.unpin"
	}
	var after any
	if sample != nil {
		after = sample
	}
	if err := audit(ctx, tx, actor, action, fmt.Sprintf("%s:%s/%s", app.Slug, spec.KindFlow, slug), nil, after); err != nil {
		return nil, err
	}
	d, err := get(ctx, tx, app, spec.KindFlow, slug)
	if err != nil {
		return nil, err
	}
	return d, tx.Commit(ctx)
}
