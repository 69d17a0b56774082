package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"

	"github.com/tessera/tessera/builder/spec"
)

// RoleDef is a role of one app: its permissions and per-entity field rules.
type RoleDef struct {
	App         string               `json:"app"`
	Name        string               `json:"name"`
	Permissions []Permission         `json:"permissions"`
	Fields      map[string]FieldRule `json:"fields,omitempty"`
	// Builtin marks the built-in roles (builder, member); they cannot be redefined.
	Builtin bool `json:"builtin,omitempty"`
}

// Permission allows actions on a resource within a row scope.
type Permission struct {
	Resource string   `json:"resource"`
	Actions  []string `json:"actions"`
	Scope    string   `json:"scope"`
}

// FieldRule lists the hidden and read-only fields of one entity for a role.
type FieldRule struct {
	Hidden   []string `json:"hidden"`
	ReadOnly []string `json:"readonly"`
}

// UserRole assigns a role of an app (by slug) to a user.
type UserRole struct {
	App  string `json:"app"`
	Role string `json:"role"`
	// AppName is the app's display name (filled when read, ignored when assigning).
	AppName string `json:"app_name,omitempty" gorm:"column:app_name"`
}

var (
	roleNameRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	slugRe     = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	fieldKeyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
)

// IsBuiltinRole reports whether name is a built-in per-app role.
func IsBuiltinRole(name string) bool { return name == RoleBuilder || name == RoleMember }

// ValidResource reports whether r is "*", "app" or "<kind>:<slug|*>".
func ValidResource(r string) bool {
	if r == "*" || r == "app" {
		return true
	}
	kind, slug, ok := strings.Cut(r, ":")
	return ok && slices.Contains(ResourceKinds, kind) && (slug == "*" || slugRe.MatchString(slug))
}

// Validate checks a role definition's shape (not whether its app exists).
func (d *RoleDef) Validate() spec.Errors {
	var errs spec.Errors
	add := func(field, code, msg string) {
		errs = append(errs, spec.FieldError{Field: field, Code: code, Message: msg})
	}
	if d.App == "" {
		add("app", "required", "app is required / 必须指定应用")
	}
	switch {
	case d.Name == "":
		add("name", "required", "name is required / 必须填写角色名")
	case IsBuiltinRole(d.Name) || d.Name == RoleAdmin:
		add("name", "reserved", fmt.Sprintf("%q is a built-in role and cannot be redefined / 内置角色不可修改", d.Name))
	case !roleNameRe.MatchString(d.Name):
		add("name", "invalid", "use lower-case letters, digits, '_' and '-', starting with a letter / 角色名只能包含小写字母、数字、_ 和 -")
	}
	for i, p := range d.Permissions {
		at := fmt.Sprintf("permissions[%d]", i)
		if !ValidResource(p.Resource) {
			add(at+".resource", "invalid", "resource must be *, app or entity|form|flow|report|dashboard:<slug|*> / 资源格式无效")
		}
		if len(p.Actions) == 0 {
			add(at+".actions", "required", "at least one action is required / 至少需要一个操作")
		}
		for j, act := range p.Actions {
			if act != "*" && !slices.Contains(Actions, act) {
				add(fmt.Sprintf("%s.actions[%d]", at, j), "unknown_action", fmt.Sprintf("unknown action %q (known: %s) / 未知操作", act, strings.Join(Actions, ", ")))
			}
		}
		if !slices.Contains(Scopes, p.Scope) {
			add(at+".scope", "unknown_scope", fmt.Sprintf("scope must be one of %s / 范围无效", strings.Join(Scopes, ", ")))
		}
	}
	for ent, fr := range d.Fields {
		at := "fields." + ent
		if !slugRe.MatchString(ent) {
			add(at, "invalid", "entity slug is invalid / 实体标识无效")
			continue
		}
		for j, f := range fr.Hidden {
			if !fieldKeyRe.MatchString(f) {
				add(fmt.Sprintf("%s.hidden[%d]", at, j), "invalid", "field key is invalid / 字段标识无效")
			}
		}
		for j, f := range fr.ReadOnly {
			if !fieldKeyRe.MatchString(f) {
				add(fmt.Sprintf("%s.readonly[%d]", at, j), "invalid", "field key is invalid / 字段标识无效")
			}
		}
	}
	return errs
}

// normalize sorts and de-duplicates lists so stored and returned definitions are stable.
func (d *RoleDef) normalize() {
	for i := range d.Permissions {
		d.Permissions[i].Actions = uniqSorted(d.Permissions[i].Actions)
	}
	if d.Permissions == nil {
		d.Permissions = []Permission{}
	}
	for ent, fr := range d.Fields {
		d.Fields[ent] = FieldRule{Hidden: uniqSorted(fr.Hidden), ReadOnly: uniqSorted(fr.ReadOnly)}
	}
}

func uniqSorted(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// rules converts the definition into casbin rows for domain dom.
func (d *RoleDef) rules(dom string) []Rule {
	rows := []Rule{{Ptype: "p3", V0: d.Name, V1: dom}}
	for _, p := range d.Permissions {
		for _, act := range p.Actions {
			rows = append(rows, Rule{Ptype: "p", V0: d.Name, V1: dom, V2: p.Resource, V3: act, V4: p.Scope})
		}
	}
	for ent, fr := range d.Fields {
		for _, f := range fr.Hidden {
			rows = append(rows, Rule{Ptype: "p2", V0: d.Name, V1: dom, V2: ent, V3: "hidden", V4: f})
		}
		for _, f := range fr.ReadOnly {
			rows = append(rows, Rule{Ptype: "p2", V0: d.Name, V1: dom, V2: ent, V3: "readonly", V4: f})
		}
	}
	return rows
}

// rolesFromRules rebuilds role definitions from rows of one domain (plus the "*" built-ins).
func rolesFromRules(rows []Rule, dom, appSlug string) []RoleDef {
	byName := map[string]*RoleDef{}
	get := func(name string, builtin bool) *RoleDef {
		d, ok := byName[name]
		if !ok {
			d = &RoleDef{App: appSlug, Name: name, Permissions: []Permission{}, Builtin: builtin}
			byName[name] = d
		}
		return d
	}
	get(RoleBuilder, true)
	get(RoleMember, true)
	type permKey struct{ res, scope string }
	perms := map[string]map[permKey][]string{}
	var order []string
	for _, r := range rows {
		if r.V1 != dom && !(r.V1 == anyDomain && IsBuiltinRole(r.V0)) {
			continue
		}
		switch r.Ptype {
		case "p3":
			get(r.V0, false)
		case "p":
			d := get(r.V0, r.V1 == anyDomain)
			if perms[d.Name] == nil {
				perms[d.Name] = map[permKey][]string{}
				order = append(order, d.Name)
			}
			k := permKey{r.V2, r.V4}
			perms[d.Name][k] = append(perms[d.Name][k], r.V3)
		case "p2":
			d := get(r.V0, false)
			if d.Fields == nil {
				d.Fields = map[string]FieldRule{}
			}
			fr := d.Fields[r.V2]
			if r.V3 == "hidden" {
				fr.Hidden = append(fr.Hidden, r.V4)
			} else {
				fr.ReadOnly = append(fr.ReadOnly, r.V4)
			}
			d.Fields[r.V2] = fr
		}
	}
	for _, name := range order {
		d := byName[name]
		for k, acts := range perms[name] {
			d.Permissions = append(d.Permissions, Permission{Resource: k.res, Actions: acts, Scope: k.scope})
		}
		slices.SortFunc(d.Permissions, func(a, b Permission) int {
			if c := strings.Compare(a.Resource, b.Resource); c != 0 {
				return c
			}
			return strings.Compare(a.Scope, b.Scope)
		})
	}
	out := make([]RoleDef, 0, len(byName))
	for _, d := range byName {
		d.normalize()
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b RoleDef) int {
		if a.Builtin != b.Builtin {
			if a.Builtin {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// AppID resolves an app slug.
func (a *Authorizer) AppID(ctx context.Context, slug string) (uuid.UUID, error) {
	return appID(ctx, a.pool, slug)
}

func appID(ctx context.Context, pool *pgxpool.Pool, slug string) (uuid.UUID, error) {
	var id uuid.UUID
	err := pool.QueryRow(ctx, `SELECT id FROM apps WHERE slug = $1`, slug).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, fmt.Errorf("app %q: %w", slug, errUnknown)
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("authz: resolving app %q: %w", slug, err)
	}
	return id, nil
}

func loadRules(tx *gorm.DB, dom string) ([]Rule, error) {
	var rows []Rule
	if err := tx.Where("ptype IN ('p','p2','p3') AND v1 IN (?, ?)", dom, anyDomain).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("authz: loading roles: %w", err)
	}
	return rows, nil
}

// PutRole creates or replaces a custom role of an app, in one transaction with its audit row.
// Validation problems come back as spec.Errors (an unknown app is a field error on "app").
// created reports whether the role did not exist before.
func (a *Authorizer) PutRole(ctx context.Context, actor uuid.UUID, def RoleDef) (out RoleDef, created bool, err error) {
	if errs := def.Validate(); len(errs) > 0 {
		return RoleDef{}, false, errs
	}
	id, err := a.AppID(ctx, def.App)
	if IsNotFound(err) {
		return RoleDef{}, false, spec.Errors{{Field: "app", Code: "unknown_app", Message: fmt.Sprintf("app %q does not exist / 应用不存在", def.App)}}
	}
	if err != nil {
		return RoleDef{}, false, err
	}
	def.Builtin = false
	def.normalize()
	dom := id.String()
	err = a.Tx(ctx, func(tx *gorm.DB) error {
		rows, err := loadRules(tx, dom)
		if err != nil {
			return err
		}
		var before *RoleDef
		for _, r := range rolesFromRules(rows, dom, def.App) {
			if r.Name == def.Name {
				before = &r
			}
		}
		created = before == nil
		if err := tx.Exec(`DELETE FROM casbin_rule WHERE ptype IN ('p','p2','p3') AND v0 = ? AND v1 = ?`, def.Name, dom).Error; err != nil {
			return fmt.Errorf("authz: replacing role %s: %w", def.Name, err)
		}
		if err := a.adapter.WithTx(tx).insert(def.rules(dom)); err != nil {
			return err
		}
		return Audit(tx, actor, "role.put", "role:"+def.App+"/"+def.Name, before, def)
	})
	if err != nil {
		return RoleDef{}, false, err
	}
	return def, created, nil
}

// insert stores rows, ignoring duplicates.
func (a *Adapter) insert(rows []Rule) error {
	for _, r := range rows {
		if err := a.AddPolicy("", r.Ptype, []string{r.V0, r.V1, r.V2, r.V3, r.V4, r.V5}); err != nil {
			return err
		}
	}
	return nil
}

// ListRoles returns the roles of an app (built-ins first), or of every app when appSlug is "".
func (a *Authorizer) ListRoles(ctx context.Context, appSlug string) ([]RoleDef, error) {
	type app struct {
		ID   uuid.UUID
		Slug string
	}
	var apps []app
	if appSlug != "" {
		id, err := a.AppID(ctx, appSlug)
		if err != nil {
			return nil, err
		}
		apps = []app{{id, appSlug}}
	} else {
		rows, err := a.pool.Query(ctx, `SELECT id, slug FROM apps ORDER BY slug`)
		if err != nil {
			return nil, fmt.Errorf("authz: listing apps: %w", err)
		}
		apps, err = pgx.CollectRows(rows, pgx.RowToStructByPos[app])
		if err != nil {
			return nil, fmt.Errorf("authz: listing apps: %w", err)
		}
	}
	out := []RoleDef{}
	gdb := a.gdb.WithContext(ctx)
	for _, ap := range apps {
		rows, err := loadRules(gdb, ap.ID.String())
		if err != nil {
			return nil, err
		}
		out = append(out, rolesFromRules(rows, ap.ID.String(), ap.Slug)...)
	}
	return out, nil
}

// roleExists reports whether role is built in or declared in dom.
func roleExists(tx *gorm.DB, dom, role string) (bool, error) {
	if IsBuiltinRole(role) {
		return true, nil
	}
	var n int64
	if err := tx.Model(&Rule{}).Where("ptype = 'p3' AND v0 = ? AND v1 = ?", role, dom).Count(&n).Error; err != nil {
		return false, fmt.Errorf("authz: checking role %s: %w", role, err)
	}
	return n > 0, nil
}

// userRolesTx lists the user's role assignments with app slugs.
func userRolesTx(tx *gorm.DB, user uuid.UUID) ([]UserRole, error) {
	out := []UserRole{}
	err := tx.Raw(`SELECT a.slug AS app, r.v1 AS role, a.name AS app_name FROM casbin_rule r JOIN apps a ON a.id::text = r.v2
		WHERE r.ptype = 'g' AND r.v0 = ? ORDER BY a.slug, r.v1`, user.String()).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("authz: roles of user %s: %w", user, err)
	}
	return out, nil
}

// UserRoles returns the user's app roles.
func (a *Authorizer) UserRoles(ctx context.Context, user uuid.UUID) ([]UserRole, error) {
	return userRolesTx(a.gdb.WithContext(ctx), user)
}

// UsersRoles returns the app roles of several users in one query (users without roles get an
// empty list).
func (a *Authorizer) UsersRoles(ctx context.Context, users []uuid.UUID) (map[uuid.UUID][]UserRole, error) {
	out := make(map[uuid.UUID][]UserRole, len(users))
	ids := make([]string, len(users))
	for i, u := range users {
		out[u] = []UserRole{}
		ids[i] = u.String()
	}
	if len(users) == 0 {
		return out, nil
	}
	rows, err := a.pool.Query(ctx, `SELECT r.v0, a.slug, r.v1, a.name FROM casbin_rule r JOIN apps a ON a.id::text = r.v2
		WHERE r.ptype = 'g' AND r.v0 = ANY($1::text[]) ORDER BY r.v0, a.slug, r.v1`, ids)
	if err != nil {
		return nil, fmt.Errorf("authz: roles of users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uid string
		var r UserRole
		if err := rows.Scan(&uid, &r.App, &r.Role, &r.AppName); err != nil {
			return nil, fmt.Errorf("authz: roles of users: %w", err)
		}
		if id, err := uuid.Parse(uid); err == nil {
			out[id] = append(out[id], r)
		}
	}
	return out, rows.Err()
}

// SetUserRoles replaces every app role of user with roles, in one transaction with its audit
// row. Unknown apps or roles are spec.Errors; an unknown user is IsNotFound.
func (a *Authorizer) SetUserRoles(ctx context.Context, actor, user uuid.UUID, roles []UserRole) ([]UserRole, error) {
	var exists bool
	if err := a.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, user).Scan(&exists); err != nil {
		return nil, fmt.Errorf("authz: checking user: %w", err)
	}
	if !exists {
		return nil, fmt.Errorf("user %s: %w", user, errUnknown)
	}
	var errs spec.Errors
	doms := make([]string, len(roles))
	for i, r := range roles {
		id, err := a.AppID(ctx, r.App)
		if IsNotFound(err) {
			errs = append(errs, spec.FieldError{Field: "roles[" + strconv.Itoa(i) + "].app", Code: "unknown_app", Message: fmt.Sprintf("app %q does not exist / 应用不存在", r.App)})
			continue
		}
		if err != nil {
			return nil, err
		}
		doms[i] = id.String()
		ok, err := roleExists(a.gdb.WithContext(ctx), doms[i], r.Role)
		if err != nil {
			return nil, err
		}
		if !ok {
			errs = append(errs, spec.FieldError{Field: "roles[" + strconv.Itoa(i) + "].role", Code: "unknown_role", Message: fmt.Sprintf("app %q has no role %q / 角色不存在", r.App, r.Role)})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var after []UserRole
	err := a.Tx(ctx, func(tx *gorm.DB) error {
		before, err := userRolesTx(tx, user)
		if err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM casbin_rule WHERE ptype = 'g' AND v0 = ?`, user.String()).Error; err != nil {
			return fmt.Errorf("authz: clearing roles of %s: %w", user, err)
		}
		rows := make([]Rule, len(roles))
		for i, r := range roles {
			rows[i] = Rule{Ptype: "g", V0: user.String(), V1: r.Role, V2: doms[i]}
		}
		if err := a.adapter.WithTx(tx).insert(rows); err != nil {
			return err
		}
		if after, err = userRolesTx(tx, user); err != nil {
			return err
		}
		return Audit(tx, actor, "user.roles", "user:"+user.String(), map[string]any{"roles": before}, map[string]any{"roles": after})
	})
	if err != nil {
		return nil, err
	}
	return after, nil
}

// jsonArg marshals v for a jsonb parameter; nil stays NULL.
func jsonArg(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case *RoleDef:
		if x == nil {
			return nil, nil
		}
	case json.RawMessage:
		if x == nil {
			return nil, nil
		}
		return string(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// pgxConnect opens a dedicated connection with the pool's settings (for LISTEN).
func pgxConnect(ctx context.Context, pool *pgxpool.Pool) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("authz: connecting listener: %w", err)
	}
	return conn, nil
}

// DeleteRole removes a custom role of an app and every assignment of it, in one transaction
// with its audit row. Built-in roles are spec.Errors; an unknown app or role is IsNotFound.
func (a *Authorizer) DeleteRole(ctx context.Context, actor uuid.UUID, appSlug, name string) error {
	if IsBuiltinRole(name) || name == RoleAdmin {
		return spec.Errors{{Field: "name", Code: "reserved", Message: fmt.Sprintf("%q is a built-in role and cannot be deleted / 内置角色不可删除", name)}}
	}
	id, err := a.AppID(ctx, appSlug)
	if err != nil {
		return err
	}
	dom := id.String()
	return a.Tx(ctx, func(tx *gorm.DB) error {
		rows, err := loadRules(tx, dom)
		if err != nil {
			return err
		}
		var before *RoleDef
		for _, r := range rolesFromRules(rows, dom, appSlug) {
			if r.Name == name && !r.Builtin {
				before = &r
			}
		}
		if before == nil {
			return fmt.Errorf("role %s/%s: %w", appSlug, name, errUnknown)
		}
		if err := tx.Exec(`DELETE FROM casbin_rule WHERE ptype IN ('p','p2','p3') AND v0 = ? AND v1 = ?`, name, dom).Error; err != nil {
			return fmt.Errorf("authz: deleting role %s: %w", name, err)
		}
		res := tx.Exec(`DELETE FROM casbin_rule WHERE ptype = 'g' AND v1 = ? AND v2 = ?`, name, dom)
		if res.Error != nil {
			return fmt.Errorf("authz: unassigning role %s: %w", name, res.Error)
		}
		return Audit(tx, actor, "role.delete", "role:"+appSlug+"/"+name, before, map[string]any{"unassigned": res.RowsAffected})
	})
}
