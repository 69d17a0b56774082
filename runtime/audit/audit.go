// Package audit reads the audit log for the admin screens: filtered, paged and resolved to
// names (the actor's name, the target user, team, app, role or definition label) in SQL.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Filter narrows a page of the log. Zero values mean "any".
type Filter struct {
	Actor  *uuid.UUID
	Action string // exact action, or a family ending in "." ("user." = user.create, user.update, ...)
	Target string // exact target ("user:<id>", "role:crm/rep", "crm:entities/lead")
	From   *time.Time
	To     *time.Time // exclusive
	Cursor int64      // entries with a smaller id (the previous page's next_cursor)
	Limit  int
}

// Entry is one audit row with its names resolved.
type Entry struct {
	ID          int64           `json:"id"`
	At          time.Time       `json:"at"`
	Actor       *uuid.UUID      `json:"actor"`
	ActorName   string          `json:"actor_name,omitempty"`
	ActorEmail  string          `json:"actor_email,omitempty"`
	Action      string          `json:"action"`
	Target      string          `json:"target"`
	TargetKind  string          `json:"target_kind,omitempty"`  // user, team, role, app, token, mcp, credential, or a definition kind (entities, forms, ...)
	TargetName  string          `json:"target_name,omitempty"`  // a user's, team's, app's or credential's name, a role's name
	TargetLabel json.RawMessage `json:"target_label,omitempty"` // a definition's label ({"en","zh-CN"} or a string)
	App         string          `json:"app,omitempty"`          // the app slug of a role or definition target
	AppName     string          `json:"app_name,omitempty"`
	Before      json.RawMessage `json:"before"`
	After       json.RawMessage `json:"after"`
}

// Page is one page of entries, newest first; NextCursor is nil on the last page.
type Page struct {
	Items      []Entry `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// ParseCursor decodes a next_cursor; ok is false for anything that is not one.
func ParseCursor(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// query resolves each target form to a name with LEFT JOINs keyed on the parsed target, so a
// page costs one statement. Target forms: user:<uuid>, team:<uuid>, app:<slug>, role:<app>/<name>,
// <app>:<kind>/<slug> (definitions). An id is cast only inside a CASE that matched its shape,
// so a malformed target resolves to nothing instead of failing the cast.
const query = `
WITH l AS (
	SELECT l.id, l.at, l.actor, l.action, l.target,
		coalesce(l.before, 'null'::jsonb) AS before, coalesce(l.after, 'null'::jsonb) AS after,
		split_part(l.target, ':', 1) AS head, substr(l.target, strpos(l.target, ':') + 1) AS rest,
		CASE WHEN l.target ~* '^(user|team):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
			THEN substr(l.target, 6)::uuid END AS target_id
	FROM audit_log l
	WHERE %s
	ORDER BY l.id DESC
	LIMIT $%d
)
SELECT l.id, l.at, l.actor, coalesce(au.name, ''), coalesce(au.email, ''), l.action, l.target,
	CASE WHEN l.head IN ('user', 'team', 'app', 'role', 'token', 'mcp', 'credential') THEN l.head
	     WHEN d.id IS NOT NULL THEN d.kind ELSE '' END,
	coalesce(tu.name, tt.name, ta.name, CASE WHEN l.head = 'role' THEN split_part(l.rest, '/', 2) END, ''),
	d.draft -> 'label',
	coalesce(ra.slug, da.slug, ''), coalesce(ra.name, da.name, ''),
	l.before, l.after
FROM l
LEFT JOIN users au ON au.id = l.actor
LEFT JOIN users tu ON l.head = 'user' AND tu.id = l.target_id
LEFT JOIN teams tt ON l.head = 'team' AND tt.id = l.target_id
LEFT JOIN apps ta ON l.head = 'app' AND ta.slug = l.rest
LEFT JOIN apps ra ON l.head = 'role' AND ra.slug = split_part(l.rest, '/', 1)
LEFT JOIN apps da ON l.head NOT IN ('user', 'team', 'app', 'role', 'token', 'mcp', 'credential') AND da.slug = l.head
LEFT JOIN definitions d ON d.app_id = da.id AND d.kind = split_part(l.rest, '/', 1) AND d.slug = split_part(l.rest, '/', 2)
ORDER BY l.id DESC`

// List returns one page of the log, newest first. The filters are SQL parameters.
func List(ctx context.Context, pool *pgxpool.Pool, f Filter) (Page, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	where := []string{"true"}
	args := []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Cursor > 0 {
		add("l.id < $%d", f.Cursor)
	}
	if f.Actor != nil {
		add("l.actor = $%d", *f.Actor)
	}
	if a := f.Action; a != "" {
		if strings.HasSuffix(a, ".") {
			add("l.action LIKE $%d", strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(a)+"%")
		} else {
			add("l.action = $%d", a)
		}
	}
	if f.Target != "" {
		add("l.target = $%d", f.Target)
	}
	if f.From != nil {
		add("l.at >= $%d", *f.From)
	}
	if f.To != nil {
		add("l.at < $%d", *f.To)
	}
	args = append(args, f.Limit+1)
	rows, err := pool.Query(ctx, fmt.Sprintf(query, strings.Join(where, " AND "), len(args)), args...)
	if err != nil {
		return Page{}, fmt.Errorf("reading audit log: %w", err)
	}
	defer rows.Close()
	p := Page{Items: []Entry{}}
	for rows.Next() {
		var e Entry
		var label, before, after []byte
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.ActorName, &e.ActorEmail, &e.Action, &e.Target, &e.TargetKind,
			&e.TargetName, &label, &e.App, &e.AppName, &before, &after); err != nil {
			return Page{}, fmt.Errorf("reading audit log: %w", err)
		}
		if len(label) > 0 && string(label) != "null" {
			e.TargetLabel = label
		}
		e.Before, e.After = before, after
		p.Items = append(p.Items, e)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("reading audit log: %w", err)
	}
	if len(p.Items) > f.Limit {
		p.Items = p.Items[:f.Limit]
		next := strconv.FormatInt(p.Items[f.Limit-1].ID, 10)
		p.NextCursor = &next
	}
	return p, nil
}
