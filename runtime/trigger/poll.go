package trigger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/runtime/engine"
)

// PollCall is one poll of a flow's poll trigger.
type PollCall struct {
	AppID      uuid.UUID
	Flow       string
	Connector  string
	Trigger    string
	Credential string
	Params     map[string]any
	// State is what the previous successful poll returned (nil the first time).
	State []byte
}

// PollCaller runs a connector's polling trigger; the server implements it with the app's
// credentials and the SSRF-guarded client (see ConnectorPolls).
type PollCaller interface {
	Poll(ctx context.Context, c PollCall) (sdk.PollResult, error)
}

// ConnectorPolls is a PollCaller over a connector registry: it validates and defaults the
// params with the trigger's spec (sdk.Prepare) and calls the connector's sdk.Poller with the
// Env that Env builds for the app and credential.
type ConnectorPolls struct {
	Registry *sdk.Registry
	Env      func(ctx context.Context, appID uuid.UUID, connector, credential string) (sdk.Env, error)
}

// Poll implements PollCaller.
func (c ConnectorPolls) Poll(ctx context.Context, call PollCall) (sdk.PollResult, error) {
	conn, ok := c.Registry.Get(call.Connector)
	if !ok {
		return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("unknown connector %q", call.Connector))
	}
	s := conn.Spec()
	tr, ok := s.Trigger(call.Trigger)
	if !ok {
		return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("connector %s has no trigger %q", s.ID, call.Trigger))
	}
	poller, ok := conn.(sdk.Poller)
	if !ok {
		return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("connector %s cannot poll", s.ID))
	}
	params, errs := sdk.Prepare(tr.Params, call.Params)
	if len(errs) > 0 {
		return sdk.PollResult{}, sdk.FieldErrors(errs)
	}
	env := sdk.Env{}
	if c.Env != nil {
		var err error
		if env, err = c.Env(ctx, call.AppID, call.Connector, call.Credential); err != nil {
			return sdk.PollResult{}, err
		}
	}
	res, err := poller.Poll(ctx, env, call.Trigger, params, call.State)
	if err != nil {
		return res, fmt.Errorf("%s trigger %s: %w", s.ID, call.Trigger, err)
	}
	return res, nil
}

// Poller runs the poll triggers of published flows. Every replica runs one; the due polls are
// shared out with leases in flow_poll_state (FOR UPDATE SKIP LOCKED), so each poll runs on one
// replica at a time. The runs of the new items and the connector's new state are committed in
// one transaction that first checks the lease is still held: a crash or a lost lease never
// loses items (the old state is polled again) and never starts them twice. Items that carry
// an "id" also get the run idempotency key "poll:<id>", so an item a connector returns again
// starts no second run.
type Poller struct {
	eng   *engine.Engine
	calls PollCaller
	log   *slog.Logger
	wg    sync.WaitGroup
	// Now is the clock (tests move it forward); default time.Now.
	Now func() time.Time
	// Every is how often due polls are looked for (default 5 s).
	Every time.Duration
	// Timeout bounds one poll (default 60 s); a lease lasts Timeout plus 30 s.
	Timeout time.Duration
	// Concurrency is how many polls one replica runs at once (default 4).
	Concurrency int
	// MaxItems is the most items one poll may return (default 1000); a connector pages with its
	// state. A larger answer fails the poll.
	MaxItems int
	// Polled is called after each poll this instance ran (tests and metrics).
	Polled func(app uuid.UUID, flow string, started int, err error)
}

// NewPoller returns a poll trigger runner; calls runs the connectors.
func NewPoller(e *engine.Engine, calls PollCaller, log *slog.Logger) *Poller {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{eng: e, calls: calls, log: log, Now: time.Now, Every: 5 * time.Second, Timeout: time.Minute, Concurrency: 4, MaxItems: 1000}
}

// Run polls due triggers until ctx is done.
func (p *Poller) Run(ctx context.Context) {
	p.wg.Add(1)
	defer p.wg.Done()
	for ctx.Err() == nil {
		n, err := p.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("poll: tick", "err", err)
		}
		if err == nil && n >= max(p.Concurrency, 1) {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
		case <-time.After(p.Every):
		}
	}
}

// Wait blocks until Run returned.
func (p *Poller) Wait() { p.wg.Wait() }

// Tick brings flow_poll_state in line with the published flows, then runs every poll due now
// that no other replica holds (at most Concurrency of them), and answers how many it ran.
func (p *Poller) Tick(ctx context.Context) (int, error) {
	if err := p.sync(ctx); err != nil {
		return 0, err
	}
	now := p.Now()
	token := uuid.New()
	lease := p.Timeout + 30*time.Second
	conc := max(p.Concurrency, 1)
	rows, err := p.eng.Pool.Query(ctx, `UPDATE flow_poll_state s SET lease_owner = $1, lease_until = $2::timestamptz + $3::interval
		FROM (SELECT app_id, flow FROM flow_poll_state WHERE next_poll_at <= $2 AND (lease_until IS NULL OR lease_until < $2)
		      ORDER BY next_poll_at LIMIT $4 FOR UPDATE SKIP LOCKED) due
		WHERE s.app_id = due.app_id AND s.flow = due.flow
		RETURNING s.app_id, s.flow, s.flow_version, s.config_hash, s.state, s.interval_secs, s.failures`,
		token, now, fmt.Sprintf("%d milliseconds", lease.Milliseconds()), conc)
	if err != nil {
		return 0, fmt.Errorf("poll: claiming due polls: %w", err)
	}
	claims, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pollClaim, error) {
		var c pollClaim
		var secs int
		err := r.Scan(&c.app, &c.flow, &c.version, &c.hash, &c.state, &secs, &c.failures)
		c.interval = time.Duration(secs) * time.Second
		c.token = token
		return c, err
	})
	if err != nil {
		return 0, fmt.Errorf("poll: claiming due polls: %w", err)
	}
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for _, c := range claims {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p.pollOne(ctx, c)
		}()
	}
	wg.Wait()
	return len(claims), nil
}

type pollClaim struct {
	app      uuid.UUID
	flow     string
	version  int
	hash     string
	state    []byte
	interval time.Duration
	failures int
	token    uuid.UUID
}

// errLeaseLost: another replica took the poll over (or the flow changed) while it ran.
var errLeaseLost = errors.New("the poll's lease was lost; another replica polls again")

// pollOne runs one claimed poll and commits its outcome.
func (p *Poller) pollOne(ctx context.Context, c pollClaim) {
	started, err := p.poll(ctx, c)
	if err != nil && !errors.Is(err, errLeaseLost) && ctx.Err() == nil {
		p.log.Warn("poll: failed", "app", c.app, "flow", c.flow, "err", err)
		if ferr := p.fail(context.WithoutCancel(ctx), c, err); ferr != nil {
			p.log.Warn("poll: recording the failure", "flow", c.flow, "err", ferr)
		}
	}
	if p.Polled != nil {
		p.Polled(c.app, c.flow, started, err)
	}
}

func (p *Poller) poll(ctx context.Context, c pollClaim) (int, error) {
	var body []byte
	err := p.eng.Pool.QueryRow(ctx, `SELECT v.body FROM definitions d JOIN definition_versions v ON v.definition_id = d.id AND v.version = $3
		WHERE d.app_id = $1 AND d.kind = 'flows' AND d.slug = $2`, c.app, c.flow, c.version).Scan(&body)
	if err != nil {
		return 0, fmt.Errorf("poll: loading flow %s v%d: %w", c.flow, c.version, err)
	}
	v, err := spec.Decode(spec.KindFlow, body)
	if err != nil {
		return 0, fmt.Errorf("poll: decoding flow %s: %w", c.flow, err)
	}
	flow := v.(*spec.Flow)
	t := flow.Trigger
	var params map[string]any
	if len(t.Params) > 0 {
		if err := json.Unmarshal(t.Params, &params); err != nil {
			return 0, fmt.Errorf("poll: params of flow %s: %w", c.flow, err)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, p.Timeout)
	res, err := p.calls.Poll(pctx, PollCall{AppID: c.app, Flow: c.flow, Connector: t.Connector, Trigger: t.PollTrigger,
		Credential: t.Credential, Params: params, State: c.state})
	cancel()
	if err != nil {
		return 0, err
	}
	if limit := p.MaxItems; limit > 0 && len(res.Items) > limit {
		return 0, fmt.Errorf("the connector returned %d items, more than the %d one poll may start; it must page with its state", len(res.Items), limit)
	}
	var plan *engine.Plan
	if t.Condition != "" {
		if plan, err = p.eng.PlanOf(c.app, c.flow, c.version, flow); err != nil {
			return 0, fmt.Errorf("poll: compiling flow %s: %w", c.flow, err)
		}
	}
	now := p.Now()
	reqs := make([]engine.StartRequest, 0, len(res.Items))
	seen := map[string]bool{}
	for i, item := range res.Items {
		payload := map[string]any{"type": "poll", "connector": t.Connector, "trigger": t.PollTrigger, "item": item,
			"polled_at": now.UTC().Format(time.RFC3339Nano)}
		if plan != nil {
			ok, err := plan.Trigger.Match(map[string]any{"record": map[string]any{}, "old": map[string]any{}, "changed": []string{},
				"trigger": payload, "now": now})
			if err != nil {
				return 0, fmt.Errorf("trigger condition: %w", err)
			}
			if !ok {
				continue
			}
		}
		key := ""
		id := ItemID(item)
		if len(res.IDs) == len(res.Items) {
			id = res.IDs[i]
		}
		if id != "" {
			key = "poll:" + id
			if len(key) > 200 {
				sum := sha256.Sum256([]byte(id))
				key = "poll:sha256:" + hex.EncodeToString(sum[:])
			}
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		reqs = append(reqs, engine.StartRequest{AppID: c.app, Flow: c.flow, Version: c.version, Trigger: payload, IdempotencyKey: key})
	}
	started := 0
	err = pgx.BeginFunc(ctx, p.eng.Pool, func(tx pgx.Tx) error {
		var hash string
		err := tx.QueryRow(ctx, `SELECT config_hash FROM flow_poll_state WHERE app_id = $1 AND flow = $2 AND lease_owner = $3 FOR UPDATE`,
			c.app, c.flow, c.token).Scan(&hash)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && hash != c.hash {
			return errLeaseLost
		}
		if err != nil {
			return fmt.Errorf("poll: locking state: %w", err)
		}
		out, err := p.eng.StartMany(ctx, tx, reqs)
		if err != nil {
			return fmt.Errorf("poll: starting runs: %w", err)
		}
		started = len(out)
		if _, err := tx.Exec(ctx, `UPDATE flow_poll_state SET state = $3, next_poll_at = $4, lease_owner = NULL, lease_until = NULL,
			last_polled_at = $5, last_success_at = $5, last_error = NULL, last_error_at = NULL, failures = 0,
			last_items = $6::int, items_total = items_total + $6::int WHERE app_id = $1 AND flow = $2`,
			c.app, c.flow, res.State, now.Add(c.interval), now, started); err != nil {
			return fmt.Errorf("poll: saving state: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return started, nil
}

// MaxPollBackoff caps the wait after repeated poll failures (never less than the interval).
var MaxPollBackoff = time.Hour

// fail records a failed poll: the state stays, the next poll waits the interval doubled per
// consecutive failure (up to MaxPollBackoff).
func (p *Poller) fail(ctx context.Context, c pollClaim, cause error) error {
	now := p.Now()
	wait := c.interval
	for i := 0; i < c.failures && wait < MaxPollBackoff; i++ {
		wait *= 2
	}
	if wait > MaxPollBackoff {
		wait = max(MaxPollBackoff, c.interval)
	}
	msg := cause.Error()
	if len(msg) > 2000 {
		msg = msg[:2000] + "…"
	}
	_, err := p.eng.Pool.Exec(ctx, `UPDATE flow_poll_state SET next_poll_at = $4, lease_owner = NULL, lease_until = NULL,
		last_polled_at = $5, last_error = $6, last_error_at = $5, failures = failures + 1, last_items = 0
		WHERE app_id = $1 AND flow = $2 AND lease_owner = $3`, c.app, c.flow, c.token, now.Add(wait), now, msg)
	return err
}

// ItemID is the dedupe id of a polled item: its "id" key when that is a non-empty string or a
// number ("" otherwise).
func ItemID(item any) string {
	m, ok := item.(map[string]any)
	if !ok {
		return ""
	}
	switch id := m["id"].(type) {
	case string:
		return id
	case float64:
		return strconv.FormatFloat(id, 'f', -1, 64)
	case int:
		return strconv.Itoa(id)
	case int64:
		return strconv.FormatInt(id, 10)
	case json.Number:
		return id.String()
	}
	return ""
}

// sync adds a state row for each newly published poll flow, updates changed ones (a changed
// connector, trigger, credential or params resets the state) and drops rows of flows that no
// longer poll.
func (p *Poller) sync(ctx context.Context) error {
	rows, err := p.eng.Pool.Query(ctx, `SELECT d.app_id, d.slug, d.published_version, v.body FROM definitions d
		JOIN definition_versions v ON v.definition_id = d.id AND v.version = d.published_version
		WHERE d.kind = 'flows' AND d.published_version > 0 AND v.body->'trigger'->>'type' = 'poll'`)
	if err != nil {
		return fmt.Errorf("poll: loading flows: %w", err)
	}
	var apps []uuid.UUID
	var flows, conns, trigs, hashes []string
	var versions, secs []int32
	for rows.Next() {
		var app uuid.UUID
		var slug string
		var version int32
		var body []byte
		if err := rows.Scan(&app, &slug, &version, &body); err != nil {
			rows.Close()
			return fmt.Errorf("poll: loading flows: %w", err)
		}
		v, err := spec.Decode(spec.KindFlow, body)
		if err != nil {
			continue
		}
		t := v.(*spec.Flow).Trigger
		d, err := t.PollInterval()
		if err != nil {
			continue
		}
		d = min(max(d, spec.MinPollInterval), spec.MaxPollInterval)
		apps, flows, versions = append(apps, app), append(flows, slug), append(versions, version)
		conns, trigs = append(conns, t.Connector), append(trigs, t.PollTrigger)
		hashes, secs = append(hashes, pollConfigHash(t)), append(secs, int32(d/time.Second))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("poll: loading flows: %w", err)
	}
	now := p.Now()
	if len(apps) > 0 {
		// only the version published right now is written, so a replica with an older list
		// cannot undo a newer publish
		if _, err := p.eng.Pool.Exec(ctx, `INSERT INTO flow_poll_state (app_id, flow, flow_version, connector, trigger_id, config_hash, interval_secs, next_poll_at)
			SELECT x.a, x.f, x.v, x.c, x.t, x.h, x.i, $8::timestamptz
			FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::int[]) AS x(a, f, v, c, t, h, i)
			JOIN definitions d ON d.app_id = x.a AND d.kind = 'flows' AND d.slug = x.f AND d.published_version = x.v
			ON CONFLICT (app_id, flow) DO UPDATE SET flow_version = EXCLUDED.flow_version, connector = EXCLUDED.connector,
			  trigger_id = EXCLUDED.trigger_id, interval_secs = EXCLUDED.interval_secs, config_hash = EXCLUDED.config_hash,
			  state = CASE WHEN flow_poll_state.config_hash = EXCLUDED.config_hash THEN flow_poll_state.state END,
			  lease_owner = CASE WHEN flow_poll_state.config_hash = EXCLUDED.config_hash THEN flow_poll_state.lease_owner END,
			  lease_until = CASE WHEN flow_poll_state.config_hash = EXCLUDED.config_hash THEN flow_poll_state.lease_until END,
			  failures = CASE WHEN flow_poll_state.config_hash = EXCLUDED.config_hash THEN flow_poll_state.failures ELSE 0 END,
			  next_poll_at = CASE WHEN flow_poll_state.config_hash = EXCLUDED.config_hash
			    THEN least(flow_poll_state.next_poll_at, coalesce(flow_poll_state.last_polled_at, EXCLUDED.next_poll_at) + make_interval(secs => EXCLUDED.interval_secs))
			    ELSE EXCLUDED.next_poll_at END
			WHERE flow_poll_state.flow_version <> EXCLUDED.flow_version OR flow_poll_state.config_hash <> EXCLUDED.config_hash
			   OR flow_poll_state.interval_secs <> EXCLUDED.interval_secs`,
			apps, flows, versions, conns, trigs, hashes, secs, now); err != nil {
			return fmt.Errorf("poll: saving flows: %w", err)
		}
	}
	if _, err := p.eng.Pool.Exec(ctx, `DELETE FROM flow_poll_state s WHERE NOT EXISTS (SELECT 1 FROM definitions d
		JOIN definition_versions v ON v.definition_id = d.id AND v.version = d.published_version
		WHERE d.app_id = s.app_id AND d.kind = 'flows' AND d.slug = s.flow AND d.published_version > 0 AND v.body->'trigger'->>'type' = 'poll')`); err != nil {
		return fmt.Errorf("poll: dropping old flows: %w", err)
	}
	return nil
}

// pollConfigHash identifies what a poll trigger reads: connector, trigger, credential and
// params (the interval and condition do not change the meaning of the state).
func pollConfigHash(t spec.Trigger) string {
	var params any
	_ = json.Unmarshal(t.Params, &params)
	canon, _ := json.Marshal(params) // maps marshal with sorted keys
	h := sha256.New()
	for _, s := range []string{t.Connector, t.PollTrigger, t.Credential, string(canon)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// PollStatus is the health of a flow's poll trigger (GET .../flows/{flow}/poll).
type PollStatus struct {
	Connector     string     `json:"connector"`
	Trigger       string     `json:"trigger"`
	FlowVersion   int        `json:"flow_version"`
	IntervalSecs  int        `json:"interval_seconds"`
	NextPollAt    time.Time  `json:"next_poll_at"`
	LastPolledAt  *time.Time `json:"last_polled_at"`
	LastSuccessAt *time.Time `json:"last_success_at"`
	LastError     *string    `json:"last_error"`
	LastErrorAt   *time.Time `json:"last_error_at"`
	Failures      int        `json:"failures"`
	LastItems     int        `json:"last_items"`
	ItemsTotal    int64      `json:"items_total"`
	Polling       bool       `json:"polling"`
}

// ErrNoPollState: the flow has no poll trigger (or the poller has not seen it yet).
var ErrNoPollState = errors.New("the flow has no poll trigger state")

// PollState reads the poll status of a flow.
func PollState(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, app uuid.UUID, flow string) (*PollStatus, error) {
	var s PollStatus
	var leaseUntil *time.Time
	err := q.QueryRow(ctx, `SELECT connector, trigger_id, flow_version, interval_secs, next_poll_at, last_polled_at, last_success_at,
		last_error, last_error_at, failures, last_items, items_total, lease_until FROM flow_poll_state WHERE app_id = $1 AND flow = $2`, app, flow).
		Scan(&s.Connector, &s.Trigger, &s.FlowVersion, &s.IntervalSecs, &s.NextPollAt, &s.LastPolledAt, &s.LastSuccessAt,
			&s.LastError, &s.LastErrorAt, &s.Failures, &s.LastItems, &s.ItemsTotal, &leaseUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoPollState
	}
	if err != nil {
		return nil, fmt.Errorf("reading poll state: %w", err)
	}
	s.Polling = leaseUntil != nil && leaseUntil.After(time.Now())
	return &s, nil
}
