package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/audit"
	"github.com/tessera/tessera/runtime/authz"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// mountAdmin registers the admin routes: users, teams, roles, role assignment and the audit
// log. Every route needs a platform admin (401 anonymous, 403 otherwise).
func (s *Server) mountAdmin() error {
	s.route("GET", "/api/v1/admin/users", "admin", "List users (?q, limit, cursor).", s.adminText(s.adminListUsers))
	s.route("POST", "/api/v1/admin/users", "admin", "Create a user {email, password, name, team_id, is_admin, locale}.", s.adminText(s.adminCreateUser))
	s.route("GET", "/api/v1/admin/users/:id", "admin", "A user with their app roles.", s.adminText(s.adminGetUser))
	s.route("PATCH", "/api/v1/admin/users/:id", "admin", "Change a user: name, email, team_id, disabled, password (reset), is_admin, locale. Disabling or resetting the password ends their sessions.", s.adminText(s.adminPatchUser))
	s.route("PUT", "/api/v1/admin/users/:id/roles", "admin", "Replace a user's app roles {roles:[{app, role}]}.", s.adminText(s.adminSetUserRoles))
	s.route("GET", "/api/v1/admin/teams", "admin", "List teams (a tree through parent_id).", s.adminText(s.adminListTeams))
	s.route("POST", "/api/v1/admin/teams", "admin", "Create a team {name, parent_id, manager_id}.", s.adminText(s.adminCreateTeam))
	s.route("PATCH", "/api/v1/admin/teams/:id", "admin", "Change a team; a parent that would make a cycle is rejected.", s.adminText(s.adminPatchTeam))
	s.route("DELETE", "/api/v1/admin/teams/:id", "admin", "Delete a team; 409 team_in_use while it has members, sub-teams or records.", s.adminText(s.adminDeleteTeam))
	s.route("GET", "/api/v1/admin/roles", "admin", "List roles (?app=<slug>), built-ins first.", s.adminText(s.adminListRoles))
	s.route("POST", "/api/v1/admin/roles", "admin", "Create a role {app, name, permissions:[{resource, actions, scope}], fields:{entity:{hidden, readonly}}}; 409 when it exists.", s.adminText(s.adminPutRole(true)))
	s.route("PUT", "/api/v1/admin/roles", "admin", "Create or replace a role (same body as POST).", s.adminText(s.adminPutRole(false)))
	s.route("DELETE", "/api/v1/admin/roles/:app/:name", "admin", "Delete a custom role and every assignment of it.", s.adminText(s.adminDeleteRole))
	s.route("GET", "/api/v1/admin/audit", "admin", "The audit log, newest first, with names resolved (?limit, cursor, action (exact, or a family like user.), actor, target, from, to).", s.adminText(s.adminAudit))
	return nil
}

// ---- users ----

type userView struct {
	ID        uuid.UUID         `json:"id"`
	Email     string            `json:"email"`
	Name      string            `json:"name"`
	TeamID    *uuid.UUID        `json:"team_id"`
	IsAdmin   bool              `json:"is_admin"`
	Disabled  bool              `json:"disabled"`
	Locale    string            `json:"locale"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	Roles     *[]authz.UserRole `json:"roles,omitempty"`
}

const userCols = `id, email, name, team_id, is_admin, disabled, locale, created_at, updated_at`

func scanUser(row pgx.Row, u *userView) error {
	return row.Scan(&u.ID, &u.Email, &u.Name, &u.TeamID, &u.IsAdmin, &u.Disabled, &u.Locale, &u.CreatedAt, &u.UpdatedAt)
}

// gormUser loads a user inside a GORM transaction (FOR UPDATE when lock).
func gormUser(tx *gorm.DB, id uuid.UUID, lock bool) (*userView, error) {
	q := `SELECT ` + userCols + ` FROM users WHERE id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	rows, err := tx.Raw(q, id).Rows()
	if err != nil {
		return nil, fmt.Errorf("loading user: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, problem.NotFound("user not found / 用户不存在")
	}
	u := &userView{}
	if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.TeamID, &u.IsAdmin, &u.Disabled, &u.Locale, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, fmt.Errorf("loading user: %w", err)
	}
	return u, rows.Err()
}

// policies returns the concrete authorizer for the admin routes.
func (s *Server) policies() (*authz.Authorizer, error) {
	if s.Policies == nil {
		return nil, problem.New(fiber.StatusServiceUnavailable, "the authorizer is not running")
	}
	return s.Policies, nil
}

func (s *Server) adminListUsers(c *fiber.Ctx) error {
	if _, err := auth.RequireAdmin(c); err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	args := []any{}
	where := []string{"true"}
	if q := strings.TrimSpace(c.Query("q")); q != "" {
		args = append(args, "%"+strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q))+"%")
		where = append(where, fmt.Sprintf("(lower(email) LIKE $%d OR lower(name) LIKE $%d)", len(args), len(args)))
	}
	if cur := c.Query("cursor"); cur != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		email, id, ok := strings.Cut(string(raw), "\x00")
		uid, uerr := uuid.Parse(id)
		if err != nil || !ok || uerr != nil {
			return problem.Validation(specErrors("cursor", "invalid", "invalid cursor (分页游标无效)"))
		}
		args = append(args, email, uid)
		where = append(where, fmt.Sprintf("(lower(email), id) > ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, limit+1)
	rows, err := s.DB.Pool.Query(c.UserContext(), `SELECT `+userCols+` FROM users WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY lower(email), id LIMIT $%d`, len(args)), args...)
	if err != nil {
		return fmt.Errorf("listing users: %w", err)
	}
	defer rows.Close()
	items := []userView{}
	for rows.Next() {
		var u userView
		if err := scanUser(rows, &u); err != nil {
			return fmt.Errorf("listing users: %w", err)
		}
		items = append(items, u)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing users: %w", err)
	}
	var next any
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = base64.RawURLEncoding.EncodeToString([]byte(strings.ToLower(last.Email) + "\x00" + last.ID.String()))
	}
	// every user's app roles, in one query for the page
	pol, err := s.policies()
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, len(items))
	for i := range items {
		ids[i] = items[i].ID
	}
	roles, err := pol.UsersRoles(c.UserContext(), ids)
	if err != nil {
		return err
	}
	for i := range items {
		r := roles[items[i].ID]
		items[i].Roles = &r
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

func (s *Server) adminGetUser(c *fiber.Ctx) error {
	if _, err := auth.RequireAdmin(c); err != nil {
		return err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	pol, err := s.policies()
	if err != nil {
		return err
	}
	var u userView
	err = scanUser(s.DB.Pool.QueryRow(c.UserContext(), `SELECT `+userCols+` FROM users WHERE id = $1`, id), &u)
	if errors.Is(err, pgx.ErrNoRows) {
		return problem.NotFound("user not found / 用户不存在")
	}
	if err != nil {
		return fmt.Errorf("loading user: %w", err)
	}
	roles, err := pol.UserRoles(c.UserContext(), id)
	if err != nil {
		return err
	}
	u.Roles = &roles
	return c.JSON(u)
}

type createUserBody struct {
	Email    string  `json:"email"`
	Password string  `json:"password"`
	Name     string  `json:"name"`
	TeamID   *string `json:"team_id"`
	IsAdmin  bool    `json:"is_admin"`
	Locale   string  `json:"locale"`
}

var locales = map[string]bool{"zh-CN": true, "en": true}

// validEmail checks an address is a bare addr-spec.
func validEmail(e string) bool {
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && len(e) <= 254
}

// parseOptID parses an optional id field; "" and nil mean none.
func parseOptID(field string, raw *string, errs *spec.Errors) *uuid.UUID {
	if raw == nil || *raw == "" {
		return nil
	}
	id, err := uuid.Parse(*raw)
	if err != nil {
		*errs = append(*errs, spec.FieldError{Field: field, Code: "invalid", Message: "must be an id / 必须是有效的 ID"})
		return nil
	}
	return &id
}

// existsIn reports whether a row with id exists in table (a constant name).
func (s *Server) existsIn(c *fiber.Ctx, table string, id uuid.UUID) (bool, error) {
	var ok bool
	err := s.DB.Pool.QueryRow(c.UserContext(), `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE id = $1)`, id).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("checking %s: %w", table, err)
	}
	return ok, nil
}

func (s *Server) checkRef(c *fiber.Ctx, table, field string, id *uuid.UUID, errs *spec.Errors) error {
	if id == nil {
		return nil
	}
	ok, err := s.existsIn(c, table, *id)
	if err != nil {
		return err
	}
	if !ok {
		*errs = append(*errs, spec.FieldError{Field: field, Code: "not_found", Message: "does not exist / 不存在"})
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, gorm.ErrDuplicatedKey) || (errors.As(err, &pe) && pe.Code == "23505")
}

func (s *Server) adminCreateUser(c *fiber.Ctx) error {
	p, err := auth.RequireAdmin(c)
	if err != nil {
		return err
	}
	pol, err := s.policies()
	if err != nil {
		return err
	}
	var b createUserBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	var errs spec.Errors
	b.Email = strings.TrimSpace(b.Email)
	switch {
	case b.Email == "":
		errs = append(errs, spec.FieldError{Field: "email", Code: "required", Message: "email is required / 必须填写邮箱"})
	case !validEmail(b.Email):
		errs = append(errs, spec.FieldError{Field: "email", Code: "invalid", Message: "not a valid email address / 邮箱格式无效"})
	}
	if err := auth.ValidatePassword(b.Password, b.Email); err != nil {
		errs = append(errs, spec.FieldError{Field: "password", Code: "weak_password", Message: err.Error()})
	}
	b.Name = strings.TrimSpace(b.Name)
	if b.Name == "" {
		b.Name, _, _ = strings.Cut(b.Email, "@")
	}
	if len(b.Name) > 200 {
		errs = append(errs, spec.FieldError{Field: "name", Code: "too_long", Message: "at most 200 characters / 最多 200 个字符"})
	} else if !plainText(b.Name) {
		errs = append(errs, spec.FieldError{Field: "name", Code: "invalid", Message: "the name contains invalid characters / 名称包含无效字符"})
	}
	if b.Locale == "" {
		b.Locale = "zh-CN"
	} else if !locales[b.Locale] {
		errs = append(errs, spec.FieldError{Field: "locale", Code: "invalid", Message: "locale must be zh-CN or en / 语言必须是 zh-CN 或 en"})
	}
	team := parseOptID("team_id", b.TeamID, &errs)
	if err := s.checkRef(c, "teams", "team_id", team, &errs); err != nil {
		return err
	}
	if len(errs) > 0 {
		return problem.Validation(errs)
	}
	hash, err := auth.HashPassword(b.Password)
	if err != nil {
		return err
	}
	var u *userView
	err = pol.Tx(c.UserContext(), func(tx *gorm.DB) error {
		var id uuid.UUID
		if err := tx.Raw(`INSERT INTO users (email, name, password_hash, team_id, is_admin, locale) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			b.Email, b.Name, hash, team, b.IsAdmin, b.Locale).Row().Scan(&id); err != nil {
			return err
		}
		if u, err = gormUser(tx, id, false); err != nil {
			return err
		}
		return authz.Audit(tx, p.UserID, "user.create", "user:"+id.String(), nil, u)
	})
	if isUniqueViolation(err) {
		return problem.Conflict("a user with this email already exists / 该邮箱已被使用").WithCode("duplicate_email")
	}
	if err != nil {
		return fmt.Errorf("creating user: %w", err)
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}

// optString is a JSON string member that may be absent, null or set.
type optString struct {
	Set bool
	V   *string
}

// UnmarshalJSON records that the member was present.
func (o *optString) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.V = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	o.V = &s
	return nil
}

type patchUserBody struct {
	Email    *string   `json:"email"`
	Name     *string   `json:"name"`
	TeamID   optString `json:"team_id"`
	Disabled *bool     `json:"disabled"`
	Password *string   `json:"password"`
	IsAdmin  *bool     `json:"is_admin"`
	Locale   *string   `json:"locale"`
}

func (s *Server) adminPatchUser(c *fiber.Ctx) error {
	p, err := auth.RequireAdmin(c)
	if err != nil {
		return err
	}
	pol, err := s.policies()
	if err != nil {
		return err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	var b patchUserBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	var errs spec.Errors
	if b.Email != nil {
		*b.Email = strings.TrimSpace(*b.Email)
		if !validEmail(*b.Email) {
			errs = append(errs, spec.FieldError{Field: "email", Code: "invalid", Message: "not a valid email address / 邮箱格式无效"})
		}
	}
	if b.Name != nil {
		*b.Name = strings.TrimSpace(*b.Name)
		if *b.Name == "" || len(*b.Name) > 200 {
			errs = append(errs, spec.FieldError{Field: "name", Code: "invalid", Message: "1 to 200 characters / 1 到 200 个字符"})
		} else if !plainText(*b.Name) {
			errs = append(errs, spec.FieldError{Field: "name", Code: "invalid", Message: "the name contains invalid characters / 名称包含无效字符"})
		}
	}
	if b.Password != nil {
		var current string // the password may not be the user's email, old or new
		_ = s.DB.Pool.QueryRow(c.UserContext(), `SELECT email FROM users WHERE id = $1`, id).Scan(&current)
		emails := []string{current}
		if b.Email != nil {
			emails = append(emails, *b.Email)
		}
		if err := auth.ValidatePassword(*b.Password, emails...); err != nil {
			errs = append(errs, spec.FieldError{Field: "password", Code: "weak_password", Message: err.Error()})
		}
	}
	if b.Locale != nil && !locales[*b.Locale] {
		errs = append(errs, spec.FieldError{Field: "locale", Code: "invalid", Message: "locale must be zh-CN or en / 语言必须是 zh-CN 或 en"})
	}
	if id == p.UserID && b.Disabled != nil && *b.Disabled {
		errs = append(errs, spec.FieldError{Field: "disabled", Code: "self", Message: "you cannot disable yourself / 不能停用自己"})
	}
	if id == p.UserID && b.IsAdmin != nil && !*b.IsAdmin {
		errs = append(errs, spec.FieldError{Field: "is_admin", Code: "self", Message: "you cannot remove your own admin rights / 不能撤销自己的管理员权限"})
	}
	team := parseOptID("team_id", b.TeamID.V, &errs)
	if err := s.checkRef(c, "teams", "team_id", team, &errs); err != nil {
		return err
	}
	if len(errs) > 0 {
		return problem.Validation(errs)
	}
	var hash string
	if b.Password != nil {
		if hash, err = auth.HashPassword(*b.Password); err != nil {
			return err
		}
	}
	// Demoting or disabling a user is undone (409 last_admin) when no active admin would be
	// left: two admins demoting each other at the same moment both pass the admin check of their
	// request, and pol.Tx serialises them, so the second one finds nobody left and is refused.
	dropsAdmin := (b.IsAdmin != nil && !*b.IsAdmin) || (b.Disabled != nil && *b.Disabled)
	var after *userView
	err = pol.Tx(c.UserContext(), func(tx *gorm.DB) error {
		before, err := gormUser(tx, id, true)
		if err != nil {
			return err
		}
		set := []string{"updated_at = now()"}
		args := []any{}
		add := func(col string, v any) { set = append(set, col+" = ?"); args = append(args, v) }
		if b.Email != nil {
			add("email", *b.Email)
		}
		if b.Name != nil {
			add("name", *b.Name)
		}
		if b.TeamID.Set {
			add("team_id", team)
		}
		if b.Disabled != nil {
			add("disabled", *b.Disabled)
		}
		if b.IsAdmin != nil {
			add("is_admin", *b.IsAdmin)
		}
		if b.Locale != nil {
			add("locale", *b.Locale)
		}
		if hash != "" {
			add("password_hash", hash)
		}
		if err := tx.Exec(`UPDATE users SET `+strings.Join(set, ", ")+` WHERE id = ?`, append(args, id)...).Error; err != nil {
			return err
		}
		if dropsAdmin {
			var admins int64
			if err := tx.Raw(`SELECT count(*) FROM users WHERE is_admin AND NOT disabled`).Scan(&admins).Error; err != nil {
				return fmt.Errorf("counting admins: %w", err)
			}
			if admins == 0 {
				return problem.Conflict("this would leave no active platform admin / 操作后将没有可用的平台管理员").WithCode("last_admin")
			}
		}
		// A disabled user or a reset password ends every session of that user.
		if (b.Disabled != nil && *b.Disabled) || hash != "" {
			if err := tx.Exec(`DELETE FROM sessions WHERE user_id = ?`, id).Error; err != nil {
				return fmt.Errorf("ending sessions: %w", err)
			}
		}
		if after, err = gormUser(tx, id, false); err != nil {
			return err
		}
		var auditAfter any = after
		if hash != "" {
			auditAfter = struct {
				*userView
				PasswordReset bool `json:"password_reset"`
			}{after, true}
		}
		return authz.Audit(tx, p.UserID, "user.update", "user:"+id.String(), before, auditAfter)
	})
	// a disabled user, a reset password or a changed role or team acts on the next request
	// (other replicas hear of it through auth.AuthNotifyChannel)
	s.Auth.ForgetPrincipals()
	if isUniqueViolation(err) {
		return problem.Conflict("a user with this email already exists / 该邮箱已被使用").WithCode("duplicate_email")
	}
	if err != nil {
		return err
	}
	return c.JSON(after)
}

type setRolesBody struct {
	Roles []authz.UserRole `json:"roles"`
}

func (s *Server) adminSetUserRoles(c *fiber.Ctx) error {
	p, err := auth.RequireAdmin(c)
	if err != nil {
		return err
	}
	pol, err := s.policies()
	if err != nil {
		return err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	var b setRolesBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if b.Roles == nil {
		return problem.Validation(specErrors("roles", "required", "roles is required (use [] to remove every role) / 必须提供 roles"))
	}
	roles, err := pol.SetUserRoles(c.UserContext(), p.UserID, id, b.Roles)
	var fe spec.Errors
	switch {
	case errors.As(err, &fe):
		return problem.Validation(fe)
	case authz.IsNotFound(err):
		return problem.NotFound("user not found / 用户不存在")
	case err != nil:
		return err
	}
	if roles == nil {
		roles = []authz.UserRole{}
	}
	return c.JSON(fiber.Map{"user_id": id, "roles": roles})
}

// ---- teams ----

type teamView struct {
	ID        uuid.UUID  `json:"id"`
	Name      string     `json:"name"`
	ParentID  *uuid.UUID `json:"parent_id"`
	ManagerID *uuid.UUID `json:"manager_id"`
	Members   int        `json:"members"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

const teamSelect = `SELECT t.id, t.name, t.parent_id, t.manager_id, (SELECT count(*) FROM users u WHERE u.team_id = t.id)::int, t.created_at, t.updated_at FROM teams t`

func gormTeam(tx *gorm.DB, id uuid.UUID) (*teamView, error) {
	rows, err := tx.Raw(teamSelect+` WHERE t.id = ?`, id).Rows()
	if err != nil {
		return nil, fmt.Errorf("loading team: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, problem.NotFound("team not found / 团队不存在")
	}
	t := &teamView{}
	if err := rows.Scan(&t.ID, &t.Name, &t.ParentID, &t.ManagerID, &t.Members, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, fmt.Errorf("loading team: %w", err)
	}
	return t, rows.Err()
}

func (s *Server) adminListTeams(c *fiber.Ctx) error {
	if _, err := auth.RequireAdmin(c); err != nil {
		return err
	}
	rows, err := s.DB.Pool.Query(c.UserContext(), teamSelect+` ORDER BY t.name, t.id`)
	if err != nil {
		return fmt.Errorf("listing teams: %w", err)
	}
	defer rows.Close()
	items := []teamView{}
	for rows.Next() {
		var t teamView
		if err := rows.Scan(&t.ID, &t.Name, &t.ParentID, &t.ManagerID, &t.Members, &t.CreatedAt, &t.UpdatedAt); err != nil {
			return fmt.Errorf("listing teams: %w", err)
		}
		items = append(items, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing teams: %w", err)
	}
	return c.JSON(fiber.Map{"items": items})
}

type teamBody struct {
	Name      *string   `json:"name"`
	ParentID  optString `json:"parent_id"`
	ManagerID optString `json:"manager_id"`
}

// adminText runs h after the admin check. Text PostgreSQL cannot store (NUL, invalid UTF-8) in
// the query or the body was already refused by textGuard, for every route.
func (s *Server) adminText(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if _, err := auth.RequireAdmin(c); err != nil {
			return err
		}
		return h(c)
	}
}

// plainText reports whether s can be stored as a name: valid UTF-8 without NUL or other control
// characters (PostgreSQL text cannot hold NUL; the rest would garble lists and logs).
func plainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// validateTeam checks a team body; create requires a name.
func (s *Server) validateTeam(c *fiber.Ctx, b *teamBody, create bool) (parent, manager *uuid.UUID, err error) {
	var errs spec.Errors
	if b.Name != nil {
		*b.Name = strings.TrimSpace(*b.Name)
	}
	if (create && b.Name == nil) || (b.Name != nil && (*b.Name == "" || len(*b.Name) > 200)) {
		errs = append(errs, spec.FieldError{Field: "name", Code: "required", Message: "name is required (at most 200 characters) / 必须填写团队名称"})
	} else if b.Name != nil && !plainText(*b.Name) {
		errs = append(errs, spec.FieldError{Field: "name", Code: "invalid", Message: "the name contains invalid characters / 名称包含无效字符"})
	}
	parent = parseOptID("parent_id", b.ParentID.V, &errs)
	manager = parseOptID("manager_id", b.ManagerID.V, &errs)
	if err := s.checkRef(c, "teams", "parent_id", parent, &errs); err != nil {
		return nil, nil, err
	}
	if err := s.checkRef(c, "users", "manager_id", manager, &errs); err != nil {
		return nil, nil, err
	}
	if len(errs) > 0 {
		return nil, nil, problem.Validation(errs)
	}
	return parent, manager, nil
}

func (s *Server) adminCreateTeam(c *fiber.Ctx) error {
	p, err := auth.RequireAdmin(c)
	if err != nil {
		return err
	}
	pol, err := s.policies()
	if err != nil {
		return err
	}
	var b teamBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	parent, manager, err := s.validateTeam(c, &b, true)
	if err != nil {
		return err
	}
	var t *teamView
	err = pol.Tx(c.UserContext(), func(tx *gorm.DB) error {
		var id uuid.UUID
		if err := tx.Raw(`INSERT INTO teams (name, parent_id, manager_id) VALUES (?, ?, ?) RETURNING id`, *b.Name, parent, manager).Row().Scan(&id); err != nil {
			return fmt.Errorf("creating team: %w", err)
		}
		if t, err = gormTeam(tx, id); err != nil {
			return err
		}
		return authz.Audit(tx, p.UserID, "team.create", "team:"+id.String(), nil, t)
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

func (s *Server) adminPatchTeam(c *fiber.Ctx) error {
	p, err := auth.RequireAdmin(c)
	if err != nil {
		return err
	}
	pol, err := s.policies()
	if err != nil {
		return err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	var b teamBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	parent, manager, err := s.validateTeam(c, &b, false)
	if err != nil {
		return err
	}
	var after *teamView
	err = pol.Tx(c.UserContext(), func(tx *gorm.DB) error {
		before, err := gormTeam(tx, id)
		if err != nil {
			return err
		}
		if b.ParentID.Set && parent != nil {
			// The new parent must not be the team itself or one of its descendants (the policy
			// lock of Tx serialises concurrent re-parenting).
			var cycle bool
			if err := tx.Raw(`WITH RECURSIVE sub AS (
					SELECT id FROM teams WHERE id = ?
					UNION
					SELECT t.id FROM teams t JOIN sub ON t.parent_id = sub.id)
				SELECT EXISTS (SELECT 1 FROM sub WHERE id = ?)`, id, *parent).Scan(&cycle).Error; err != nil {
				return fmt.Errorf("checking team tree: %w", err)
			}
			if cycle {
				return problem.Validation(specErrors("parent_id", "cycle", "a team cannot be placed under itself or one of its sub-teams / 团队不能挂在自己或下级团队之下"))
			}
		}
		set := []string{"updated_at = now()"}
		args := []any{}
		if b.Name != nil {
			set, args = append(set, "name = ?"), append(args, *b.Name)
		}
		if b.ParentID.Set {
			set, args = append(set, "parent_id = ?"), append(args, parent)
		}
		if b.ManagerID.Set {
			set, args = append(set, "manager_id = ?"), append(args, manager)
		}
		if err := tx.Exec(`UPDATE teams SET `+strings.Join(set, ", ")+` WHERE id = ?`, append(args, id)...).Error; err != nil {
			return fmt.Errorf("updating team: %w", err)
		}
		if after, err = gormTeam(tx, id); err != nil {
			return err
		}
		return authz.Audit(tx, p.UserID, "team.update", "team:"+id.String(), before, after)
	})
	if err != nil {
		return err
	}
	return c.JSON(after)
}

// adminDeleteTeam deletes an unused team. A team that still has members, sub-teams or live
// records (their team scope) is 409 team_in_use with the counts, so that nobody silently loses
// or gains rows: move the members and sub-teams first.
func (s *Server) adminDeleteTeam(c *fiber.Ctx) error {
	p, err := auth.RequireAdmin(c)
	if err != nil {
		return err
	}
	pol, err := s.policies()
	if err != nil {
		return err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	err = pol.Tx(c.UserContext(), func(tx *gorm.DB) error {
		before, err := gormTeam(tx, id)
		if err != nil {
			return err
		}
		var use struct {
			Members  int64
			SubTeams int64
			Records  bool
		}
		if err := tx.Raw(`SELECT (SELECT count(*) FROM users WHERE team_id = ?) AS members,
				(SELECT count(*) FROM teams WHERE parent_id = ?) AS sub_teams,
				EXISTS (SELECT 1 FROM records WHERE team_id = ? AND deleted_at IS NULL) AS records`,
			id, id, id).Scan(&use).Error; err != nil {
			return fmt.Errorf("checking team use: %w", err)
		}
		if use.Members > 0 || use.SubTeams > 0 || use.Records {
			recs, recsZh := "no records", "无记录"
			if use.Records {
				recs, recsZh = "records", "有记录"
			}
			return problem.Conflict(fmt.Sprintf("the team is in use: %d members, %d sub-teams, %s; move them first / 团队仍在使用：%d 名成员、%d 个下级团队、%s，请先移走",
				use.Members, use.SubTeams, recs, use.Members, use.SubTeams, recsZh)).WithCode("team_in_use").
				With("members", use.Members).With("sub_teams", use.SubTeams).With("records", use.Records)
		}
		if err := tx.Exec(`DELETE FROM teams WHERE id = ?`, id).Error; err != nil {
			return fmt.Errorf("deleting team: %w", err)
		}
		return authz.Audit(tx, p.UserID, "team.delete", "team:"+id.String(), before, nil)
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// ---- roles ----

func (s *Server) adminListRoles(c *fiber.Ctx) error {
	if _, err := auth.RequireAdmin(c); err != nil {
		return err
	}
	pol, err := s.policies()
	if err != nil {
		return err
	}
	roles, err := pol.ListRoles(c.UserContext(), c.Query("app"))
	if authz.IsNotFound(err) {
		return problem.NotFound("app " + c.Query("app") + " not found / 应用不存在")
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": roles})
}

// adminPutRole handles POST (create only: 409 when the role exists) and PUT (upsert).
func (s *Server) adminPutRole(createOnly bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := auth.RequireAdmin(c)
		if err != nil {
			return err
		}
		pol, err := s.policies()
		if err != nil {
			return err
		}
		var def authz.RoleDef
		if err := bindJSON(c, &def); err != nil {
			return err
		}
		if createOnly && def.App != "" && def.Name != "" {
			roles, err := pol.ListRoles(c.UserContext(), def.App)
			if err != nil && !authz.IsNotFound(err) {
				return err
			}
			for _, r := range roles {
				if r.Name == def.Name && !r.Builtin {
					return problem.Conflict("role " + def.Name + " already exists in app " + def.App + " / 角色已存在").WithCode("role_exists")
				}
			}
		}
		// Every mistake at once: the shape (actions, scopes, resources, names) and the field keys.
		errs := def.Validate()
		fieldErrs, err := s.checkRoleFields(c.UserContext(), def)
		if err != nil {
			return err
		}
		if errs = append(errs, fieldErrs...); len(errs) > 0 {
			return problem.Validation(errs)
		}
		out, created, err := pol.PutRole(c.UserContext(), p.UserID, def)
		var fe spec.Errors
		if errors.As(err, &fe) {
			return problem.Validation(fe)
		}
		if err != nil {
			return err
		}
		status := fiber.StatusOK
		if createOnly || created {
			status = fiber.StatusCreated
		}
		return c.Status(status).JSON(out)
	}
}

// checkRoleFields answers an error for every hidden or read-only key that is not a field of its
// published entity: a misspelt key would otherwise leave the field it meant visible or writable.
// Entities that are not published (yet) and unknown apps are left to the role validation.
func (s *Server) checkRoleFields(ctx context.Context, def authz.RoleDef) (spec.Errors, error) {
	if def.App == "" || len(def.Fields) == 0 || s.Defs == nil {
		return nil, nil
	}
	app, err := s.Defs.App(ctx, def.App)
	if errors.Is(err, defs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checking role fields: %w", err)
	}
	slugs := make([]string, 0, len(def.Fields))
	for slug := range def.Fields {
		slugs = append(slugs, slug)
	}
	sort.Strings(slugs)
	var errs spec.Errors
	for _, slug := range slugs {
		ent, _, err := s.Defs.Entity(ctx, app.ID, slug)
		if errors.Is(err, defs.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("checking role fields: %w", err)
		}
		rule := def.Fields[slug]
		for kind, keys := range map[string][]string{"hidden": rule.Hidden, "readonly": rule.ReadOnly} {
			for i, k := range keys {
				if ent.Field(k) == nil {
					errs.Add(fmt.Sprintf("fields.%s.%s[%d]", slug, kind, i), "unknown_field",
						"%q is not a field of %s / %s 中没有字段 %q", k, slug, slug, k)
				}
			}
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs, nil
}

func (s *Server) adminDeleteRole(c *fiber.Ctx) error {
	p, err := auth.RequireAdmin(c)
	if err != nil {
		return err
	}
	pol, err := s.policies()
	if err != nil {
		return err
	}
	err = pol.DeleteRole(c.UserContext(), p.UserID, c.Params("app"), c.Params("name"))
	var fe spec.Errors
	switch {
	case errors.As(err, &fe):
		return problem.Validation(fe)
	case authz.IsNotFound(err):
		return problem.NotFound("role not found / 角色不存在")
	case err != nil:
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// ---- audit ----

// auditTime parses an optional RFC 3339 time (or a YYYY-MM-DD date, midnight UTC) filter.
func auditTime(c *fiber.Ctx, name string, errs *spec.Errors) *time.Time {
	raw := strings.TrimSpace(c.Query(name))
	if raw == "" {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, raw); err == nil {
			return &t
		}
	}
	*errs = append(*errs, spec.FieldError{Field: name, Code: "invalid", Message: "must be a time like 2026-01-31T08:00:00+08:00 / 必须是时间，例如 2026-01-31T08:00:00+08:00"})
	return nil
}

func (s *Server) adminAudit(c *fiber.Ctx) error {
	if _, err := auth.RequireAdmin(c); err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	f := audit.Filter{Limit: limit, Action: strings.TrimSpace(c.Query("action")), Target: strings.TrimSpace(c.Query("target"))}
	var errs spec.Errors
	if cur := c.Query("cursor"); cur != "" {
		n, ok := audit.ParseCursor(cur)
		if !ok {
			errs = append(errs, spec.FieldError{Field: "cursor", Code: "invalid", Message: "invalid cursor (分页游标无效)"})
		}
		f.Cursor = n
	}
	if a := c.Query("actor"); a != "" {
		id, err := uuid.Parse(a)
		if err != nil {
			errs = append(errs, spec.FieldError{Field: "actor", Code: "invalid", Message: "actor must be a user id (actor 必须是用户 ID)"})
		} else {
			f.Actor = &id
		}
	}
	f.From = auditTime(c, "from", &errs)
	f.To = auditTime(c, "to", &errs)
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		errs = append(errs, spec.FieldError{Field: "to", Code: "invalid", Message: "must be after from / 必须晚于开始时间"})
	}
	if len(errs) > 0 {
		return problem.Validation(errs)
	}
	page, err := audit.List(c.UserContext(), s.DB.Pool, f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}
