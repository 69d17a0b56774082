package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Fairness across apps. A worker process works at most AppConcurrency runs of one app at once.
// A run of an app at its cap answers queue.ErrBusy: its job is snoozed and hands its queue slot
// to the next job at once, so one app's flood never holds every worker of a process and other
// apps' runs are fetched within a few fetch rounds. The cap is per process: replicas add
// capacity.

type appSlots struct {
	mu   sync.Mutex
	used map[uuid.UUID]int
}

// take reserves a slot of app under limit; release gives it back.
func (s *appSlots) take(app uuid.UUID, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == nil {
		s.used = map[uuid.UUID]int{}
	}
	if s.used[app] >= limit {
		return false
	}
	s.used[app]++
	return true
}

func (s *appSlots) release(app uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used[app] <= 1 {
		delete(s.used, app)
		return
	}
	s.used[app]--
}

// takeAppSlot reserves one of the run's app's slots. ok is false when the app is at its cap;
// release is nil when nothing was reserved (no cap, unknown run).
func (e *Engine) takeAppSlot(ctx context.Context, conn *pgxpool.Conn, runID uuid.UUID) (release func(), ok bool, err error) {
	limit := e.opts.AppConcurrency
	if limit <= 0 {
		return nil, true, nil
	}
	var app uuid.UUID
	if err := conn.QueryRow(ctx, `SELECT app_id FROM flow_runs WHERE id = $1`, runID).Scan(&app); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("loading the run's app: %w", err)
	}
	if !e.slots.take(app, limit) {
		return nil, false, nil
	}
	return func() { e.slots.release(app) }, true, nil
}

// takeAppSlotOf is takeAppSlot for a run whose app is known.
func (e *Engine) takeAppSlotOf(app uuid.UUID) (release func(), ok bool) {
	limit := e.opts.AppConcurrency
	if limit <= 0 {
		return nil, true
	}
	if !e.slots.take(app, limit) {
		return nil, false
	}
	return func() { e.slots.release(app) }, true
}
