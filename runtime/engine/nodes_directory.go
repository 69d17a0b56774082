package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
)

func init() {
	Register(NodeType{Name: "people", Category: "people", Label: spec.Label{"en": "Find people", "zh-CN": "查找人员"},
		Params: paramsOf("people"),
		New:    newPeopleNode})
}

// peopleNode resolves assignee references (role:, manager:, email:, user ids) to the people's
// names and e-mail addresses, e.g. to e-mail a report to every sales manager.
type peopleNode struct{ to Value }

func newPeopleNode(p *Params) (Runner, spec.Errors) {
	var v struct {
		To json.RawMessage `json:"to"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	n := &peopleNode{}
	if len(v.To) == 0 {
		p.Errorf("to", "required", "to is required")
	} else {
		n.to = p.Value("to", v.To)
	}
	return n, p.Errors()
}

func (n *peopleNode) Exec(x *Exec) (Result, error) {
	tov, err := n.to.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	refs, ok := toJSONable(tov).([]any)
	if !ok {
		refs = []any{toJSONable(tov)}
	}
	seen := map[uuid.UUID]bool{}
	var ids []uuid.UUID
	var nobody []any
	for _, ref := range refs {
		got, err := x.people(ref)
		if errors.Is(err, ErrNoPeople) {
			nobody = append(nobody, ref)
			continue
		}
		if err != nil {
			return Result{}, Permanent(err)
		}
		for _, id := range got {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	users := []any{}
	var emails []string
	if len(ids) > 0 {
		rows, err := x.Engine.Pool.Query(x.Ctx, `SELECT id, email, name FROM users WHERE id = ANY($1) AND NOT disabled ORDER BY email`, ids)
		if err != nil {
			return Result{}, fmt.Errorf("loading people: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id uuid.UUID
			var email, name string
			if err := rows.Scan(&id, &email, &name); err != nil {
				return Result{}, err
			}
			users = append(users, map[string]any{"id": id.String(), "email": email, "name": name})
			emails = append(emails, email)
		}
		if err := rows.Err(); err != nil {
			return Result{}, err
		}
	}
	return Result{Output: map[string]any{"users": users, "emails": strings.Join(emails, ","), "count": len(users), "nobody": nobody}}, nil
}
