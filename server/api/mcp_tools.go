package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/runtime/report"
	"github.com/tessera/tessera/runtime/trigger"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// The MCP tools: each resolves the app (readable, MCP on) and calls the same services and
// permission checks as the matching REST route.

type mcpAppArg struct {
	App string `json:"app" jsonschema:"the app's slug (from list_apps)"`
}

type mcpEntityArg struct {
	App    string `json:"app" jsonschema:"the app's slug (from list_apps)"`
	Entity string `json:"entity" jsonschema:"the entity's slug (from list_entities)"`
}

type mcpSearchArgs struct {
	App    string         `json:"app" jsonschema:"the app's slug"`
	Entity string         `json:"entity" jsonschema:"the entity's slug"`
	Filter map[string]any `json:"filter,omitempty" jsonschema:"record filter, e.g. {\"stage\":{\"eq\":\"new\"},\"amount\":{\"gte\":1000}} (AND); {\"or\":[...]} for OR; operators eq ne gt gte lt lte in contains starts_with is_empty"`
	Q      string         `json:"q,omitempty" jsonschema:"full-text search over text fields"`
	Sort   string         `json:"sort,omitempty" jsonschema:"field to sort by, '-' for descending, e.g. -created_at"`
	Limit  int            `json:"limit,omitempty" jsonschema:"page size, 1-100 (default 20)"`
	Cursor string         `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page"`
}

type mcpGetArgs struct {
	App    string `json:"app" jsonschema:"the app's slug"`
	Entity string `json:"entity" jsonschema:"the entity's slug"`
	ID     string `json:"id" jsonschema:"the record id"`
}

type mcpCreateArgs struct {
	App    string         `json:"app" jsonschema:"the app's slug"`
	Entity string         `json:"entity" jsonschema:"the entity's slug"`
	Values map[string]any `json:"values" jsonschema:"field values by field key"`
}

type mcpUpdateArgs struct {
	App     string         `json:"app" jsonschema:"the app's slug"`
	Entity  string         `json:"entity" jsonschema:"the entity's slug"`
	ID      string         `json:"id" jsonschema:"the record id"`
	Values  map[string]any `json:"values" jsonschema:"changed field values by field key"`
	Version int            `json:"version,omitempty" jsonschema:"the record version you read; the update fails if someone changed it since"`
}

type mcpReportArgs struct {
	App    string         `json:"app" jsonschema:"the app's slug"`
	Report string         `json:"report" jsonschema:"the published report's slug"`
	Filter map[string]any `json:"filter,omitempty" jsonschema:"extra record filter AND-ed with the report's"`
	From   string         `json:"from,omitempty" jsonschema:"period start, YYYY-MM-DD or RFC 3339"`
	To     string         `json:"to,omitempty" jsonschema:"period end, YYYY-MM-DD (inclusive) or RFC 3339"`
}

type mcpFlowArgs struct {
	App   string         `json:"app" jsonschema:"the app's slug"`
	Flow  string         `json:"flow" jsonschema:"the published flow's slug"`
	Input map[string]any `json:"input,omitempty" jsonschema:"the run's input (trigger.input)"`
	Wait  bool           `json:"wait,omitempty" jsonschema:"wait up to 30 seconds for the run to finish"`
}

type mcpRunArgs struct {
	ID string `json:"id" jsonschema:"the run id"`
}

type mcpTasksArgs struct {
	Status string `json:"status,omitempty" jsonschema:"open (default), done or all"`
	Limit  int    `json:"limit,omitempty" jsonschema:"at most this many, 1-500 (default 100)"`
}

type mcpCompleteArgs struct {
	ID      string `json:"id" jsonschema:"the task id"`
	Outcome string `json:"outcome,omitempty" jsonschema:"approvals: approve, reject or comment; tasks: any short outcome (default done)"`
	Comment string `json:"comment,omitempty" jsonschema:"a comment"`
}

func parseID(id, what string) (uuid.UUID, error) {
	u, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil {
		return uuid.Nil, problem.NotFound(what + " not found / " + what + " 不存在")
	}
	return u, nil
}

func label(l spec.Label, fallback string) map[string]string {
	if len(l) == 0 {
		return map[string]string{"en": fallback}
	}
	return l
}

func (s *Server) addMCPTools(srv *mcp.Server) {
	mcpTool(s, srv, "list_apps", "List the apps you can open, with their slugs.", true, func(ctx context.Context, p *auth.Principal, _ struct{}) (any, error) {
		apps, err := s.Store.ListApps(ctx)
		if err != nil {
			return nil, err
		}
		items := []map[string]any{}
		for _, a := range apps {
			g, err := s.Authz.Grant(ctx, p.Subject(), a.ID, "app", "read")
			if err != nil {
				return nil, err
			}
			if g.Allowed() && mcpEnabled(a.Settings) {
				items = append(items, map[string]any{"slug": a.Slug, "name": a.Name})
			}
		}
		return map[string]any{"apps": items}, nil
	})

	mcpTool(s, srv, "list_entities", "List an app's entities you can read, with each field's key, label, type and options (fields hidden from you are left out).", true,
		func(ctx context.Context, p *auth.Principal, in mcpAppArg) (any, error) {
			app, err := s.mcpApp(ctx, p, in.App)
			if err != nil {
				return nil, err
			}
			slugs, err := s.Defs.PublishedSlugs(ctx, app.ID, spec.KindEntity)
			if err != nil {
				return nil, err
			}
			out := []map[string]any{}
			for _, slug := range slugs {
				g, err := s.Authz.Grant(ctx, p.Subject(), app.ID, "entity:"+slug, "read")
				if err != nil {
					return nil, err
				}
				if !g.Allowed() {
					continue
				}
				ent, _, err := s.Defs.Entity(ctx, app.ID, slug)
				if err != nil {
					return nil, err
				}
				fields := []map[string]any{}
				for _, f := range ent.Fields {
					if g.Hidden[f.Key] {
						continue
					}
					fm := map[string]any{"key": f.Key, "type": f.Type, "label": label(f.Label, f.Key)}
					if f.Required {
						fm["required"] = true
					}
					if g.ReadOnly[f.Key] {
						fm["read_only"] = true
					}
					if f.Target != "" {
						fm["target"] = f.Target
					}
					if f.Multiple {
						fm["multiple"] = true
					}
					if len(f.Options) > 0 {
						opts := make([]string, len(f.Options))
						for i, o := range f.Options {
							opts[i] = o.Value
						}
						fm["options"] = opts
					}
					fields = append(fields, fm)
				}
				e := map[string]any{"slug": slug, "label": label(ent.Label, slug), "fields": fields}
				if ent.Stages != nil {
					e["stages"] = map[string]any{"field": ent.Stages.Field, "order": ent.Stages.Order}
				}
				out = append(out, e)
			}
			return map[string]any{"entities": out}, nil
		})

	mcpTool(s, srv, "search_records", "Search an entity's records you can see (filter, full-text q, sort, cursor paging). Only fields you may read are returned.", true,
		func(ctx context.Context, p *auth.Principal, in mcpSearchArgs) (any, error) {
			rc, err := s.mcpRecords(ctx, p, in.App, in.Entity, "read")
			if err != nil {
				return nil, err
			}
			limit := in.Limit
			if limit <= 0 {
				limit = 20
			}
			if limit > 100 {
				return nil, problem.Validation(specErrors("limit", "out_of_range", "limit is 1 to 100 / limit 须在 1 到 100 之间"))
			}
			q := records.ListQuery{Sort: in.Sort, Limit: limit, Cursor: in.Cursor, Q: in.Q}
			if len(in.Filter) > 0 {
				q.Filter, _ = json.Marshal(in.Filter)
			}
			return s.Records.List(ctx, rc.app, rc.slug, q, rc.grant)
		})

	mcpTool(s, srv, "get_record", "Read one record you can see by id (fields hidden from you are left out).", true,
		func(ctx context.Context, p *auth.Principal, in mcpGetArgs) (any, error) {
			rc, err := s.mcpRecords(ctx, p, in.App, in.Entity, "read")
			if err != nil {
				return nil, err
			}
			id, err := parseID(in.ID, "record")
			if err != nil {
				return nil, err
			}
			return s.Records.Get(ctx, rc.app, rc.slug, id, rc.grant)
		})

	mcpTool(s, srv, "create_record", "Create a record (field validation, duplicates and stage gates apply as in the app).", false,
		func(ctx context.Context, p *auth.Principal, in mcpCreateArgs) (any, error) {
			rc, err := s.mcpRecords(ctx, p, in.App, in.Entity, "create")
			if err != nil {
				return nil, err
			}
			if in.Values == nil {
				return nil, problem.Validation(specErrors("values", "required", "values are required / 须提供字段值"))
			}
			return s.Records.Create(ctx, rc.app, rc.slug, in.Values, rc.write("mcp"))
		})

	mcpTool(s, srv, "update_record", "Change fields of a record you can edit (read-only fields, validation and stage gates apply).", false,
		func(ctx context.Context, p *auth.Principal, in mcpUpdateArgs) (any, error) {
			rc, err := s.mcpRecords(ctx, p, in.App, in.Entity, "update")
			if err != nil {
				return nil, err
			}
			id, err := parseID(in.ID, "record")
			if err != nil {
				return nil, err
			}
			var version *int
			if in.Version > 0 {
				version = &in.Version
			}
			return s.Records.Update(ctx, rc.app, rc.slug, id, in.Values, version, rc.write("mcp"))
		})

	mcpTool(s, srv, "run_report", "Run a published report with your row scope; answers columns and rows.", true,
		func(ctx context.Context, p *auth.Principal, in mcpReportArgs) (any, error) {
			app, err := s.mcpApp(ctx, p, in.App)
			if err != nil {
				return nil, err
			}
			if _, err := s.grant(ctx, p, app, "report:"+in.Report, "read"); err != nil {
				return nil, err
			}
			rep, _, err := s.Defs.Report(ctx, app.ID, in.Report)
			if errors.Is(err, defs.ErrNotFound) {
				return nil, problem.NotFound("report not found (报表不存在)")
			}
			if err != nil {
				return nil, err
			}
			g, err := s.grant(ctx, p, app, "entity:"+rep.Entity, "read")
			if err != nil {
				return nil, err
			}
			params := report.Params{Locale: p.Locale}
			tz := report.Timezone(app)
			var errs spec.Errors
			for _, b := range []struct {
				name, raw string
				end       bool
				into      **time.Time
			}{{"from", in.From, false, &params.From}, {"to", in.To, true, &params.To}} {
				if b.raw == "" {
					continue
				}
				t, ok := report.ParseTime(b.raw, tz, b.end)
				if !ok {
					errs.Add(b.name, "invalid", "%s must be a date (YYYY-MM-DD) or an RFC 3339 time / %s 须为日期或 RFC 3339 时间", b.name, b.name)
					continue
				}
				*b.into = &t
			}
			if len(errs) > 0 {
				return nil, problem.Validation(errs)
			}
			if len(in.Filter) > 0 {
				params.Filter, _ = json.Marshal(in.Filter)
			}
			res, err := s.Reports.Run(ctx, app, rep, params, g)
			if err != nil {
				return nil, reportError(err)
			}
			return res, nil
		})

	mcpTool(s, srv, "start_flow", "Start a published flow you may run, with input; answers the run id (and its result with wait).", false,
		func(ctx context.Context, p *auth.Principal, in mcpFlowArgs) (any, error) {
			app, err := s.mcpApp(ctx, p, in.App)
			if err != nil {
				return nil, err
			}
			if err := s.flowAllowed(ctx, p.Subject(), app.ID, in.Flow, "run"); err != nil {
				return nil, err
			}
			flow, version, err := s.Defs.Flow(ctx, app.ID, in.Flow)
			if errors.Is(err, defs.ErrNotFound) {
				return nil, problem.NotFound("flow " + in.Flow + " is not published / 流程 " + in.Flow + " 尚未发布")
			}
			if err != nil {
				return nil, err
			}
			if err := s.Triggers.AllowRun(app.ID); err != nil {
				var rl *trigger.RateLimitedError
				if errors.As(err, &rl) {
					return nil, problem.New(429, rl.Error()).WithCode("rate_limited")
				}
				return nil, err
			}
			var input any = in.Input
			if in.Input == nil {
				input = map[string]any{}
			}
			id, _, err := s.startManual(ctx, p, app.ID, in.Flow, flow, version, input, "", "")
			if err != nil {
				return nil, err
			}
			if !in.Wait {
				return map[string]any{"run_id": id, "status": "queued", "flow_version": version}, nil
			}
			return s.settledRun(ctx, id, 30*time.Second)
		})

	mcpTool(s, srv, "get_run", "Read a run of a flow you may read: status, output, error and its steps.", true,
		func(ctx context.Context, p *auth.Principal, in mcpRunArgs) (any, error) {
			id, err := parseID(in.ID, "run")
			if err != nil {
				return nil, err
			}
			r, err := s.runFor(ctx, p, id, "read")
			if err != nil {
				return nil, err
			}
			if app, err := s.Defs.AppByID(ctx, r.AppID); err != nil || !mcpEnabled(app.Settings) {
				return nil, problem.NotFound("run not found / 运行记录不存在")
			}
			return s.runDetail(ctx, r)
		})

	mcpTool(s, srv, "list_my_tasks", "List your tasks and approvals (status open, done or all), due first.", true,
		func(ctx context.Context, p *auth.Principal, in mcpTasksArgs) (any, error) {
			status := in.Status
			if status == "" {
				status = "open"
			}
			limit := in.Limit
			if limit == 0 {
				limit = 100
			}
			if limit < 1 || limit > 500 {
				return nil, problem.Validation(specErrors("limit", "out_of_range", "limit is 1 to "+strconv.Itoa(500)+" / limit 须在 1 到 500 之间"))
			}
			items, err := s.myTasks(ctx, p, status, limit)
			if err != nil {
				return nil, err
			}
			return map[string]any{"items": items}, nil
		})

	mcpTool(s, srv, "complete_task", "Complete one of your tasks, or decide an approval (approve, reject, or comment to keep it open).", false,
		func(ctx context.Context, p *auth.Principal, in mcpCompleteArgs) (any, error) {
			id, err := parseID(in.ID, "task")
			if err != nil {
				return nil, err
			}
			return s.completeTaskAs(ctx, p, id, in.Outcome, in.Comment)
		})
}

// mcpRecords resolves the app (readable, MCP on), the entity and the caller's grant for action.
func (s *Server) mcpRecords(ctx context.Context, p *auth.Principal, appSlug, entity, action string) (*recordCtx, error) {
	if _, err := s.mcpApp(ctx, p, appSlug); err != nil {
		return nil, err
	}
	return s.recordAccess(ctx, p, appSlug, entity, action)
}

// settledRun waits until run id is no longer queued or running (it succeeded, failed or waits
// for a person or a timer), at most timeout, and answers its status, output and error.
func (s *Server) settledRun(ctx context.Context, id uuid.UUID, timeout time.Duration) (map[string]any, error) {
	deadline := time.Now().Add(timeout)
	delay := 5 * time.Millisecond
	for {
		var status string
		var out json.RawMessage
		var msg *string
		if err := s.DB.Pool.QueryRow(ctx, `SELECT status, output, error FROM flow_runs WHERE id = $1`, id).Scan(&status, &out, &msg); err != nil {
			return nil, fmt.Errorf("reading run: %w", err)
		}
		if (status != engine.StatusQueued && status != engine.StatusRunning) || time.Now().After(deadline) {
			return map[string]any{"run_id": id, "status": status, "output": out, "error": msg}, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}
