package authz_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/authz"
)

// BenchmarkGrant measures one permission decision per request shape.
func BenchmarkGrant(b *testing.B) {
	o := seedOrg(b)
	a := newAuthz(b, o.d, authz.Options{})
	salesRoles(b, a)
	// Some policy volume: 50 more roles with 10 rules and field rules each.
	for i := 0; i < 50; i++ {
		def := authz.RoleDef{App: "crm", Name: fmt.Sprintf("r%02d", i), Fields: map[string]authz.FieldRule{"lead": {Hidden: []string{"cost"}}}}
		for j := 0; j < 10; j++ {
			def.Permissions = append(def.Permissions, authz.Permission{Resource: fmt.Sprintf("entity:e%d", j), Actions: []string{"read", "update"}, Scope: "team"})
		}
		putRole(b, a, def)
	}
	setRoles(b, a, o.repA, "sales_rep", "r01", "r02")
	setRoles(b, a, o.mgrA, "sales_manager")
	setRoles(b, a, o.director, "director", "auditor")
	ctx := context.Background()
	cases := []struct {
		name string
		sub  access.Subject
		act  string
		cold bool
	}{
		{"admin", access.Subject{UserID: o.outsider, IsAdmin: true}, "read", false},
		{"denied", access.Subject{UserID: o.outsider}, "read", false},
		{"own+fields", access.Subject{UserID: o.repA}, "read", false},
		{"team", access.Subject{UserID: o.mgrA}, "read", false},
		{"team_tree cached", access.Subject{UserID: o.director}, "export", false},
		{"team_tree cold (recursive CTE)", access.Subject{UserID: o.director}, "export", true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if tc.cold {
					a.ClearTeamCache()
				}
				g, err := a.Grant(ctx, tc.sub, o.app, "entity:lead", tc.act)
				if err != nil {
					b.Fatal(err)
				}
				_ = g
			}
		})
	}
}

// TestScopeFilterCost measures the p50 of a list page and of a count over many records with
// and without the scope predicate. It seeds TESSERA_SCOPE_BENCH_ROWS rows (skipped when unset):
//
//	TESSERA_SCOPE_BENCH_ROWS=1000000 go test -run TestScopeFilterCost -v ./runtime/authz/
func TestScopeFilterCost(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TESSERA_SCOPE_BENCH_ROWS"))
	if n <= 0 {
		t.Skip("set TESSERA_SCOPE_BENCH_ROWS to run")
	}
	o := seedOrg(t)
	a := newAuthz(t, o.d, authz.Options{})
	salesRoles(t, a)
	setRoles(t, a, o.repA, "sales_rep")
	setRoles(t, a, o.mgrA, "sales_manager")
	setRoles(t, a, o.director, "director")
	ctx := context.Background()
	// 200 reps spread over East and West plus the named users; the named rep A owns 0.5%.
	others := make([]uuid.UUID, 200)
	for i := range others {
		team := o.east
		if i%2 == 1 {
			team = o.west
		}
		others[i] = newUser(t, o.d, fmt.Sprintf("u%d@x", i), &team)
	}
	start := time.Now()
	mustExec(t, o.d, `INSERT INTO records (app_id, entity, owner_id, team_id, data, created_at)
		SELECT $1, 'lead',
		       CASE WHEN g % 200 = 0 THEN $2::uuid ELSE ($3::uuid[])[1 + g % 200] END,
		       CASE WHEN g % 200 = 0 OR g % 2 = 1 THEN $4::uuid ELSE $5::uuid END,
		       jsonb_build_object('name', 'lead ' || g, 'amount', g % 10000, 'stage', (ARRAY['new','proposal','won'])[1 + g % 3]),
		       now() - make_interval(secs => g)
		FROM generate_series(1, $6) g`, o.app, o.repA, others, o.east, o.west, n)
	mustExec(t, o.d, `ANALYZE records`)
	t.Logf("seeded %d records in %v", n, time.Since(start).Round(time.Millisecond))

	measure := func(q string, args []any) time.Duration {
		var ds []time.Duration
		for i := 0; i < 31; i++ {
			s := time.Now()
			rows, err := o.d.Pool.Query(ctx, q, args...)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
			}
			rows.Close()
			if rows.Err() != nil {
				t.Fatal(rows.Err())
			}
			ds = append(ds, time.Since(s))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	type actor struct {
		name string
		sub  access.Subject
		act  string
	}
	for _, ac := range []actor{
		{"no predicate (all)", access.Subject{System: true}, "read"},
		{"own (rep A, 0.5% of rows)", access.Subject{UserID: o.repA}, "read"},
		{"team (manager East, ~50%)", access.Subject{UserID: o.mgrA}, "read"},
		{"team_tree (director, 100%)", access.Subject{UserID: o.director}, "read"},
	} {
		gs := time.Now()
		g, err := a.Grant(ctx, ac.sub, o.app, "entity:lead", ac.act)
		if err != nil || !g.Allowed() {
			t.Fatalf("%s: %v %v", ac.name, g, err)
		}
		gd := time.Since(gs)
		args := []any{o.app}
		where := `r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL`
		if p := g.RowPredicate("r", &args); p != "" {
			where += " AND " + p
		}
		page := measure(`SELECT r.id, r.data FROM records r WHERE `+where+` ORDER BY r.created_at DESC, r.id DESC LIMIT 50`, args)
		// The order runtime/records uses for the default sort.
		page2 := measure(`SELECT r.id, r.data FROM records r WHERE `+where+` ORDER BY r.created_at DESC NULLS LAST, r.id ASC LIMIT 50`, args)
		count := measure(`SELECT count(*) FROM records r WHERE `+where, args)
		t.Logf("%-30s grant %-8v page p50 %-10v page (NULLS LAST) p50 %-10v count p50 %v", ac.name, gd.Round(time.Microsecond),
			page.Round(10*time.Microsecond), page2.Round(10*time.Microsecond), count.Round(10*time.Microsecond))
	}
}
