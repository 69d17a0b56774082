package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// mountInbox registers the approval inbox routes: one task in full and bulk decisions.
func (s *Server) mountInbox() {
	s.route("GET", "/api/v1/tasks/:id", "tasks", "One of my tasks in full: its approval level and route, the earlier decisions of its run (who, outcome, comment, when) and a read-only summary of its record limited to the fields the caller may read.", s.getTask)
	s.route("POST", "/api/v1/tasks/bulk-complete", "tasks", "Decide several of my tasks at once {ids, outcome, comment}; answers {results:[{id, status, error}]} (each task is decided on its own).", s.bulkCompleteTasks)
}

// taskDecision is an earlier decision (or comment) in the same run as a task.
type taskDecision struct {
	TaskID      uuid.UUID  `json:"task_id"`
	Level       *string    `json:"level"`
	LevelIndex  *int       `json:"level_index"`
	Status      string     `json:"status"`
	Outcome     *string    `json:"outcome"`
	Comment     *string    `json:"comment"`
	AssigneeID  *uuid.UUID `json:"assignee_id"`
	Assignee    *string    `json:"assignee_name"`
	CompletedBy *uuid.UUID `json:"completed_by"`
	DecidedBy   *string    `json:"completed_by_name"`
	CompletedAt *time.Time `json:"completed_at"`
}

// taskSummary is the read-only view of a task's record for its approver.
type taskSummary struct {
	App    string          `json:"app"`
	Entity taskEntity      `json:"entity"`
	Record *records.Record `json:"record"`
}

type taskEntity struct {
	Slug   string       `json:"slug"`
	Label  spec.Label   `json:"label,omitempty"`
	Fields []spec.Field `json:"fields"`
	Stages *spec.Stages `json:"stages,omitempty"`
}

type taskDetail struct {
	taskView
	Decisions []taskDecision `json:"decisions"`
	// Summary is nil when the task has no record or the caller may not read its entity; then
	// SummaryNote says why (no_record, not_readable, gone).
	Summary           *taskSummary `json:"summary"`
	SummaryNote       string       `json:"summary_note,omitempty"`
	DelegatedFromName string       `json:"delegated_from_name,omitempty"`
}

func (s *Server) getTask(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.taskDetail(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// taskDetail loads a task that is or was the caller's (assignee, delegator, decider; admins
// any) with its run's earlier decisions and its record's read-only summary.
func (s *Server) taskDetail(ctx context.Context, p *auth.Principal, id uuid.UUID) (*taskDetail, error) {
	d := &taskDetail{Decisions: []taskDecision{}}
	err := scanTask(s.DB.Pool.QueryRow(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = $1`, id), &d.taskView)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, problem.NotFound("task not found / 任务不存在")
	}
	if err != nil {
		return nil, fmt.Errorf("loading task: %w", err)
	}
	is := func(u *uuid.UUID) bool { return u != nil && *u == p.UserID }
	if !p.IsAdmin && !is(d.AssigneeID) && !is(d.DelegatedFrom) && !is(d.CompletedBy) {
		return nil, problem.NotFound("task not found / 任务不存在")
	}
	if d.DelegatedFrom != nil {
		_ = s.DB.Pool.QueryRow(ctx, `SELECT name FROM users WHERE id = $1`, *d.DelegatedFrom).Scan(&d.DelegatedFromName)
	}
	if d.RunID != nil {
		rows, err := s.DB.Pool.Query(ctx, `SELECT t.id, t.data->>'level', (t.data->>'level_index')::int, t.status, t.outcome, t.comment,
				t.assignee_id, ua.name, t.completed_by, ub.name, t.completed_at
			FROM tasks t LEFT JOIN users ua ON ua.id = t.assignee_id LEFT JOIN users ub ON ub.id = t.completed_by
			WHERE t.run_id = $1 AND t.id <> $2 AND (t.status = 'done' OR (t.comment IS NOT NULL AND t.comment <> ''))
			ORDER BY coalesce(t.completed_at, t.created_at), t.id`, *d.RunID, d.ID)
		if err != nil {
			return nil, fmt.Errorf("loading decisions: %w", err)
		}
		for rows.Next() {
			var x taskDecision
			if err := rows.Scan(&x.TaskID, &x.Level, &x.LevelIndex, &x.Status, &x.Outcome, &x.Comment, &x.AssigneeID, &x.Assignee, &x.CompletedBy, &x.DecidedBy, &x.CompletedAt); err != nil {
				rows.Close()
				return nil, fmt.Errorf("loading decisions: %w", err)
			}
			d.Decisions = append(d.Decisions, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("loading decisions: %w", err)
		}
	}
	d.Summary, d.SummaryNote, err = s.taskSummary(ctx, p, &d.taskView)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// taskSummary is the task's record as its approver may see it. The assignment lets the approver
// see the one record they are asked to decide on whatever their row scope, but only if their
// roles let them read the entity at all, and only the fields those roles do not hide.
func (s *Server) taskSummary(ctx context.Context, p *auth.Principal, t *taskView) (*taskSummary, string, error) {
	if t.RecordID == nil || t.Entity == nil || t.App == nil {
		return nil, "no_record", nil
	}
	app, err := s.Defs.AppByID(ctx, t.AppID)
	if err != nil {
		return nil, "gone", nil
	}
	ent, _, err := s.Defs.Entity(ctx, app.ID, *t.Entity)
	if err != nil {
		return nil, "gone", nil
	}
	sub := p.Subject()
	g, err := s.Authz.Grant(ctx, sub, app.ID, "entity:"+ent.Slug, "read")
	if err != nil {
		return nil, "", fmt.Errorf("checking permission: %w", err)
	}
	if !g.Allowed() {
		return nil, "not_readable", nil
	}
	seen := access.Grant{Scope: access.ScopeAll, Hidden: g.Hidden}
	rec, err := s.Records.Get(ctx, app, ent.Slug, *t.RecordID, seen)
	if errors.Is(err, records.ErrNotFound) {
		return nil, "gone", nil
	}
	if err != nil {
		return nil, "", err
	}
	links := func(ctx context.Context, entity string) (access.Grant, error) {
		return s.Authz.Grant(ctx, sub, app.ID, "entity:"+entity, "read")
	}
	if rec.Display, err = s.Records.PageDisplay(ctx, app, ent.Slug, []*records.Record{rec}, links); err != nil {
		return nil, "", err
	}
	out := &taskSummary{App: app.Slug, Entity: taskEntity{Slug: ent.Slug, Label: ent.Label, Stages: ent.Stages, Fields: []spec.Field{}}}
	for _, f := range ent.Fields {
		if g.Hidden[f.Key] {
			continue
		}
		f.Default, f.Formula, f.Pattern, f.Description = nil, "", "", ""
		out.Entity.Fields = append(out.Entity.Fields, f)
	}
	if out.Entity.Stages != nil && g.Hidden[out.Entity.Stages.Field] {
		out.Entity.Stages = nil
	}
	if out.Entity.Stages != nil {
		// the gates' expressions are the builder's business, not the approver's
		st := *out.Entity.Stages
		st.Transitions = nil
		out.Entity.Stages = &st
	}
	out.Record = rec
	return out, "", nil
}

// bulkResult is the answer for one task of a bulk decision.
type bulkResult struct {
	ID     uuid.UUID `json:"id"`
	Status int       `json:"status"`
	Error  string    `json:"error,omitempty"`
}

func (s *Server) bulkCompleteTasks(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	var body struct {
		IDs     []uuid.UUID `json:"ids"`
		Outcome string      `json:"outcome"`
		Comment string      `json:"comment"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	if len(body.IDs) == 0 || len(body.IDs) > 200 {
		return problem.Validation(specErrors("ids", "invalid", "name between 1 and 200 tasks / 请选择 1 到 200 个任务"))
	}
	switch strings.TrimSpace(body.Outcome) {
	case "approve", "approved", "reject", "rejected", "done":
	default:
		return problem.Validation(specErrors("outcome", "invalid", "a bulk outcome is approve, reject or done / 批量处理结果须为 approve、reject 或 done"))
	}
	out := make([]bulkResult, 0, len(body.IDs))
	seen := map[uuid.UUID]bool{}
	for _, id := range body.IDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		r := bulkResult{ID: id, Status: fiber.StatusOK}
		if _, err := s.completeTaskAs(c.UserContext(), p, id, body.Outcome, body.Comment); err != nil {
			var pr *problem.Problem
			if !errors.As(err, &pr) {
				return err
			}
			r.Status, r.Error = pr.Status, pr.Detail
		}
		out = append(out, r)
	}
	return c.JSON(fiber.Map{"results": out})
}
