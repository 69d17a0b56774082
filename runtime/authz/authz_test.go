package authz_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/authz"
	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// org is a seeded organisation: Sales (director) > East (mgrA: repA, repB), West (mgrC: repC).
type org struct {
	d                                   *db.DB
	app, app2                           uuid.UUID
	sales, east, west                   uuid.UUID
	director, mgrA, mgrC                uuid.UUID
	repA, repB, repC, builder, outsider uuid.UUID
}

func mustExec(t testing.TB, d *db.DB, q string, args ...any) {
	t.Helper()
	if _, err := d.Pool.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func newUser(t testing.TB, d *db.DB, email string, team *uuid.UUID) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := d.Pool.QueryRow(context.Background(), `INSERT INTO users (email, name, team_id) VALUES ($1, $1, $2) RETURNING id`, email, team).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func newTeam(t testing.TB, d *db.DB, name string, parent *uuid.UUID) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := d.Pool.QueryRow(context.Background(), `INSERT INTO teams (name, parent_id) VALUES ($1, $2) RETURNING id`, name, parent).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func seedOrg(t testing.TB) *org {
	t.Helper()
	d := dbtest.Open(t)
	o := &org{d: d}
	ctx := context.Background()
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('crm', 'CRM') RETURNING id`).Scan(&o.app); err != nil {
		t.Fatal(err)
	}
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('hr', 'HR') RETURNING id`).Scan(&o.app2); err != nil {
		t.Fatal(err)
	}
	o.sales = newTeam(t, d, "Sales", nil)
	o.east = newTeam(t, d, "East", &o.sales)
	o.west = newTeam(t, d, "West", &o.sales)
	o.director = newUser(t, d, "director@x", &o.sales)
	o.mgrA = newUser(t, d, "mgra@x", &o.east)
	o.mgrC = newUser(t, d, "mgrc@x", &o.west)
	o.repA = newUser(t, d, "repa@x", &o.east)
	o.repB = newUser(t, d, "repb@x", &o.east)
	o.repC = newUser(t, d, "repc@x", &o.west)
	o.builder = newUser(t, d, "builder@x", nil)
	o.outsider = newUser(t, d, "outsider@x", nil)
	mustExec(t, d, `UPDATE teams SET manager_id = $1 WHERE id = $2`, o.director, o.sales)
	mustExec(t, d, `UPDATE teams SET manager_id = $1 WHERE id = $2`, o.mgrA, o.east)
	mustExec(t, d, `UPDATE teams SET manager_id = $1 WHERE id = $2`, o.mgrC, o.west)
	return o
}

func newAuthz(t testing.TB, d *db.DB, opts authz.Options) *authz.Authorizer {
	t.Helper()
	a, err := authz.NewWithOptions(context.Background(), d.Pool, d.Gorm, quiet, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func putRole(t testing.TB, a *authz.Authorizer, def authz.RoleDef) {
	t.Helper()
	if _, _, err := a.PutRole(context.Background(), uuid.Nil, def); err != nil {
		t.Fatalf("PutRole %s: %v", def.Name, err)
	}
}

func setRoles(t testing.TB, a *authz.Authorizer, user uuid.UUID, roles ...string) {
	t.Helper()
	var urs []authz.UserRole
	for _, r := range roles {
		app, role := "crm", r
		if len(r) > 3 && r[:3] == "hr/" {
			app, role = "hr", r[3:]
		}
		urs = append(urs, authz.UserRole{App: app, Role: role})
	}
	if _, err := a.SetUserRoles(context.Background(), uuid.Nil, user, urs); err != nil {
		t.Fatalf("SetUserRoles %v: %v", roles, err)
	}
}

// salesRoles defines the sales template's roles on app crm.
func salesRoles(t testing.TB, a *authz.Authorizer) {
	t.Helper()
	putRole(t, a, authz.RoleDef{App: "crm", Name: "sales_rep",
		Permissions: []authz.Permission{{Resource: "entity:lead", Actions: []string{"read", "create", "update"}, Scope: "own"}},
		Fields:      map[string]authz.FieldRule{"lead": {Hidden: []string{"cost"}, ReadOnly: []string{"score"}}}})
	putRole(t, a, authz.RoleDef{App: "crm", Name: "sales_manager",
		Permissions: []authz.Permission{{Resource: "entity:lead", Actions: []string{"*"}, Scope: "team"}},
		Fields:      map[string]authz.FieldRule{"lead": {Hidden: []string{"cost"}}}})
	putRole(t, a, authz.RoleDef{App: "crm", Name: "director",
		Permissions: []authz.Permission{{Resource: "entity:*", Actions: []string{"read", "export"}, Scope: "team_tree"}}})
	putRole(t, a, authz.RoleDef{App: "crm", Name: "auditor",
		Permissions: []authz.Permission{{Resource: "*", Actions: []string{"read"}, Scope: "all"}},
		Fields:      map[string]authz.FieldRule{"lead": {Hidden: []string{"cost", "margin"}, ReadOnly: []string{"name"}}}})
}

// TestScopesOverRealRows seeds leads owned across the org and counts what each actor's
// RowPredicate lets through.
func TestScopesOverRealRows(t *testing.T) {
	o := seedOrg(t)
	a := newAuthz(t, o.d, authz.Options{})
	salesRoles(t, a)
	setRoles(t, a, o.repA, "sales_rep")
	setRoles(t, a, o.repB, "sales_rep")
	setRoles(t, a, o.repC, "sales_rep")
	setRoles(t, a, o.mgrA, "sales_manager")
	setRoles(t, a, o.director, "director")
	setRoles(t, a, o.builder, "builder")
	setRoles(t, a, o.outsider, "hr/builder")
	// Owner -> number of leads: repA 10, repB 20, repC 30, mgrA 4, director 2; plus 5 orphans
	// of team East with no owner, and 7 leads of another entity owned by repA.
	seed := []struct {
		owner *uuid.UUID
		team  uuid.UUID
		n     int
	}{{&o.repA, o.east, 10}, {&o.repB, o.east, 20}, {&o.repC, o.west, 30}, {&o.mgrA, o.east, 4}, {&o.director, o.sales, 2}, {nil, o.east, 5}}
	for _, s := range seed {
		mustExec(t, o.d, `INSERT INTO records (app_id, entity, owner_id, team_id, data) SELECT $1, 'lead', $2, $3, '{}' FROM generate_series(1, $4)`, o.app, s.owner, s.team, s.n)
	}
	mustExec(t, o.d, `INSERT INTO records (app_id, entity, owner_id, team_id) SELECT $1, 'deal', $2, $3 FROM generate_series(1, 7)`, o.app, o.repA, o.east)
	mustExec(t, o.d, `INSERT INTO records (app_id, entity, owner_id, team_id) SELECT $1, 'lead', $2, $3 FROM generate_series(1, 9)`, o.app2, o.outsider, o.east)

	cases := []struct {
		name      string
		sub       access.Subject
		action    string
		wantScope string
		wantRows  int
	}{
		{"rep A sees own", access.Subject{UserID: o.repA}, "read", "own", 10},
		{"rep B sees own", access.Subject{UserID: o.repB}, "read", "own", 20},
		{"rep C sees own", access.Subject{UserID: o.repC}, "read", "own", 30},
		{"rep may not delete", access.Subject{UserID: o.repA}, "delete", "none", 0},
		{"manager sees team East", access.Subject{UserID: o.mgrA}, "read", "team", 10 + 20 + 4 + 5},
		{"manager may delete in team", access.Subject{UserID: o.mgrA}, "delete", "team", 39},
		{"director sees whole tree", access.Subject{UserID: o.director}, "read", "team_tree", 71},
		{"director may export", access.Subject{UserID: o.director}, "export", "team_tree", 71},
		{"director may not update", access.Subject{UserID: o.director}, "update", "none", 0},
		{"builder sees all", access.Subject{UserID: o.builder}, "delete", "all", 71},
		{"builder of other app sees nothing", access.Subject{UserID: o.outsider}, "read", "none", 0},
		{"no roles", access.Subject{UserID: o.mgrC}, "read", "none", 0},
		{"anonymous", access.Subject{}, "read", "none", 0},
		{"platform admin", access.Subject{UserID: o.outsider, IsAdmin: true}, "delete", "all", 71},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := a.Grant(ctx, tc.sub, o.app, "entity:lead", tc.action)
			if err != nil {
				t.Fatal(err)
			}
			if g.Scope != tc.wantScope {
				t.Fatalf("scope %q, want %q", g.Scope, tc.wantScope)
			}
			args := []any{o.app}
			q := `SELECT count(*) FROM records r WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL`
			if p := g.RowPredicate("r", &args); p != "" {
				q += " AND " + p
			}
			var n int
			if err := o.d.Pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tc.wantRows {
				t.Fatalf("%d rows visible, want %d", n, tc.wantRows)
			}
			ok, err := a.Can(ctx, tc.sub, o.app, "entity:lead", tc.action)
			if err != nil {
				t.Fatal(err)
			}
			if ok != g.Allowed() {
				t.Fatalf("Can=%v but Grant.Allowed=%v", ok, g.Allowed())
			}
		})
	}
}

func TestTeamTreeFollowsSubtreesAndSurvivesCycles(t *testing.T) {
	o := seedOrg(t)
	a := newAuthz(t, o.d, authz.Options{})
	salesRoles(t, a)
	setRoles(t, a, o.director, "director")
	setRoles(t, a, o.mgrA, "director") // team_tree from East only
	deep := newTeam(t, o.d, "East-1", &o.east)
	deeper := newTeam(t, o.d, "East-1-a", &deep)
	if err := a.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	g, _ := a.Grant(context.Background(), access.Subject{UserID: o.director}, o.app, "entity:lead", "read")
	if want := []uuid.UUID{o.sales, o.east, o.west, deep, deeper}; !sameSet(g.Teams, want) {
		t.Fatalf("director teams %v, want %v", g.Teams, want)
	}
	g, _ = a.Grant(context.Background(), access.Subject{UserID: o.mgrA}, o.app, "entity:lead", "read")
	if want := []uuid.UUID{o.east, deep, deeper}; !sameSet(g.Teams, want) {
		t.Fatalf("manager teams %v, want %v", g.Teams, want)
	}
	// A cycle in the data (never produced by the admin API) must not hang the CTE.
	mustExec(t, o.d, `UPDATE teams SET parent_id = $1 WHERE id = $2`, deeper, o.east)
	_ = a.Refresh(context.Background())
	g, err := a.Grant(context.Background(), access.Subject{UserID: o.mgrA}, o.app, "entity:lead", "read")
	if err != nil || !sameSet(g.Teams, []uuid.UUID{o.east, deep, deeper}) {
		t.Fatalf("cycle: teams %v err %v", g.Teams, err)
	}
}

func sameSet(a, b []uuid.UUID) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestFieldRulesMergeMostPermissive(t *testing.T) {
	o := seedOrg(t)
	a := newAuthz(t, o.d, authz.Options{})
	salesRoles(t, a)
	putRole(t, a, authz.RoleDef{App: "crm", Name: "exporter",
		Permissions: []authz.Permission{{Resource: "entity:lead", Actions: []string{"export"}, Scope: "all"}},
		Fields:      map[string]authz.FieldRule{"lead": {Hidden: []string{"phone"}}}})
	putRole(t, a, authz.RoleDef{App: "crm", Name: "viewer",
		Permissions: []authz.Permission{{Resource: "entity:lead", Actions: []string{"read"}, Scope: "all"}},
		Fields:      map[string]authz.FieldRule{"lead": {ReadOnly: []string{"margin"}, Hidden: []string{"cost"}}}})
	putRole(t, a, authz.RoleDef{App: "crm", Name: "own_reader", // shows every field, on own rows only
		Permissions: []authz.Permission{{Resource: "entity:lead", Actions: []string{"read", "update"}, Scope: "own"}}})
	putRole(t, a, authz.RoleDef{App: "crm", Name: "team_editor", // every row of the team, amount read-only
		Permissions: []authz.Permission{{Resource: "entity:lead", Actions: []string{"update"}, Scope: "team"}},
		Fields:      map[string]authz.FieldRule{"lead": {ReadOnly: []string{"amount"}}}})
	ctx := context.Background()
	cases := []struct {
		name         string
		roles        []string
		action       string
		hidden, read []string
	}{
		{"rep alone", []string{"sales_rep"}, "read", []string{"cost"}, []string{"score"}},
		{"auditor alone", []string{"auditor"}, "read", []string{"cost", "margin"}, []string{"name"}},
		// The auditor reaches every row, the rep only their own: the auditor's rules hold on all
		// of them, or the rep role would reveal the margin of every lead.
		{"rep (own) + auditor (all): the wider role's rules", []string{"sales_rep", "auditor"}, "read", []string{"cost", "margin"}, []string{"name"}},
		{"own role without rules does not unhide on all rows", []string{"own_reader", "auditor"}, "read", []string{"cost", "margin"}, []string{"name"}},
		{"own role without rules does not make team rows writable", []string{"own_reader", "team_editor"}, "update", nil, []string{"amount"}},
		{"same scope, hidden in one, read-only in the other: visible, read-only", []string{"auditor", "viewer"}, "read", []string{"cost"}, []string{"margin"}},
		{"rep + manager", []string{"sales_rep", "sales_manager"}, "read", []string{"cost"}, nil},
		{"rep + director (no rules) shows all", []string{"sales_rep", "director"}, "read", nil, nil},
		{"role not granting the action does not count", []string{"sales_rep", "exporter"}, "read", []string{"cost"}, []string{"score"}},
		{"exporter for export", []string{"sales_rep", "exporter"}, "export", []string{"phone"}, nil},
		{"builder sees every field", []string{"builder", "auditor"}, "read", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setRoles(t, a, o.repA, tc.roles...)
			g, err := a.Grant(ctx, access.Subject{UserID: o.repA}, o.app, "entity:lead", tc.action)
			if err != nil {
				t.Fatal(err)
			}
			if !g.Allowed() {
				t.Fatal("denied")
			}
			if got := keys(g.Hidden); !slices.Equal(got, tc.hidden) {
				t.Fatalf("hidden %v, want %v", got, tc.hidden)
			}
			if got := keys(g.ReadOnly); !slices.Equal(got, tc.read) {
				t.Fatalf("readonly %v, want %v", got, tc.read)
			}
		})
	}
}

func TestBuiltinRolesAndWildcards(t *testing.T) {
	o := seedOrg(t)
	a := newAuthz(t, o.d, authz.Options{})
	salesRoles(t, a)
	setRoles(t, a, o.builder, "builder")
	setRoles(t, a, o.repA, "member")
	setRoles(t, a, o.repC, "auditor")
	setRoles(t, a, o.director, "director")
	ctx := context.Background()
	cases := []struct {
		user     uuid.UUID
		resource string
		action   string
		want     string
	}{
		{o.builder, "app", "publish", "all"},
		{o.builder, "app", "manage", "all"},
		{o.builder, "flow:welcome", "run", "all"},
		{o.builder, "entity:lead", "delete", "all"},
		{o.repA, "entity:lead", "read", "own"},
		{o.repA, "entity:deal", "create", "own"},
		{o.repA, "entity:lead", "update", "none"},
		{o.repA, "entity:lead", "delete", "none"},
		{o.repA, "form:web-lead", "read", "all"},
		{o.repA, "app", "publish", "none"},
		{o.repA, "app", "read", "all"},     // member sees the app
		{o.director, "app", "read", "all"}, // any role lets its holder see the app
		{o.outsider, "app", "read", "none"},
		{o.repC, "report:pipeline", "read", "all"}, // "*" resource
		{o.repC, "app", "read", "all"},
		{o.repC, "report:pipeline", "export", "none"},
		{o.director, "entity:deal", "export", "team_tree"}, // entity:* resource
		{o.director, "report:pipeline", "read", "none"},
		{o.director, "app", "publish", "none"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %s", tc.resource, tc.action), func(t *testing.T) {
			g, err := a.Grant(ctx, access.Subject{UserID: tc.user}, o.app, tc.resource, tc.action)
			if err != nil {
				t.Fatal(err)
			}
			if g.Scope != tc.want {
				t.Fatalf("scope %q, want %q", g.Scope, tc.want)
			}
		})
	}
	// Builders of crm have nothing in hr.
	if g, _ := a.Grant(ctx, access.Subject{UserID: o.builder}, o.app2, "app", "publish"); g.Allowed() {
		t.Fatal("builder of crm may publish in hr")
	}
	roles, err := a.ListRoles(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	if want := []string{"builder", "member", "auditor", "director", "sales_manager", "sales_rep"}; !slices.Equal(names, want) {
		t.Fatalf("roles %v, want %v", names, want)
	}
	ur, err := a.UserRoles(ctx, o.builder)
	if err != nil || len(ur) != 1 || ur[0].App != "crm" || ur[0].Role != "builder" {
		t.Fatalf("user roles %v %v", ur, err)
	}
}

func TestPutRoleValidation(t *testing.T) {
	o := seedOrg(t)
	a := newAuthz(t, o.d, authz.Options{})
	ok := authz.Permission{Resource: "entity:lead", Actions: []string{"read"}, Scope: "own"}
	cases := []struct {
		name  string
		def   authz.RoleDef
		field string
		code  string
	}{
		{"unknown app", authz.RoleDef{App: "nope", Name: "r", Permissions: []authz.Permission{ok}}, "app", "unknown_app"},
		{"reserved", authz.RoleDef{App: "crm", Name: "builder"}, "name", "reserved"},
		{"bad name", authz.RoleDef{App: "crm", Name: "Bad Name"}, "name", "invalid"},
		{"unknown action", authz.RoleDef{App: "crm", Name: "r", Permissions: []authz.Permission{{Resource: "entity:lead", Actions: []string{"fly"}, Scope: "own"}}}, "permissions[0].actions[0]", "unknown_action"},
		{"unknown scope", authz.RoleDef{App: "crm", Name: "r", Permissions: []authz.Permission{{Resource: "entity:lead", Actions: []string{"read"}, Scope: "galaxy"}}}, "permissions[0].scope", "unknown_scope"},
		{"bad resource", authz.RoleDef{App: "crm", Name: "r", Permissions: []authz.Permission{{Resource: "table:x", Actions: []string{"read"}, Scope: "all"}}}, "permissions[0].resource", "invalid"},
		{"bad field", authz.RoleDef{App: "crm", Name: "r", Fields: map[string]authz.FieldRule{"lead": {Hidden: []string{"a b"}}}}, "fields.lead.hidden[0]", "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := a.PutRole(context.Background(), uuid.Nil, tc.def)
			var errs spec.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err %v, want spec.Errors", err)
			}
			if errs[0].Field != tc.field || errs[0].Code != tc.code {
				t.Fatalf("got %+v, want %s/%s", errs[0], tc.field, tc.code)
			}
		})
	}
	_, err := a.SetUserRoles(context.Background(), uuid.Nil, o.repA, []authz.UserRole{{App: "crm", Role: "ghost"}})
	var errs spec.Errors
	if !errors.As(err, &errs) || errs[0].Code != "unknown_role" {
		t.Fatalf("unknown role: %v", err)
	}
	if _, err := a.SetUserRoles(context.Background(), uuid.Nil, uuid.New(), nil); !authz.IsNotFound(err) {
		t.Fatalf("unknown user: %v", err)
	}
}

// TestChangesAreAuditedAtomically checks the audit row, its before/after and the version bump.
func TestChangesAreAuditedAtomically(t *testing.T) {
	o := seedOrg(t)
	a := newAuthz(t, o.d, authz.Options{})
	ctx := context.Background()
	v0 := a.Version()
	def := authz.RoleDef{App: "crm", Name: "rep", Permissions: []authz.Permission{{Resource: "entity:lead", Actions: []string{"update", "read", "read"}, Scope: "own"}}}
	out, created, err := a.PutRole(ctx, o.director, def)
	if err != nil || !created {
		t.Fatalf("put: %v created=%v", err, created)
	}
	if !slices.Equal(out.Permissions[0].Actions, []string{"read", "update"}) {
		t.Fatalf("actions not normalised: %v", out.Permissions[0].Actions)
	}
	def.Permissions[0].Scope = "all"
	if _, created, err = a.PutRole(ctx, o.director, def); err != nil || created {
		t.Fatalf("replace: %v created=%v", err, created)
	}
	if a.Version() != v0+2 {
		t.Fatalf("version %d, want %d", a.Version(), v0+2)
	}
	var n int
	var before, after string
	if err := o.d.Pool.QueryRow(ctx, `SELECT count(*) OVER (), before->'permissions'->0->>'scope', after->'permissions'->0->>'scope'
		FROM audit_log WHERE actor = $1 AND action = 'role.put' AND target = 'role:crm/rep' ORDER BY id DESC LIMIT 1`, o.director).Scan(&n, &before, &after); err != nil {
		t.Fatal(err)
	}
	if n != 2 || before != "own" || after != "all" {
		t.Fatalf("audit rows %d before %q after %q", n, before, after)
	}
	// A failing change leaves neither rules nor audit nor version behind.
	err = a.Tx(ctx, func(tx *gorm.DB) error {
		if err := authz.Audit(tx, o.director, "test.fail", "x", nil, map[string]int{"a": 1}); err != nil {
			return err
		}
		return errors.New("boom")
	})
	if err == nil {
		t.Fatal("want error")
	}
	if err := o.d.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'test.fail'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rolled-back audit rows %d %v", n, err)
	}
	if a.Version() != v0+2 {
		t.Fatalf("version moved on rollback: %d", a.Version())
	}
}

// TestAdapterWithPlainCasbin drives the adapter through a stock casbin enforcer with auto-save.
func TestAdapterWithPlainCasbin(t *testing.T) {
	d := dbtest.Open(t)
	mustExec(t, d, `DELETE FROM casbin_rule`)
	m, err := model.NewModelFromString(`
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act`)
	if err != nil {
		t.Fatal(err)
	}
	ad := authz.NewAdapter(d.Gorm)
	e, err := casbin.NewEnforcer(m, ad)
	if err != nil {
		t.Fatal(err)
	}
	mustTrue := func(ok bool, err error) {
		t.Helper()
		if err != nil || !ok {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
	}
	mustTrue(e.AddPolicy("alice", "data1", "read"))
	mustTrue(e.AddPolicies([][]string{{"bob", "data2", "write"}, {"eve", "data3", "read"}}))
	mustTrue(e.AddGroupingPolicy("carol", "alice"))
	mustTrue(e.RemovePolicy("eve", "data3", "read"))
	count := func() int {
		var n int
		_ = d.Pool.QueryRow(context.Background(), `SELECT count(*) FROM casbin_rule`).Scan(&n)
		return n
	}
	if n := count(); n != 3 {
		t.Fatalf("%d rows after adds/removes, want 3", n)
	}
	e2, err := casbin.NewEnforcer(m, authz.NewAdapter(d.Gorm))
	if err != nil {
		t.Fatal(err)
	}
	mustTrue(e2.Enforce("carol", "data1", "read"))
	if ok, _ := e2.Enforce("eve", "data3", "read"); ok {
		t.Fatal("removed rule still enforced")
	}
	mustTrue(e.RemoveFilteredPolicy(0, "bob"))
	if n := count(); n != 2 {
		t.Fatalf("%d rows after filtered remove, want 2", n)
	}
	if err := e.SavePolicy(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d rows after save, want 2", n)
	}
	mustTrue(e.RemovePolicies([][]string{{"alice", "data1", "read"}}))
	if n := count(); n != 1 {
		t.Fatalf("%d rows after batch remove, want 1", n)
	}
}

// TestPropagationAcrossReplicas runs two more Authorizers on their own pools (as replicas of
// the same database) and measures how long a revoke takes to reach each: one with LISTEN, one
// with the notification suppressed (poll only).
func TestPropagationAcrossReplicas(t *testing.T) {
	o := seedOrg(t)
	ctx := context.Background()
	openPool := func() *db.DB {
		d, err := db.Open(ctx, o.d.DSN)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Close)
		return d
	}
	primary := newAuthz(t, o.d, authz.Options{})
	listening := newAuthz(t, openPool(), authz.Options{})
	pollOnly := newAuthz(t, openPool(), authz.Options{NoListen: true})
	salesRoles(t, primary)
	sub := access.Subject{UserID: o.repA}
	allowed := func(a *authz.Authorizer) bool {
		g, err := a.Grant(ctx, sub, o.app, "entity:lead", "read")
		if err != nil {
			t.Fatal(err)
		}
		return g.Allowed()
	}
	waitFor := func(a *authz.Authorizer, want bool) time.Duration {
		start := time.Now()
		for time.Since(start) < 2*time.Second {
			if allowed(a) == want {
				return time.Since(start)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("replica still answers allowed=%v after 2s", !want)
		return 0
	}
	for round := 0; round < 3; round++ {
		setRoles(t, primary, o.repA, "sales_rep")
		if !allowed(primary) {
			t.Fatal("primary does not see its own grant")
		}
		waitFor(listening, true)
		waitFor(pollOnly, true)
		setRoles(t, primary, o.repA) // revoke
		if allowed(primary) {
			t.Fatal("primary still allows after its own revoke")
		}
		dl := waitFor(listening, false)
		dp := waitFor(pollOnly, false)
		t.Logf("round %d: revoke seen by LISTEN replica after %v, by poll-only replica after %v", round, dl, dp)
	}
	// A notification lost while the listener was down: kill its backend, change, and the
	// replica still converges (reconnect re-reads the version; the poll covers it too).
	mustExec(t, o.d, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN `+authz.NotifyChannel+`' AND pid <> pg_backend_pid()`)
	setRoles(t, primary, o.repA, "sales_rep")
	waitFor(listening, true)
}

// TestConcurrentGrantsDuringReloads hammers Grant from several goroutines while roles change
// (run with -race): every answer is either the old or the new decision, never an error.
func TestConcurrentGrantsDuringReloads(t *testing.T) {
	o := seedOrg(t)
	a := newAuthz(t, o.d, authz.Options{PollInterval: 20 * time.Millisecond})
	salesRoles(t, a)
	setRoles(t, a, o.repA, "sales_rep")
	ctx := context.Background()
	done := make(chan struct{})
	errs := make(chan error, 8)
	for i := 0; i < 4; i++ {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				g, err := a.Grant(ctx, access.Subject{UserID: o.repA}, o.app, "entity:lead", "read")
				if err == nil && g.Scope != "own" && g.Scope != "all" {
					err = fmt.Errorf("unexpected scope %q", g.Scope)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		scope := "own"
		if i%2 == 1 {
			scope = "all"
		}
		putRole(t, a, authz.RoleDef{App: "crm", Name: "sales_rep",
			Permissions: []authz.Permission{{Resource: "entity:lead", Actions: []string{"read"}, Scope: scope}}})
	}
	close(done)
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
