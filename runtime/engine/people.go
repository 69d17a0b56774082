package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// people resolves an assignee value to users. Besides a user id (or {"user_id"}/{"id"} as
// an assign node or a record gives it) it understands references that survive installing an
// app on another server:
//
//	role:<name>     every active user holding that role in the flow's app
//	manager:<user>  the manager of the user's team (the parent team's when the user manages it)
//	email:<addr>    the user with that email
//	starter         the person who started the run (record change, form, manual run)
func (x *Exec) people(v any) ([]uuid.UUID, error) {
	s, ok := v.(string)
	if ok && strings.TrimSpace(s) == "starter" {
		if x.run == nil || x.run.Actor == nil {
			return nil, errNoPeople(s)
		}
		return []uuid.UUID{*x.run.Actor}, nil
	}
	if !ok || !strings.Contains(s, ":") {
		id, err := userID(v)
		if err != nil {
			return nil, err
		}
		return []uuid.UUID{id}, nil
	}
	kind, ref, _ := strings.Cut(s, ":")
	ref = strings.TrimSpace(ref)
	var rows pgx.Rows
	var err error
	switch kind {
	case "role":
		rows, err = x.Engine.Pool.Query(x.Ctx, `SELECT u.id FROM casbin_rule r JOIN users u ON u.id::text = r.v0
			WHERE r.ptype = 'g' AND r.v1 = $1 AND r.v2 = $2 AND NOT u.disabled ORDER BY u.email`, ref, x.AppID.String())
	case "manager":
		uid, perr := uuid.Parse(ref)
		if perr != nil {
			return nil, fmt.Errorf("assignee %q: manager: needs a user id", s)
		}
		rows, err = x.Engine.Pool.Query(x.Ctx, `SELECT CASE WHEN t.manager_id = u.id OR t.manager_id IS NULL THEN p.manager_id ELSE t.manager_id END
			FROM users u JOIN teams t ON t.id = u.team_id LEFT JOIN teams p ON p.id = t.parent_id
			WHERE u.id = $1 AND (CASE WHEN t.manager_id = u.id OR t.manager_id IS NULL THEN p.manager_id ELSE t.manager_id END) IS NOT NULL`, uid)
	case "email":
		rows, err = x.Engine.Pool.Query(x.Ctx, `SELECT id FROM users WHERE lower(email) = lower($1) AND NOT disabled`, ref)
	default:
		id, uerr := userID(v)
		if uerr != nil {
			return nil, fmt.Errorf("assignee %q: use a user id, role:<name>, manager:<user id> or email:<address>", s)
		}
		return []uuid.UUID{id}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resolving assignee %q: %w", s, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("resolving assignee %q: %w", s, err)
	}
	if len(ids) == 0 {
		return nil, errNoPeople(s)
	}
	return ids, nil
}

// ErrNoPeople: an assignee reference (a role without active members, an unknown email)
// matches nobody.
var ErrNoPeople = errors.New("matches no active user (没有匹配的用户)")

func errNoPeople(ref string) error {
	return fmt.Errorf("assignee %q %w", ref, ErrNoPeople)
}

// person resolves an assignee value to one user: among several (a role), the one with the
// fewest open tasks, then by email.
func (x *Exec) person(v any) (uuid.UUID, error) {
	ids, err := x.people(v)
	if err != nil {
		return uuid.Nil, err
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	var id uuid.UUID
	err = x.Engine.Pool.QueryRow(x.Ctx, `SELECT u.id FROM users u
		LEFT JOIN tasks t ON t.assignee_id = u.id AND t.status = 'open'
		WHERE u.id = ANY($1) GROUP BY u.id, u.email ORDER BY count(t.id), u.email LIMIT 1`, ids).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, errNoPeople(fmt.Sprint(v))
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("choosing an assignee: %w", err)
	}
	return id, nil
}
