package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// taskRunView is what a person with a task on a run sees of it when they may not read the
// flow's runs (an approver following the run link from their inbox): the run's state, the
// flow's name and their task in full (its record's read-only summary and the decisions so
// far). No steps, inputs, outputs or errors: those are the builder's.
type taskRunView struct {
	ID         uuid.UUID       `json:"id"`
	Scope      string          `json:"scope"` // always "task"
	Flow       string          `json:"flow"`
	FlowLabel  json.RawMessage `json:"flow_label,omitempty"`
	Status     string          `json:"status"`
	CreatedAt  time.Time       `json:"created_at"`
	FinishedAt *time.Time      `json:"finished_at"`
	Task       *taskDetail     `json:"task"`
	Steps      []stepView      `json:"steps"`
}

// taskRun answers run id for p through p's task on it (assignee, delegator or decider; the
// open one first, then the newest). A run p has no task on stays not found.
func (s *Server) taskRun(ctx context.Context, p *auth.Principal, id uuid.UUID) (*taskRunView, error) {
	var taskID uuid.UUID
	err := s.DB.Pool.QueryRow(ctx, `SELECT id FROM tasks
		WHERE run_id = $1 AND (assignee_id = $2 OR delegated_from = $2 OR completed_by = $2)
		ORDER BY (status = 'open') DESC, created_at DESC, id DESC LIMIT 1`, id, p.UserID).Scan(&taskID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, problem.NotFound("run not found / 运行记录不存在")
	}
	if err != nil {
		return nil, fmt.Errorf("loading the run's task: %w", err)
	}
	v := &taskRunView{ID: id, Scope: "task", Steps: []stepView{}}
	err = s.DB.Pool.QueryRow(ctx, `SELECT r.flow, d.draft->'label', r.status, r.created_at, r.finished_at
		FROM flow_runs r LEFT JOIN definitions d ON d.app_id = r.app_id AND d.kind = 'flows' AND d.slug = r.flow
		WHERE r.id = $1`, id).Scan(&v.Flow, &v.FlowLabel, &v.Status, &v.CreatedAt, &v.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, problem.NotFound("run not found / 运行记录不存在")
	}
	if err != nil {
		return nil, fmt.Errorf("loading run: %w", err)
	}
	if string(v.FlowLabel) == "null" {
		v.FlowLabel = nil
	}
	if v.Task, err = s.taskDetail(ctx, p, taskID); err != nil {
		return nil, err
	}
	return v, nil
}
