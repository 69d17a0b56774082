package trigger

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/robfig/cron/v3"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/calendar"
	"github.com/tessera/tessera/runtime/engine"
)

// cronLockKey is the session advisory lock the cron leader holds.
const cronLockKey int64 = 0x7465_7373_6372_6f6e

// MissedGrace is how late a tick may fire and still count as on time; older ticks are missed
// and follow the flow's missed-fire policy (skip, the default, or once).
var MissedGrace = time.Minute

// Cron fires cron-triggered flows. Every replica runs one; only the holder of a Postgres
// advisory lock (the leader) fires, and each (flow, tick) run carries the idempotency key
// "cron:<tick>", so a tick fires once across replicas even during a leader hand-over.
type Cron struct {
	eng  *engine.Engine
	log  *slog.Logger
	wg   sync.WaitGroup
	mu   sync.Mutex
	last map[cronKey]time.Time
	// Fired counts fires of this instance (tests and metrics).
	Fired func(app uuid.UUID, flow string, tick time.Time)
	// Reload is how often the list of cron flows is re-read (default 5 s).
	Reload time.Duration
	// Now is the scheduler's clock (default time.Now); tests drive ticks with a simulated
	// clock (the engine's Options.Now should be the same clock).
	Now func() time.Time
}

type cronKey struct {
	app  uuid.UUID
	flow string
}

type cronFlow struct {
	app     uuid.UUID
	slug    string
	version int
	sched   cron.Schedule
	loc     *time.Location
	missed  string
	// published is when the published version was published: a flow's schedule starts then,
	// so a tick between publishing and the scheduler's first sight of the flow is not lost.
	published time.Time
	// cal is the app's business calendar when the flow's calendar is "business": ticks on
	// days it does not work (weekends, holidays) are skipped.
	cal *calendar.Calendar
}

// NewCron returns a scheduler.
func NewCron(e *engine.Engine, log *slog.Logger) *Cron {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cron{eng: e, log: log, last: map[cronKey]time.Time{}, Reload: 5 * time.Second}
}

// Run elects a leader and fires ticks until ctx is done.
func (c *Cron) Run(ctx context.Context) {
	c.wg.Add(1)
	defer c.wg.Done()
	for ctx.Err() == nil {
		if err := c.lead(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("cron: leader loop", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (c *Cron) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Wait blocks until Run returned.
func (c *Cron) Wait() { c.wg.Wait() }

func (c *Cron) lead(ctx context.Context) error {
	conn, err := c.eng.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, cronLockKey).Scan(&got); err != nil {
		return err
	}
	if !got {
		return nil
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, cronLockKey); err != nil {
			conn.Conn().Close(context.Background())
		}
	}()
	c.log.Info("cron: leading")
	var flows []cronFlow
	var loaded, swept time.Time
	for ctx.Err() == nil {
		if time.Since(swept) > time.Hour {
			swept = time.Now()
			c.sweep(ctx)
		}
		if time.Since(loaded) > c.Reload {
			if err := conn.Ping(ctx); err != nil {
				return fmt.Errorf("cron: leader connection lost: %w", err)
			}
			f, err := c.load(ctx)
			if err != nil {
				return err
			}
			flows, loaded = f, time.Now()
		}
		if err := c.fire(ctx, flows, c.now()); err != nil && ctx.Err() == nil {
			c.log.Warn("cron: firing", "err", err)
		}
		// wake just after the next second boundary
		now := time.Now()
		next := now.Truncate(time.Second).Add(time.Second + 5*time.Millisecond)
		select {
		case <-ctx.Done():
		case <-time.After(next.Sub(now)):
		}
	}
	return nil
}

// EffectRetention is how long idempotency keys of finished runs are kept.
var EffectRetention = 30 * 24 * time.Hour

// sweep deletes old idempotency keys of runs that can no longer replay (the leader does it
// hourly).
func (c *Cron) sweep(ctx context.Context) {
	tag, err := c.eng.Pool.Exec(ctx, `DELETE FROM flow_effects f WHERE f.created_at < now() - $1::interval
		AND NOT EXISTS (SELECT 1 FROM flow_runs r WHERE r.id::text = split_part(f.key, ':', 1) AND r.status IN ('queued', 'running', 'waiting'))`,
		fmt.Sprintf("%d seconds", int(EffectRetention.Seconds())))
	if err != nil {
		c.log.Warn("cron: sweeping idempotency keys", "err", err)
		return
	}
	if n := tag.RowsAffected(); n > 0 {
		c.log.Info("cron: swept idempotency keys", "rows", n)
	}
}

func (c *Cron) load(ctx context.Context) ([]cronFlow, error) {
	rows, err := c.eng.Pool.Query(ctx, `SELECT d.app_id, d.slug, d.published_version, v.body, v.published_at FROM definitions d
		JOIN definition_versions v ON v.definition_id = d.id AND v.version = d.published_version
		WHERE d.kind = 'flows' AND d.published_version > 0 AND v.body->'trigger'->>'type' = 'cron'`)
	if err != nil {
		return nil, fmt.Errorf("cron: loading flows: %w", err)
	}
	defer rows.Close()
	var out []cronFlow
	seen := map[cronKey]bool{}
	cals := map[uuid.UUID]*calendar.Calendar{}
	for rows.Next() {
		var f cronFlow
		var body []byte
		if err := rows.Scan(&f.app, &f.slug, &f.version, &body, &f.published); err != nil {
			return nil, fmt.Errorf("cron: loading flows: %w", err)
		}
		v, err := spec.Decode(spec.KindFlow, body)
		if err != nil {
			continue
		}
		t := v.(*spec.Flow).Trigger
		tz := t.Timezone
		if tz == "" {
			tz = calendar.DefaultTimezone
		}
		if f.loc, err = time.LoadLocation(tz); err != nil {
			continue
		}
		if f.sched, err = engine.CronParser.Parse(t.Schedule); err != nil {
			continue
		}
		f.missed = t.Missed
		if v.(*spec.Flow).Calendar == "business" {
			if f.cal = cals[f.app]; f.cal == nil {
				app, err := c.eng.Defs.AppByID(ctx, f.app)
				if err != nil {
					return nil, fmt.Errorf("cron: loading the calendar of flow %s: %w", f.slug, err)
				}
				if f.cal, err = calendar.FromAppSettings(app.Settings); err != nil {
					c.log.Warn("cron: the app's business calendar is invalid; the flow does not fire", "flow", f.slug, "err", err)
					continue
				}
				cals[f.app] = f.cal
			}
		}
		out = append(out, f)
		seen[cronKey{f.app, f.slug}] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// last fired ticks survive restarts in flow_cron_state
	srows, err := c.eng.Pool.Query(ctx, `SELECT app_id, flow, last_tick FROM flow_cron_state`)
	if err != nil {
		return nil, fmt.Errorf("cron: loading state: %w", err)
	}
	defer srows.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for srows.Next() {
		var k cronKey
		var t time.Time
		if err := srows.Scan(&k.app, &k.flow, &t); err != nil {
			return nil, err
		}
		if seen[k] && t.After(c.last[k]) {
			c.last[k] = t
		}
	}
	return out, srows.Err()
}

type fire struct {
	f    cronFlow
	tick time.Time
}

// fire starts the runs of every tick due at now.
func (c *Cron) fire(ctx context.Context, flows []cronFlow, now time.Time) error {
	var due []fire
	var newState []fire
	prev := map[cronKey]time.Time{}
	c.mu.Lock()
	for _, f := range flows {
		k := cronKey{f.app, f.slug}
		last, ok := c.last[k]
		if !ok {
			// first sight of this flow (no state row yet): its schedule starts when it was
			// published, so a tick due since then fires (or counts as missed) like any other
			last = f.published
			if last.IsZero() || last.After(now) {
				last = now
			}
			c.last[k] = last
			newState = append(newState, fire{f, last})
		}
		var missed []time.Time
		t := f.sched.Next(last.In(f.loc))
		n := 0
		for !t.After(now) && n < 10000 {
			if f.cal != nil && !f.cal.IsWorkday(t) {
				// not a working day of the business calendar: not a tick at all
			} else if now.Sub(t) > MissedGrace {
				missed = append(missed, t)
			} else {
				due = append(due, fire{f, t})
			}
			last = t
			t = f.sched.Next(t)
			n++
		}
		if len(missed) > 0 && f.missed == "once" {
			due = append(due, fire{f, missed[len(missed)-1]})
		}
		if !last.Equal(c.last[k]) {
			prev[k] = c.last[k]
			c.last[k] = last
			if len(missed) > 0 {
				newState = append(newState, fire{f, last})
			}
		}
	}
	c.mu.Unlock()
	if len(due) == 0 && len(newState) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, c.eng.Pool, func(tx pgx.Tx) error {
		reqs := make([]engine.StartRequest, len(due))
		for i, d := range due {
			tick := d.tick.In(d.f.loc)
			reqs[i] = engine.StartRequest{AppID: d.f.app, Flow: d.f.slug, Version: d.f.version,
				Trigger:        map[string]any{"type": "cron", "tick": tick.Format(time.RFC3339), "scheduled_at": tick.Format(time.RFC3339)},
				IdempotencyKey: "cron:" + d.tick.UTC().Format(time.RFC3339)}
		}
		started, err := c.eng.StartMany(ctx, tx, reqs)
		if err != nil {
			return fmt.Errorf("cron: starting runs: %w", err)
		}
		if c.Fired != nil {
			for _, s := range started {
				t, _ := time.Parse(time.RFC3339, strings.TrimPrefix(s.IdempotencyKey, "cron:"))
				c.Fired(s.AppID, s.Flow, t)
			}
		}
		// one state row per flow: the latest tick
		latest := map[cronKey]fire{}
		for _, s := range append(due, newState...) {
			k := cronKey{s.f.app, s.f.slug}
			if l, ok := latest[k]; !ok || s.tick.After(l.tick) {
				latest[k] = s
			}
		}
		if len(latest) == 0 {
			return nil
		}
		sapps := make([]uuid.UUID, 0, len(latest))
		sflows := make([]string, 0, len(latest))
		sticks := make([]time.Time, 0, len(latest))
		for k, s := range latest {
			sapps, sflows, sticks = append(sapps, k.app), append(sflows, k.flow), append(sticks, s.tick)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO flow_cron_state (app_id, flow, last_tick) SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])
			ON CONFLICT (app_id, flow) DO UPDATE SET last_tick = greatest(flow_cron_state.last_tick, EXCLUDED.last_tick)`, sapps, sflows, sticks); err != nil {
			return fmt.Errorf("cron: saving state: %w", err)
		}
		return nil
	})
	if err != nil {
		// not fired: try these ticks again on the next pass
		c.mu.Lock()
		for k, t := range prev {
			c.last[k] = t
		}
		c.mu.Unlock()
	}
	return err
}
