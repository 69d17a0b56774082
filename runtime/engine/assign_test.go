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

// TestAssignHandsRecordOver: with record (and entity), the chosen user becomes the record's
// owner and their team its team; a record that does not exist fails the step.
func TestAssignHandsRecordOver(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	rep := e.user("rep")
	var team, rec uuid.UUID
	if err := e.d.Pool.QueryRow(ctx, `INSERT INTO teams (name) VALUES ('华东') RETURNING id`).Scan(&team); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.Pool.Exec(ctx, `UPDATE users SET team_id = $1 WHERE id = $2`, team, rep); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Pool.QueryRow(ctx, `INSERT INTO records (app_id, entity, data) VALUES ($1, 'lead', '{"name":"王五"}') RETURNING id`, e.app).Scan(&rec); err != nil {
		t.Fatal(err)
	}
	e.publish(fmt.Sprintf(`{"slug":"own","trigger":{"type":"manual"},"nodes":[
	  {"id":"who","type":"assign","params":{"strategy":"round_robin","users":[%q],"entity":"lead","record":"{{ trigger.id }}"}}]}`, rep))
	r := e.wait(e.start("own", map[string]any{"id": rec.String()}), "succeeded", "failed")
	if r.Output["user_id"] != rep.String() || r.Output["record_id"] != rec.String() {
		t.Fatalf("assign output %v (%s)", r.Output, deref(r.Error))
	}
	var owner, ownerTeam *uuid.UUID
	if err := e.d.Pool.QueryRow(ctx, `SELECT owner_id, team_id FROM records WHERE id = $1`, rec).Scan(&owner, &ownerTeam); err != nil {
		t.Fatal(err)
	}
	if owner == nil || *owner != rep || ownerTeam == nil || *ownerTeam != team {
		t.Fatalf("record owner %v team %v, want %s %s", owner, ownerTeam, rep, team)
	}
	if r := e.wait(e.start("own", map[string]any{"id": uuid.NewString()}), "failed"); deref(r.Error) == "" {
		t.Fatal("handing over a missing record did not fail")
	}
}
