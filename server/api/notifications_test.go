package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/notify"
	"github.com/tessera/tessera/server/apitest"
)

type notePage struct {
	Items []struct {
		ID       string            `json:"id"`
		UserID   string            `json:"user_id"`
		Kind     string            `json:"kind"`
		Title    string            `json:"title"`
		Text     map[string]string `json:"text"`
		TaskID   *string           `json:"task_id"`
		RunID    *string           `json:"run_id"`
		App      *string           `json:"app"`
		ReadAt   *string           `json:"read_at"`
		Params   map[string]any    `json:"params"`
		RecordID *string           `json:"record_id"`
	} `json:"items"`
	NextCursor  *string `json:"next_cursor"`
	UnreadCount int     `json:"unread_count"`
}

func notes(t *testing.T, e *apitest.Env, query, token string) notePage {
	t.Helper()
	var p notePage
	e.Must(200, "GET", "/api/v1/notifications"+query, nil, token).Decode(t, &p)
	return p
}

func kinds(p notePage) map[string]int {
	out := map[string]int{}
	for _, n := range p.Items {
		out[n.Kind]++
	}
	return out
}

// TestTaskNotificationsAPI: a flow task notifies its assignee (assigned, then reminded), a
// delegation notifies the new assignee; each user lists, reads and reads-all only their own.
func TestTaskNotificationsAPI(t *testing.T) {
	e := apitest.New(t)
	ann, annTok := e.CreateUser("ann@example.com", "Ann", nil)
	bob, bobTok := e.CreateUser("bob@example.com", "Bob", nil)
	publishFlow(t, e, map[string]any{"slug": "remind", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "todo", "type": "task", "params": map[string]any{
			"title": "回访客户", "assignee": "email:ann@example.com", "due": "1h", "remind": "1s"}}}})
	e.Must(202, "POST", "/api/v1/apps/crm/flows/remind/run", map[string]any{}, e.AdminToken)
	var p notePage
	eventually(t, 60*time.Second, func() string {
		p = notes(t, e, "", annTok)
		if k := kinds(p); k["task_assigned"] != 1 || k["task_reminder"] != 1 || len(p.Items) != 2 || p.UnreadCount != 2 {
			b, _ := json.Marshal(p)
			return string(b)
		}
		return ""
	})
	reminder, assigned := p.Items[0], p.Items[1] // newest first
	if reminder.Kind != "task_reminder" || reminder.Text["zh-CN"] != "催办：待办尚未完成：回访客户" || reminder.Text["en"] != "Reminder: task still open: 回访客户" ||
		reminder.TaskID == nil || reminder.RunID == nil || reminder.App == nil || *reminder.App != "crm" || reminder.UserID != ann.String() {
		t.Fatalf("reminder %+v", reminder)
	}
	if assigned.Kind != "task_assigned" || assigned.Title != "回访客户" {
		t.Fatalf("assigned %+v", assigned)
	}
	taskID := *reminder.TaskID

	// delegation: bob is told, by whom
	e.Must(200, "POST", "/api/v1/tasks/"+taskID+"/delegate", map[string]any{"user_id": bob.String(), "comment": "请帮忙"}, annTok)
	bp := notes(t, e, "?unread=true", bobTok)
	if len(bp.Items) != 1 || bp.Items[0].Kind != "task_delegated" || bp.Items[0].Params["by_name"] != "Ann" || bp.UnreadCount != 1 {
		t.Fatalf("bob's notifications %+v", bp)
	}
	bobsID := bp.Items[0].ID

	// mine only: ann cannot see, read or mark bob's
	if len(notes(t, e, "", annTok).Items) != 2 {
		t.Fatal("ann sees someone else's notification")
	}
	e.Must(404, "POST", "/api/v1/notifications/"+bobsID+"/read", nil, annTok)
	e.Must(404, "POST", "/api/v1/notifications/not-a-uuid/read", nil, annTok)

	// read one, then the unread filter
	read := e.Must(200, "POST", "/api/v1/notifications/"+assigned.ID+"/read", nil, annTok).JSON()
	if read["read_at"] == nil || read["id"] != assigned.ID {
		t.Fatalf("read %v", read)
	}
	e.Must(200, "POST", "/api/v1/notifications/"+assigned.ID+"/read", nil, annTok) // again: a no-op
	up := notes(t, e, "?unread=true", annTok)
	if len(up.Items) != 1 || up.Items[0].ID != reminder.ID || up.UnreadCount != 1 {
		t.Fatalf("unread after one read: %+v", up)
	}
	if all := notes(t, e, "?unread=false", annTok); len(all.Items) != 2 || all.UnreadCount != 1 {
		t.Fatalf("all after one read: %+v", all)
	}

	// read-all touches only mine
	if r := e.Must(200, "POST", "/api/v1/notifications/read-all", nil, annTok).JSON(); r["updated"] != float64(1) {
		t.Fatalf("read-all %v", r)
	}
	if up := notes(t, e, "?unread=true", annTok); len(up.Items) != 0 || up.UnreadCount != 0 {
		t.Fatalf("unread after read-all: %+v", up)
	}
	if bp := notes(t, e, "", bobTok); bp.UnreadCount != 1 {
		t.Fatalf("bob's unread count after ann's read-all: %d", bp.UnreadCount)
	}
}

func TestNotificationsAPIPagingAndErrors(t *testing.T) {
	e := apitest.New(t)
	ann, annTok := e.CreateUser("ann@example.com", "Ann", nil)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := notify.Send(ctx, e.DB.Pool, notify.Notification{UserID: ann, Kind: notify.KindApprovalDecided, Title: fmt.Sprintf("审批 %d", i),
			Params: map[string]any{"outcome": "approved"}}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		p := notes(t, e, q, annTok)
		for _, n := range p.Items {
			seen[n.ID] = true
		}
		if p.UnreadCount != 5 || len(p.Items) > 2 || pages > 3 {
			t.Fatalf("page %d: %+v", pages, p)
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	if len(seen) != 5 {
		t.Fatalf("paged through %d, want 5", len(seen))
	}
	if p := notes(t, e, "", e.AdminToken); len(p.Items) != 0 || p.UnreadCount != 0 {
		t.Fatalf("admin sees ann's notifications: %+v", p)
	}

	cases := []struct {
		name, method, path, token string
		want                      int
	}{
		{"list unauthenticated", "GET", "/api/v1/notifications", "", 401},
		{"read unauthenticated", "POST", "/api/v1/notifications/00000000-0000-0000-0000-000000000000/read", "", 401},
		{"read-all unauthenticated", "POST", "/api/v1/notifications/read-all", "", 401},
		{"bad unread", "GET", "/api/v1/notifications?unread=maybe", annTok, 422},
		{"bad limit", "GET", "/api/v1/notifications?limit=0", annTok, 422},
		{"bad cursor", "GET", "/api/v1/notifications?cursor=xyz", annTok, 422},
		{"unknown id", "POST", "/api/v1/notifications/00000000-0000-0000-0000-000000000000/read", annTok, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Must(c.want, c.method, c.path, nil, c.token)
			if ct := r.Header["Content-Type"]; ct != "application/problem+json" {
				t.Fatalf("content type %q: %s", ct, r.Body)
			}
		})
	}
	// the routes are documented
	spec := e.Must(200, "GET", "/api/v1/openapi.json", nil, "").JSON()
	paths, _ := spec["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/notifications", "/api/v1/notifications/read-all", "/api/v1/notifications/{id}/read"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("openapi.json lacks %s", p)
		}
	}
}
