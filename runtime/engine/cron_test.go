package engine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/trigger"
)

func TestCronOncePerTickWithTwoReplicas(t *testing.T) {
	e := newEnv(t, true)
	other := envOn(t, e.d, false, 1) // a second replica on the same database
	e.publish(`{"slug":"tick","trigger":{"type":"cron","schedule":"* * * * * *","timezone":"Asia/Shanghai"},"nodes":[
	  {"id":"s","type":"set","params":{"values":{"tick":"{{ trigger.tick }}"}}}]}`)
	var fired atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	var crons []*trigger.Cron
	for _, eng := range []*env{e, other} {
		c := trigger.NewCron(eng.eng, nil)
		c.Reload = 200 * time.Millisecond
		c.Fired = func(uuid.UUID, string, time.Time) { fired.Add(1) }
		crons = append(crons, c)
		go c.Run(ctx)
	}
	time.Sleep(4500 * time.Millisecond)
	cancel()
	for _, c := range crons {
		c.Wait()
	}
	runs := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'tick'`)
	ticks := e.count(`SELECT count(DISTINCT idempotency_key) FROM flow_runs WHERE flow = 'tick'`)
	if runs < 3 || runs != ticks || int64(runs) != fired.Load() {
		t.Fatalf("runs %d, distinct ticks %d, fires %d: want one run per tick", runs, ticks, fired.Load())
	}
	// every tick is a whole second in Asia/Shanghai
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'tick' AND trigger->>'tick' NOT LIKE '%+08:00'`); n != 0 {
		t.Fatalf("%d ticks not in Asia/Shanghai", n)
	}
}

func TestCronMissedFirePolicy(t *testing.T) {
	for _, tc := range []struct {
		policy string
		want   int
	}{{"skip", 0}, {"once", 1}} {
		t.Run(tc.policy, func(t *testing.T) {
			e := newEnv(t, false)
			e.publish(`{"slug":"nightly","trigger":{"type":"cron","schedule":"0 3 * * *","missed":"` + tc.policy + `"},"nodes":[]}`)
			// the scheduler was down for three days
			if _, err := e.d.Pool.Exec(context.Background(), `INSERT INTO flow_cron_state (app_id, flow, last_tick) VALUES ($1, 'nightly', now() - interval '3 days')`, e.app); err != nil {
				t.Fatal(err)
			}
			c := trigger.NewCron(e.eng, nil)
			ctx, cancel := context.WithCancel(context.Background())
			go c.Run(ctx)
			time.Sleep(1500 * time.Millisecond)
			cancel()
			c.Wait()
			if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'nightly'`); n != tc.want {
				t.Fatalf("%d runs after downtime with missed=%s, want %d", n, tc.policy, tc.want)
			}
		})
	}
}
