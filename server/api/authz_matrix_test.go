package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/server/apitest"
)

// matrixEnv is the organisation of the authorization matrix: app crm with entity lead, teams
// Sales (director) > East (manager; reps A and B), West (rep C, plus a West user without a
// role), an app builder and the builder of another app (hr).
type matrixEnv struct {
	e      *apitest.Env
	tokens map[string]string // actor -> bearer token ("" for anonymous)
	ids    map[string]uuid.UUID
	// one record id per owner, for single-record operations
	recOf map[string]uuid.UUID
}

// Seeded lead counts per owner (10,000 in crm, plus 300 in hr that crm never shows).
var matrixSeed = []struct {
	owner string
	n     int
}{{"repA", 3300}, {"repB", 2500}, {"repC", 2000}, {"manager", 500}, {"westOther", 1500}, {"director", 200}}

func setupMatrix(t *testing.T) *matrixEnv {
	t.Helper()
	e := apitest.New(t)
	m := &matrixEnv{e: e, tokens: map[string]string{"anonymous": "", "admin": e.AdminToken}, ids: map[string]uuid.UUID{}, recOf: map[string]uuid.UUID{}}
	adm := e.AdminToken
	for _, app := range []string{"crm", "hr"} {
		e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": app, "name": app}, adm)
		e.Must(201, "PUT", "/api/v1/apps/"+app+"/entities/lead", map[string]any{
			"slug": "lead", "label": map[string]string{"en": "Lead", "zh-CN": "线索"},
			"fields": []any{
				map[string]any{"key": "name", "type": "text", "required": true},
				map[string]any{"key": "amount", "type": "number"},
				map[string]any{"key": "cost", "type": "number"},
				map[string]any{"key": "score", "type": "number"},
			}}, adm)
		e.Must(200, "POST", "/api/v1/apps/"+app+"/entities/lead/publish", nil, adm)
	}
	team := func(name string, parent *uuid.UUID) uuid.UUID {
		body := map[string]any{"name": name}
		if parent != nil {
			body["parent_id"] = parent.String()
		}
		r := e.Must(201, "POST", "/api/v1/admin/teams", body, adm)
		return uuid.MustParse(r.JSON()["id"].(string))
	}
	sales := team("Sales", nil)
	east := team("East", &sales)
	west := team("West", &sales)
	users := []struct {
		name string
		team *uuid.UUID
	}{{"repA", &east}, {"repB", &east}, {"repC", &west}, {"manager", &east}, {"westOther", &west}, {"director", &sales}, {"builder", nil}, {"otherAppAdmin", nil}}
	for _, u := range users {
		id, tok := e.CreateUser(u.name+"@example.com", u.name, u.team)
		m.ids[u.name], m.tokens[u.name] = id, tok
	}
	e.Must(200, "PATCH", "/api/v1/admin/teams/"+sales.String(), map[string]any{"manager_id": m.ids["director"].String()}, adm)
	e.Must(200, "PATCH", "/api/v1/admin/teams/"+east.String(), map[string]any{"manager_id": m.ids["manager"].String()}, adm)
	type perm struct{ resource, actions, scope string }
	role := func(name string, perms []perm, hidden []string, readonly []string) {
		var ps []any
		for _, p := range perms {
			ps = append(ps, map[string]any{"resource": p.resource, "actions": strings.Split(p.actions, ","), "scope": p.scope})
		}
		e.Must(201, "POST", "/api/v1/admin/roles", map[string]any{"app": "crm", "name": name, "permissions": ps,
			"fields": map[string]any{"lead": map[string]any{"hidden": hidden, "readonly": readonly}}}, adm)
	}
	role("sales_rep", []perm{{"entity:lead", "read,create,update", "own"}, {"report:*", "read", "all"}}, []string{"cost"}, []string{"score"})
	role("sales_manager", []perm{{"entity:lead", "read,update,delete,export", "team"}, {"report:*", "read", "all"}}, []string{"cost"}, []string{})
	role("director", []perm{{"entity:lead", "read,export", "team_tree"}, {"report:*", "read", "all"}, {"flow:*", "run", "all"}}, []string{}, []string{})
	// A report, a report over the hidden field and a manual flow, published in crm.
	for _, d := range []struct{ kind, slug, body string }{
		{"reports", "lead_count", `{"slug":"lead_count","entity":"lead","kind":"kpi","measures":[{"agg":"count"}]}`},
		{"reports", "cost_sum", `{"slug":"cost_sum","entity":"lead","kind":"kpi","measures":[{"agg":"sum","field":"cost"}]}`},
		{"flows", "noop", `{"slug":"noop","trigger":{"type":"manual"},"nodes":[{"id":"s","type":"set","params":{"values":{"ok":true}}}],"edges":[]}`},
	} {
		if r := e.Do("PUT", "/api/v1/apps/crm/"+d.kind+"/"+d.slug, d.body, adm); r.Status >= 300 {
			t.Fatalf("saving %s: %d %s", d.slug, r.Status, r.Body)
		}
		e.Must(200, "POST", "/api/v1/apps/crm/"+d.kind+"/"+d.slug+"/publish", nil, adm)
	}
	assign := func(user, app, role string) {
		e.Must(200, "PUT", "/api/v1/admin/users/"+m.ids[user].String()+"/roles", map[string]any{"roles": []any{map[string]string{"app": app, "role": role}}}, adm)
	}
	assign("repA", "crm", "sales_rep")
	assign("repB", "crm", "sales_rep")
	assign("repC", "crm", "sales_rep")
	assign("manager", "crm", "sales_manager")
	assign("director", "crm", "director")
	assign("builder", "crm", "builder")
	assign("otherAppAdmin", "hr", "builder")

	// Seed with one INSERT ... SELECT over generate_series: owners by range, team from the owner.
	ctx := context.Background()
	var appID, hrID uuid.UUID
	if err := e.DB.Pool.QueryRow(ctx, `SELECT id FROM apps WHERE slug = 'crm'`).Scan(&appID); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.Pool.QueryRow(ctx, `SELECT id FROM apps WHERE slug = 'hr'`).Scan(&hrID); err != nil {
		t.Fatal(err)
	}
	owners, bounds := []uuid.UUID{}, []int{}
	total := 0
	for _, s := range matrixSeed {
		total += s.n
		owners, bounds = append(owners, m.ids[s.owner]), append(bounds, total)
	}
	if _, err := e.DB.Pool.Exec(ctx, `
		INSERT INTO records (app_id, entity, owner_id, team_id, data, created_at)
		SELECT $1, 'lead', s.owner, u.team_id,
		       jsonb_build_object('name', 'lead ' || s.g, 'amount', s.g % 1000, 'cost', s.g % 97, 'score', s.g % 10),
		       now() - make_interval(secs => s.g)
		FROM (SELECT g, ($2::uuid[])[(SELECT count(*) FROM unnest($3::int[]) b WHERE b < g) + 1] AS owner
		      FROM generate_series(1, $4::int) g) s
		JOIN users u ON u.id = s.owner`, appID, owners, bounds, total); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	if _, err := e.DB.Pool.Exec(ctx, `INSERT INTO records (app_id, entity, owner_id, data)
		SELECT $1, 'lead', $2, jsonb_build_object('name', 'hr ' || g) FROM generate_series(1, 300) g`, hrID, m.ids["otherAppAdmin"]); err != nil {
		t.Fatalf("seeding hr: %v", err)
	}
	rows, err := e.DB.Pool.Query(ctx, `SELECT DISTINCT ON (owner_id) owner_id, id FROM records WHERE app_id = $1 ORDER BY owner_id, created_at DESC`, appID)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[uuid.UUID]string{}
	for k, v := range m.ids {
		byID[v] = k
	}
	for rows.Next() {
		var owner, id uuid.UUID
		if err := rows.Scan(&owner, &id); err != nil {
			t.Fatal(err)
		}
		m.recOf[byID[owner]] = id
	}
	rows.Close()
	return m
}

const leads = "/api/v1/apps/crm/entities/lead/records"

// listAll pages through a list and returns the status of the first page and every item.
func (m *matrixEnv) listAll(t *testing.T, actor, query string) (int, []map[string]any) {
	t.Helper()
	var items []map[string]any
	cursor := ""
	for page := 0; page < 100; page++ {
		q := "limit=500"
		if query != "" {
			q += "&" + query
		}
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := m.e.Do("GET", leads+"?"+q, nil, m.tokens[actor])
		if r.Status != 200 {
			if page > 0 {
				t.Fatalf("page %d: status %d: %s", page, r.Status, r.Body)
			}
			return r.Status, nil
		}
		var body struct {
			Items      []map[string]any `json:"items"`
			NextCursor *string          `json:"next_cursor"`
		}
		r.Decode(t, &body)
		items = append(items, body.Items...)
		if body.NextCursor == nil {
			return 200, items
		}
		cursor = *body.NextCursor
	}
	t.Fatal("more than 100 pages")
	return 0, nil
}

// TestAuthorizationMatrix runs every actor against every record operation over 10,000 seeded
// leads and asserts exact statuses, visible counts and field visibility.
func TestAuthorizationMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 records")
	}
	m := setupMatrix(t)
	east := 3300 + 2500 + 500 // reps A and B and the manager
	actors := []string{"anonymous", "repA", "repB", "repC", "manager", "director", "builder", "otherAppAdmin", "admin"}

	t.Run("list", func(t *testing.T) {
		want := map[string]struct {
			status, count int
			costShown     bool
		}{
			"anonymous": {401, 0, false}, "repA": {200, 3300, false}, "repB": {200, 2500, false}, "repC": {200, 2000, false},
			"manager": {200, east, false}, "director": {200, 10000, true}, "builder": {200, 10000, true},
			"otherAppAdmin": {404, 0, false}, "admin": {200, 10000, true},
		}
		for _, a := range actors {
			t.Run(a, func(t *testing.T) {
				status, items := m.listAll(t, a, "")
				w := want[a]
				if status != w.status || len(items) != w.count {
					t.Fatalf("status %d with %d rows, want %d with %d", status, len(items), w.status, w.count)
				}
				seen := map[string]bool{}
				for _, it := range items {
					id := it["id"].(string)
					if seen[id] {
						t.Fatalf("row %s listed twice", id)
					}
					seen[id] = true
					if _, has := it["data"].(map[string]any)["cost"]; has != w.costShown {
						t.Fatalf("cost shown=%v, want %v: %v", has, w.costShown, it)
					}
					if a[:3] == "rep" && it["owner_id"] != m.ids[a].String() {
						t.Fatalf("%s sees a row of %v", a, it["owner_id"])
					}
				}
			})
		}
	})

	// The filter on a visible field counts only rows in scope (no count oracle through filters).
	t.Run("filter counts stay in scope", func(t *testing.T) {
		q := "filter=" + url.QueryEscape(`{"amount":{"lt":100}}`)
		for a, want := range map[string]int{"repA": 399, "manager": 699, "director": 1000} {
			_, items := m.listAll(t, a, q)
			if len(items) != want {
				t.Errorf("%s: %d rows with amount < 100, want %d", a, len(items), want)
			}
		}
	})

	t.Run("report aggregate", func(t *testing.T) {
		want := map[string]struct {
			status int
			rows   string
		}{
			"anonymous": {401, ""}, "repA": {200, "[[3300]]"}, "repB": {200, "[[2500]]"}, "repC": {200, "[[2000]]"},
			"manager": {200, fmt.Sprintf("[[%d]]", east)}, "director": {200, "[[10000]]"}, "builder": {200, "[[10000]]"},
			"otherAppAdmin": {404, ""}, "admin": {200, "[[10000]]"},
		}
		for _, a := range actors {
			r := m.e.Do("GET", "/api/v1/apps/crm/reports/lead_count/data", nil, m.tokens[a])
			w := want[a]
			if r.Status != w.status {
				t.Errorf("%s: status %d, want %d: %s", a, r.Status, w.status, r.Body)
				continue
			}
			if w.rows != "" {
				var body struct {
					Rows json.RawMessage `json:"rows"`
				}
				r.Decode(t, &body)
				if string(body.Rows) != w.rows {
					t.Errorf("%s: rows %s, want %s", a, body.Rows, w.rows)
				}
			}
		}
	})

	t.Run("report over a hidden field", func(t *testing.T) {
		for a, want := range map[string]int{"repA": 422, "manager": 422, "director": 200, "builder": 200} {
			if r := m.e.Do("GET", "/api/v1/apps/crm/reports/cost_sum/data", nil, m.tokens[a]); r.Status != want {
				t.Errorf("%s: status %d, want %d: %s", a, r.Status, want, r.Body)
			}
		}
	})

	t.Run("export", func(t *testing.T) {
		want := map[string]struct {
			status, rows int
			cost         bool
		}{
			"anonymous": {401, 0, false}, "repA": {403, 0, false}, "repC": {403, 0, false}, "manager": {200, east, false},
			"director": {200, 10000, true}, "builder": {200, 10000, true}, "otherAppAdmin": {404, 0, false},
		}
		for a, w := range want {
			r := m.e.Do("GET", "/api/v1/apps/crm/entities/lead/export?format=csv", nil, m.tokens[a])
			if r.Status != w.status {
				t.Errorf("%s: status %d, want %d: %.300s", a, r.Status, w.status, r.Body)
				continue
			}
			if r.Status != 200 {
				continue
			}
			recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(r.Body), "\ufeff"))).ReadAll()
			if err != nil {
				t.Fatalf("%s: csv: %v", a, err)
			}
			if len(recs)-1 != w.rows {
				t.Errorf("%s: %d exported rows, want %d", a, len(recs)-1, w.rows)
			}
			hasCost := false
			for _, h := range recs[0] {
				hasCost = hasCost || strings.Contains(strings.ToLower(h), "cost")
			}
			if hasCost != w.cost {
				t.Errorf("%s: cost column=%v, want %v (header %v)", a, hasCost, w.cost, recs[0])
			}
		}
	})

	t.Run("run flow", func(t *testing.T) {
		want := map[string]int{"anonymous": 401, "repA": 403, "manager": 403, "director": 202, "builder": 202, "otherAppAdmin": 404, "admin": 202}
		for a, w := range want {
			if r := m.e.Do("POST", "/api/v1/apps/crm/flows/noop/run", map[string]any{"input": map[string]any{}}, m.tokens[a]); r.Status != w {
				t.Errorf("%s: status %d, want %d: %s", a, r.Status, w, r.Body)
			}
		}
	})

	// Single-record operations on rep A's newest lead.
	recA := leads + "/" + m.recOf["repA"].String()
	single := []struct {
		op     string
		method string
		path   string
		body   any
		want   map[string]int
	}{
		{"get", "GET", recA, nil, map[string]int{"anonymous": 401, "repA": 200, "repB": 404, "repC": 404, "manager": 200, "director": 200, "builder": 200, "otherAppAdmin": 404, "admin": 200}},
		{"history", "GET", recA + "/history", nil, map[string]int{"anonymous": 401, "repA": 200, "repB": 404, "repC": 404, "manager": 200, "director": 200, "builder": 200, "otherAppAdmin": 404, "admin": 200}},
		{"update", "PATCH", recA, map[string]any{"amount": 7}, map[string]int{"anonymous": 401, "repA": 200, "repB": 404, "repC": 404, "manager": 200, "director": 403, "builder": 200, "otherAppAdmin": 404, "admin": 200}},
		{"update read-only field", "PATCH", recA, map[string]any{"score": 9}, map[string]int{"repA": 403, "manager": 200, "builder": 200}},
		{"update hidden field", "PATCH", recA, map[string]any{"cost": 1}, map[string]int{"repA": 422, "manager": 422, "builder": 200}},
		{"create", "POST", leads, map[string]any{"name": "new lead"}, map[string]int{"anonymous": 401, "repA": 201, "repB": 201, "repC": 201, "manager": 403, "director": 403, "builder": 201, "otherAppAdmin": 404, "admin": 201}},
		{"create with hidden field", "POST", leads, map[string]any{"name": "n", "cost": 5}, map[string]int{"repA": 422, "builder": 201}},
		{"filter on hidden field", "GET", leads + "?filter=" + url.QueryEscape(`{"cost":{"gte":0}}`), nil, map[string]int{"repA": 422, "manager": 422, "director": 200, "builder": 200}},
		{"sort on hidden field", "GET", leads + "?sort=-cost", nil, map[string]int{"repA": 422, "manager": 422, "director": 200, "builder": 200}},
		{"publish definition", "POST", "/api/v1/apps/crm/entities/lead/publish", nil, map[string]int{"anonymous": 401, "repA": 403, "manager": 403, "director": 403, "builder": 200, "otherAppAdmin": 404, "admin": 200}},
		{"delete out of scope", "DELETE", leads + "/" + m.recOf["repC"].String(), nil, map[string]int{"anonymous": 401, "repA": 403, "repB": 403, "manager": 404, "director": 403, "otherAppAdmin": 404}},
		// last: these delete
		{"delete (manager, team row)", "DELETE", leads + "/" + m.recOf["repB"].String(), nil, map[string]int{"repA": 403, "repC": 403, "director": 403, "manager": 204}},
		{"delete (builder)", "DELETE", recA, nil, map[string]int{"repA": 403, "builder": 204}},
	}
	for _, op := range single {
		t.Run(op.op, func(t *testing.T) {
			for _, a := range actors {
				want, ok := op.want[a]
				if !ok {
					continue
				}
				r := m.e.Do(op.method, op.path, op.body, m.tokens[a])
				if r.Status != want {
					t.Errorf("%s: status %d, want %d: %s", a, r.Status, want, r.Body)
				}
				if op.op == "get" && r.Status == 200 {
					_, has := r.JSON()["data"].(map[string]any)["cost"]
					if wantCost := a != "repA" && a != "manager"; has != wantCost {
						t.Errorf("%s: cost shown=%v", a, has)
					}
				}
			}
		})
	}
}
