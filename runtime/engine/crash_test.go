package engine_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/queue"
)

// test.sleep is a node that only takes time, to keep runs in flight.
func init() {
	engine.Register(engine.NodeType{Name: "test.sleep", Category: "test", New: func(p *engine.Params) (engine.Runner, spec.Errors) {
		var v struct {
			MS int `json:"ms"`
		}
		p.Decode(&v)
		return sleepNode(v.MS), p.Errors()
	}})
}

type sleepNode int

func (s sleepNode) Exec(x *engine.Exec) (engine.Result, error) {
	select {
	case <-time.After(time.Duration(s) * time.Millisecond):
	case <-x.Ctx.Done():
		return engine.Result{}, x.Ctx.Err()
	}
	return engine.Result{Output: map[string]any{"slept": int(s)}}, nil
}

// crashWorkerMain runs when the test binary is re-executed as a worker process.
func crashWorkerMain() {
	ctx := context.Background()
	d, err := db.Open(ctx, os.Getenv("TESSERA_ENGINE_DSN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var eng *engine.Engine
	qo := queue.Options{Work: true, Workers: 16, PollInterval: 100 * time.Millisecond,
		JobTimeout: 2 * time.Second, RescueAfter: 3 * time.Second,
		Handler: func(ctx context.Context, id uuid.UUID) error { return eng.Execute(ctx, id) }}
	if os.Getenv("TESSERA_ENGINE_DEFAULT_TIMEOUTS") == "1" {
		qo.JobTimeout, qo.RescueAfter = 0, 0 // River's rescue after minutes: only liveness helps
	}
	q, err := queue.New(d.Pool, qo)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	opts := engine.Options{Records: &engine.SQLRecords{Pool: d.Pool}}
	if u := os.Getenv("TESSERA_PEER_URL"); u != "" {
		opts.Connectors = peerCaller(u)
	}
	eng = engine.New(d.Pool, defs.New(d.Pool), q, opts)
	if err := q.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("worker ready")
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	<-ch
}

func TestCrashedWorkerRunsFinishOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test is slow")
	}
	// step by step: a node that sleeps keeps the run out of the one-transaction working
	t.Run("step by step", func(t *testing.T) {
		crashRuns(t, `{"slug":"durable","trigger":{"type":"manual"},"nodes":[
		  {"id":"mk","type":"record.create","params":{"entity":"crash","values":{"n":"{{ trigger.n }}"}}},
		  {"id":"nap","type":"test.sleep","params":{"ms":40}},
		  {"id":"fin","type":"record.update","params":{"entity":"crash","id":"{{ steps.mk.id }}","values":{"done":true}}},
		  {"id":"nap2","type":"test.sleep","params":{"ms":20}}],
		  "edges":[{"from":"mk","to":"nap"},{"from":"nap","to":"fin"},{"from":"fin","to":"nap2"}]}`, 0, false)
	})
	// in one transaction (River's first working of a plan that allows it): a run killed
	// mid-transaction left nothing but its mark, and is worked again step by step
	t.Run("one transaction", func(t *testing.T) {
		nodes := []string{`{"id":"mk","type":"record.create","params":{"entity":"crash","values":{"n":"{{ trigger.n }}"}}}`}
		edges := []string{}
		prev := "mk"
		for i := range 8 { // more writes widen the transaction, so the kill lands inside some
			id := fmt.Sprintf("more%d", i)
			nodes = append(nodes, `{"id":"`+id+`","type":"record.create","params":{"entity":"crash_more","values":{"n":"{{ trigger.n }}"}}}`)
			edges = append(edges, `{"from":"`+prev+`","to":"`+id+`"}`)
			prev = id
		}
		nodes = append(nodes, `{"id":"fin","type":"record.update","params":{"entity":"crash","id":"{{ steps.mk.id }}","values":{"done":true}}}`)
		edges = append(edges, `{"from":"`+prev+`","to":"fin"}`)
		crashRuns(t, `{"slug":"durable","trigger":{"type":"manual"},"nodes":[`+strings.Join(nodes, ",")+`],"edges":[`+strings.Join(edges, ",")+`]}`, 8, true)
	})
}

// crashRuns starts 500 runs of flow (slug durable; its node mk creates the run's crash record,
// its node fin marks it done, and `more` nodes each create a record of crash_more), kills the worker process
// working them mid-flight, and checks that a new worker finishes every run with each effect
// once. oneTx says the runs are worked in one transaction each (all of a run's steps are
// written by one statement).
func crashRuns(t *testing.T, flow string, more int, oneTx bool) {
	const runs = 500
	e := newEnv(t, false) // this process only inserts until the worker is killed
	e.publish(flow)
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, e.d.Pool, func(tx pgx.Tx) error {
		for i := range runs {
			if _, _, err := e.eng.Start(ctx, tx, engine.StartRequest{AppID: e.app, Flow: "durable", Trigger: map[string]any{"n": i}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TESSERA_ENGINE_WORKER=1", "TESSERA_ENGINE_DSN="+e.d.DSN)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// kill it while runs are in flight
	deadline := time.Now().Add(60 * time.Second)
	for {
		done := e.count(`SELECT count(*) FROM flow_runs WHERE status = 'succeeded'`)
		if done >= 60 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the worker finished only %d runs", done)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	inFlight := e.count(`SELECT count(*) FROM flow_runs WHERE status IN ('running', 'queued')`)
	running := e.count(`SELECT count(*) FROM flow_steps WHERE status = 'running'`)
	marked := e.count(`SELECT count(*) FROM flow_runs r WHERE status = 'running' AND NOT EXISTS (SELECT 1 FROM flow_steps s WHERE s.run_id = r.id)`)
	t.Logf("killed the worker with %d runs succeeded, %d unfinished (%d running with no step), %d steps mid-flight",
		e.count(`SELECT count(*) FROM flow_runs WHERE status = 'succeeded'`), inFlight, marked, running)
	if inFlight == 0 {
		t.Fatal("no run was in flight when the worker was killed")
	}
	// a new worker finishes every run
	startWorker(t, e.d, queue.Options{Workers: 16, PollInterval: 100 * time.Millisecond,
		JobTimeout: 2 * time.Second, RescueAfter: 3 * time.Second}, engine.Options{})
	deadline = time.Now().Add(100 * time.Second)
	for e.count(`SELECT count(*) FROM flow_runs WHERE status = 'succeeded'`) < runs {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d runs finished; statuses: %d failed", e.count(`SELECT count(*) FROM flow_runs WHERE status = 'succeeded'`), runs,
				e.count(`SELECT count(*) FROM flow_runs WHERE status = 'failed'`))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := e.count(`SELECT count(*) FROM records WHERE entity = 'crash'`); n != runs {
		t.Fatalf("%d records written for %d runs (a side effect ran twice)", n, runs)
	}
	if n := e.count(`SELECT count(*) FROM records WHERE entity = 'crash_more'`); n != runs*more {
		t.Fatalf("%d more records for %d runs, want %d (a side effect ran twice)", n, runs, runs*more)
	}
	if n := e.count(`SELECT count(DISTINCT data->>'n') FROM records WHERE entity = 'crash' AND data->>'done' = 'true'`); n != runs {
		t.Fatalf("%d distinct finished records", n)
	}
	if n := e.count(`SELECT count(*) FROM (SELECT run_id FROM flow_steps WHERE status = 'succeeded' GROUP BY run_id, node HAVING count(*) > 1) x`); n != 0 {
		t.Fatalf("%d steps succeeded twice", n)
	}
	// how the runs were worked: all steps of a run written by one statement, or one by one
	oneStatement := e.count(`SELECT count(*) FROM (SELECT run_id FROM flow_steps GROUP BY run_id HAVING count(DISTINCT xmin::text) = 1) x`)
	t.Logf("%d of %d runs had all their steps written in one transaction", oneStatement, runs)
	if oneTx && oneStatement < runs/2 {
		t.Fatalf("only %d of %d runs were worked in one transaction", oneStatement, runs)
	}
	if !oneTx && oneStatement != 0 {
		t.Fatalf("%d runs with a sleeping node were worked in one transaction", oneStatement)
	}
}
