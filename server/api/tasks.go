package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/notify"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// mountTasks registers the tasks routes.
func (s *Server) mountTasks() error {
	s.route("GET", "/api/v1/tasks", "tasks", "My tasks and approvals (status=open|done|all).", s.listTasks)
	s.route("POST", "/api/v1/tasks/:id/complete", "tasks", "Complete a task or decide an approval {outcome, comment}; resumes its run.", s.completeTask)
	s.route("POST", "/api/v1/tasks/:id/delegate", "tasks", "Hand a task to another user {user_id, comment}.", s.delegateTask)
	s.mountInbox()
	return nil
}

type taskView struct {
	ID            uuid.UUID       `json:"id"`
	AppID         uuid.UUID       `json:"app_id"`
	RunID         *uuid.UUID      `json:"run_id"`
	Node          *string         `json:"node"`
	Kind          string          `json:"kind"`
	Title         string          `json:"title"`
	AssigneeID    *uuid.UUID      `json:"assignee_id"`
	RecordID      *uuid.UUID      `json:"record_id"`
	Status        string          `json:"status"`
	DueAt         *time.Time      `json:"due_at"`
	Outcome       *string         `json:"outcome"`
	Comment       *string         `json:"comment"`
	CompletedBy   *uuid.UUID      `json:"completed_by"`
	CompletedAt   *time.Time      `json:"completed_at"`
	CreatedAt     time.Time       `json:"created_at"`
	DelegatedFrom *uuid.UUID      `json:"delegated_from,omitempty"`
	Data          json.RawMessage `json:"data"`
	// RemindedAt is set when the task's reminder fired (it is still open past its remind time).
	RemindedAt *time.Time `json:"reminded_at"`
	// App and Entity locate the task's record for links (app slug, entity slug).
	App    *string `json:"app"`
	Entity *string `json:"entity"`
}

const taskColumns = `id, app_id, run_id, node, kind, title, assignee_id, record_id, status, due_at, outcome, comment, completed_by, completed_at, created_at, delegated_from, data,
	reminded_at, (SELECT a.slug FROM apps a WHERE a.id = tasks.app_id), (SELECT r.entity FROM records r WHERE r.id = tasks.record_id)`

func scanTask(row pgx.Row, t *taskView) error {
	return row.Scan(&t.ID, &t.AppID, &t.RunID, &t.Node, &t.Kind, &t.Title, &t.AssigneeID, &t.RecordID, &t.Status, &t.DueAt,
		&t.Outcome, &t.Comment, &t.CompletedBy, &t.CompletedAt, &t.CreatedAt, &t.DelegatedFrom, &t.Data, &t.RemindedAt, &t.App, &t.Entity)
}

func (s *Server) listTasks(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 100, 1, 500)
	if err != nil {
		return err
	}
	items, err := s.myTasks(c.UserContext(), p, c.Query("status", "open"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// myTasks lists p's tasks and approvals by status (open, done or all), due first.
func (s *Server) myTasks(ctx context.Context, p *auth.Principal, status string, limit int) ([]taskView, error) {
	where := "assignee_id = $1"
	switch status {
	case "open":
		where += " AND status = 'open'"
	case "done":
		where += " AND status <> 'open'"
	case "all":
	default:
		return nil, problem.Validation(specErrors("status", "invalid", "status must be open, done or all / status 须为 open、done 或 all"))
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+taskColumns+` FROM tasks WHERE `+where+` ORDER BY due_at NULLS LAST, created_at DESC LIMIT $2`, p.UserID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing tasks: %w", err)
	}
	defer rows.Close()
	items := []taskView{}
	for rows.Next() {
		var t taskView
		if err := scanTask(rows, &t); err != nil {
			return nil, fmt.Errorf("listing tasks: %w", err)
		}
		items = append(items, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing tasks: %w", err)
	}
	return items, nil
}

// loadTaskForAction loads a task the caller (assignee or admin) may act on, locked in tx.
func (s *Server) loadTaskForAction(ctx context.Context, tx pgx.Tx, p *auth.Principal, id uuid.UUID) (*taskView, error) {
	t := &taskView{}
	err := scanTask(tx.QueryRow(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = $1 FOR UPDATE`, id), t)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, problem.NotFound("task not found / 任务不存在")
	}
	if err != nil {
		return nil, fmt.Errorf("loading task: %w", err)
	}
	is := func(u *uuid.UUID) bool { return u != nil && *u == p.UserID }
	if !p.IsAdmin && !is(t.AssigneeID) && !is(t.DelegatedFrom) && !is(t.CompletedBy) {
		// never theirs: answered like a missing task, so task ids confirm nothing
		return nil, problem.NotFound("task not found / 任务不存在")
	}
	if !p.IsAdmin && !is(t.AssigneeID) {
		// someone who delegated it away: the task is no longer theirs
		return nil, problem.Forbidden("only the task's assignee or an admin may act on it / 只有任务的处理人或管理员可以处理此任务")
	}
	if t.Status != "open" {
		return nil, problem.Conflict("the task is already " + t.Status + " / 任务已处理")
	}
	return t, nil
}

func (s *Server) completeTask(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	var body struct {
		Outcome string `json:"outcome"`
		Comment string `json:"comment"`
	}
	if len(c.Body()) > 0 {
		if err := bindJSON(c, &body); err != nil {
			return err
		}
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	out, err := s.completeTaskAs(c.UserContext(), p, id, body.Outcome, body.Comment)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// completeTaskAs completes task id as p (assignee or admin) with outcome and comment and wakes
// its run; an approval takes approve, reject or comment (which keeps it open).
func (s *Server) completeTaskAs(ctx context.Context, p *auth.Principal, id uuid.UUID, outcome, comment string) (*taskView, error) {
	outcome = strings.TrimSpace(outcome)
	if len(outcome) > 100 || len(comment) > 10000 {
		return nil, problem.Validation(specErrors("outcome", "too_long", "outcome is at most 100 and comment at most 10000 characters / 结果最多 100 个字符，备注最多 10000 个字符"))
	}
	var out taskView
	err := pgx.BeginFunc(ctx, s.DB.Pool, func(tx pgx.Tx) error {
		t, err := s.loadTaskForAction(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if t.Kind == "approval" {
			switch outcome {
			case "approve", "approved", "reject", "rejected", "comment":
			default:
				return problem.Validation(specErrors("outcome", "invalid", "an approval outcome is approve, reject or comment / 审批结果须为 approve、reject 或 comment"))
			}
			if outcome == "comment" {
				// a comment keeps the approval open
				return scanTask(tx.QueryRow(ctx, `UPDATE tasks SET comment = concat_ws(E'\n', comment, $2::text) WHERE id = $1 RETURNING `+taskColumns, t.ID, comment), &out)
			}
		}
		if outcome == "" {
			outcome = "done"
		}
		if err := scanTask(tx.QueryRow(ctx, `UPDATE tasks SET status = 'done', outcome = $2, comment = coalesce(NULLIF($3, ''), comment), completed_by = $4, completed_at = now()
			WHERE id = $1 RETURNING `+taskColumns, t.ID, outcome, comment, p.UserID), &out); err != nil {
			return fmt.Errorf("completing task: %w", err)
		}
		if t.RunID != nil {
			return s.Engine.Wake(ctx, tx, *t.RunID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Server) delegateTask(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	// the new assignee is named by user_id or, for people who do not know ids, by email
	var body struct {
		UserID  *uuid.UUID `json:"user_id"`
		Email   string     `json:"email"`
		Comment string     `json:"comment"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	if (body.UserID == nil) == (strings.TrimSpace(body.Email) == "") {
		return problem.Validation(specErrors("user_id", "required", "name the new assignee by user_id or email / 请用 user_id 或 email 指定接手人"))
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	var out taskView
	err = pgx.BeginFunc(c.UserContext(), s.DB.Pool, func(tx pgx.Tx) error {
		t, err := s.loadTaskForAction(c.UserContext(), tx, p, id)
		if err != nil {
			return err
		}
		var to uuid.UUID
		field := "user_id"
		if body.UserID != nil {
			err = tx.QueryRow(c.UserContext(), `SELECT id FROM users WHERE id = $1 AND NOT disabled`, *body.UserID).Scan(&to)
		} else {
			field = "email"
			err = tx.QueryRow(c.UserContext(), `SELECT id FROM users WHERE lower(email) = lower($1) AND NOT disabled`, strings.TrimSpace(body.Email)).Scan(&to)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return problem.Validation(specErrors(field, "not_found", "no such active user / 用户不存在"))
		}
		if err != nil {
			return fmt.Errorf("checking user: %w", err)
		}
		if t.AssigneeID != nil && *t.AssigneeID == to {
			return problem.Validation(specErrors(field, "same_assignee", "the task is already assigned to this user / 任务已经由该用户处理"))
		}
		body.UserID = &to
		if err := scanTask(tx.QueryRow(c.UserContext(), `UPDATE tasks SET assignee_id = $2, delegated_from = coalesce(delegated_from, assignee_id),
			comment = coalesce(NULLIF($3, ''), comment) WHERE id = $1 RETURNING `+taskColumns, t.ID, to, body.Comment), &out); err != nil {
			return fmt.Errorf("delegating task: %w", err)
		}
		if to == p.UserID {
			return nil
		}
		_, err = notify.Task(c.UserContext(), tx, notify.TaskEvent{TaskID: t.ID, Kind: notify.KindTaskDelegated, To: &to,
			Params: map[string]any{"by": p.UserID.String(), "by_name": cmp.Or(p.Name, p.Email), "comment": body.Comment}})
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(out)
}
