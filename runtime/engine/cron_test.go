package engine_test

import (
	"context"
	"fmt"
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

// TestCronBusinessCalendar: a cron flow with "calendar": "business" fires only on working days of
// the app's calendar (holidays skipped, extra working days included); without it, every day.
func TestCronBusinessCalendar(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(sh)
	// yesterday, today and tomorrow, so a test running across midnight still sees the same kind of day
	days := fmt.Sprintf(`["%s","%s","%s"]`, now.AddDate(0, 0, -1).Format(time.DateOnly), now.Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly))
	other := fmt.Sprint((int(now.Weekday()) + 3) % 7) // a weekday that is none of those three days
	for _, tc := range []struct {
		name, calendar, settings string
		fires                    bool
	}{
		{"holiday", "business", `{"calendar":{"workdays":[0,1,2,3,4,5,6],"holidays":` + days + `}}`, false},
		{"not a working weekday", "business", `{"calendar":{"workdays":[` + other + `]}}`, false},
		{"extra working day", "business", `{"calendar":{"workdays":[` + other + `],"extra_workdays":` + days + `}}`, true},
		{"working day", "business", `{"calendar":{"workdays":[0,1,2,3,4,5,6]}}`, true},
		{"holiday, no business calendar", "", `{"calendar":{"workdays":[0,1,2,3,4,5,6],"holidays":` + days + `}}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, false)
			if _, err := e.d.Pool.Exec(context.Background(), `UPDATE apps SET settings = $2 WHERE id = $1`, e.app, tc.settings); err != nil {
				t.Fatal(err)
			}
			e.publish(`{"slug":"daily","calendar":"` + tc.calendar + `","trigger":{"type":"cron","schedule":"* * * * * *"},"nodes":[]}`)
			var fired atomic.Int64
			c := trigger.NewCron(e.eng, nil)
			c.Fired = func(uuid.UUID, string, time.Time) { fired.Add(1) }
			ctx, cancel := context.WithCancel(context.Background())
			go c.Run(ctx)
			time.Sleep(2500 * time.Millisecond)
			cancel()
			c.Wait()
			if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'daily'`); (n > 0) != tc.fires || int64(n) != fired.Load() {
				t.Fatalf("%d runs (%d fires), want fires=%v", n, fired.Load(), tc.fires)
			}
		})
	}
}

// TestCronScheduleStartsAtPublish: a flow's schedule counts from when it was published, not
// from when the scheduler first reads it, so a tick between the two fires; older ticks follow
// the missed-fire policy (skip by default).
func TestCronScheduleStartsAtPublish(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	for _, tc := range []struct {
		name string
		days int // whole days between publishing and the first due tick
	}{{"first tick after publishing", 0}, {"three days later, the older ticks skipped", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, false)
			e.publish(`{"slug":"nightly","trigger":{"type":"cron","schedule":"0 3 * * *","timezone":"Asia/Shanghai"},"nodes":[]}`)
			// the scheduler reads the flow for the first time 10 s after a 03:00 tick that
			// came after the flow was published
			now := time.Now().In(sh)
			tick := time.Date(now.Year(), now.Month(), now.Day(), 3, 0, 0, 0, sh)
			if !tick.After(now) {
				tick = tick.AddDate(0, 0, 1)
			}
			tick = tick.AddDate(0, 0, tc.days)
			c := trigger.NewCron(e.eng, nil)
			c.Now = func() time.Time { return tick.Add(10 * time.Second) }
			var fired atomic.Int64
			c.Fired = func(uuid.UUID, string, time.Time) { fired.Add(1) }
			ctx, cancel := context.WithCancel(context.Background())
			go c.Run(ctx)
			e.eventually("the tick after publishing fires", func() string {
				if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'nightly'`); n != 1 {
					return fmt.Sprintf("%d runs", n)
				}
				return ""
			})
			// the state row now holds that tick, so nothing else fires on later passes
			e.eventually("the tick is saved", func() string {
				if n := e.count(`SELECT count(*) FROM flow_cron_state WHERE flow = 'nightly' AND last_tick = '` + tick.UTC().Format(time.RFC3339) + `'`); n != 1 {
					return "no state row at the tick"
				}
				return ""
			})
			cancel()
			c.Wait()
			if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'nightly'`); n != 1 || fired.Load() != 1 {
				t.Fatalf("%d runs, %d fires: want exactly the one due tick", n, fired.Load())
			}
		})
	}
}
