package records

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/filter"
)

// View limits.
const (
	MaxViewName    = 80
	MaxViewColumns = 100
	MaxViewsPerApp = 200 // personal views per user and entity
)

// ErrViewNotFound: the view does not exist or is another user's personal view (404: a
// personal view is never confirmed to exist to anyone else).
var ErrViewNotFound = errors.New("view not found")

// SystemColumns are the record columns a view may show besides the entity's fields.
var SystemColumns = []string{"owner_id", "team_id", "created_at", "updated_at"}

// View is a saved list view of an entity's records.
type View struct {
	ID        uuid.UUID  `json:"id"`
	Entity    string     `json:"entity"`
	Name      string     `json:"name"`
	Shared    bool       `json:"shared"`
	OwnerID   uuid.UUID  `json:"owner_id"`
	Mine      bool       `json:"mine"`
	Config    ViewConfig `json:"config"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// ViewConfig is what a view remembers: the shown columns in order, the filter (the list's
// filter JSON), the sort (the list's sort string) and the field rows are grouped by.
type ViewConfig struct {
	Columns []string        `json:"columns"`
	Filter  json.RawMessage `json:"filter,omitempty"`
	Sort    string          `json:"sort,omitempty"`
	Group   string          `json:"group,omitempty"`
}

// ViewInput creates or replaces a view.
type ViewInput struct {
	Name   string     `json:"name"`
	Shared bool       `json:"shared"`
	Config ViewConfig `json:"config"`
}

// ViewAccess is who is asking: the user, whether they may write shared views (app builders
// and admins) and the fields hidden from them on the entity.
type ViewAccess struct {
	User     uuid.UUID
	MayShare bool
	Hidden   map[string]bool
}

// GroupableTypes are the field types a list can be grouped by.
var GroupableTypes = map[string]bool{spec.TypeSelect: true, spec.TypeUser: true, spec.TypeTeam: true, spec.TypeRelation: true, spec.TypeBoolean: true}

// validateView checks a view against the entity: a name, known visible columns (each once),
// a filter and sort the list accepts, a groupable field.
func validateView(ent *spec.Entity, in *ViewInput, hidden map[string]bool) error {
	var errs spec.Errors
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		errs.Add("name", "required", "a view needs a name (视图名称为必填项)")
	} else if utf8.RuneCountInString(in.Name) > MaxViewName {
		errs.Add("name", "too_long", "the name is longer than %[1]d characters (名称不能超过 %[1]d 个字符)", MaxViewName)
	}
	known := map[string]bool{}
	for _, k := range SystemColumns {
		known[k] = true
	}
	for i := range ent.Fields {
		if !hidden[ent.Fields[i].Key] {
			known[ent.Fields[i].Key] = true
		}
	}
	if len(in.Config.Columns) > MaxViewColumns {
		errs.Add("config.columns", "too_many", "at most %[1]d columns (最多 %[1]d 列)", MaxViewColumns)
	}
	seen := map[string]bool{}
	for i, c := range in.Config.Columns {
		path := fmt.Sprintf("config.columns[%d]", i)
		switch {
		case !known[c]:
			errs.Add(path, "unknown_field", "%[1]q is not a field of %[2]s (%[1]q 不是 %[2]s 的字段)", c, ent.Slug)
		case seen[c]:
			errs.Add(path, "duplicate", "column %[1]q appears twice (列 %[1]q 重复)", c)
		}
		seen[c] = true
	}
	if f := bytes.TrimSpace(in.Config.Filter); len(f) > 0 && !bytes.Equal(f, []byte("null")) {
		var args []any
		if _, err := filter.Compile(f, ent, hidden, "r", &args); err != nil {
			var fe spec.Errors
			if errors.As(err, &fe) {
				errs = append(errs, spec.PrefixErrors(fe, "config.filter.").(spec.Errors)...)
			} else {
				errs.Add("config.filter", "invalid", "the filter is not valid (筛选条件无效)")
			}
		}
	} else {
		in.Config.Filter = nil
	}
	if s := strings.TrimSpace(in.Config.Sort); s != "" {
		if _, err := filter.SortKeys(s, ent, hidden, "r"); err != nil {
			errs.Add("config.sort", "invalid", "the sort is not valid (排序无效)")
		}
	}
	if g := in.Config.Group; g != "" {
		f := ent.Field(g)
		ok := g == "owner_id" || g == "team_id" || (f != nil && !hidden[g] && GroupableTypes[f.Type])
		if !ok {
			errs.Add("config.group", "invalid", "rows can be grouped by a select, user, team, relation or yes/no field only (只能按单选、人员、团队、关联或是/否字段分组)")
		}
	}
	if in.Config.Columns == nil {
		in.Config.Columns = []string{}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

const viewCols = `id, entity, name, shared, owner_id, config, created_at, updated_at`

func scanView(row pgx.Row, user uuid.UUID) (*View, error) {
	v := &View{}
	var cfg []byte
	if err := row.Scan(&v.ID, &v.Entity, &v.Name, &v.Shared, &v.OwnerID, &cfg, &v.CreatedAt, &v.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(cfg, &v.Config); err != nil {
		return nil, fmt.Errorf("decoding view %s: %w", v.ID, err)
	}
	if v.Config.Columns == nil {
		v.Config.Columns = []string{}
	}
	v.Mine = v.OwnerID == user
	return v, nil
}

// Views lists the views of an entity the user may see: their own and the shared ones (shared
// first, then by name). Others' personal views are filtered out in SQL.
func (s *Store) Views(ctx context.Context, app *defs.App, entity string, a ViewAccess) ([]*View, error) {
	if _, _, err := s.entity(ctx, app, entity); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+viewCols+` FROM record_views
		WHERE app_id = $1 AND entity = $2 AND (owner_id = $3 OR shared)
		ORDER BY shared DESC, lower(name), id`, app.ID, entity, a.User)
	if err != nil {
		return nil, fmt.Errorf("listing views: %w", err)
	}
	defer rows.Close()
	out := []*View{}
	for rows.Next() {
		v, err := scanView(rows, a.User)
		if err != nil {
			return nil, fmt.Errorf("listing views: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CreateView saves a new view owned by the user; a shared one needs MayShare (ErrForbidden).
func (s *Store) CreateView(ctx context.Context, app *defs.App, entity string, in ViewInput, a ViewAccess) (*View, error) {
	ent, _, err := s.entity(ctx, app, entity)
	if err != nil {
		return nil, err
	}
	if err := validateView(ent, &in, a.Hidden); err != nil {
		return nil, err
	}
	if in.Shared && !a.MayShare {
		return nil, ErrForbidden
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM record_views WHERE app_id = $1 AND entity = $2 AND owner_id = $3`,
		app.ID, entity, a.User).Scan(&n); err != nil {
		return nil, fmt.Errorf("counting views: %w", err)
	}
	if n >= MaxViewsPerApp {
		return nil, spec.Errors{{Field: "name", Code: "too_many", Message: fmt.Sprintf("at most %[1]d views per list (每个列表最多 %[1]d 个视图)", MaxViewsPerApp)}}
	}
	cfg, err := json.Marshal(in.Config)
	if err != nil {
		return nil, fmt.Errorf("encoding view: %w", err)
	}
	return scanView(s.pool.QueryRow(ctx, `INSERT INTO record_views (app_id, entity, owner_id, name, shared, config)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+viewCols, app.ID, entity, a.User, in.Name, in.Shared, cfg), a.User)
}

// writableView loads a view for a change: ErrViewNotFound when the user cannot see it,
// ErrForbidden when they see it (a shared view) but may not change it.
func (s *Store) writableView(ctx context.Context, tx pgx.Tx, app *defs.App, entity string, id uuid.UUID, a ViewAccess) (*View, error) {
	v, err := scanView(tx.QueryRow(ctx, `SELECT `+viewCols+` FROM record_views
		WHERE id = $1 AND app_id = $2 AND entity = $3 AND (owner_id = $4 OR shared) FOR UPDATE`, id, app.ID, entity, a.User), a.User)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrViewNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("loading view: %w", err)
	}
	if v.Shared && !a.MayShare {
		return nil, ErrForbidden
	}
	return v, nil
}

// UpdateView replaces a view's name, sharing and configuration. Owners change their personal
// views; shared views (and sharing) need MayShare.
func (s *Store) UpdateView(ctx context.Context, app *defs.App, entity string, id uuid.UUID, in ViewInput, a ViewAccess) (*View, error) {
	ent, _, err := s.entity(ctx, app, entity)
	if err != nil {
		return nil, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("updating view: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := s.writableView(ctx, tx, app, entity, id, a); err != nil {
		return nil, err
	}
	if err := validateView(ent, &in, a.Hidden); err != nil {
		return nil, err
	}
	if in.Shared && !a.MayShare {
		return nil, ErrForbidden
	}
	cfg, err := json.Marshal(in.Config)
	if err != nil {
		return nil, fmt.Errorf("encoding view: %w", err)
	}
	v, err := scanView(tx.QueryRow(ctx, `UPDATE record_views SET name = $2, shared = $3, config = $4, updated_at = now()
		WHERE id = $1 RETURNING `+viewCols, id, in.Name, in.Shared, cfg), a.User)
	if err != nil {
		return nil, fmt.Errorf("updating view: %w", err)
	}
	return v, tx.Commit(ctx)
}

// DeleteView removes a view (same rights as UpdateView).
func (s *Store) DeleteView(ctx context.Context, app *defs.App, entity string, id uuid.UUID, a ViewAccess) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("deleting view: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := s.writableView(ctx, tx, app, entity, id, a); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM record_views WHERE id = $1`, id); err != nil {
		return fmt.Errorf("deleting view: %w", err)
	}
	return tx.Commit(ctx)
}
