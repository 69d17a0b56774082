package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/server/apitest"
	"github.com/tessera/tessera/server/config"
)

// TestStatementsPerOperation counts, through the pool's tracer, the statements and commits the
// hot operations cost (#18), so a regression fails here without timing anything. The sync
// webhook → script → record.create run is worked by the accepting process before it is
// accepted, in one transaction that inserts the run with its end (runtime/engine/prework.go:
// steps, record and run commit together; the step commits with its write, so no effect row is
// needed).
func TestStatementsPerOperation(t *testing.T) {
	// a River-worked run is never marked running on its own here (a loaded machine could make
	// its working last past the default): its statements are counted exactly
	e, counter := apitest.NewCounted(t, apitest.WithConfig(func(c *config.Config) { c.ShowRunningAfter = time.Hour }))
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "lead", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true},
		map[string]any{"key": "score", "type": "number"},
		map[string]any{"key": "phone", "type": "text"},
		map[string]any{"key": "city", "type": "text"}}})
	publishFlow(t, e, map[string]any{"slug": "hook", "trigger": map[string]any{"type": "webhook", "key": "count-hook", "mode": "sync"},
		"nodes": []any{
			map[string]any{"id": "js", "type": "script", "params": map[string]any{"code": "return {name: input.trigger.body.name, score: input.trigger.body.n * 2}"}},
			map[string]any{"id": "create", "type": "record.create", "params": map[string]any{"entity": "lead",
				"values": map[string]any{"name": "{{ steps.js.name }}", "score": "{{ steps.js.score }}"}}}},
		"edges": []any{map[string]any{"from": "js", "to": "create"}}})
	token := e.Must(201, "POST", "/api/v1/me/tokens", map[string]any{"name": "bench", "expires_in_days": 30}, e.AdminToken).JSON()["token"].(string)

	tests := []struct {
		name                         string
		do                           func(i int) *apitest.Resp
		want                         int
		maxStatements, commit, trips int
	}{
		{"sync webhook → script → record.create", func(i int) *apitest.Resp {
			return e.Do("POST", "/hooks/count-hook", fmt.Sprintf(`{"name":"n%d","n":%d}`, i, i), "")
		}, 200, 4, 1, 2}, // worked before its accept (runtime/engine/prework.go): begin with the record + events (one round trip); the steps and the run's row with the commit (one round trip); the effect is held (#18 asks ≤ 10 and ≤ 2 commits)
		{"sync webhook with an Idempotency-Key (accepted first)", func(i int) *apitest.Resp {
			return e.Do("POST", "/hooks/count-hook", fmt.Sprintf(`{"name":"k%d","n":%d}`, i, i), "", "Idempotency-Key: key-"+fmt.Sprint(i))
		}, 200, 6, 2, 3}, // accept (the key checked, the job claimed); begin, the run lock and the record (one round trip); steps + finish + job deletion with the commit
		{"record create (4 fields, bearer token)", func(i int) *apitest.Resp {
			return e.Do("POST", "/api/v1/apps/crm/entities/lead/records", map[string]any{"name": fmt.Sprintf("r%d", i), "score": i, "phone": "1", "city": "沪"}, token)
		}, 201, 1, 1, 1}, // record + history events in one statement that commits by itself (no hook has anything to do; the token's principal is cached)
		{"record create (session token as bearer)", func(i int) *apitest.Resp {
			return e.Do("POST", "/api/v1/apps/crm/entities/lead/records", map[string]any{"name": fmt.Sprintf("s%d", i), "score": i, "phone": "1", "city": "沪"}, e.AdminToken)
		}, 201, 1, 1, 1}, // a session token as bearer is cached alike
	}
	// resolved tokens are cached once the auth service listens for identity changes
	for deadline := time.Now().Add(10 * time.Second); !e.Srv.Auth.CachingPrincipals(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the token cache's listener did not start within 10 s")
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.do(0) // warm the caches
			counter.Reset()
			r := tc.do(1)
			if r.Status != tc.want {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			n, commits := counter.Counts()
			trips := counter.RoundTrips()
			t.Logf("%d statements, %d commits, %d round trips:\n%s", n, commits, trips, counter.Report())
			if n > tc.maxStatements || commits > tc.commit || trips > tc.trips {
				t.Fatalf("%d statements, %d commits and %d round trips, want ≤ %d, ≤ %d and ≤ %d:\n%s", n, commits, trips, tc.maxStatements, tc.commit, tc.trips, counter.Report())
			}
		})
	}
	// the run's steps are persisted and its record written once
	var steps, recs int
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_ = e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM flow_steps s JOIN flow_runs r ON r.id = s.run_id WHERE r.flow = 'hook' AND r.status = 'succeeded'`).Scan(&steps)
		_ = e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE entity = 'lead' AND data->>'name' LIKE 'n%'`).Scan(&recs)
		if steps == 8 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if steps != 8 || recs != 2 {
		t.Fatalf("4 sync runs left %d steps and %d records named n…, want 8 and 2", steps, recs)
	}

	// a durable (async) webhook → script → record run, from accepting it until it succeeded and
	// no job of it is open (#18 asks ≤ 10 statements and ≤ 2 commits): the accepting process
	// works it before its accept when it has an inline slot, like a sync run, and answers 202
	// once it committed
	publishFlow(t, e, map[string]any{"slug": "ahook", "trigger": map[string]any{"type": "webhook", "key": "count-async", "mode": "async"},
		"nodes": []any{
			map[string]any{"id": "js", "type": "script", "params": map[string]any{"code": "return {name: input.trigger.body.name, score: input.trigger.body.n * 2}"}},
			map[string]any{"id": "create", "type": "record.create", "params": map[string]any{"entity": "lead",
				"values": map[string]any{"name": "{{ steps.js.name }}", "score": "{{ steps.js.score }}"}}}},
		"edges": []any{map[string]any{"from": "js", "to": "create"}}})
	// a connection of its own (no tracer) watches the runs
	cfg := e.DB.Pool.Config().ConnConfig.Copy()
	cfg.Tracer = nil
	watch, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.Background())
	// settled waits until n runs of flow succeeded and no job is open
	settled := func(flow string, n int) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			var ok, jobs int
			_ = watch.QueryRow(t.Context(), `SELECT count(*) FROM flow_runs WHERE flow = $1 AND status = 'succeeded'`, flow).Scan(&ok)
			_ = watch.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&jobs)
			if ok == n && jobs == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d runs of %s succeeded, %d jobs open", ok, n, flow, jobs)
			}
		}
	}
	e.Must(202, "POST", "/hooks/count-async", `{"name":"a0","n":0}`, "") // warm the caches
	settled("ahook", 1)
	counter.Reset()
	e.Must(202, "POST", "/hooks/count-async", `{"name":"a1","n":1}`, "")
	settled("ahook", 2)
	n, commits := counter.Counts()
	trips := counter.RoundTrips()
	t.Logf("%d statements, %d commits, %d round trips:\n%s", n, commits, trips, counter.Report())
	if n > 4 || commits > 1 || trips > 2 {
		t.Fatalf("%d statements, %d commits and %d round trips, want ≤ 4, ≤ 1 and ≤ 2:\n%s", n, commits, trips, counter.Report())
	}

	// a record change starting a flow (script → record.create): the record, its events and the
	// run's accept commit together; River then works the run in one transaction (its first
	// working), from the create until the run succeeded and no job of it is open
	publishEntity(t, e, map[string]any{"slug": "contact", "fields": []any{map[string]any{"key": "name", "type": "text", "required": true}}})
	publishFlow(t, e, map[string]any{"slug": "follow", "trigger": map[string]any{"type": "record.created", "entity": "contact"},
		"nodes": []any{
			map[string]any{"id": "js", "type": "script", "params": map[string]any{"code": "return {name: 'lead of ' + input.trigger.record.name}"}},
			map[string]any{"id": "create", "type": "record.create", "params": map[string]any{"entity": "lead",
				"values": map[string]any{"name": "{{ steps.js.name }}"}}}},
		"edges": []any{map[string]any{"from": "js", "to": "create"}}})
	for i := range 2 { // warm the caches (the flow's publication may drop them once more)
		e.Must(201, "POST", "/api/v1/apps/crm/entities/contact/records", map[string]any{"name": fmt.Sprintf("c0%d", i)}, token)
		settled("follow", i+1)
	}
	counter.Reset()
	e.Must(201, "POST", "/api/v1/apps/crm/entities/contact/records", map[string]any{"name": "c1"}, token)
	settled("follow", 3)
	n, commits = counter.Counts()
	trips = counter.RoundTrips()
	t.Logf("record create starting a River-worked run: %d statements, %d commits, %d round trips:\n%s", n, commits, trips, counter.Report())
	// the create: begin with the record and its events, the run's accept, commit; River's working:
	// the run's session lock and its row, begin with the run's lock (the claim) and the record,
	// the steps and the end with the commit and the unlock, River's completion
	if n > 13 || commits > 3 || trips > 7 {
		t.Fatalf("%d statements, %d commits and %d round trips, want ≤ 13, ≤ 3 and ≤ 7:\n%s", n, commits, trips, counter.Report())
	}
}
