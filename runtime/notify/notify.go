// Package notify writes and reads in-app notifications: a task or approval assigned, reminded,
// escalated or delegated, an approval decided.
//
// Writers pass the transaction they already hold, so a rolled-back step notifies nobody, and a
// dedupe key (task id + kind, run + node ...), so a retried step notifies exactly once.
package notify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Notification kinds (persistent identifiers: the UI keys its texts by them).
const (
	KindTaskAssigned    = "task_assigned"
	KindTaskReminder    = "task_reminder"
	KindTaskEscalated   = "task_escalated"
	KindTaskDelegated   = "task_delegated"
	KindApprovalDecided = "approval_decided"
	// KindMessage is a flow's notify node: the title (and params.body, params.link) as written.
	KindMessage = "message"
	// KindIntakePending: an anonymous or unauthorised submission matched a record the user owns
	// and waits for review (title: the record's name; params.submission_id).
	KindIntakePending = "intake_pending"
	// KindRunFailed: a flow run failed (to the flow's last editor and the app's builders;
	// title: the flow; params.flow, params.error; run_id links to the run).
	KindRunFailed = "run_failed"
	// KindMention: someone @-mentioned the user in a comment on a record they may read
	// (params.by_name, params.comment).
	KindMention = "mention"
)

// Kinds lists every notification kind.
var Kinds = []string{KindTaskAssigned, KindTaskReminder, KindTaskEscalated, KindTaskDelegated, KindApprovalDecided, KindMessage, KindIntakePending, KindRunFailed, KindMention}

// ErrNotFound: no such notification for this user (another user's id answers the same).
var ErrNotFound = errors.New("notification not found")

// ErrBadCursor: the list cursor is not one List returned.
var ErrBadCursor = errors.New("invalid cursor")

// DB is what notify needs from a connection, pool or transaction (pgx.Tx, *pgxpool.Pool).
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Notification is one message to one user, with what it links to.
type Notification struct {
	ID     uuid.UUID      `json:"id"`
	UserID uuid.UUID      `json:"user_id"`
	Kind   string         `json:"kind"`
	Title  string         `json:"title"`
	Params map[string]any `json:"params"`
	// Text is the message rendered in each language ("en", "zh-CN").
	Text     map[string]string `json:"text"`
	AppID    *uuid.UUID        `json:"app_id"`
	TaskID   *uuid.UUID        `json:"task_id"`
	RunID    *uuid.UUID        `json:"run_id"`
	RecordID *uuid.UUID        `json:"record_id"`
	// App and Entity locate the record for links (app slug, entity slug); read-only.
	App       *string    `json:"app"`
	Entity    *string    `json:"entity"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
	// Key dedupes: a second Send with the same key is a no-op. Empty: no deduplication.
	Key string `json:"-"`
}

// Send stores n (user, kind and title at least) unless a notification with its Key exists
// or the user does not. It reports whether a row was written.
func Send(ctx context.Context, db DB, n Notification) (bool, error) {
	if n.UserID == uuid.Nil || n.Kind == "" {
		return false, errors.New("sending notification: user and kind are required")
	}
	params, err := json.Marshal(orEmpty(n.Params))
	if err != nil {
		return false, fmt.Errorf("sending %s notification: %w", n.Kind, err)
	}
	tag, err := db.Exec(ctx, `INSERT INTO notifications (user_id, kind, title, params, app_id, task_id, run_id, record_id, dedupe_key)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, '') WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)
		ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`,
		n.UserID, n.Kind, n.Title, params, n.AppID, n.TaskID, n.RunID, n.RecordID, n.Key)
	if err != nil {
		return false, fmt.Errorf("sending %s notification: %w", n.Kind, err)
	}
	return tag.RowsAffected() == 1, nil
}

// TaskEvent is a notification about a task or approval, addressed to To or, when To is nil,
// to the task's current assignee.
type TaskEvent struct {
	TaskID uuid.UUID
	Kind   string
	To     *uuid.UUID
	Key    string
	Params map[string]any
}

// Task notifies about a task, copying its title, app, run and record as link targets. A task
// without an assignee (and no To) notifies nobody. It reports whether a row was written.
func Task(ctx context.Context, db DB, ev TaskEvent) (bool, error) {
	params := orEmpty(ev.Params)
	var kind string
	var to *uuid.UUID
	n := Notification{Kind: ev.Kind, Key: ev.Key, TaskID: &ev.TaskID}
	err := db.QueryRow(ctx, `SELECT title, kind, assignee_id, app_id, run_id, record_id FROM tasks WHERE id = $1`, ev.TaskID).
		Scan(&n.Title, &kind, &to, &n.AppID, &n.RunID, &n.RecordID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("sending %s notification: task %s not found", ev.Kind, ev.TaskID)
	}
	if err != nil {
		return false, fmt.Errorf("sending %s notification: loading task: %w", ev.Kind, err)
	}
	if ev.To != nil {
		to = ev.To
	}
	if to == nil {
		return false, nil
	}
	if _, ok := params["task_kind"]; !ok {
		params["task_kind"] = kind
	}
	n.UserID, n.Params = *to, params
	return Send(ctx, db, n)
}

func orEmpty(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ListOptions select a page of a user's notifications.
type ListOptions struct {
	Unread bool
	Limit  int    // 1..200, default 50
	Cursor string // from Page.NextCursor
}

// Page is one page of notifications, newest first.
type Page struct {
	Items       []Notification `json:"items"`
	NextCursor  *string        `json:"next_cursor"`
	UnreadCount int            `json:"unread_count"`
}

const columns = `n.id, n.user_id, n.kind, n.title, n.params, n.app_id, n.task_id, n.run_id, n.record_id, n.created_at, n.read_at,
	(SELECT a.slug FROM apps a WHERE a.id = n.app_id), (SELECT r.entity FROM records r WHERE r.id = n.record_id)`

func scan(row pgx.Row) (Notification, error) {
	var n Notification
	var params []byte
	if err := row.Scan(&n.ID, &n.UserID, &n.Kind, &n.Title, &params, &n.AppID, &n.TaskID, &n.RunID, &n.RecordID, &n.CreatedAt, &n.ReadAt, &n.App, &n.Entity); err != nil {
		return n, err
	}
	_ = json.Unmarshal(params, &n.Params)
	if n.Params == nil {
		n.Params = map[string]any{}
	}
	n.Text = Render(n.Kind, n.Title, n.Params)
	return n, nil
}

// List returns the user's notifications, newest first, with the user's unread count.
func List(ctx context.Context, db DB, userID uuid.UUID, o ListOptions) (Page, error) {
	if o.Limit <= 0 {
		o.Limit = 50
	}
	if o.Limit > 200 {
		o.Limit = 200
	}
	where := []string{"n.user_id = $1"}
	args := []any{userID}
	if o.Unread {
		where = append(where, "n.read_at IS NULL")
	}
	if o.Cursor != "" {
		at, id, err := decodeCursor(o.Cursor)
		if err != nil {
			return Page{}, err
		}
		args = append(args, at, id)
		where = append(where, fmt.Sprintf("(n.created_at, n.id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, o.Limit+1)
	rows, err := db.Query(ctx, `SELECT `+columns+` FROM notifications n WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY n.created_at DESC, n.id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return Page{}, fmt.Errorf("listing notifications: %w", err)
	}
	defer rows.Close()
	p := Page{Items: []Notification{}}
	for rows.Next() {
		n, err := scan(rows)
		if err != nil {
			return Page{}, fmt.Errorf("listing notifications: %w", err)
		}
		p.Items = append(p.Items, n)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("listing notifications: %w", err)
	}
	if len(p.Items) > o.Limit {
		p.Items = p.Items[:o.Limit]
		last := p.Items[o.Limit-1]
		c := encodeCursor(last.CreatedAt, last.ID)
		p.NextCursor = &c
	}
	if p.UnreadCount, err = UnreadCount(ctx, db, userID); err != nil {
		return Page{}, err
	}
	return p, nil
}

// UnreadCount is the number of the user's unread notifications.
func UnreadCount(ctx context.Context, db DB, userID uuid.UUID) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting unread notifications: %w", err)
	}
	return n, nil
}

// MarkRead marks one of the user's notifications read (again: a no-op) and returns it;
// ErrNotFound when the id is not the user's.
func MarkRead(ctx context.Context, db DB, userID, id uuid.UUID) (Notification, error) {
	n, err := scan(db.QueryRow(ctx, `WITH u AS (UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2 RETURNING *)
		SELECT `+columns+` FROM u n`, id, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return n, ErrNotFound
	}
	if err != nil {
		return n, fmt.Errorf("marking notification read: %w", err)
	}
	return n, nil
}

// MarkAllRead marks every unread notification of the user read and reports how many.
func MarkAllRead(ctx context.Context, db DB, userID uuid.UUID) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL`, userID)
	if err != nil {
		return 0, fmt.Errorf("marking notifications read: %w", err)
	}
	return tag.RowsAffected(), nil
}

func encodeCursor(at time.Time, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id.String()))
}

func decodeCursor(c string) (time.Time, uuid.UUID, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, uuid.Nil, ErrBadCursor
	}
	ts, ids, ok := strings.Cut(string(raw), "|")
	at, terr := time.Parse(time.RFC3339Nano, ts)
	id, ierr := uuid.Parse(ids)
	if !ok || terr != nil || ierr != nil {
		return time.Time{}, uuid.Nil, ErrBadCursor
	}
	return at, id, nil
}
