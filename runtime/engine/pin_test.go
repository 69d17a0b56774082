package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/queue"
)

func TestRunsPinTheirVersion(t *testing.T) {
	e := newEnv(t, true)
	e.publish(`{"slug":"pin","trigger":{"type":"manual"},"nodes":[
	  {"id":"wait","type":"delay","params":{"duration":"400ms"}},
	  {"id":"mark","type":"set","params":{"values":{"version":1}}}],"edges":[{"from":"wait","to":"mark"}]}`)
	run := e.start("pin", nil)
	e.wait(run, "waiting")
	e.publish(`{"slug":"pin","trigger":{"type":"manual"},"nodes":[
	  {"id":"wait","type":"delay","params":{"duration":"400ms"}},
	  {"id":"mark","type":"set","params":{"values":{"version":2}}}],"edges":[{"from":"wait","to":"mark"}]}`)
	if r := e.wait(run, "succeeded"); r.Output["version"] != 1.0 {
		t.Fatalf("the running run switched versions: %v", r.Output)
	}
	if r := e.wait(e.start("pin", nil), "succeeded"); r.Output["version"] != 2.0 {
		t.Fatalf("a new run did not take the new version: %v", r.Output)
	}
}

func TestDelayCountsBusinessHours(t *testing.T) {
	d := newEnv(t, false).d
	sh, _ := time.LoadLocation("Asia/Shanghai")
	saturday := time.Date(2026, 11, 21, 15, 0, 0, 0, sh)
	var eng *engine.Engine
	q, err := queue.New(d.Pool, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng = engine.New(d.Pool, defs.New(d.Pool), q, engine.Options{Now: func() time.Time { return saturday }})
	var app uuid.UUID
	ctx := context.Background()
	if err := d.Pool.QueryRow(ctx, `SELECT id FROM apps WHERE slug = 'crm'`).Scan(&app); err != nil {
		t.Fatal(err)
	}
	publishRaw(t, d, app, "biz", `{"slug":"biz","trigger":{"type":"manual"},"nodes":[{"id":"d","type":"delay","params":{"duration":"2h","calendar":"business"}}]}`)
	id, _, err := eng.Start(ctx, nil, engine.StartRequest{AppID: app, Flow: "biz"})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Execute(ctx, id); err != nil {
		t.Fatal(err)
	}
	var wake time.Time
	if err := d.Pool.QueryRow(ctx, `SELECT wake_at FROM flow_steps WHERE run_id = $1`, id).Scan(&wake); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 23, 11, 0, 0, 0, sh); !wake.Equal(want) {
		t.Fatalf("2 working hours after Saturday 15:00 = %s, want Monday 11:00", wake.In(sh))
	}
	// the app's calendar: a holiday on Monday moves it to Tuesday
	if _, err := d.Pool.Exec(ctx, `UPDATE apps SET settings = '{"calendar":{"holidays":["2026-11-23"]}}' WHERE id = $1`, app); err != nil {
		t.Fatal(err)
	}
	id, _, _ = eng.Start(ctx, nil, engine.StartRequest{AppID: app, Flow: "biz"})
	if err := eng.Execute(ctx, id); err != nil {
		t.Fatal(err)
	}
	_ = d.Pool.QueryRow(ctx, `SELECT wake_at FROM flow_steps WHERE run_id = $1`, id).Scan(&wake)
	if want := time.Date(2026, 11, 24, 11, 0, 0, 0, sh); !wake.Equal(want) {
		t.Fatalf("with a Monday holiday: %s, want Tuesday 11:00", wake.In(sh))
	}
}
