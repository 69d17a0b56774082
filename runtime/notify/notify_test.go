package notify_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/notify"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	d          *db.DB
	app        uuid.UUID
	ann, bob   uuid.UUID
	task       uuid.UUID
	approvalID uuid.UUID
}

func setup(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{d: dbtest.Open(t)}
	for _, u := range []struct {
		email string
		id    *uuid.UUID
	}{{"ann@example.com", &f.ann}, {"bob@example.com", &f.bob}} {
		if err := f.d.Pool.QueryRow(ctx, `INSERT INTO users (email, name) VALUES ($1, $1) RETURNING id`, u.email).Scan(u.id); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('crm', 'CRM') RETURNING id`).Scan(&f.app); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Pool.QueryRow(ctx, `INSERT INTO tasks (app_id, kind, title, assignee_id) VALUES ($1, 'task', '回访客户', $2) RETURNING id`, f.app, f.ann).Scan(&f.task); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Pool.QueryRow(ctx, `INSERT INTO tasks (app_id, kind, title, assignee_id) VALUES ($1, 'approval', '大单审批', $2) RETURNING id`, f.app, f.bob).Scan(&f.approvalID); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTaskNotificationsAreDedupedAndAddressed(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	cases := []struct {
		name    string
		ev      notify.TaskEvent
		want    bool
		to      uuid.UUID
		textZh  string
		textEn  string
		hasTask bool
	}{
		{"assigned goes to the assignee", notify.TaskEvent{TaskID: f.task, Kind: notify.KindTaskAssigned, Key: "a1"}, true, f.ann, "新待办：回访客户", "New task: 回访客户", true},
		{"same key again is a no-op", notify.TaskEvent{TaskID: f.task, Kind: notify.KindTaskAssigned, Key: "a1"}, false, f.ann, "", "", true},
		{"approval reminder", notify.TaskEvent{TaskID: f.approvalID, Kind: notify.KindTaskReminder, Key: "r1"}, true, f.bob, "催办：审批尚未处理：大单审批", "Reminder: approval still pending: 大单审批", true},
		{"escalation to an explicit target", notify.TaskEvent{TaskID: f.task, Kind: notify.KindTaskEscalated, To: &f.bob, Key: "e1"}, true, f.bob, "超时升级给您：回访客户", "Escalated to you (overdue): 回访客户", true},
		{"no key: never deduped", notify.TaskEvent{TaskID: f.task, Kind: notify.KindTaskDelegated}, true, f.ann, "转交给您：回访客户", "Delegated to you: 回访客户", true},
		{"no key twice", notify.TaskEvent{TaskID: f.task, Kind: notify.KindTaskDelegated}, true, f.ann, "转交给您：回访客户", "Delegated to you: 回访客户", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := notify.Task(ctx, f.d.Pool, c.ev)
			if err != nil || got != c.want {
				t.Fatalf("Task = %v, %v; want %v", got, err, c.want)
			}
			if !c.want {
				return
			}
			p, err := notify.List(ctx, f.d.Pool, c.to, notify.ListOptions{Limit: 1})
			if err != nil || len(p.Items) != 1 {
				t.Fatalf("list: %v %v", p, err)
			}
			n := p.Items[0]
			if n.Kind != c.ev.Kind || n.Text["zh-CN"] != c.textZh || n.Text["en"] != c.textEn || n.App == nil || *n.App != "crm" || n.TaskID == nil || *n.TaskID != c.ev.TaskID {
				t.Fatalf("notification %+v", n)
			}
		})
	}
	if _, err := notify.Task(ctx, f.d.Pool, notify.TaskEvent{TaskID: uuid.New(), Kind: notify.KindTaskAssigned}); err == nil {
		t.Fatal("a missing task must be an error")
	}
}

func TestRolledBackTransactionNotifiesNobody(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	boom := errors.New("step failed")
	err := pgx.BeginFunc(ctx, f.d.Pool, func(tx pgx.Tx) error {
		if _, err := notify.Task(ctx, tx, notify.TaskEvent{TaskID: f.task, Kind: notify.KindTaskReminder, Key: "rb"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n, _ := notify.UnreadCount(ctx, f.d.Pool, f.ann); n != 0 {
		t.Fatalf("%d notifications after a rollback", n)
	}
	// the key is free again: the retried step notifies once
	if ok, err := notify.Task(ctx, f.d.Pool, notify.TaskEvent{TaskID: f.task, Kind: notify.KindTaskReminder, Key: "rb"}); !ok || err != nil {
		t.Fatalf("retry: %v %v", ok, err)
	}
}

func TestListPagesReadAndReadAll(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := notify.Send(ctx, f.d.Pool, notify.Notification{UserID: f.ann, Kind: notify.KindApprovalDecided, Title: "t", Params: map[string]any{"outcome": "approved"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := notify.Send(ctx, f.d.Pool, notify.Notification{UserID: f.bob, Kind: notify.KindTaskAssigned, Title: "bob's"}); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.Send(ctx, f.d.Pool, notify.Notification{Kind: notify.KindTaskAssigned}); err == nil {
		t.Fatal("a notification without a user must fail")
	}
	seen := map[uuid.UUID]bool{}
	cursor := ""
	for page := 0; ; page++ {
		p, err := notify.List(ctx, f.d.Pool, f.ann, notify.ListOptions{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if p.UnreadCount != 5 {
			t.Fatalf("unread %d", p.UnreadCount)
		}
		for i, n := range p.Items {
			if seen[n.ID] || n.UserID != f.ann {
				t.Fatalf("page %d item %d: %+v", page, i, n)
			}
			seen[n.ID] = true
			if n.Text["zh-CN"] != "已通过：t" {
				t.Fatalf("text %v", n.Text)
			}
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	if len(seen) != 5 {
		t.Fatalf("paged through %d notifications, want 5", len(seen))
	}
	if _, err := notify.List(ctx, f.d.Pool, f.ann, notify.ListOptions{Cursor: "nope"}); !errors.Is(err, notify.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
	var one uuid.UUID
	for id := range seen {
		one = id
		break
	}
	if _, err := notify.MarkRead(ctx, f.d.Pool, f.bob, one); !errors.Is(err, notify.ErrNotFound) {
		t.Fatalf("bob read ann's notification: %v", err)
	}
	n, err := notify.MarkRead(ctx, f.d.Pool, f.ann, one)
	if err != nil || n.ReadAt == nil {
		t.Fatalf("read: %+v %v", n, err)
	}
	unread, err := notify.List(ctx, f.d.Pool, f.ann, notify.ListOptions{Unread: true})
	if err != nil || len(unread.Items) != 4 || unread.UnreadCount != 4 {
		t.Fatalf("unread after one read: %d items, count %d, %v", len(unread.Items), unread.UnreadCount, err)
	}
	if c, err := notify.MarkAllRead(ctx, f.d.Pool, f.ann); err != nil || c != 4 {
		t.Fatalf("read all: %d %v", c, err)
	}
	if c, _ := notify.UnreadCount(ctx, f.d.Pool, f.bob); c != 1 {
		t.Fatalf("bob's unread count %d after ann read all", c)
	}
}
