// Package trigger turns record changes, form submissions, webhooks, cron ticks and manual
// requests into flow runs. Record triggers enqueue inside the writing transaction, so a
// rolled-back write starts nothing.
package trigger

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/events"
)

// Service starts runs from triggers.
type Service struct {
	Engine *engine.Engine
	Log    *slog.Logger
	// Limits rate-limit webhooks and manual runs (limits.go); zero allows everything.
	Limits Limits
}

// New returns a trigger service.
func New(e *engine.Engine, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{Engine: e, Log: log}
}

type published struct {
	Slug    string
	Version int
	Flow    *spec.Flow
}

// flowsByTrigger lists the published flows of app whose trigger type is one of types.
func flowsByTrigger(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, appID uuid.UUID, types []string) ([]published, error) {
	rows, err := q.Query(ctx, `SELECT d.slug, d.published_version, v.body FROM definitions d
		JOIN definition_versions v ON v.definition_id = d.id AND v.version = d.published_version
		WHERE d.app_id = $1 AND d.kind = 'flows' AND d.published_version > 0 AND v.body->'trigger'->>'type' = ANY($2)`, appID, types)
	if err != nil {
		return nil, fmt.Errorf("finding triggered flows: %w", err)
	}
	defer rows.Close()
	var out []published
	for rows.Next() {
		var p published
		var body []byte
		if err := rows.Scan(&p.Slug, &p.Version, &body); err != nil {
			return nil, fmt.Errorf("finding triggered flows: %w", err)
		}
		v, err := spec.Decode(spec.KindFlow, body)
		if err != nil {
			continue
		}
		p.Flow = v.(*spec.Flow)
		out = append(out, p)
	}
	return out, rows.Err()
}

func triggerTypes(c events.Change) []string {
	switch c.Kind {
	case events.Created:
		return []string{"record.created"}
	case events.Updated:
		// runtime/records reports a merge as Merged and again as Updated
		return []string{"record.updated"}
	case events.Stage:
		return []string{"stage.changed"}
	case events.Deleted:
		return []string{"record.deleted"}
	case events.Form:
		return []string{"form.submitted"}
	case events.Activity:
		return []string{"record.activity"}
	}
	return nil
}

// RecordPayload is the trigger payload of a record change: trigger.record holds the record's
// values plus "id".
func RecordPayload(c events.Change) map[string]any {
	rec := map[string]any{}
	for k, v := range c.Record {
		rec[k] = v
	}
	rec["id"] = c.RecordID.String()
	p := map[string]any{"type": c.Kind, "entity": c.Entity, "record_id": c.RecordID.String(), "record": rec,
		"old": c.Old, "changed": c.Changed, "at": c.At.UTC().Format(time.RFC3339Nano)}
	if c.Actor != nil {
		p["actor"] = c.Actor.String()
	}
	if c.Kind == events.Stage || c.FromStage != c.ToStage {
		p["from"], p["to"] = c.FromStage, c.ToStage
	}
	if c.Form != "" {
		p["form"] = c.Form
	}
	if c.Activity != nil {
		p["activity"] = c.Activity
	}
	if c.Intake {
		// made for an anonymous caller: the runs it starts can only add (engine.IntakeRun)
		p["intake"] = true
	}
	return p
}

// MaxChain is how many record-triggered runs may start one another: a run started by a record
// change that a flow run made has trigger.chain one more than that run's. A write that would
// start a run beyond MaxChain fails (in the writing step, naming the flow), which stops a flow
// that keeps updating the records it is triggered by.
var MaxChain = 10

// ErrTriggerLoop is the error of a write that would start a run beyond MaxChain.
var ErrTriggerLoop = errors.New("record triggers chained too deep")

// chainOf is the chain depth of a run started by a change made with ctx: 0 for people and
// integrations, the writing run's trigger.chain + 1 for a flow's write.
func chainOf(ctx context.Context, tx pgx.Tx) (int, error) {
	runID, _, ok := strings.Cut(engine.EffectKey(ctx), ":")
	if !ok {
		return 0, nil
	}
	id, err := uuid.Parse(runID)
	if err != nil {
		return 0, nil
	}
	var depth int
	err = tx.QueryRow(ctx, `SELECT coalesce((trigger->>'chain')::int, 0) FROM flow_runs WHERE id = $1`, id).Scan(&depth)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the writing run's trigger chain: %w", err)
	}
	return depth + 1, nil
}

// Hook is the events.Hook that runtime/records calls inside each write: it records the flow
// step's idempotency key (engine.EffectsHook), starts the runs of matching flows and wakes runs
// waiting for a change of this record, all in the writing transaction.
func (s *Service) Hook(ctx context.Context, tx pgx.Tx, c events.Change) error {
	return s.HookBatch(ctx, tx, []events.Change{c})
}

// HookBatch is Hook for many changes of one transaction (a bulk import): the runs of each
// change start as Hook starts them, and the waiting runs of all the changes are found with one
// query.
func (s *Service) HookBatch(ctx context.Context, tx pgx.Tx, cs []events.Change) error {
	var watched []events.Change
	for _, c := range cs {
		if err := engine.EffectsHook(ctx, tx, c); err != nil {
			return err
		}
		if err := s.startRuns(ctx, tx, c); err != nil {
			return err
		}
		// A record created with a fresh id has no watcher yet (wait_event watches one record
		// id, app:entity:id), so a create skips the look-up.
		if c.Kind != events.Form && !c.New {
			watched = append(watched, c)
		}
	}
	return s.wakeWatchers(ctx, tx, watched)
}

// aims reports whether trigger t is about c's entity (or, for a form submission, c's form).
func aims(t *spec.Trigger, c events.Change) bool {
	if c.Kind == events.Form {
		if t.Form != "" {
			return t.Form == c.Form
		}
		return t.Entity == c.Entity
	}
	return t.Entity == c.Entity
}

// Quiet reports that Hook has nothing to do for c (events.Quiet): no record effect of a flow
// step to note, no watcher to look for (a create with a fresh id, or a form submission) and no
// published flow whose trigger is about c's kind and entity or form. Field and condition
// filters are not looked at: a flow they would skip still makes c not quiet.
func (s *Service) Quiet(ctx context.Context, c events.Change) (bool, error) {
	if engine.EffectPending(ctx, c) {
		return false, nil
	}
	if c.Kind != events.Form && !c.New {
		return false, nil
	}
	types := triggerTypes(c)
	if len(types) == 0 {
		return true, nil
	}
	v, err := s.Engine.Defs.Cached(ctx, "triggers:"+c.AppID.String()+":"+strings.Join(types, ","), func(ctx context.Context) (any, error) {
		return flowsByTrigger(ctx, s.Engine.Pool, c.AppID, types)
	})
	if err != nil {
		return false, err
	}
	for _, f := range v.([]published) {
		if aims(&f.Flow.Trigger, c) {
			return false, nil
		}
	}
	return true, nil
}

// startRuns starts the runs of the flows that c triggers.
func (s *Service) startRuns(ctx context.Context, tx pgx.Tx, c events.Change) error {
	types := triggerTypes(c)
	if len(types) == 0 {
		return nil
	}
	v, err := s.Engine.Defs.Cached(ctx, "triggers:"+c.AppID.String()+":"+strings.Join(types, ","), func(ctx context.Context) (any, error) {
		return flowsByTrigger(ctx, tx, c.AppID, types)
	})
	if err != nil {
		return err
	}
	flows := v.([]published)
	var payload map[string]any
	for _, f := range flows {
		t := f.Flow.Trigger
		if !aims(&t, c) {
			continue
		}
		if len(t.Fields) > 0 && !intersects(t.Fields, c.Changed) {
			continue
		}
		if c.Kind == events.Activity && len(t.Activities) > 0 && !slices.Contains(t.Activities, fmt.Sprint(c.Activity["type"])) {
			continue
		}
		if c.Kind == events.Stage {
			if (t.From != "" && t.From != c.FromStage) || (t.To != "" && t.To != c.ToStage) {
				continue
			}
		}
		if t.Condition != "" {
			plan, err := s.Engine.PlanOf(c.AppID, f.Slug, f.Version, f.Flow)
			if err != nil {
				s.Log.Warn("trigger: flow does not compile", "flow", f.Slug, "err", err)
				continue
			}
			rec := map[string]any{}
			for k, v := range c.Record {
				rec[k] = v
			}
			rec["id"] = c.RecordID.String()
			act := c.Activity
			if act == nil {
				act = map[string]any{}
			}
			ok, err := plan.Trigger.Match(map[string]any{"record": rec, "old": c.Old, "changed": c.Changed, "trigger": map[string]any{}, "activity": act, "now": time.Now()})
			if err != nil {
				s.Log.Warn("trigger: condition failed", "flow", f.Slug, "err", err)
				continue
			}
			if !ok {
				continue
			}
		}
		if payload == nil {
			chain, err := chainOf(ctx, tx)
			if err != nil {
				return err
			}
			if chain > MaxChain {
				return engine.Permanent(fmt.Errorf("%w: this change would start flow %s as run %d of a chain of flows started by each other's record changes (at most %d; does a flow update the records that trigger it?) / 记录触发链过深：此更改将第 %d 次连锁启动流程 %s（最多 %d 次；是否有流程在更新触发它的记录？）",
					ErrTriggerLoop, f.Slug, chain, MaxChain, chain, f.Slug, MaxChain))
			}
			payload = RecordPayload(c)
			if chain > 0 {
				payload["chain"] = chain
			}
		}
		if _, _, err := s.Engine.Start(ctx, tx, engine.StartRequest{AppID: c.AppID, Flow: f.Slug, Version: f.Version,
			Trigger: payload, Actor: c.Actor}); err != nil {
			return fmt.Errorf("starting flow %s: %w", f.Slug, err)
		}
	}
	return nil
}

// wakeWatchers enqueues runs whose wait_event step watches one of these records or their
// entity (one query for all; a run is woken once).
func (s *Service) wakeWatchers(ctx context.Context, tx pgx.Tx, cs []events.Change) error {
	if len(cs) == 0 {
		return nil
	}
	watch := make([]string, 0, len(cs)+1)
	seen := map[string]bool{}
	for _, c := range cs {
		base := c.AppID.String() + ":" + c.Entity + ":"
		for _, k := range []string{base + c.RecordID.String(), base + "*"} {
			if !seen[k] {
				seen[k] = true
				watch = append(watch, k)
			}
		}
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT run_id FROM flow_steps WHERE status = 'waiting' AND state->>'watch' = ANY($1)`, watch)
	if err != nil {
		return fmt.Errorf("finding waiting runs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return fmt.Errorf("finding waiting runs: %w", err)
	}
	for _, id := range ids {
		if err := s.Engine.Wake(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

func intersects(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// Webhook errors.
var (
	ErrNoWebhook    = errors.New("no published flow has this webhook key")
	ErrBadSignature = errors.New("missing or wrong webhook signature")
	// ErrUnsupportedMediaType: the webhook body is neither JSON nor a URL-encoded form.
	ErrUnsupportedMediaType = errors.New("webhook bodies must be application/json or application/x-www-form-urlencoded")
	// ErrBadBody: the webhook body does not parse as its content type says.
	ErrBadBody = errors.New("the webhook body is not valid")
)

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the body with the trigger's secret>".
const SignatureHeader = "X-Tessera-Signature"

// WebhookResult is the outcome of a webhook call.
type WebhookResult struct {
	RunID   uuid.UUID
	Created bool
	Sync    bool
	// Status and Output are set for sync webhooks once the run finished (or timed out).
	Status string
	Output json.RawMessage
	Error  string
}

// webhookFlow is the published flow a webhook key starts (cached until a definition changes).
type webhookFlow struct {
	app     uuid.UUID
	slug    string
	version int
	flow    *spec.Flow
}

// WebhookRequest is an incoming webhook call.
type WebhookRequest struct {
	Key            string
	Body           []byte
	Signature      string
	IdempotencyKey string
	Query          map[string]string
	Headers        map[string]string
	// ContentType is the request's Content-Type header (see ParseWebhookBody).
	ContentType string
	// SyncTimeout bounds waiting for a sync flow (default 30 s).
	SyncTimeout time.Duration
}

// Webhook starts the flow whose webhook trigger has req.Key.
func (s *Service) Webhook(ctx context.Context, req WebhookRequest) (*WebhookResult, error) {
	cached, err := s.Engine.Defs.Cached(ctx, "webhook:"+req.Key, func(ctx context.Context) (any, error) {
		var w webhookFlow
		var body []byte
		err := s.Engine.Pool.QueryRow(ctx, `SELECT d.app_id, d.slug, d.published_version, v.body FROM definitions d
			JOIN definition_versions v ON v.definition_id = d.id AND v.version = d.published_version
			WHERE d.kind = 'flows' AND d.published_version > 0 AND v.body->'trigger'->>'type' = 'webhook' AND v.body->'trigger'->>'key' = $1
			ORDER BY d.created_at LIMIT 1`, req.Key).Scan(&w.app, &w.slug, &w.version, &body)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, ErrNoWebhook
		}
		if err != nil {
			return nil, fmt.Errorf("finding webhook flow: %w", err)
		}
		v, err := spec.Decode(spec.KindFlow, body)
		if err != nil {
			return nil, fmt.Errorf("decoding webhook flow: %w", err)
		}
		w.flow = v.(*spec.Flow)
		return &w, nil
	})
	if err != nil {
		return nil, err
	}
	wf := cached.(*webhookFlow)
	appID, slug, version, flow := wf.app, wf.slug, wf.version, wf.flow
	if flow.Trigger.Secret != "" && !validSignature(flow.Trigger.Secret, req.Body, req.Signature) {
		return nil, ErrBadSignature
	}
	if err := s.allowWebhook(appID, req.Key); err != nil {
		return nil, err
	}
	parsed, err := ParseWebhookBody(req.ContentType, req.Body)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(req.Body)
	payload := map[string]any{"type": "webhook", "key": req.Key, "body": parsed, "query": req.Query, "headers": req.Headers}
	sync := flow.Trigger.Mode == "sync"
	start := engine.StartRequest{AppID: appID, Flow: slug, Version: version, Trigger: payload,
		IdempotencyKey: req.IdempotencyKey, RequestHash: hex.EncodeToString(sum[:]), Wait: sync, RunAs: engine.RunAsOf(flow)}
	var done <-chan *engine.RunResult
	if sync {
		// the run may finish before Start returns: wait on its id from before the insert
		start.ID = uuid.New()
		var cancel func()
		done, cancel = s.Engine.Await(start.ID)
		defer cancel()
	}
	id, created, err := s.Engine.Start(ctx, nil, start)
	if err != nil {
		return nil, err
	}
	res := &WebhookResult{RunID: id, Created: created, Sync: sync}
	if !res.Sync {
		return res, nil
	}
	timeout := req.SyncTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if !created { // an earlier run with this Idempotency-Key
		res.Status, res.Output, res.Error, err = s.WaitRun(ctx, id, timeout)
		return res, err
	}
	r, err := s.Engine.WaitRun(ctx, id, done, timeout)
	res.Status, res.Output, res.Error = r.Status, r.Output, r.Error
	return res, err
}

// ParseWebhookBody decodes a webhook body by its content type: JSON (application/json,
// text/json or any +json type) as is, a URL-encoded form as an object of strings (a repeated
// key gives a list). An empty body is nil; a body without a content type must be JSON. Other
// types answer ErrUnsupportedMediaType, a body that does not parse ErrBadBody (wrapped, with
// the reason).
func ParseWebhookBody(contentType string, body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	mt := ""
	if strings.TrimSpace(contentType) != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, ErrUnsupportedMediaType
		}
	}
	switch {
	case mt == "" || mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json"):
		if !json.Valid(body) {
			if mt == "" {
				return nil, ErrUnsupportedMediaType
			}
			return nil, fmt.Errorf("%w: not valid JSON", ErrBadBody)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadBody, err)
		}
		return v, nil
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadBody, err)
		}
		out := make(map[string]any, len(vals))
		for k, vs := range vals {
			if len(vs) == 1 {
				out[k] = vs[0]
			} else {
				list := make([]any, len(vs))
				for i, v := range vs {
					list[i] = v
				}
				out[k] = list
			}
		}
		return out, nil
	}
	return nil, ErrUnsupportedMediaType
}

func validSignature(secret string, body []byte, header string) bool {
	got := strings.TrimPrefix(strings.TrimSpace(header), "sha256=")
	sig, err := hex.DecodeString(got)
	if err != nil || len(sig) == 0 {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(sig, m.Sum(nil))
}

// Sign returns the signature header value of body for secret (for callers and tests).
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// WaitRun waits for a run to succeed or fail, or timeout to pass (then the current status is
// returned): it is answered by the engine's in-process signal, or LISTEN/NOTIFY when another
// process works the run, not by polling.
func (s *Service) WaitRun(ctx context.Context, id uuid.UUID, timeout time.Duration) (string, json.RawMessage, string, error) {
	ch, cancel := s.Engine.Await(id)
	defer cancel()
	r, err := s.Engine.ReadOutcome(ctx, id)
	if err == nil && r.Status != engine.StatusSucceeded && r.Status != engine.StatusFailed {
		r, err = s.Engine.WaitRun(ctx, id, ch, timeout)
	}
	return r.Status, r.Output, r.Error, err
}
