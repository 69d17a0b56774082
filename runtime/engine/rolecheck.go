package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
)

// Warning is a finding that does not stop publishing but that the builder should see, e.g. an
// approval level whose role has nobody in it (the run would fail when it reaches that node).
type Warning struct {
	Node    string `json:"node,omitempty"`
	Field   string `json:"field"`
	Code    string `json:"code"`
	Role    string `json:"role,omitempty"`
	Message string `json:"message"`
}

// Querier is what the role check needs from a pool or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// roleRef is one role:<name> assignee at a param path of a node.
type roleRef struct {
	node, path, role string
}

// roleRefs walks the params of every node (levels, routes, assignees, recipients, foreach's
// inner step) and returns the role:<name> references in node order.
func roleRefs(f *spec.Flow) []roleRef {
	var out []roleRef
	var walk func(node, path string, v any)
	walk = func(node, path string, v any) {
		switch x := v.(type) {
		case string:
			if k, name, ok := strings.Cut(strings.TrimSpace(x), ":"); ok && k == "role" && strings.TrimSpace(name) != "" {
				out = append(out, roleRef{node, path, strings.TrimSpace(name)})
			}
		case []any:
			for i, it := range x {
				walk(node, fmt.Sprintf("%s[%d]", path, i), it)
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(node, path+"."+k, x[k])
			}
		}
	}
	for i, n := range f.Nodes {
		var p any
		if len(n.Params) == 0 || json.Unmarshal(n.Params, &p) != nil {
			continue
		}
		walk(n.ID, fmt.Sprintf("nodes[%d].params", i), p)
	}
	return out
}

// EmptyRoleWarnings lists the role:<name> assignees of the flow whose role has no active
// member in the app: publishing goes ahead, but a run reaching that node would fail.
func EmptyRoleWarnings(ctx context.Context, db Querier, appID uuid.UUID, f *spec.Flow) ([]Warning, error) {
	refs := roleRefs(f)
	if len(refs) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(refs))
	for _, r := range refs {
		if !slices.Contains(names, r.role) {
			names = append(names, r.role)
		}
	}
	rows, err := db.Query(ctx, `SELECT DISTINCT r.v1 FROM casbin_rule r JOIN users u ON u.id::text = r.v0
		WHERE r.ptype = 'g' AND r.v2 = $1 AND r.v1 = ANY($2) AND NOT u.disabled`, appID.String(), names)
	if err != nil {
		return nil, fmt.Errorf("checking assignee roles: %w", err)
	}
	staffed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("checking assignee roles: %w", err)
	}
	var out []Warning
	for _, r := range refs {
		if slices.Contains(staffed, r.role) {
			continue
		}
		out = append(out, Warning{Node: r.node, Field: r.path, Code: "role_without_members", Role: r.role,
			Message: fmt.Sprintf("role %q has no active members: a run reaching node %s would fail (角色“%s”没有有效成员：运行到节点 %s 时会失败)", r.role, r.node, r.role, r.node)})
	}
	return out, nil
}
