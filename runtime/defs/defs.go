// Package defs loads published definitions (and apps) from PostgreSQL for the runtime, with a
// cache keyed by version so a publish on any replica is seen on the next call.
package defs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/builder/spec"
)

// ErrNotFound is returned when the app or a published definition does not exist.
var ErrNotFound = errors.New("not found")

// App is an application.
type App struct {
	ID       uuid.UUID       `json:"id"`
	Slug     string          `json:"slug"`
	Name     string          `json:"name"`
	Settings json.RawMessage `json:"settings"`
}

// Loader reads published definitions.
type Loader struct {
	pool  *pgxpool.Pool
	mu    sync.RWMutex
	cache map[cacheKey]any
	memo  memo // published versions, apps, Cached (cache.go)
}

type cacheKey struct {
	app     uuid.UUID
	kind    string
	slug    string
	version int
}

// New returns a loader on pool.
func New(pool *pgxpool.Pool) *Loader {
	return &Loader{pool: pool, cache: map[cacheKey]any{}}
}

// App loads an app by slug.
func (l *Loader) App(ctx context.Context, slug string) (*App, error) {
	if v, ok := l.memo.get(appKey{slug: slug}); ok {
		a := *v.(*App)
		return &a, nil
	}
	gen := l.memo.gen.Load()
	a := &App{}
	err := l.pool.QueryRow(ctx, `SELECT id, slug, name, settings FROM apps WHERE slug = $1`, slug).Scan(&a.ID, &a.Slug, &a.Name, &a.Settings)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("app %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("loading app %q: %w", slug, err)
	}
	c := *a
	l.memo.put(appKey{slug: slug}, &c, gen)
	return a, nil
}

// AppByID loads an app by id.
func (l *Loader) AppByID(ctx context.Context, id uuid.UUID) (*App, error) {
	if v, ok := l.memo.get(appKey{id: id}); ok {
		a := *v.(*App)
		return &a, nil
	}
	gen := l.memo.gen.Load()
	a := &App{}
	err := l.pool.QueryRow(ctx, `SELECT id, slug, name, settings FROM apps WHERE id = $1`, id).Scan(&a.ID, &a.Slug, &a.Name, &a.Settings)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("app %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("loading app %s: %w", id, err)
	}
	c := *a
	l.memo.put(appKey{id: id}, &c, gen)
	return a, nil
}

// Published loads the current published version of a definition into a new value of the kind's
// type (*spec.Entity, *spec.Form, *spec.Flow, *spec.Report, *spec.Dashboard) and its version.
func (l *Loader) Published(ctx context.Context, appID uuid.UUID, kind, slug string) (any, int, error) {
	key := pubKey{appID, kind, slug}
	if v, ok := l.memo.get(key); ok {
		version := v.(int)
		d, err := l.Version(ctx, appID, kind, slug, version)
		return d, version, err
	}
	gen := l.memo.gen.Load()
	var version int
	err := l.pool.QueryRow(ctx, `SELECT published_version FROM definitions WHERE app_id = $1 AND kind = $2 AND slug = $3`, appID, kind, slug).Scan(&version)
	if err == nil && version > 0 {
		l.memo.put(key, version, gen)
	}
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && version == 0) {
		return nil, 0, fmt.Errorf("%s %q is not published: %w", kind, slug, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("loading %s %q: %w", kind, slug, err)
	}
	v, err := l.Version(ctx, appID, kind, slug, version)
	return v, version, err
}

// Version loads one published version (runs pin the version they started with).
func (l *Loader) Version(ctx context.Context, appID uuid.UUID, kind, slug string, version int) (any, error) {
	key := cacheKey{appID, kind, slug, version}
	l.mu.RLock()
	v, ok := l.cache[key]
	l.mu.RUnlock()
	if ok {
		return v, nil
	}
	var body []byte
	err := l.pool.QueryRow(ctx, `SELECT v.body FROM definition_versions v JOIN definitions d ON d.id = v.definition_id
		WHERE d.app_id = $1 AND d.kind = $2 AND d.slug = $3 AND v.version = $4`, appID, kind, slug, version).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%s %q version %d: %w", kind, slug, version, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("loading %s %q version %d: %w", kind, slug, version, err)
	}
	v, err = spec.Decode(kind, body)
	if err != nil {
		return nil, fmt.Errorf("decoding %s %q version %d: %w", kind, slug, version, err)
	}
	l.mu.Lock()
	if len(l.cache) > 10000 {
		l.cache = map[cacheKey]any{}
	}
	l.cache[key] = v
	l.mu.Unlock()
	return v, nil
}

// Entity loads the published entity.
func (l *Loader) Entity(ctx context.Context, appID uuid.UUID, slug string) (*spec.Entity, int, error) {
	v, ver, err := l.Published(ctx, appID, spec.KindEntity, slug)
	if err != nil {
		return nil, 0, err
	}
	return v.(*spec.Entity), ver, nil
}

// Form loads the published form.
func (l *Loader) Form(ctx context.Context, appID uuid.UUID, slug string) (*spec.Form, int, error) {
	v, ver, err := l.Published(ctx, appID, spec.KindForm, slug)
	if err != nil {
		return nil, 0, err
	}
	return v.(*spec.Form), ver, nil
}

// FormByPublicID loads a published public form by its public id, with its app.
func (l *Loader) FormByPublicID(ctx context.Context, publicID string) (*App, *spec.Form, error) {
	var appID uuid.UUID
	var slug string
	err := l.pool.QueryRow(ctx, `SELECT app_id, slug FROM definitions WHERE public_id = $1 AND kind = 'forms' AND published_version > 0`, publicID).Scan(&appID, &slug)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("public form %q: %w", publicID, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("loading public form: %w", err)
	}
	app, err := l.AppByID(ctx, appID)
	if err != nil {
		return nil, nil, err
	}
	f, _, err := l.Form(ctx, appID, slug)
	if err != nil {
		return nil, nil, err
	}
	if !f.Public {
		return nil, nil, fmt.Errorf("public form %q: %w", publicID, ErrNotFound)
	}
	return app, f, nil
}

// Flow loads the published flow.
func (l *Loader) Flow(ctx context.Context, appID uuid.UUID, slug string) (*spec.Flow, int, error) {
	v, ver, err := l.Published(ctx, appID, spec.KindFlow, slug)
	if err != nil {
		return nil, 0, err
	}
	return v.(*spec.Flow), ver, nil
}

// Report loads the published report.
func (l *Loader) Report(ctx context.Context, appID uuid.UUID, slug string) (*spec.Report, int, error) {
	v, ver, err := l.Published(ctx, appID, spec.KindReport, slug)
	if err != nil {
		return nil, 0, err
	}
	return v.(*spec.Report), ver, nil
}

// PublishedSlugs lists the slugs of published definitions of kind in app.
func (l *Loader) PublishedSlugs(ctx context.Context, appID uuid.UUID, kind string) ([]string, error) {
	rows, err := l.pool.Query(ctx, `SELECT slug FROM definitions WHERE app_id = $1 AND kind = $2 AND published_version > 0 ORDER BY slug`, appID, kind)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", kind, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
