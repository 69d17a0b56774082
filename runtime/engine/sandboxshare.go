package engine

import (
	"context"
	"sync"

	"github.com/google/uuid"
)

// Fair shares of the sandbox. The JavaScript sandbox has few worker processes (2 by default);
// runs of one app waiting for them would otherwise queue ahead of every other app's script. A
// shareGate hands a free worker to the waiting app that holds the fewest workers (the longest
// waiter among equals), so another app's script waits at most for one worker to come free.

type appCtxKey struct{}

// withApp tells the sandbox gate which app a script call belongs to.
func withApp(ctx context.Context, app uuid.UUID) context.Context {
	return context.WithValue(ctx, appCtxKey{}, app)
}

type shareGate struct {
	mu      sync.Mutex
	size    int
	busy    int
	active  map[uuid.UUID]int
	waiters []*shareWaiter // in arrival order
}

type shareWaiter struct {
	app   uuid.UUID
	ready chan struct{}
}

func newShareGate(size int) *shareGate {
	return &shareGate{size: max(1, size), active: map[uuid.UUID]int{}}
}

// acquire waits for a worker for app; release must follow a nil error.
func (g *shareGate) acquire(ctx context.Context, app uuid.UUID) error {
	g.mu.Lock()
	if g.busy < g.size && len(g.waiters) == 0 {
		g.busy++
		g.active[app]++
		g.mu.Unlock()
		return nil
	}
	w := &shareWaiter{app: app, ready: make(chan struct{})}
	g.waiters = append(g.waiters, w)
	g.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		for i, x := range g.waiters {
			if x == w {
				g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
				return ctx.Err()
			}
		}
		// handed a worker just as the context ended: give it back
		g.releaseLocked(app)
		return ctx.Err()
	}
}

func (g *shareGate) release(app uuid.UUID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseLocked(app)
}

func (g *shareGate) releaseLocked(app uuid.UUID) {
	g.busy--
	if g.active[app]--; g.active[app] <= 0 {
		delete(g.active, app)
	}
	for g.busy < g.size && len(g.waiters) > 0 {
		best := 0
		for i, w := range g.waiters {
			if g.active[w.app] < g.active[g.waiters[best].app] {
				best = i
			}
		}
		w := g.waiters[best]
		g.waiters = append(g.waiters[:best], g.waiters[best+1:]...)
		g.busy++
		g.active[w.app]++
		close(w.ready)
	}
}
