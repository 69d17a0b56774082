package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/queue"
	"github.com/tessera/tessera/runtime/ratelimit"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/runtime/script"
	"github.com/tessera/tessera/runtime/secrets"
	"github.com/tessera/tessera/runtime/trigger"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// initFlows builds the flow engine, its River queue and the triggers. Workers (and the cron
// scheduler) run when the role is all or worker; the api role only inserts jobs.
func (s *Server) initFlows() error {
	work := s.Cfg.Role != "api"
	var eng *engine.Engine
	q, err := queue.New(s.DB.Pool, queue.Options{Work: work, Log: s.Log, Workers: s.Cfg.FlowWorkers,
		Handler: func(ctx context.Context, id uuid.UUID) error { return eng.Execute(ctx, id) }})
	if err != nil {
		return fmt.Errorf("starting flow queue: %w", err)
	}
	eng = engine.New(s.DB.Pool, s.Defs, q, engine.Options{Log: s.Log, AppConcurrency: s.Cfg.AppConcurrency, Now: s.Cfg.Clock,
		InlineWorkers: s.Cfg.FlowWorkers, ShowRunningAfter: s.Cfg.ShowRunningAfter})
	s.Engine = eng
	eng.WatchBacklog() // the backlog is in /metrics, back-pressure or not
	s.Triggers = trigger.New(eng, s.Log)
	s.Triggers.Limits = trigger.Limits{
		Webhook: ratelimit.New(s.Cfg.WebhookRate, s.Cfg.WebhookBurst),
		App:     ratelimit.New(s.Cfg.AppRate, s.Cfg.AppBurst),
		Backlog: s.Cfg.RunBacklog,
	}
	s.wireFlowCollaborators()
	if !work {
		s.OnShutdown(eng.Close)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := q.Start(ctx); err != nil {
		cancel()
		return err
	}
	cron := trigger.NewCron(eng, s.Log)
	cron.Now = s.Cfg.Clock
	go cron.Run(ctx)
	var polls *trigger.Poller
	if s.Connectors != nil {
		polls = trigger.NewPoller(eng, s.PollCaller(), s.Log)
		go polls.Run(ctx)
	}
	s.OnShutdown(func() {
		cancel()
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = q.Stop(stopCtx)
		cron.Wait()
		if polls != nil {
			polls.Wait()
		}
		eng.Close()
	})
	return nil
}

// mountFlows registers the flows routes.
func (s *Server) mountFlows() error {
	s.route("POST", "/api/v1/apps/:app/flows/:flow/run", "flows", "Run a published flow manually with input.", s.runFlow)
	s.route("GET", "/api/v1/apps/:app/flows/:flow/runs", "flows", "Runs of a flow, newest first.", s.listRuns)
	s.route("GET", "/api/v1/runs/:id", "flows", "A run with its steps (input, output, error, attempt, timings).", s.getRun)
	s.route("POST", "/api/v1/runs/:id/retry", "flows", "Retry a failed run from its failed step.", s.retryRun)
	s.route("POST", "/api/v1/runs/:id/fast-forward", "flows",
		"Move a waiting test run's simulated clock to its next timer (delay, timeout, due time) and wake it (app builders only).", s.fastForwardRun)
	s.route("POST", "/api/v1/apps/:app/flows/:flow/test/step", "flows",
		"Run one node of the flow's draft again on the input it had in an earlier run ({run_id, node}); a test run of one step (app builders only).", s.rerunNode)
	s.route("PUT", "/api/v1/apps/:app/flows/:flow/test/sample", "flows",
		"Pin the test-run sample ({record, label} or {body}) in the flow's draft; not published (app builders only).", s.pinTestSample)
	s.route("DELETE", "/api/v1/apps/:app/flows/:flow/test/sample", "flows", "Unpin the flow draft's test-run sample (app builders only).", s.pinTestSample)
	s.route("GET", "/api/v1/apps/:app/runs", "flows", "Runs of every flow of the app the caller may read (query: flow, status, from, to, test, limit, cursor).", s.listAppRuns)
	s.route("GET", "/api/v1/apps/:app/flows/:flow/poll", "flows",
		"Poll trigger status of a published flow: next and last poll, last error, items started.", s.getPollStatus)
	s.route("POST", "/hooks/:key", "flows", "Webhook trigger (public; optional HMAC signature; honours Idempotency-Key).", s.webhook)
	return nil
}

// flowAccess resolves :app and checks action on resource flow:<slug>.
func (s *Server) flowAccess(c *fiber.Ctx, appSlug, flow, action string) (*auth.Principal, *defs.App, error) {
	p, err := auth.Require(c)
	if err != nil {
		return nil, nil, err
	}
	app, err := s.readableApp(c.UserContext(), p, appSlug, problem.NotFound("app "+appSlug+" not found / 应用 "+appSlug+" 不存在"))
	if err != nil {
		return nil, nil, err
	}
	if err := s.flowAllowed(c.UserContext(), p.Subject(), app.ID, flow, action); err != nil {
		return nil, nil, err
	}
	return p, app, nil
}

func (s *Server) flowAllowed(ctx context.Context, sub access.Subject, appID uuid.UUID, flow, action string) error {
	g, err := s.Authz.Grant(ctx, sub, appID, "flow:"+flow, action)
	if err != nil {
		return err
	}
	if !g.Allowed() && action == "read" {
		g, err = s.Authz.Grant(ctx, sub, appID, "flow:"+flow, "run")
		if err != nil {
			return err
		}
	}
	if !g.Allowed() {
		return problem.Forbidden("you may not " + action + " flow " + flow + " / 您无权对流程 " + flow + " 执行 " + action)
	}
	return nil
}

func (s *Server) runFlow(c *fiber.Ctx) error {
	p, app, err := s.flowAccess(c, c.Params("app"), c.Params("flow"), "run")
	if err != nil {
		return err
	}
	flow, version, err := s.Defs.Flow(c.UserContext(), app.ID, c.Params("flow"))
	if errors.Is(err, defs.ErrNotFound) {
		return problem.NotFound("flow " + c.Params("flow") + " is not published / 流程 " + c.Params("flow") + " 尚未发布")
	}
	if err != nil {
		return err
	}
	var input any = map[string]any{}
	if len(c.Body()) > 0 {
		if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEApplicationJSON) {
			return problem.New(fiber.StatusUnsupportedMediaType, "send the body as application/json / 请求体须为 application/json")
		}
		var body map[string]any
		if err := json.Unmarshal(c.Body(), &body); err != nil {
			return problem.Validation(specErrors("$", "invalid_json", "the body must be a JSON object / 请求体须为 JSON 对象"))
		}
		input = body
		if in, ok := body["input"]; ok && len(body) == 1 {
			input = in
		}
	}
	if err := s.Triggers.AllowRun(app.ID); err != nil {
		return rateLimited(c, err)
	}
	actor := p.UserID
	payload := map[string]any{"type": "manual", "input": input, "body": input, "user": p.UserID.String()}
	if flow.Trigger.Type != "manual" {
		payload["manual"] = true
	}
	test := c.Query("test") == "true"
	if test || c.Query("record") != "" {
		if payload, err = s.testRunPayload(c, p, app, flow, payload); err != nil {
			return err
		}
	}
	id, created, err := s.Engine.Start(c.UserContext(), nil, engine.StartRequest{AppID: app.ID, Flow: c.Params("flow"), Version: version,
		Trigger: payload, Actor: &actor, IdempotencyKey: c.Get("Idempotency-Key"), RequestHash: hashHex(c.Body()), Test: test})
	if errors.Is(err, engine.ErrIdempotencyMismatch) {
		return problem.Validation(specErrors("Idempotency-Key", "idempotency_mismatch", "this Idempotency-Key was used with a different body / 此幂等键已用于不同的请求"))
	}
	if err != nil {
		return err
	}
	status := fiber.StatusAccepted
	if !created {
		status = fiber.StatusOK
	}
	if c.Query("wait") == "true" {
		st, out, msg, err := s.Triggers.WaitRun(c.UserContext(), id, 30*time.Second)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusOK).JSON(fiber.Map{"run_id": id, "id": id, "status": st, "output": out, "error": nilIfEmptyStr(msg)})
	}
	return c.Status(status).JSON(fiber.Map{"run_id": id, "id": id, "status": engine.StatusQueued, "flow_version": version})
}

// startManual starts a manual run of the published flow as p (the caller checked "run"), for
// the MCP tool start_flow; runFlow adds test runs and record payloads.
func (s *Server) startManual(ctx context.Context, p *auth.Principal, appID uuid.UUID, slug string, flow *spec.Flow, version int, input any, idem, hash string) (uuid.UUID, bool, error) {
	actor := p.UserID
	payload := map[string]any{"type": "manual", "input": input, "body": input, "user": p.UserID.String()}
	if flow.Trigger.Type != "manual" {
		payload["manual"] = true
	}
	return s.Engine.Start(ctx, nil, engine.StartRequest{AppID: appID, Flow: slug, Version: version,
		Trigger: payload, Actor: &actor, IdempotencyKey: idem, RequestHash: hash})
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// wireFlowCollaborators connects the engine to runtime/records (and registers the trigger hook
// inside record writes), the JavaScript sandbox, the connectors and the SSRF-guarded client.
func (s *Server) wireFlowCollaborators() {
	if s.Records != nil {
		s.Records.OnChanges(s.Triggers.Hook, s.Triggers.HookBatch, s.Triggers.Quiet)
		s.Engine.SetRecords(flowRecords{s})
	} else {
		s.Engine.SetRecords(&engine.SQLRecords{Pool: s.DB.Pool, Hooks: []events.Hook{s.Triggers.Hook}})
	}
	if s.Cfg.Role != "api" {
		pool := engine.NewScriptPool(script.Options{Logger: s.Log, Size: s.Cfg.SandboxWorkers})
		s.Engine.SetScripts(pool)
		s.OnShutdown(func() { _ = pool.Close() })
	}
	s.Engine.SetReports(flowReports{s})
	if s.Tracking != nil {
		s.Engine.SetTracker(trackingLinks{s})
	}
	if s.NetGuard != nil {
		s.Engine.SetHTTPClient(s.NetGuard.Client())
	}
	if s.Connectors != nil {
		s.Engine.SetConnectors(flowConnectors{s})
		reg := s.Connectors
		engine.SetConnectorCheck(func(connector, operation string) error {
			c, ok := reg.Get(connector)
			if !ok {
				return fmt.Errorf("unknown connector %q", connector)
			}
			if _, ok := c.Spec().Operation(operation); !ok {
				return fmt.Errorf("connector %s has no operation %q", connector, operation)
			}
			return nil
		})
	}
}

// flowRecords adapts runtime/records to the engine's RecordStore: writes run with the flow's
// identity (the service role, or the triggering user's grants).
type flowRecords struct{ s *Server }

func (a flowRecords) prepare(ctx context.Context, c engine.RecordCall, action string) (*defs.App, access.Grant, error) {
	app, err := a.s.Defs.AppByID(ctx, c.AppID)
	if err != nil {
		return nil, access.Grant{}, err
	}
	if c.Subject.System || c.Subject.IsAdmin {
		return app, access.All(), nil
	}
	g, err := a.s.Authz.Grant(ctx, c.Subject, c.AppID, "entity:"+c.Entity, action)
	if err != nil {
		return nil, g, err
	}
	if !g.Allowed() {
		return nil, g, engine.Permanent(fmt.Errorf("the flow's user may not %s %s records", action, c.Entity))
	}
	return app, g, nil
}

func recordMap(r *records.Record) (map[string]any, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func recordErr(err error) error {
	var se spec.Errors
	var de *records.DuplicateError
	switch {
	case errors.Is(err, records.ErrNotFound):
		return fmt.Errorf("%w: %v", engine.ErrRecordNotFound, err)
	case errors.As(err, &se), errors.As(err, &de):
		return engine.Permanent(err)
	}
	return err
}

func (a flowRecords) write(ctx context.Context, c engine.RecordCall, action string) (records.WriteOptions, *defs.App, error) {
	app, g, err := a.prepare(ctx, c, action)
	if err != nil {
		return records.WriteOptions{}, nil, err
	}
	// an inline working's writes join its transaction (a savepoint): they commit with its steps
	return records.WriteOptions{Actor: c.Subject, Grant: g, Source: "flow", Tx: engine.RunTx(ctx), NoSavepoint: engine.RunTx(ctx) != nil}, app, nil
}

func (a flowRecords) Create(ctx context.Context, c engine.RecordCall) (map[string]any, error) {
	w, app, err := a.write(ctx, c, "create")
	if err != nil {
		return nil, err
	}
	r, err := a.s.Records.Create(ctx, app, c.Entity, c.Values, w)
	if err != nil {
		return nil, recordErr(err)
	}
	return recordMap(r)
}

func (a flowRecords) Get(ctx context.Context, c engine.RecordCall) (map[string]any, error) {
	app, g, err := a.prepare(ctx, c, "read")
	if err != nil {
		return nil, err
	}
	r, err := a.s.Records.Get(ctx, app, c.Entity, c.ID, g)
	if err != nil {
		return nil, recordErr(err)
	}
	return recordMap(r)
}

func (a flowRecords) Update(ctx context.Context, c engine.RecordCall) (map[string]any, error) {
	w, app, err := a.write(ctx, c, "update")
	if err != nil {
		return nil, err
	}
	r, err := a.s.Records.Update(ctx, app, c.Entity, c.ID, c.Values, nil, w)
	if err != nil {
		return nil, recordErr(err)
	}
	return recordMap(r)
}

// SetOwner hands a record over (the assign node's record parameter) with the flow's identity.
func (a flowRecords) SetOwner(ctx context.Context, c engine.RecordCall, owner uuid.UUID) (map[string]any, error) {
	w, app, err := a.write(ctx, c, "update")
	if err != nil {
		return nil, err
	}
	r, err := a.s.Records.SetOwner(ctx, app, c.Entity, c.ID, owner, w)
	if err != nil {
		return nil, recordErr(err)
	}
	return recordMap(r)
}

func (a flowRecords) Delete(ctx context.Context, c engine.RecordCall) error {
	w, app, err := a.write(ctx, c, "delete")
	if err != nil {
		return err
	}
	if err := a.s.Records.Delete(ctx, app, c.Entity, c.ID, w); err != nil && !errors.Is(err, records.ErrNotFound) {
		return recordErr(err)
	}
	return nil
}

func (a flowRecords) Find(ctx context.Context, c engine.RecordCall) ([]map[string]any, error) {
	app, g, err := a.prepare(ctx, c, "read")
	if err != nil {
		return nil, err
	}
	q := records.ListQuery{Limit: c.Limit}
	if len(c.Filter) > 0 {
		if q.Filter, err = json.Marshal(c.Filter); err != nil {
			return nil, err
		}
	}
	page, err := a.s.Records.List(ctx, app, c.Entity, q, g)
	if err != nil {
		return nil, recordErr(err)
	}
	out := make([]map[string]any, 0, len(page.Items))
	for _, r := range page.Items {
		m, err := recordMap(r)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// flowConnectors runs connector operations with the app's named credential and the
// SSRF-guarded client.
type flowConnectors struct{ s *Server }

func (f flowConnectors) CallConnector(ctx context.Context, c engine.ConnectorCall) (any, error) {
	conn, ok := f.s.Connectors.Get(c.Connector)
	if !ok {
		return nil, engine.Permanent(fmt.Errorf("unknown connector %q", c.Connector))
	}
	values, skip, err := f.s.connectorCredential(ctx, c)
	if err != nil {
		return nil, err
	}
	if skip != nil {
		return skip, nil
	}
	env := f.s.ConnectorEnv(c.AppID.String(), values)
	env.IdempotencyKey = c.IdempotencyKey
	env.Records = f.s.recordReader(ctx, c.AppID, c.Subject)
	out, err := sdk.Invoke(ctx, conn, c.Operation, env, c.Input)
	if err != nil && !sdk.IsRetryable(err) {
		return nil, engine.Permanent(err)
	}
	if err != nil {
		return out, err
	}
	// files a connector returns (a generated PDF) are stored and handed on as attachment
	// values that a later record.update can attach
	return f.s.StoreConnectorFiles(ctx, c.AppID, out)
}

// connectorCredential answers the credential values of a connector step: the app's named
// credential; the platform's default (platformCredential) when the step names none or one the
// app does not have; for an optional step without either, skip is the step's output.
func (s *Server) connectorCredential(ctx context.Context, c engine.ConnectorCall) (values map[string]string, skip map[string]any, err error) {
	platform := s.platformCredential(c.Connector)
	if c.Credential == "" {
		return platform, nil, nil
	}
	if s.Secrets == nil {
		return nil, nil, engine.Permanent(errors.New("credentials are not available"))
	}
	cr, err := s.Secrets.GetByName(ctx, c.AppID, c.Credential)
	switch {
	case errors.Is(err, secrets.ErrNotFound) && platform != nil:
		return platform, nil, nil
	case errors.Is(err, secrets.ErrNotFound) && c.Optional:
		// an optional step (the sales template's AI summary) is skipped until the credential exists
		return nil, map[string]any{"skipped": true, "reason": "credential " + c.Credential + " does not exist / 凭据 " + c.Credential + " 不存在"}, nil
	case err != nil:
		return nil, nil, engine.Permanent(fmt.Errorf("credential %q: %w", c.Credential, err))
	}
	if _, values, err = s.Secrets.Values(ctx, c.AppID, cr.ID); err != nil {
		return nil, nil, fmt.Errorf("credential %q: %w", c.Credential, err)
	}
	return values, nil, nil
}

// platformCredential answers the platform's default credential of a connector: the
// TESSERA_SMTP_* settings for the email connector; nil when there is none.
func (s *Server) platformCredential(connector string) map[string]string {
	if connector == "email" {
		return s.Cfg.SMTP.Values()
	}
	return nil
}

// PollCaller runs the connectors' polling triggers (runtime/trigger.Poller) with the app's
// named credential and the SSRF-guarded client.
func (s *Server) PollCaller() trigger.PollCaller {
	return trigger.ConnectorPolls{Registry: s.Connectors, Env: func(ctx context.Context, appID uuid.UUID, connector, credential string) (sdk.Env, error) {
		var values map[string]string
		if credential != "" {
			if s.Secrets == nil {
				return sdk.Env{}, errors.New("credentials are not available")
			}
			cr, err := s.Secrets.GetByName(ctx, appID, credential)
			if err != nil {
				return sdk.Env{}, fmt.Errorf("credential %q: %w", credential, err)
			}
			if cr.Connector != connector {
				return sdk.Env{}, fmt.Errorf("credential %q belongs to connector %s", credential, cr.Connector)
			}
			if _, values, err = s.Secrets.Values(ctx, appID, cr.ID); err != nil {
				return sdk.Env{}, fmt.Errorf("credential %q: %w", credential, err)
			}
		}
		return s.ConnectorEnv(appID.String(), values), nil
	}}
}

// checkPollTrigger validates a poll trigger against the connector registry at publish: a
// known connector offering the trigger, params valid for the trigger's spec ({{ }} templates
// are not rendered in poll params) and a credential of the connector saved in the app when the
// connector needs one. Errors name trigger.<key>.
func (s *Server) checkPollTrigger(ctx context.Context, appID uuid.UUID, f *spec.Flow) spec.Errors {
	t := f.Trigger
	if t.Type != "poll" || t.Connector == "" || t.PollTrigger == "" || s.Connectors == nil {
		return nil
	}
	var errs spec.Errors
	conn, ok := s.Connectors.Get(t.Connector)
	if !ok {
		errs.Add("trigger.connector", "unknown", "unknown connector %q / 未知的连接器", t.Connector)
		return errs
	}
	cs := conn.Spec()
	tr, ok := cs.Trigger(t.PollTrigger)
	if _, poller := conn.(sdk.Poller); !ok || !poller {
		errs.Add("trigger.trigger", "unknown", "connector %s has no polling trigger %q / 连接器没有该轮询触发器", cs.ID, t.PollTrigger)
		return errs
	}
	var params map[string]any
	if len(t.Params) > 0 && json.Unmarshal(t.Params, &params) != nil {
		return errs // reported by builder/validate
	}
	for _, fe := range sdk.ValidateParams(tr.Params, params) {
		errs.Add("trigger.params."+fe.Field, fe.Code, "%s", fe.Message)
	}
	needsCred := false
	for _, c := range cs.Credentials {
		needsCred = needsCred || c.Required
	}
	switch {
	case t.Credential == "" && needsCred:
		errs.Add("trigger.credential", "required", "connector %s needs a credential / 该连接器需要凭据", cs.ID)
	case t.Credential != "" && s.Secrets != nil:
		cr, err := s.Secrets.GetByName(ctx, appID, t.Credential)
		if errors.Is(err, secrets.ErrNotFound) {
			errs.Add("trigger.credential", "unknown", "no credential named %s in this app / 应用中没有该凭据", t.Credential)
		} else if err == nil && cr.Connector != cs.ID {
			errs.Add("trigger.credential", "wrong_connector", "credential %s belongs to connector %s / 凭据属于其他连接器", t.Credential, cr.Connector)
		}
	}
	return errs
}

// getPollStatus answers the poll trigger status of a flow (404 when the flow has no poll
// trigger or the poller has not picked it up yet).
func (s *Server) getPollStatus(c *fiber.Ctx) error {
	_, app, err := s.flowAccess(c, c.Params("app"), c.Params("flow"), "read")
	if err != nil {
		return err
	}
	st, err := trigger.PollState(c.UserContext(), s.DB.Pool, app.ID, c.Params("flow"))
	if errors.Is(err, trigger.ErrNoPollState) {
		return problem.NotFound("flow " + c.Params("flow") + " has no active poll trigger / 该流程没有轮询触发器")
	}
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func nilIfEmptyStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

type runView struct {
	ID          uuid.UUID       `json:"id"`
	AppID       uuid.UUID       `json:"app_id"`
	Flow        string          `json:"flow"`
	FlowVersion int             `json:"flow_version"`
	Status      string          `json:"status"`
	Trigger     json.RawMessage `json:"trigger,omitempty"`
	Output      json.RawMessage `json:"output"`
	Error       *string         `json:"error"`
	Actor       *uuid.UUID      `json:"actor"`
	ParentRunID *uuid.UUID      `json:"parent_run_id,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	StartedAt   *time.Time      `json:"started_at"`
	FinishedAt  *time.Time      `json:"finished_at"`
	WakeAt      *time.Time      `json:"wake_at,omitempty"`
	// QueuedAt is when the run's latest working became ready (created, woken, retried);
	// QueuedMS the time it spent waiting for a worker over all its workings.
	QueuedAt *time.Time `json:"queued_at"`
	QueuedMS int64      `json:"queued_ms"`
	// Test marks a run started from the builder on a sample; ClockOffsetMS is how far its
	// simulated clock was fast-forwarded.
	Test          bool  `json:"test"`
	ClockOffsetMS int64 `json:"clock_offset_ms,omitempty"`
	// StartedBy says what started the run: {type, entity, record_id, record_title, form,
	// key, user, user_name, schedule}.
	StartedBy json.RawMessage `json:"started_by,omitempty"`
	// FlowLabel is the flow's name ({en, zh-CN}) from its draft, for lists that show names.
	FlowLabel json.RawMessage `json:"flow_label,omitempty"`
	// App is the app's slug, for links.
	App string `json:"app"`
	// RerunOf and RerunNode mark a node re-run from the designer: the run whose input the
	// node worked on again, and the node.
	RerunOf   *uuid.UUID `json:"rerun_of,omitempty"`
	RerunNode *string    `json:"rerun_node,omitempty"`
}

// runDetail is a run with its steps (always present, [] before the first step).
type runDetail struct {
	*runView
	Steps []stepView `json:"steps"`
}

type stepView struct {
	Node string `json:"node"`
	// Name and Type are the node's, from the flow version the run ran (empty when that
	// version is gone), so the run page names steps as the designer does.
	Name       string          `json:"name,omitempty"`
	Type       string          `json:"type,omitempty"`
	Status     string          `json:"status"`
	Input      json.RawMessage `json:"input"`
	Output     json.RawMessage `json:"output"`
	Error      *string         `json:"error"`
	Port       *string         `json:"port,omitempty"`
	Attempt    int             `json:"attempt"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
	DurationMS *int64          `json:"duration_ms"`
	WakeAt     *time.Time      `json:"wake_at,omitempty"`
}

const runColumns = `id, app_id, flow, flow_version, status, output, error, actor, parent_run_id, created_at, started_at, finished_at, wake_at, queued_at, queued_ms, test, clock_offset_ms, ` + startedByColumn + `,
	(SELECT d.draft->'label' FROM definitions d WHERE d.app_id = flow_runs.app_id AND d.kind = 'flows' AND d.slug = flow_runs.flow),
	(SELECT a.slug FROM apps a WHERE a.id = flow_runs.app_id), rerun_of, rerun_node`

func scanRun(row pgx.Row, r *runView, extra ...any) error {
	return row.Scan(append([]any{&r.ID, &r.AppID, &r.Flow, &r.FlowVersion, &r.Status, &r.Output, &r.Error, &r.Actor, &r.ParentRunID,
		&r.CreatedAt, &r.StartedAt, &r.FinishedAt, &r.WakeAt, &r.QueuedAt, &r.QueuedMS, &r.Test, &r.ClockOffsetMS, &r.StartedBy, &r.FlowLabel, &r.App, &r.RerunOf, &r.RerunNode}, extra...)...)
}

func (s *Server) listRuns(c *fiber.Ctx) error {
	_, app, err := s.flowAccess(c, c.Params("app"), c.Params("flow"), "read")
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	args := []any{app.ID, c.Params("flow"), limit + 1}
	where := ""
	if st := c.Query("status"); st != "" {
		switch st {
		case engine.StatusQueued, engine.StatusRunning, engine.StatusWaiting, engine.StatusSucceeded, engine.StatusFailed:
		default:
			return problem.Validation(specErrors("status", "invalid", "status must be queued, running, waiting, succeeded or failed / status 须为 queued、running、waiting、succeeded 或 failed"))
		}
		args = append(args, st)
		where += fmt.Sprintf(" AND status = $%d", len(args))
	}
	if cur := c.Query("cursor"); cur != "" {
		ts, idText, _ := strings.Cut(cur, "_")
		t, err1 := time.Parse(time.RFC3339Nano, ts)
		id, err2 := uuid.Parse(idText)
		if err1 != nil || err2 != nil {
			return problem.Validation(specErrors("cursor", "invalid", "bad cursor / 无效的游标"))
		}
		args = append(args, t, id)
		where += fmt.Sprintf(" AND (created_at, id) < ($%d, $%d)", len(args)-1, len(args))
	}
	rows, err := s.DB.Pool.Query(c.UserContext(), `SELECT `+runColumns+` FROM flow_runs WHERE app_id = $1 AND flow = $2`+where+` ORDER BY created_at DESC, id DESC LIMIT $3`, args...)
	if err != nil {
		return fmt.Errorf("listing runs: %w", err)
	}
	defer rows.Close()
	items := []runView{}
	for rows.Next() {
		var r runView
		if err := scanRun(rows, &r); err != nil {
			return fmt.Errorf("listing runs: %w", err)
		}
		items = append(items, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing runs: %w", err)
	}
	var next any
	if len(items) > limit {
		items = items[:limit]
		next = items[limit-1].CreatedAt.Format(time.RFC3339Nano) + "_" + items[limit-1].ID.String()
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

// loadRunFor loads a run and checks action on its flow: 404 unless the caller may read the
// flow's runs (read or run on the flow), 403 when they may read but not do action.
func (s *Server) loadRunFor(c *fiber.Ctx, action string) (*runView, error) {
	p, err := auth.Require(c)
	if err != nil {
		return nil, err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.runFor(c.UserContext(), p, id, action)
}

// runFor loads run id and checks action on its flow for p (a run p may not read is not found).
func (s *Server) runFor(ctx context.Context, p *auth.Principal, id uuid.UUID, action string) (*runView, error) {
	r := &runView{}
	err := scanRun(s.DB.Pool.QueryRow(ctx, `SELECT `+runColumns+`, trigger FROM flow_runs WHERE id = $1`, id), r, &r.Trigger)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, problem.NotFound("run not found / 运行记录不存在")
	}
	if err != nil {
		return nil, fmt.Errorf("loading run: %w", err)
	}
	// A run the caller cannot read answers like a missing one, whatever the action; only a
	// caller who can read it learns that they may not act on it.
	if err := s.flowAllowed(ctx, p.Subject(), r.AppID, r.Flow, "read"); err != nil {
		var pr *problem.Problem
		if errors.As(err, &pr) && pr.Status == fiber.StatusForbidden {
			return nil, problem.NotFound("run not found / 运行记录不存在")
		}
		return nil, err
	}
	if action != "read" {
		if err := s.flowAllowed(ctx, p.Subject(), r.AppID, r.Flow, action); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (s *Server) getRun(c *fiber.Ctx) error {
	r, err := s.loadRunFor(c, "read")
	var pr *problem.Problem
	if errors.As(err, &pr) && pr.Status == fiber.StatusNotFound {
		// not a reader of the flow's runs: a person with a task on the run sees that task's view
		p, aerr := auth.Require(c)
		if aerr != nil {
			return aerr
		}
		id, perr := paramUUID(c, "id")
		if perr != nil {
			return perr
		}
		v, terr := s.taskRun(c.UserContext(), p, id)
		if terr != nil {
			return terr
		}
		return c.JSON(v)
	}
	if err != nil {
		return err
	}
	d, err := s.runDetail(c.UserContext(), r)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// runDetail loads the steps of run r.
func (s *Server) runDetail(ctx context.Context, r *runView) (*runDetail, error) {
	rows, err := s.DB.Pool.Query(ctx, `SELECT node, status, input, output, error, port, attempt, started_at, finished_at, wake_at
		FROM flow_steps WHERE run_id = $1 ORDER BY id`, r.ID)
	if err != nil {
		return nil, fmt.Errorf("loading steps: %w", err)
	}
	defer rows.Close()
	d := runDetail{runView: r, Steps: []stepView{}}
	for rows.Next() {
		var st stepView
		if err := rows.Scan(&st.Node, &st.Status, &st.Input, &st.Output, &st.Error, &st.Port, &st.Attempt, &st.StartedAt, &st.FinishedAt, &st.WakeAt); err != nil {
			return nil, fmt.Errorf("loading steps: %w", err)
		}
		if st.FinishedAt != nil {
			ms := max(st.FinishedAt.Sub(st.StartedAt).Milliseconds(), 0) // the server's and the database's clocks may differ a little
			st.DurationMS = &ms
		}
		d.Steps = append(d.Steps, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("loading steps: %w", err)
	}
	if v, err := s.Defs.Version(ctx, r.AppID, spec.KindFlow, r.Flow, r.FlowVersion); err == nil {
		if f, ok := v.(*spec.Flow); ok {
			nodes := make(map[string]*spec.Node, len(f.Nodes))
			for i := range f.Nodes {
				nodes[f.Nodes[i].ID] = &f.Nodes[i]
			}
			for i := range d.Steps {
				if n := nodes[d.Steps[i].Node]; n != nil {
					d.Steps[i].Name, d.Steps[i].Type = n.Name, n.Type
				}
			}
		}
	}
	return &d, nil
}

func (s *Server) retryRun(c *fiber.Ctx) error {
	r, err := s.loadRunFor(c, "run")
	if err != nil {
		return err
	}
	ok, err := s.Engine.Retry(c.UserContext(), r.ID)
	if err != nil {
		return err
	}
	if !ok {
		return problem.Conflict("only a failed run can be retried; this run is " + r.Status + " / 只能重试失败的运行，此运行的状态为 " + r.Status)
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": r.ID, "run_id": r.ID, "status": engine.StatusQueued})
}

func (s *Server) webhook(c *fiber.Ctx) error {
	body := append([]byte(nil), c.Body()...)
	if len(body) > 1<<20 {
		return problem.New(fiber.StatusRequestEntityTooLarge, "webhook bodies are limited to 1 MiB / webhook 请求体不能超过 1 MiB")
	}
	query := map[string]string{}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) { query[string(k)] = string(v) })
	headers := map[string]string{}
	for _, h := range []string{"Content-Type", "User-Agent", "X-Request-Id"} {
		if v := c.Get(h); v != "" {
			headers[strings.ToLower(h)] = v
		}
	}
	res, err := s.Triggers.Webhook(c.UserContext(), trigger.WebhookRequest{Key: c.Params("key"), Body: body,
		Signature: c.Get(trigger.SignatureHeader), IdempotencyKey: c.Get("Idempotency-Key"), Query: query, Headers: headers,
		ContentType: c.Get(fiber.HeaderContentType)})
	switch {
	case errors.Is(err, trigger.ErrNoWebhook):
		return problem.NotFound("no flow listens on this webhook / 没有流程监听此 webhook")
	case errors.Is(err, trigger.ErrBadSignature):
		return problem.Unauthorized("missing or wrong " + trigger.SignatureHeader + " signature / 签名缺失或错误")
	case errors.Is(err, trigger.ErrUnsupportedMediaType):
		return problem.New(fiber.StatusUnsupportedMediaType,
			"send the webhook body as application/json or application/x-www-form-urlencoded / webhook 请求体须为 application/json 或 application/x-www-form-urlencoded")
	case errors.Is(err, trigger.ErrBadBody):
		return problem.Validation(specErrors("body", "invalid_json", "the webhook body is not valid JSON / webhook 请求体不是有效的 JSON"))
	case errors.Is(err, engine.ErrIdempotencyMismatch):
		return problem.Validation(specErrors("Idempotency-Key", "idempotency_mismatch", "this Idempotency-Key was used with a different body / 此幂等键已用于不同的请求"))
	case err != nil:
		return rateLimited(c, err)
	}
	if !res.Sync {
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"run_id": res.RunID})
	}
	c.Set("X-Run-Id", res.RunID.String())
	switch res.Status {
	case engine.StatusSucceeded:
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		if len(res.Output) == 0 {
			return c.Status(fiber.StatusOK).SendString("null")
		}
		return c.Status(fiber.StatusOK).Send(res.Output)
	case engine.StatusFailed:
		return problem.New(fiber.StatusBadGateway, "the flow failed / 流程执行失败: "+res.Error).WithCode("flow_failed")
	default:
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"run_id": res.RunID, "status": res.Status})
	}
}

// rateLimited answers a trigger.RateLimitedError as 429 with Retry-After (whole seconds, at
// least 1); other errors pass through.
func rateLimited(c *fiber.Ctx, err error) error {
	var rl *trigger.RateLimitedError
	if !errors.As(err, &rl) {
		return err
	}
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(1, int(math.Ceil(rl.RetryAfter.Seconds())))))
	return problem.New(fiber.StatusTooManyRequests, rl.Error()).WithCode("rate_limited")
}
