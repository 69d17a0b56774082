package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"
)

// Fairness across apps. A worker process works at most AppConcurrency runs of one app at once
// while runs of other apps wait. A run of an app at its cap answers queue.ErrBusy: its job is
// snoozed and hands its queue slot to the next job at once, so one app's flood never holds
// every worker of a process and other apps' runs are fetched within a few fetch rounds.
//
// The cap yields to idle capacity: when no run of another app is queued, an app may go past
// its cap up to all but one of the process's queue workers, and all but one of its inline
// slots (a lone app's burst uses the workers nobody else wants, instead of its jobs being
// snoozed and fetched again over and over). As soon as another app's run is queued, the app
// gets no new slot above its cap; the runs past it finish as usual. The cap is per process:
// replicas add capacity.

// slotKind tells the runs River works (queued) from the runs the accepting process works at
// once (inline): each kind has its own ceiling, the cap counts both.
type slotKind int

const (
	queuedRun slotKind = iota
	inlineRun
)

type appSlots struct {
	mu   sync.Mutex
	used map[uuid.UUID]*[2]int // runs of the app working here, by kind
}

// total is how many runs of app work here, of both kinds (s.mu held).
func (s *appSlots) total(app uuid.UUID) int {
	if n := s.used[app]; n != nil {
		return n[queuedRun] + n[inlineRun]
	}
	return 0
}

// of is how many runs of app and kind work here (s.mu held).
func (s *appSlots) of(app uuid.UUID, kind slotKind) int {
	if n := s.used[app]; n != nil {
		return n[kind]
	}
	return 0
}

// add counts one more run of app and kind (s.mu held).
func (s *appSlots) add(app uuid.UUID, kind slotKind) {
	if s.used == nil {
		s.used = map[uuid.UUID]*[2]int{}
	}
	n := s.used[app]
	if n == nil {
		n = &[2]int{}
		s.used[app] = n
	}
	n[kind]++
}

// take reserves a slot of app under limit (counting both kinds). At or above limit, and below
// ceiling for its kind, it asks othersWait, outside the lock, and takes the slot past the cap
// only when it answers false.
func (s *appSlots) take(app uuid.UUID, kind slotKind, limit, ceiling int, othersWait func() (bool, error)) (bool, error) {
	s.mu.Lock()
	if s.total(app) < limit {
		s.add(app, kind)
		s.mu.Unlock()
		return true, nil
	}
	n := s.of(app, kind)
	s.mu.Unlock()
	if n >= ceiling || othersWait == nil {
		return false, nil
	}
	wait, err := othersWait()
	if err != nil || wait {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.of(app, kind) >= ceiling {
		return false, nil
	}
	s.add(app, kind)
	return true, nil
}

func (s *appSlots) release(app uuid.UUID, kind slotKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.used[app]
	if n == nil {
		return
	}
	if n[kind] > 0 {
		n[kind]--
	}
	if n[queuedRun]+n[inlineRun] == 0 {
		delete(s.used, app)
	}
}

// capCeiling is how many runs of one app and kind this process works at once when no other
// app's run waits: all but one of the queue's workers, or of the inline slots (never less
// than the cap).
func (e *Engine) capCeiling(kind slotKind, limit int) int {
	if kind == inlineRun {
		return max(limit, cap(e.inline)-1)
	}
	if e.Queue == nil || !e.Queue.Working() {
		return limit
	}
	return max(limit, e.Queue.Workers()-1)
}

// othersQueued reports whether a run of an app other than app is queued (two index range
// scans of flow_runs_queued_app_idx, each stopping at its first row).
func (e *Engine) othersQueued(ctx context.Context, app uuid.UUID) (bool, error) {
	var wait bool
	err := e.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM flow_runs WHERE status = 'queued' AND app_id < $1)
		OR EXISTS (SELECT 1 FROM flow_runs WHERE status = 'queued' AND app_id > $1)`, app).Scan(&wait)
	if err != nil {
		return false, fmt.Errorf("looking for other apps' queued runs: %w", err)
	}
	return wait, nil
}

// takeAppSlotOf reserves one of app's slots for a run of kind. ok is false when the app is at
// its cap; release is nil when nothing was reserved (no cap).
func (e *Engine) takeAppSlotOf(ctx context.Context, app uuid.UUID, kind slotKind) (release func(), ok bool, err error) {
	limit := e.opts.AppConcurrency
	if limit <= 0 {
		return nil, true, nil
	}
	ok, err = e.slots.take(app, kind, limit, e.capCeiling(kind, limit), func() (bool, error) { return e.othersQueued(ctx, app) })
	if err != nil || !ok {
		return nil, false, err
	}
	return func() { e.slots.release(app, kind) }, true, nil
}
