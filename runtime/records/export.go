package records

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
)

// NameRows replaces the ids in export rows with display names, in one query for all rows:
// keys are the rows' column keys; relation, user and team columns of ent (and owner_id,
// team_id) are named by Display, so a linked record the caller may not read gets placeholder
// instead of its id or name. A value is a single id or a JSON list of ids (multiple fields);
// list names are joined with ", ". Exports call it per batch of rows.
func (s *Store) NameRows(ctx context.Context, app *defs.App, ent *spec.Entity, keys []string, rows [][]any, read ReadGrant, placeholder string) error {
	fields := make([]*spec.Field, len(keys))
	need := false
	for i, k := range keys {
		switch k {
		case "owner_id":
			fields[i] = &spec.Field{Key: k, Type: spec.TypeUser}
		case "team_id":
			fields[i] = &spec.Field{Key: k, Type: spec.TypeTeam}
		default:
			if f := ent.Field(k); f != nil && (f.Type == spec.TypeRelation || f.Type == spec.TypeUser || f.Type == spec.TypeTeam) {
				fields[i] = f
			}
		}
		need = need || fields[i] != nil
	}
	if !need || len(rows) == 0 {
		return nil
	}
	ids := func(v any) []any {
		var s string
		switch x := v.(type) {
		case nil:
			return nil
		case string:
			s = x
		case []any:
			return x
		case fmt.Stringer:
			s = x.String()
		default:
			return nil
		}
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, "[") {
			var list []any
			if json.Unmarshal([]byte(s), &list) == nil {
				return list
			}
		}
		if s == "" {
			return nil
		}
		return []any{s}
	}
	refs := NewRefs()
	for _, row := range rows {
		for i, f := range fields {
			if f != nil && i < len(row) {
				refs.Value(f, ids(row[i]))
			}
		}
	}
	names, err := s.Display(ctx, app, refs, read)
	if err != nil {
		return err
	}
	for _, row := range rows {
		for i, f := range fields {
			if f == nil || i >= len(row) {
				continue
			}
			list := ids(row[i])
			if list == nil {
				continue
			}
			out := make([]string, 0, len(list))
			for _, x := range list {
				id := fmt.Sprint(x)
				if n, ok := names[id]; ok {
					out = append(out, n)
				} else if f.Type == spec.TypeRelation {
					out = append(out, placeholder)
				} else {
					out = append(out, id)
				}
			}
			row[i] = strings.Join(out, ", ")
		}
	}
	return nil
}
