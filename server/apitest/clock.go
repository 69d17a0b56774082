package apitest

import (
	"context"
	"sync"
	"time"

	"github.com/tessera/tessera/server/config"
)

// Clock is a simulated clock for a test server: flows' `now`, timers (task due times, delays,
// wait timeouts) and cron ticks read it. Advance moves it and wakes the runs whose timers are
// due, so a test drives a 2-hour SLA, a 3-day wait or a daily cron without waiting.
type Clock struct {
	mu  sync.Mutex
	now time.Time
	env *Env
}

// NewClock answers a clock standing at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now answers the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t (forward only) and wakes due runs.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
	c.wake()
}

// Advance moves the clock by d and wakes due runs.
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

func (c *Clock) wake() {
	if c.env == nil || c.env.Srv.Engine == nil {
		return
	}
	if _, err := c.env.Srv.Engine.WakeDue(context.Background()); err != nil {
		c.env.T.Errorf("clock: waking due runs: %v", err)
	}
}

// Option changes the configuration of a test server before it starts.
type Option func(*config.Config)

// WithConfig edits the configuration.
func WithConfig(f func(*config.Config)) Option { return Option(f) }
