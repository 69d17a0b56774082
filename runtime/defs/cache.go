package defs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := l.listenOnce(ctx)
		l.memo.live.Store(false)
		l.memo.drop()
		if ctx.Err() != nil {
			return
		}
		log.Warn("defs: change listener dropped; not caching until it is back", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (l *Loader) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, l.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel+" /* tessera:background */"); err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	l.memo.drop() // changes made while nobody listened
	l.memo.live.Store(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		l.memo.drop()
	}
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
