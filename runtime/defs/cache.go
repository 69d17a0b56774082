package defs

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/tessera/tessera/runtime/db"
)

// Caching what is published. Published versions, apps and derived look-ups (Cached) are kept in
// memory while the loader LISTENs on NotifyChannel, on which every change of a definition or
// an app is announced (a trigger, migration 00113, so any writer on any replica announces it).
// Each announcement, and each (re)connection of the listener, drops the whole cache; while the
// listener is down nothing is cached. A value read from the database is stored only when no
// announcement came in between (the generation did not move), so a publish is never hidden by a
// read that raced with it.

// NotifyChannel is where definition and app changes are announced (payload: the app id).
const NotifyChannel = "tessera_defs"

type memo struct {
	mu   sync.RWMutex
	gen  atomic.Int64
	live atomic.Bool
	vals map[any]any
}

func (m *memo) get(k any) (any, bool) {
	if !m.live.Load() {
		return nil, false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.vals[k]
	return v, ok
}

// put stores v read at generation gen, unless the cache was dropped since.
func (m *memo) put(k, v any, gen int64) {
	if !m.live.Load() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen.Load() != gen {
		return
	}
	if m.vals == nil || len(m.vals) > 20000 {
		m.vals = map[any]any{}
	}
	m.vals[k] = v
}

func (m *memo) drop() {
	m.mu.Lock()
	m.gen.Add(1)
	m.vals = nil
	m.mu.Unlock()
}

// Cached answers the value cached under key, or loads, caches and answers it. load must read
// only published definitions and apps (what NotifyChannel announces changes of).
func (l *Loader) Cached(ctx context.Context, key string, load func(ctx context.Context) (any, error)) (any, error) {
	if l == nil {
		return load(ctx)
	}
	k := struct{ s string }{key}
	if v, ok := l.memo.get(k); ok {
		return v, nil
	}
	gen := l.memo.gen.Load()
	v, err := load(ctx)
	if err != nil {
		return nil, err
	}
	l.memo.put(k, v, gen)
	return v, nil
}

// Listen keeps the cache in step with NotifyChannel until ctx ends (call once per loader).
func (l *Loader) Listen(ctx context.Context, log *slog.Logger) {
	db.Follow(ctx, l.pool, NotifyChannel, "defs: change listener", l.memo.drop, &l.memo.live, log)
}

type pubKey struct {
	app        uuid.UUID
	kind, slug string
}

type appKey struct {
	id   uuid.UUID
	slug string
}

// Caching reports whether the listener is up (values are cached).
func (l *Loader) Caching() bool { return l.memo.live.Load() }

// Drop forgets every cached value (a writer in this process changed definitions or apps; the
// notification would do the same a few milliseconds later).
func (l *Loader) Drop() { l.memo.drop() }
