package api

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/builder/store"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/runtime/trigger"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// startedByColumn summarises what started a run (the runs lists' trigger column): the kind of
// trigger, the record (id and its name or title), the form, the webhook key, the schedule
// tick, and the person.
const startedByColumn = `jsonb_strip_nulls(jsonb_build_object(
	'type', CASE WHEN trigger->>'manual' = 'true' THEN 'manual' ELSE trigger->>'type' END,
	'entity', trigger->>'entity', 'record_id', trigger->>'record_id',
	'record_title', coalesce(trigger->'record'->>'name', trigger->'record'->>'title', trigger->'record'->>'subject'),
	'form', trigger->>'form', 'form_label', (SELECT d.draft->'label' FROM definitions d
		WHERE d.app_id = flow_runs.app_id AND d.kind = 'forms' AND d.slug = trigger->>'form'),
	'key', trigger->>'key', 'schedule', trigger->>'scheduled_at',
	'parent_run_id', parent_run_id,
	'user', actor, 'user_name', (SELECT u.name FROM users u WHERE u.id = flow_runs.actor)))`

// recordTriggerKinds maps a flow's record trigger type to the change kind its runs see.
var recordTriggerKinds = map[string]string{
	"record.created": events.Created, "record.updated": events.Updated, "stage.changed": events.Stage,
	"form.submitted": events.Form, "record.deleted": events.Deleted,
}

// testRunPayload builds the trigger of a test run (?test=true) that the builder starts on a
// sample: for record, stage and form triggers the record chosen by ?record=<id> arrives as
// trigger.record exactly as a real change would deliver it (read with the caller's access);
// webhook, cron and manual triggers keep the body as trigger.body / trigger.input. Test runs
// are for the app's builders.
func (s *Server) testRunPayload(c *fiber.Ctx, p *auth.Principal, app *defs.App, flow *spec.Flow, manual map[string]any) (map[string]any, error) {
	ctx := c.UserContext()
	g, err := s.Authz.Grant(ctx, p.Subject(), app.ID, "app", "publish")
	if err != nil {
		return nil, err
	}
	if !g.Allowed() {
		return nil, problem.Forbidden("only the app's builders may start test runs / 只有应用的构建者可以发起测试运行")
	}
	kind, isRecord := recordTriggerKinds[flow.Trigger.Type]
	recID := c.Query("record")
	if !isRecord {
		if recID != "" {
			return nil, problem.Validation(specErrors("record", "not_allowed", "this flow is not started by a record; send a body instead / 此流程不由记录触发，请改为提供请求体"))
		}
		manual["test"] = true
		return manual, nil
	}
	if recID == "" {
		return nil, problem.Validation(specErrors("record", "required", "choose a record to test the flow on / 请选择用于测试的记录"))
	}
	id, err := uuid.Parse(recID)
	if err != nil {
		return nil, problem.Validation(specErrors("record", "invalid", "record must be a record id / record 须为记录 ID"))
	}
	entity := flow.Trigger.Entity
	if flow.Trigger.Type == "form.submitted" && flow.Trigger.Form != "" {
		f, _, err := s.Defs.Form(ctx, app.ID, flow.Trigger.Form)
		if err != nil {
			return nil, problem.Validation(specErrors("record", "invalid", "the flow's form "+flow.Trigger.Form+" is not published / 流程的表单 "+flow.Trigger.Form+" 尚未发布"))
		}
		entity = f.Entity
	}
	rg, err := s.Authz.Grant(ctx, p.Subject(), app.ID, "entity:"+entity, "read")
	if err != nil {
		return nil, err
	}
	rec, err := s.Records.Get(ctx, app, entity, id, rg)
	if errors.Is(err, records.ErrNotFound) || (err == nil && !rg.Allowed()) {
		return nil, problem.Validation(specErrors("record", "not_found", "no "+entity+" record with this id that you may read / 没有您可读取的此 ID 的"+entity+"记录"))
	}
	if err != nil {
		return nil, err
	}
	actor := p.UserID
	ch := records.SampleChange(kind, app, entity, rec, &actor, time.Now())
	ch.Form = flow.Trigger.Form
	if kind == events.Stage {
		ch.FromStage, ch.ToStage = flow.Trigger.From, flow.Trigger.To
	}
	if kind == events.Updated {
		ch.Old, ch.Changed = ch.Record, append([]string{}, flow.Trigger.Fields...)
	}
	payload := trigger.RecordPayload(ch)
	payload["test"] = true
	return payload, nil
}

// fastForwardRun moves a waiting test run's clock to its next timer and wakes it.
func (s *Server) fastForwardRun(c *fiber.Ctx) error {
	r, err := s.loadRunFor(c, "read") // 404 for who may not see the run
	if err != nil {
		return err
	}
	p, _ := auth.Require(c)
	g, err := s.Authz.Grant(c.UserContext(), p.Subject(), r.AppID, "app", "publish")
	if err != nil {
		return err
	}
	if !g.Allowed() {
		return problem.Forbidden("only the app's builders may fast-forward test runs / 只有应用的构建者可以快进测试运行")
	}
	moved, err := s.Engine.FastForward(c.UserContext(), r.ID)
	switch {
	case errors.Is(err, engine.ErrRunNotFound):
		return problem.NotFound("run not found / 运行记录不存在")
	case errors.Is(err, engine.ErrNotTestRun):
		return problem.Conflict("only a test run can be fast-forwarded / 只有测试运行可以快进")
	case errors.Is(err, engine.ErrNothingToFastForward):
		return problem.Conflict("the run is not waiting for a timer / 此运行没有在等待计时")
	case err != nil:
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": r.ID, "run_id": r.ID, "advanced_ms": moved.Milliseconds(), "clock_offset_ms": r.ClockOffsetMS + moved.Milliseconds()})
}

// listAppRuns lists the runs of every flow of the app the caller may read, newest first.
func (s *Server) listAppRuns(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	app, err := s.Defs.App(ctx, c.Params("app"))
	if errors.Is(err, defs.ErrNotFound) {
		return problem.NotFound("app " + c.Params("app") + " not found / 应用 " + c.Params("app") + " 不存在")
	}
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT slug FROM definitions WHERE app_id = $1 AND kind = 'flows' ORDER BY slug`, app.ID)
	if err != nil {
		return fmt.Errorf("listing flows: %w", err)
	}
	var slugs []string
	for rows.Next() {
		var sl string
		if err := rows.Scan(&sl); err != nil {
			rows.Close()
			return fmt.Errorf("listing flows: %w", err)
		}
		slugs = append(slugs, sl)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing flows: %w", err)
	}
	allowed := []string{}
	for _, sl := range slugs {
		if s.flowAllowed(ctx, p.Subject(), app.ID, sl, "read") == nil {
			allowed = append(allowed, sl)
		}
	}
	if len(allowed) == 0 {
		// nothing readable: an app the caller cannot see at all stays unconfirmed
		if g, err := s.Authz.Grant(ctx, p.Subject(), app.ID, "app", "read"); err != nil || !g.Allowed() {
			return problem.NotFound("app " + c.Params("app") + " not found / 应用 " + c.Params("app") + " 不存在")
		}
	}
	args := []any{app.ID, allowed, limit + 1}
	where := ""
	var fe spec.Errors
	if f := c.Query("flow"); f != "" {
		args = append(args, f)
		where += fmt.Sprintf(" AND flow = $%d", len(args))
	}
	if st := c.Query("status"); st != "" {
		for _, one := range strings.Split(st, ",") {
			switch one {
			case engine.StatusQueued, engine.StatusRunning, engine.StatusWaiting, engine.StatusSucceeded, engine.StatusFailed:
			default:
				fe.Add("status", "invalid", "status must be queued, running, waiting, succeeded or failed / status 须为 queued、running、waiting、succeeded 或 failed")
			}
		}
		args = append(args, strings.Split(st, ","))
		where += fmt.Sprintf(" AND status = ANY($%d)", len(args))
	}
	for _, bound := range []struct{ key, op string }{{"from", ">="}, {"to", "<"}} {
		v := c.Query(bound.key)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			fe.Add(bound.key, "invalid", "%s must be an RFC 3339 time / %s 须为 RFC 3339 时间", bound.key, bound.key)
			continue
		}
		args = append(args, t)
		where += fmt.Sprintf(" AND created_at %s $%d", bound.op, len(args))
	}
	switch c.Query("test") {
	case "":
	case "true", "false":
		args = append(args, c.Query("test") == "true")
		where += fmt.Sprintf(" AND test = $%d", len(args))
	default:
		fe.Add("test", "invalid", "test must be true or false / test 须为 true 或 false")
	}
	if cur := c.Query("cursor"); cur != "" {
		ts, idText, _ := strings.Cut(cur, "_")
		t, err1 := time.Parse(time.RFC3339Nano, ts)
		id, err2 := uuid.Parse(idText)
		if err1 != nil || err2 != nil {
			fe.Add("cursor", "invalid", "bad cursor / 无效的游标")
		} else {
			args = append(args, t, id)
			where += fmt.Sprintf(" AND (created_at, id) < ($%d, $%d)", len(args)-1, len(args))
		}
	}
	if len(fe) > 0 {
		return problem.Validation(fe)
	}
	rs, err := s.DB.Pool.Query(ctx, `SELECT `+runColumns+` FROM flow_runs WHERE app_id = $1 AND flow = ANY($2)`+where+` ORDER BY created_at DESC, id DESC LIMIT $3`, args...)
	if err != nil {
		return fmt.Errorf("listing runs: %w", err)
	}
	defer rs.Close()
	items := []runView{}
	for rs.Next() {
		var r runView
		if err := scanRun(rs, &r); err != nil {
			return fmt.Errorf("listing runs: %w", err)
		}
		items = append(items, r)
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("listing runs: %w", err)
	}
	var next any
	if len(items) > limit {
		items = items[:limit]
		next = items[limit-1].CreatedAt.Format(time.RFC3339Nano) + "_" + items[limit-1].ID.String()
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

// rerunNode works one node of the flow's draft again on the input it had in an earlier run
// ("run from this node" in the designer): POST .../flows/{flow}/test/step {run_id, node}. The
// answer is the new test run's only step. App builders only.
func (s *Server) rerunNode(c *fiber.Ctx) error {
	p, app, err := s.loadApp(c, "publish")
	if err != nil {
		return err
	}
	var body struct {
		RunID string `json:"run_id"`
		Node  string `json:"node"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	var fe spec.Errors
	runID, perr := uuid.Parse(body.RunID)
	switch {
	case body.RunID == "":
		fe.Add("run_id", "required", "run_id is required / 缺少 run_id")
	case perr != nil:
		fe.Add("run_id", "invalid", "run_id must be a run id / run_id 须为运行 ID")
	}
	if strings.TrimSpace(body.Node) == "" {
		fe.Add("node", "required", "node is required / 缺少 node")
	}
	if len(fe) > 0 {
		return problem.Validation(fe)
	}
	ctx := c.UserContext()
	slug := c.Params("flow")
	d, err := s.Store.Get(ctx, app, spec.KindFlow, slug)
	if errors.Is(err, store.ErrNotFound) {
		return problem.NotFound("flow " + slug + " not found / 流程 " + slug + " 不存在")
	}
	if err != nil {
		return err
	}
	def, err := spec.Decode(spec.KindFlow, d.Draft)
	if err != nil {
		return err
	}
	actor := p.UserID
	res, err := s.Engine.RerunNode(ctx, engine.RerunRequest{AppID: app.ID, Flow: def.(*spec.Flow), Node: body.Node, Run: runID, Actor: &actor})
	switch {
	case errors.Is(err, engine.ErrRunNotFound):
		return problem.NotFound("run " + body.RunID + " of flow " + slug + " not found / 流程 " + slug + " 没有此运行记录")
	case errors.Is(err, engine.ErrNodeNotInFlow):
		return problem.NotFound("the flow's draft has no node " + body.Node + " / 流程草稿中没有节点 " + body.Node)
	case errors.Is(err, engine.ErrNodeNotRun):
		return problem.Validation(specErrors("node", "not_run", "node "+body.Node+" did not run in this run: nothing was recorded to re-run it on / 节点 "+body.Node+" 在此运行中没有执行，没有可重用的输入"))
	case errors.Is(err, engine.ErrNodeWaits):
		return problem.Validation(specErrors("node", "waits", "node "+body.Node+" waits for people or time; test it with a test run from the start / 节点 "+body.Node+" 需要等待人员或时间，请从头发起测试运行"))
	case err != nil:
		return err
	}
	return c.JSON(fiber.Map{"run_id": res.RunID, "rerun_of": runID, "node": res.Node, "status": res.Status, "input": res.Input,
		"output": res.Output, "port": nilIfEmptyStr(res.Port), "error": nilIfEmptyStr(res.Error), "test": true})
}

// pinTestSample pins the sample the designer's test-run dialog preselects (PUT
// .../flows/{flow}/test/sample {record, label} or {body}) into the flow's draft; DELETE unpins.
// The rest of the draft is untouched and published versions never carry the sample.
func (s *Server) pinTestSample(c *fiber.Ctx) error {
	p, app, err := s.loadApp(c, "publish")
	if err != nil {
		return err
	}
	var sample *spec.TestSample
	if c.Method() != fiber.MethodDelete {
		sample = &spec.TestSample{}
		if err := bindJSON(c, sample); err != nil {
			return err
		}
		if sample.Record == "" && len(sample.Body) == 0 {
			return problem.Validation(specErrors("record", "required", "pin a record or a body / 请固定一条记录或一个请求体"))
		}
	}
	d, err := s.Store.SetFlowTestSample(c.UserContext(), &p.UserID, app, c.Params("flow"), sample)
	if errors.Is(err, store.ErrNotFound) {
		return problem.NotFound("flow " + c.Params("flow") + " not found; save a draft first / 流程 " + c.Params("flow") + " 不存在，请先保存草稿")
	}
	if err != nil {
		return err
	}
	return c.JSON(defView(d))
}
