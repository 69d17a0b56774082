package records

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
)

// ReadGrant answers the caller's read grant on an entity of the app (display names of linked
// records are resolved only inside it).
type ReadGrant func(ctx context.Context, entity string) (access.Grant, error)

// Refs collects the ids whose display names a page needs: records per target entity, users and
// teams.
type Refs struct {
	records map[string]map[uuid.UUID]bool
	users   map[uuid.UUID]bool
	teams   map[uuid.UUID]bool
}

// NewRefs returns an empty set.
func NewRefs() *Refs {
	return &Refs{records: map[string]map[uuid.UUID]bool{}, users: map[uuid.UUID]bool{}, teams: map[uuid.UUID]bool{}}
}

// User adds a user id.
func (r *Refs) User(id *uuid.UUID) {
	if id != nil && *id != uuid.Nil {
		r.users[*id] = true
	}
}

// Team adds a team id.
func (r *Refs) Team(id *uuid.UUID) {
	if id != nil && *id != uuid.Nil {
		r.teams[*id] = true
	}
}

// Value adds the ids held by value v of field f (a relation, user or team value, one or a list).
func (r *Refs) Value(f *spec.Field, v any) {
	if f == nil || v == nil {
		return
	}
	var add func(uuid.UUID)
	switch f.Type {
	case spec.TypeLines:
		for _, row := range rowsOf(v) {
			for i := range f.Fields {
				r.Value(&f.Fields[i], row[f.Fields[i].Key])
			}
		}
		return
	case spec.TypeRelation:
		if f.Target == "" {
			return
		}
		add = func(id uuid.UUID) {
			m := r.records[f.Target]
			if m == nil {
				m = map[uuid.UUID]bool{}
				r.records[f.Target] = m
			}
			m[id] = true
		}
	case spec.TypeUser:
		add = func(id uuid.UUID) { r.users[id] = true }
	case spec.TypeTeam:
		add = func(id uuid.UUID) { r.teams[id] = true }
	default:
		return
	}
	each := func(x any) {
		if s, ok := x.(string); ok {
			if id, err := uuid.Parse(s); err == nil && id != uuid.Nil {
				add(id)
			}
		}
	}
	if list, ok := v.([]any); ok {
		for _, x := range list {
			each(x)
		}
		return
	}
	each(v)
}

// Record adds the owner, team and every relation/user/team value of rec (fields of ent).
func (r *Refs) Record(ent *spec.Entity, rec *Record) {
	r.User(rec.OwnerID)
	r.Team(rec.TeamID)
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if v, ok := rec.Data[f.Key]; ok {
			r.Value(f, v)
		}
	}
}

func (r *Refs) empty() bool {
	return len(r.records) == 0 && len(r.users) == 0 && len(r.teams) == 0
}

func idList(m map[uuid.UUID]bool) []uuid.UUID {
	out := make([]uuid.UUID, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// displayMarker starts the display-name statement (tests find it by this comment).
const displayMarker = "/* tessera:display */ "

// Display answers the display names of refs in one query: a linked record's title (its entity's
// title field, else its first visible text field), a user's or team's name. A linked record
// outside the caller's read scope on its entity (or deleted, or missing) gets no entry, so a name
// never reveals what the caller may not read; callers show a neutral placeholder for it. Users
// and teams are shown by name to anyone who may read the record that holds them.
func (s *Store) Display(ctx context.Context, app *defs.App, refs *Refs, read ReadGrant) (map[string]string, error) {
	out := map[string]string{}
	if refs == nil || refs.empty() || app == nil {
		return out, nil
	}
	var args []any
	var parts []string
	targets := make([]string, 0, len(refs.records))
	for t := range refs.records {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, target := range targets {
		ent, _, err := s.entity(ctx, app, target)
		if err != nil {
			continue // an unpublished or unknown target: nothing to name
		}
		var g access.Grant
		if read != nil {
			if g, err = read(ctx, target); err != nil {
				return nil, fmt.Errorf("checking read permission on %s: %w", target, err)
			}
		}
		if !g.Allowed() {
			continue
		}
		args = append(args, app.ID, target, idList(refs.records[target]))
		n := len(args)
		sql := fmt.Sprintf("SELECT r.id, %s FROM records r WHERE r.app_id = $%d AND r.entity = $%d AND r.id = ANY($%d::uuid[]) AND r.deleted_at IS NULL",
			titleExpr(ent, g.Hidden), n-2, n-1, n)
		if p := g.RowPredicate("r", &args); p != "" {
			sql += " AND " + p
		}
		parts = append(parts, sql)
	}
	if len(refs.users) > 0 {
		args = append(args, idList(refs.users))
		parts = append(parts, fmt.Sprintf("SELECT u.id, u.name FROM users u WHERE u.id = ANY($%d::uuid[])", len(args)))
	}
	if len(refs.teams) > 0 {
		args = append(args, idList(refs.teams))
		parts = append(parts, fmt.Sprintf("SELECT t.id, t.name FROM teams t WHERE t.id = ANY($%d::uuid[])", len(args)))
	}
	if len(parts) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, displayMarker+strings.Join(parts, "\nUNION ALL\n"), args...)
	if err != nil {
		return nil, fmt.Errorf("resolving display names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var name *string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("reading display names: %w", err)
		}
		if name != nil && *name != "" {
			out[id.String()] = *name
		} else {
			out[id.String()] = id.String()[:8]
		}
	}
	return out, rows.Err()
}

// titleExpr is the SQL text of a record's title for the caller: the entity's title field, else its
// first text field, else an autonumber; fields hidden from the caller are skipped.
func titleExpr(ent *spec.Entity, hidden map[string]bool) string {
	if k := titleField(ent, hidden); k != "" {
		return "(r.data->>" + quoteLit(k) + ")"
	}
	return "NULL::text"
}

// PageDisplay resolves the names a page of ent's records shows (one query).
func (s *Store) PageDisplay(ctx context.Context, app *defs.App, entity string, recs []*Record, read ReadGrant) (map[string]string, error) {
	ent, _, err := s.entity(ctx, app, entity)
	if err != nil {
		return nil, err
	}
	refs := NewRefs()
	for _, r := range recs {
		refs.Record(ent, r)
	}
	return s.Display(ctx, app, refs, read)
}

// HistoryDisplay resolves the names a record's history shows: the actors and the old and new
// relation, user and team values of each change (one query).
func (s *Store) HistoryDisplay(ctx context.Context, app *defs.App, entity string, evs []Event, read ReadGrant) (map[string]string, error) {
	ent, _, err := s.entity(ctx, app, entity)
	if err != nil {
		return nil, err
	}
	refs := NewRefs()
	owner := &spec.Field{Key: "owner_id", Type: spec.TypeUser}
	team := &spec.Field{Key: "team_id", Type: spec.TypeTeam}
	for _, e := range evs {
		refs.User(e.Actor)
		for k, ch := range e.Changes {
			f := ent.Field(k)
			switch k {
			case "owner_id":
				f = owner
			case "team_id":
				f = team
			}
			if f == nil {
				continue
			}
			if pair, ok := ch.([]any); ok && len(pair) == 2 {
				refs.Value(f, pair[0])
				refs.Value(f, pair[1])
			} else {
				refs.Value(f, ch)
			}
		}
	}
	return s.Display(ctx, app, refs, read)
}

// ColumnDisplay resolves, in one query, the names of the relation, user and team values that
// rows hold in the columns of cols (column index -> field): for each such column, value -> name.
// Values the caller may not read get no entry (see Display).
func (s *Store) ColumnDisplay(ctx context.Context, app *defs.App, cols map[int]*spec.Field, rows [][]any, read ReadGrant) (map[int]map[string]string, error) {
	if len(cols) == 0 || len(rows) == 0 {
		return nil, nil
	}
	refs := NewRefs()
	for _, row := range rows {
		for i, f := range cols {
			if i < len(row) {
				refs.Value(f, idText(row[i]))
			}
		}
	}
	names, err := s.Display(ctx, app, refs, read)
	if err != nil {
		return nil, err
	}
	out := map[int]map[string]string{}
	for i := range cols {
		m := map[string]string{}
		for _, row := range rows {
			if i >= len(row) {
				continue
			}
			if v, ok := idText(row[i]).(string); ok {
				if n, ok := names[v]; ok {
					m[v] = n
				}
			}
		}
		out[i] = m
	}
	return out, nil
}

// idText is an id value as its text form (report rows may hold uuids as strings, UUIDs or bytes).
func idText(v any) any {
	switch x := v.(type) {
	case uuid.UUID:
		return x.String()
	case [16]byte:
		return uuid.UUID(x).String()
	case fmt.Stringer:
		return x.String()
	}
	return v
}
