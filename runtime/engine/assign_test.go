package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
)

func TestAssignRulesLeastLoadedCapacity(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	boss := e.user("boss")
	var east uuid.UUID
	if err := e.d.Pool.QueryRow(ctx, `INSERT INTO teams (name, manager_id) VALUES ('上海', $1) RETURNING id`, boss).Scan(&east); err != nil {
		t.Fatal(err)
	}
	r1, r2, senior := e.user("r1"), e.user("r2"), e.user("senior")
	if _, err := e.d.Pool.Exec(ctx, `UPDATE users SET team_id = $1 WHERE id = ANY($2)`, east, []uuid.UUID{r1, r2}); err != nil {
		t.Fatal(err)
	}
	// r1 already has two open tasks
	if _, err := e.d.Pool.Exec(ctx, `INSERT INTO tasks (app_id, title, assignee_id) VALUES ($1, 'x', $2), ($1, 'y', $2)`, e.app, r1); err != nil {
		t.Fatal(err)
	}
	e.publish(fmt.Sprintf(`{"slug":"route","trigger":{"type":"manual"},"nodes":[
	  {"id":"who","type":"assign","params":{"strategy":"rules","within":"least_loaded","capacity":5,"rules":[
	    {"when":"trigger.size == 'large'","user":%q},
	    {"when":"trigger.region == '华东'","team":%q}]}}]}`, senior, east))
	cases := []struct {
		in   map[string]any
		want uuid.UUID
	}{
		{map[string]any{"size": "large", "region": "华东"}, senior},
		{map[string]any{"size": "small", "region": "华东"}, r2},
	}
	for _, tc := range cases {
		r := e.wait(e.start("route", tc.in), "succeeded", "failed")
		if r.Output["user_id"] != tc.want.String() {
			t.Fatalf("%v: assigned %v, want %s (%s)", tc.in, r.Output, tc.want, deref(r.Error))
		}
		if tc.want == r2 && r.Output["manager_id"] != boss.String() {
			t.Fatalf("manager of the team missing: %v", r.Output)
		}
	}
	// no rule matches: the run fails with a clear error
	if r := e.wait(e.start("route", map[string]any{"region": "华北"}), "failed"); deref(r.Error) == "" {
		t.Fatal("no error")
	}
	// capacity: both reps full
	e.publish(fmt.Sprintf(`{"slug":"cap","trigger":{"type":"manual"},"nodes":[
	  {"id":"who","type":"assign","params":{"strategy":"least_loaded","capacity":2,"users":[%q]}}]}`, r1))
	if r := e.wait(e.start("cap", nil), "failed"); deref(r.Error) == "" {
		t.Fatal("capacity not enforced")
	}
}
