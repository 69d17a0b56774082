package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/notify"
)

// People nodes tell users what concerns them through runtime/notify: each notification is
// written in the transaction of the change it reports and carries a dedupe key naming the
// task (or run and node), so a retried or replayed step notifies exactly once.

// notifyAssigned tells a new task's assignee (in the task's creating transaction); an
// approval task opened by an escalation (data.escalated) is reported as an escalation.
func (x *Exec) notifyAssigned(tx pgx.Tx, id uuid.UUID, data map[string]any) error {
	kind := notify.KindTaskAssigned
	if esc, _ := data["escalated"].(bool); esc {
		kind = notify.KindTaskEscalated
	}
	_, err := notify.Task(x.Ctx, tx, notify.TaskEvent{TaskID: id, Kind: kind, Key: kind + ":" + id.String()})
	return err
}

// remindTasks marks the open tasks among ids reminded and notifies their assignees, once per
// task.
func (x *Exec) remindTasks(ids []uuid.UUID) error {
	err := pgx.BeginFunc(x.Ctx, x.Engine.Pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(x.Ctx, `UPDATE tasks SET reminded_at = now() WHERE id = ANY($1) AND status = 'open' RETURNING id`, ids)
		if err != nil {
			return err
		}
		open, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return err
		}
		for _, id := range open {
			if _, err := notify.Task(x.Ctx, tx, notify.TaskEvent{TaskID: id, Kind: notify.KindTaskReminder, Key: notify.KindTaskReminder + ":" + id.String()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reminding: %w", err)
	}
	return nil
}

// escalateTask hands an open task to another user and notifies them, once per task.
func (x *Exec) escalateTask(id, to uuid.UUID) error {
	err := pgx.BeginFunc(x.Ctx, x.Engine.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(x.Ctx, `UPDATE tasks SET assignee_id = $2, delegated_from = coalesce(delegated_from, assignee_id),
			data = data || '{"escalated": true}' WHERE id = $1 AND status = 'open'`, id, to)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = notify.Task(x.Ctx, tx, notify.TaskEvent{TaskID: id, Kind: notify.KindTaskEscalated, To: &to, Key: notify.KindTaskEscalated + ":" + id.String()})
		return err
	})
	if err != nil {
		return fmt.Errorf("escalating task: %w", err)
	}
	return nil
}

// notifyDecided tells the run's starter (when known and not among the deciders) that the
// approval was decided, once per run and node.
func (n *approvalNode) notifyDecided(x *Exec, s approvalState, outcome string) error {
	if x.run == nil || x.run.Actor == nil {
		return nil
	}
	actor := *x.run.Actor
	if l := s.Levels[s.Current]; slices.Contains(l.DecidedBy, actor.String()) {
		return nil
	}
	_, err := notify.Send(x.Ctx, x.Engine.Pool, notify.Notification{UserID: actor, Kind: notify.KindApprovalDecided, Title: s.Title,
		Params: map[string]any{"outcome": outcome, "task_kind": "approval", "level": s.Levels[s.Current].Name},
		AppID:  &x.AppID, RunID: &x.RunID, RecordID: s.Record, Key: notify.KindApprovalDecided + ":" + x.Key})
	return err
}

// notifyRunFailed tells the flow's last editor and the app's builders that a run failed, in
// the transaction that marks it failed (once per run), with a link to the run.
func notifyRunFailed(ctx context.Context, tx pgx.Tx, run *runRow, msg string) error {
	rows, err := tx.Query(ctx, `SELECT updated_by FROM definitions WHERE app_id = $1 AND kind = 'flows' AND slug = $2 AND updated_by IS NOT NULL
		UNION SELECT u.id FROM casbin_rule r JOIN users u ON u.id::text = r.v0
			WHERE r.ptype = 'g' AND r.v1 = 'builder' AND r.v2 = $1::text AND NOT u.disabled`, run.AppID, run.Flow)
	if err != nil {
		return fmt.Errorf("finding who to tell about a failed run: %w", err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return fmt.Errorf("finding who to tell about a failed run: %w", err)
	}
	if r := []rune(msg); len(r) > 500 {
		msg = string(r[:500])
	}
	app, runID := run.AppID, run.ID
	for _, u := range users {
		if _, err := notify.Send(ctx, tx, notify.Notification{UserID: u, Kind: notify.KindRunFailed, Title: run.Flow, AppID: &app, RunID: &runID,
			Params: map[string]any{"flow": run.Flow, "error": msg, "test": run.Trigger["test"] == true},
			Key:    notify.KindRunFailed + ":" + runID.String() + ":" + u.String()}); err != nil {
			return err
		}
	}
	return nil
}
