package records_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/records"
)

const displayAccount = `{"slug":"account","label":{"en":"Account","zh-CN":"客户"},"fields":[
 {"key":"code","type":"autonumber","prefix":"A-"},
 {"key":"name","type":"text","required":true},
 {"key":"city","type":"text"}]}`

const displayDeal = `{"slug":"deal","fields":[
 {"key":"title","type":"text","required":true},
 {"key":"account","type":"relation","target":"account"},
 {"key":"partners","type":"relation","target":"account","multiple":true},
 {"key":"manager","type":"user"},
 {"key":"desk","type":"team"}]}`

// queryCounter counts the statements a pool runs (a pgx tracer).
type queryCounter struct {
	mu   sync.Mutex
	sqls []string
}

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	c.sqls = append(c.sqls, d.SQL)
	c.mu.Unlock()
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *queryCounter) reset() { c.mu.Lock(); c.sqls = nil; c.mu.Unlock() }

func (c *queryCounter) count(marker string) (all, marked int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sqls {
		all++
		if strings.Contains(s, marker) {
			marked++
		}
	}
	return all, marked
}

// TestDisplayNames: a page's relation, user and team values (and owners) are named in one
// query whatever the page size, and a linked record's name is given only when the viewer may read
// that record (their row scope and field rules on its entity); otherwise there is no entry.
func TestDisplayNames(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pool := e.d.Pool
	e.publish(spec.KindEntity, "account", displayAccount)
	e.publish(spec.KindEntity, "deal", displayDeal)

	var east, west, rep1, rep2 uuid.UUID
	for _, q := range []struct {
		sql  string
		args []any
		dst  *uuid.UUID
	}{
		{`INSERT INTO teams (name) VALUES ('华东') RETURNING id`, nil, &east},
		{`INSERT INTO teams (name) VALUES ('华西') RETURNING id`, nil, &west},
	} {
		if err := pool.QueryRow(ctx, q.sql, q.args...).Scan(q.dst); err != nil {
			t.Fatal(err)
		}
	}
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, name, team_id) VALUES ('r1@x.cn','王小明',$1) RETURNING id`, east).Scan(&rep1); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, name, team_id) VALUES ('r2@x.cn','李四',$1) RETURNING id`, west).Scan(&rep2); err != nil {
		t.Fatal(err)
	}
	create := func(entity string, owner uuid.UUID, team uuid.UUID, v map[string]any) *records.Record {
		t.Helper()
		r, err := e.store.Create(ctx, e.app, entity, v, e.w())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `UPDATE records SET owner_id = $2, team_id = $3 WHERE id = $1`, r.ID, owner, team); err != nil {
			t.Fatal(err)
		}
		return r
	}
	mine := create("account", rep1, east, map[string]any{"name": "华为", "city": "深圳"})
	theirs := create("account", rep2, west, map[string]any{"name": "腾讯", "city": "深圳"})
	gone := create("account", rep1, east, map[string]any{"name": "已删除"})
	deal := create("deal", rep1, east, map[string]any{"title": "D1", "account": mine.ID.String(),
		"partners": []any{theirs.ID.String(), gone.ID.String()}, "manager": rep2.String(), "desk": west.String()})
	if err := e.store.Delete(ctx, e.app, "account", gone.ID, e.w()); err != nil {
		t.Fatal(err)
	}
	create("deal", rep1, east, map[string]any{"title": "D2", "account": theirs.ID.String()})

	grants := func(m map[string]access.Grant) records.ReadGrant {
		return func(_ context.Context, entity string) (access.Grant, error) { return m[entity], nil }
	}
	own := access.Grant{Scope: access.ScopeOwn, Owner: rep1}
	cases := []struct {
		name   string
		read   records.ReadGrant
		want   map[string]string // id -> name
		absent []uuid.UUID
	}{
		{"all scope names every live account", grants(map[string]access.Grant{"account": access.All(), "deal": own}),
			map[string]string{mine.ID.String(): "华为", theirs.ID.String(): "腾讯"}, []uuid.UUID{gone.ID}},
		{"own scope hides the other rep's account", grants(map[string]access.Grant{"account": own, "deal": own}),
			map[string]string{mine.ID.String(): "华为"}, []uuid.UUID{theirs.ID, gone.ID}},
		{"team scope", grants(map[string]access.Grant{"account": {Scope: access.ScopeTeam, Owner: rep1, Teams: []uuid.UUID{west}}}),
			map[string]string{mine.ID.String(): "华为", theirs.ID.String(): "腾讯"}, []uuid.UUID{gone.ID}},
		{"no read right on accounts", grants(map[string]access.Grant{"deal": own}),
			map[string]string{}, []uuid.UUID{mine.ID, theirs.ID, gone.ID}},
		{"hidden title field falls back to the next text field", grants(map[string]access.Grant{"account": {Scope: access.ScopeAll, Hidden: map[string]bool{"name": true}}}),
			map[string]string{mine.ID.String(): "深圳"}, []uuid.UUID{gone.ID}},
		{"nil grant function names no record", nil, map[string]string{}, []uuid.UUID{mine.ID, theirs.ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := e.store.List(ctx, e.app, "deal", records.ListQuery{Sort: "title"}, access.All())
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.store.PageDisplay(ctx, e.app, "deal", page.Items, tc.read)
			if err != nil {
				t.Fatal(err)
			}
			for id, name := range tc.want {
				if got[id] != name {
					t.Errorf("display[%s] = %q, want %q (all: %v)", id, got[id], name, got)
				}
			}
			for _, id := range tc.absent {
				if v, ok := got[id.String()]; ok {
					t.Errorf("display[%s] = %q, want no entry", id, v)
				}
			}
			// users and teams are named for anyone who reads the deal: owner, manager, desk
			for id, name := range map[uuid.UUID]string{rep1: "王小明", rep2: "李四", east: "华东", west: "华西"} {
				if got[id.String()] != name {
					t.Errorf("display[%s] = %q, want %q", id, got[id.String()], name)
				}
			}
		})
	}

	// The history names the actor and the old and new linked records.
	if _, err := e.store.Update(ctx, e.app, "deal", deal.ID, map[string]any{"account": theirs.ID.String()}, nil,
		records.WriteOptions{Actor: access.Subject{UserID: rep1}, Grant: access.All(), Source: "test"}); err != nil {
		t.Fatal(err)
	}
	evs, err := e.store.History(ctx, e.app, "deal", deal.ID, access.All())
	if err != nil {
		t.Fatal(err)
	}
	hd, err := e.store.HistoryDisplay(ctx, e.app, "deal", evs, grants(map[string]access.Grant{"account": own}))
	if err != nil {
		t.Fatal(err)
	}
	if hd[rep1.String()] != "王小明" || hd[mine.ID.String()] != "华为" {
		t.Fatalf("history display: %v", hd)
	}
	if _, ok := hd[theirs.ID.String()]; ok {
		t.Fatalf("history names an account outside the viewer's scope: %v", hd)
	}
}

// TestDisplayNamesOneQueryPerPage counts the statements of a list page plus its names: the names
// are one query, and a page of 40 linked records costs as many statements as a page of 2.
func TestDisplayNamesOneQueryPerPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(spec.KindEntity, "account", displayAccount)
	e.publish(spec.KindEntity, "deal", displayDeal)
	counter := &queryCounter{}
	cfg, err := pgxpool.ParseConfig(e.d.Pool.Config().ConnConfig.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = counter
	traced, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer traced.Close()
	store := records.New(traced, defs.New(traced), records.Options{FilesDir: t.TempDir()})
	read := func(context.Context, string) (access.Grant, error) { return access.All(), nil }

	statements := func(limit int) (all, names int, display map[string]string) {
		t.Helper()
		page, err := store.List(ctx, e.app, "deal", records.ListQuery{Limit: limit}, access.All())
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != limit {
			t.Fatalf("page has %d items, want %d", len(page.Items), limit)
		}
		counter.reset()
		d, err := store.PageDisplay(ctx, e.app, "deal", page.Items, read)
		if err != nil {
			t.Fatal(err)
		}
		all, names = counter.count("tessera:display")
		return all, names, d
	}
	for i := 0; i < 40; i++ {
		acc, err := e.store.Create(ctx, e.app, "account", map[string]any{"name": fmt.Sprintf("客户%02d", i)}, e.w())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Create(ctx, e.app, "deal", map[string]any{"title": fmt.Sprintf("D%02d", i), "account": acc.ID.String(),
			"partners": []any{acc.ID.String()}, "manager": e.admin.UserID.String()}, e.w()); err != nil {
			t.Fatal(err)
		}
	}
	statements(2) // warm the definition cache
	smallAll, smallNames, _ := statements(2)
	bigAll, bigNames, display := statements(40)
	if smallNames != 1 || bigNames != 1 {
		t.Fatalf("name queries per page: %d (2 rows), %d (40 rows); want 1", smallNames, bigNames)
	}
	if bigAll != smallAll {
		t.Fatalf("statements for names: %d with 40 rows, %d with 2 rows; want the same", bigAll, smallAll)
	}
	if len(display) != 41 { // 40 accounts and the admin
		t.Fatalf("display has %d names, want 41: %v", len(display), display)
	}
}
