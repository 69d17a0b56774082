package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/engine"
)

// notes counts a user's notifications by kind.
func (e *env) notes(user uuid.UUID) map[string]int {
	e.t.Helper()
	rows, err := e.d.Pool.Query(context.Background(), `SELECT kind, count(*) FROM notifications WHERE user_id = $1 GROUP BY kind`, user)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			e.t.Fatal(err)
		}
		out[k] = n
	}
	return out
}

// eventually polls cond (an empty answer is success) for up to 20 s.
func (e *env) eventually(what string, cond func() string) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: %s", what, msg)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func sameCounts(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// TestTaskNotificationsOncePerTargetWhenReplayed: the assignee is told of the task and its
// reminder, the escalation target of the escalation; replaying the reminder and escalation
// (a step retried after a crash before its state was saved) notifies nobody again.
func TestTaskNotificationsOncePerTargetWhenReplayed(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	rep, boss := e.user("rep"), e.user("boss")
	e.publish(fmt.Sprintf(`{"slug":"call","trigger":{"type":"manual"},"nodes":[
	  {"id":"t","type":"task","params":{"title":"电话回访","assignee":"email:rep@example.com","due":"300ms","remind":"100ms","escalate_to":%q}}]}`, boss))
	run := e.start("call", nil)
	task, _ := e.openTask(run)
	want := map[uuid.UUID]map[string]int{rep: {"task_assigned": 1, "task_reminder": 1}, boss: {"task_escalated": 1}}
	e.eventually("notifications", func() string {
		for u, w := range want {
			if got := e.notes(u); !sameCounts(got, w) {
				return fmt.Sprintf("user %s has %v, want %v", u, got, w)
			}
		}
		return ""
	})

	// replay: put the waiting step back to before its reminder and escalation, and wake the run
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	if _, err := e.d.Pool.Exec(ctx, `UPDATE flow_steps SET state = $2 WHERE run_id = $1 AND node = 't' AND status = 'waiting'`,
		run, fmt.Sprintf(`{"task_id":%q,"due":%q,"remind_at":%q}`, task, past, past)); err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Wake(ctx, nil, run); err != nil {
		t.Fatal(err)
	}
	e.eventually("replayed escalation", func() string {
		if e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND node = 't' AND status = 'waiting' AND state->>'escalated' = 'true' AND state->>'remind_at' IS NULL`, run) != 1 {
			return e.steps(run)
		}
		return ""
	})
	for u, w := range want {
		if got := e.notes(u); !sameCounts(got, w) {
			t.Fatalf("after the replay user %s has %v, want %v", u, got, w)
		}
	}
	var title string
	var link uuid.UUID
	if err := e.d.Pool.QueryRow(ctx, `SELECT title, task_id FROM notifications WHERE user_id = $1`, boss).Scan(&title, &link); err != nil || title != "电话回访" || link != task {
		t.Fatalf("escalation notification: %q %s %v", title, link, err)
	}
	e.complete(task, boss, "done")
	e.wait(run, "succeeded")
}

// TestApprovalNotifications: each approver of a role is told of the approval and its
// reminder; the requester learns the decision; on timeout the escalation target is told.
func TestApprovalNotifications(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	a, b, boss, requester := e.user("a"), e.user("b"), e.user("boss"), e.user("requester")
	for _, u := range []uuid.UUID{a, b} {
		if _, err := e.d.Pool.Exec(ctx, `INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES ('g', $1, 'approver', $2)`, u.String(), e.app.String()); err != nil {
			t.Fatal(err)
		}
	}
	e.publish(`{"slug":"disc","trigger":{"type":"manual"},"nodes":[
	  {"id":"ap","type":"approval","params":{"title":"折扣审批","levels":[{"name":"approvers","assignees":["role:approver"]}],"remind":"100ms"}}]}`)
	e.publish(fmt.Sprintf(`{"slug":"esc","trigger":{"type":"manual"},"nodes":[
	  {"id":"ap","type":"approval","params":{"title":"超时审批","assignee":%q,"timeout":"100ms","on_timeout":"escalate","escalate_to":%q}}]}`, a, boss))
	run, _, err := e.eng.Start(ctx, nil, engine.StartRequest{AppID: e.app, Flow: "disc", Actor: &requester})
	if err != nil {
		t.Fatal(err)
	}
	esc, _, err := e.eng.Start(ctx, nil, engine.StartRequest{AppID: e.app, Flow: "esc", Actor: &a})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uuid.UUID]map[string]int{
		a:    {"task_assigned": 2, "task_reminder": 1}, // a approves in both flows
		b:    {"task_assigned": 1, "task_reminder": 1},
		boss: {"task_escalated": 1},
	}
	e.eventually("notifications", func() string {
		for u, w := range want {
			if got := e.notes(u); !sameCounts(got, w) {
				return fmt.Sprintf("user %s has %v, want %v", u, got, w)
			}
		}
		return ""
	})
	var ta uuid.UUID
	if err := e.d.Pool.QueryRow(ctx, `SELECT id FROM tasks WHERE run_id = $1 AND assignee_id = $2`, run, a).Scan(&ta); err != nil {
		t.Fatal(err)
	}
	e.complete(ta, a, "reject")
	e.wait(run, "succeeded")
	e.eventually("decision", func() string {
		if got := e.notes(requester); !sameCounts(got, map[string]int{"approval_decided": 1}) {
			return fmt.Sprint(got)
		}
		return ""
	})
	var outcome string
	if err := e.d.Pool.QueryRow(ctx, `SELECT params->>'outcome' FROM notifications WHERE user_id = $1`, requester).Scan(&outcome); err != nil || outcome != "rejected" {
		t.Fatalf("decision outcome %q %v", outcome, err)
	}
	// the escalated approval: the boss decides; the starter (a) is told, the boss is not
	task, who := e.openTask(esc)
	if who != boss {
		t.Fatalf("open task of %s, want the boss", who)
	}
	e.complete(task, boss, "approve")
	e.wait(esc, "succeeded")
	e.eventually("decision of the escalated approval", func() string {
		if got := e.notes(a)["approval_decided"]; got != 1 {
			return fmt.Sprint(e.notes(a))
		}
		return ""
	})
	if got := e.notes(boss); !sameCounts(got, map[string]int{"task_escalated": 1}) {
		t.Fatalf("boss: %v", got)
	}
}
