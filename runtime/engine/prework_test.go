package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/engine"
)

// TestRunWorkedBeforeItsAccept: a run started on its own, of a pinned version whose plan may be
// worked in one transaction, is worked before it is accepted and inserted with its end (#18):
// when Start returns, the run has succeeded with its steps and record, in one transaction that
// wrote no job and updated no run row. A run whose working fails is rolled back and accepted
// first: its failure is recorded as before and its record written once.
func TestRunWorkedBeforeItsAccept(t *testing.T) {
	d, counter := dbtest.OpenCounted(t)
	e := envOn(t, d, true, 2)
	e.eng.SetScripts(testScripts(t))
	ok := e.publish(`{"slug":"pre","trigger":{"type":"webhook","key":"pre"},"nodes":[
	  {"id":"js","type":"script","params":{"code":"return {name: input.trigger.name.toUpperCase()};"}},
	  {"id":"save","type":"record.create","params":{"entity":"lead","values":{"name":"{{ steps.js.name }}"}}}],
	  "edges":[{"from":"js","to":"save"}]}`)
	fails := e.publish(`{"slug":"fails","trigger":{"type":"webhook","key":"fails"},"nodes":[
	  {"id":"save","type":"record.create","params":{"entity":"lead","values":{"name":"{{ trigger.name }}"}}},
	  {"id":"js","type":"script","params":{"code":"throw new Error('no');"}}],
	  "edges":[{"from":"save","to":"js"}]}`)
	ctx := context.Background()
	start := func(flow string, version int, name string) uuid.UUID {
		t.Helper()
		id, created, err := e.eng.Start(ctx, nil, engine.StartRequest{AppID: e.app, Flow: flow, Version: version,
			Trigger: map[string]any{"name": name}, RunAs: "service"})
		if err != nil || !created {
			t.Fatalf("starting %s: %v (created %v)", flow, err, created)
		}
		return id
	}
	start("pre", ok, "warm") // the plan and the sandbox
	counter.Reset()
	id := start("pre", ok, "zhang")
	statements, commits := counter.Counts()
	t.Logf("%d statements, %d commits, %d round trips:\n%s", statements, commits, counter.RoundTrips(), counter.Report())
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE id = $1 AND status = 'succeeded' AND created_at <= started_at AND started_at <= finished_at`, id); n != 1 {
		t.Fatalf("the run has not succeeded (with its timing) when Start returned: %s", e.steps(id))
	}
	if commits != 1 {
		t.Fatalf("%d commits, want 1:\n%s", commits, counter.Report())
	}
	for _, s := range counter.Statements() {
		if strings.Contains(s, "river_job") || strings.Contains(s, "UPDATE flow_runs") {
			t.Fatalf("a job was written or the run's row updated:\n%s", counter.Report())
		}
	}
	if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND status = 'succeeded'`, id); n != 2 {
		t.Fatalf("%d steps persisted, want 2: %s", n, e.steps(id))
	}
	if n := e.count(`SELECT count(*) FROM records WHERE data->>'name' = 'ZHANG'`); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}

	// a failing run is accepted first and worked again: failed once, its record written once
	id = start("fails", fails, "li")
	if r := e.wait(id, "succeeded", "failed"); r.Status != "failed" {
		t.Fatalf("run %s, want failed: %s", r.Status, e.steps(id))
	}
	if n := e.count(`SELECT count(*) FROM records WHERE data->>'name' = 'li'`); n != 1 {
		t.Fatalf("%d records of the failed run, want 1 (the working before the accept is rolled back)", n)
	}
	if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1`, id); n != 2 {
		t.Fatalf("%d steps of the failed run, want 2: %s", n, e.steps(id))
	}
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'fails'`); n != 1 {
		t.Fatalf("%d runs of the failing flow, want 1", n)
	}
}
