package engine_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/queue"
)

// peerCaller is a connector caller that POSTs to a peer with the step's idempotency key.
type peerCaller string

func (u peerCaller) CallConnector(ctx context.Context, c engine.ConnectorCall) (any, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", string(u), strings.NewReader(fmt.Sprint(c.Input["n"])))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Idempotency-Key", c.IdempotencyKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("peer answered %d", res.StatusCode)
	}
	return map[string]any{"peer": string(b)}, nil
}

// idemPeer is a remote API that counts calls and applied effects per idempotency key. While
// blocked it holds calls without answering or applying them (the step is mid-flight).
type idemPeer struct {
	mu      sync.Mutex
	blocked bool
	release chan struct{}
	calls   map[string]int
	effects map[string]int
}

func (p *idemPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	p.mu.Lock()
	p.calls[key]++
	blocked := p.blocked
	p.mu.Unlock()
	if blocked {
		// the call of a step in flight: it never answers (its worker dies meanwhile)
		select {
		case <-p.release:
		case <-r.Context().Done():
		}
		return
	}
	p.mu.Lock()
	p.effects[key]++
	p.mu.Unlock()
	_, _ = io.WriteString(w, "ok "+key)
}

func (p *idemPeer) snapshot() (calls, effects map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	calls, effects = map[string]int{}, map[string]int{}
	for k, v := range p.calls {
		calls[k] = v
	}
	for k, v := range p.effects {
		effects[k] = v
	}
	return calls, effects
}

// TestKilledWorkerRunsResumeWithinSeconds: a worker process is killed with -9 while 10 runs are
// in the middle of an HTTP step; a new worker (River's own rescue set to its default of
// minutes) finishes all of them within 10 s of its start, each step once, and the retried
// calls carry the same idempotency key (run id + node id) as the interrupted ones.
func TestKilledWorkerRunsResumeWithinSeconds(t *testing.T) {
	const runs = 10
	e := newEnv(t, false) // this process only inserts until the worker is killed
	peer := &idemPeer{blocked: true, release: make(chan struct{}), calls: map[string]int{}, effects: map[string]int{}}
	srv := httptest.NewServer(peer)
	defer srv.Close()
	defer close(peer.release)
	e.publish(`{"slug":"resume","trigger":{"type":"manual"},"nodes":[
	  {"id":"call","type":"connector","params":{"connector":"peer","operation":"post","input":{"n":"{{ trigger.n }}"}}},
	  {"id":"after","type":"set","params":{"values":{"peer":"{{ steps.call.peer }}"}}}],
	  "edges":[{"from":"call","to":"after"}]}`)
	ctx := context.Background()
	ids := make([]uuid.UUID, 0, runs)
	err := pgx.BeginFunc(ctx, e.d.Pool, func(tx pgx.Tx) error {
		for i := range runs {
			id, _, err := e.eng.Start(ctx, tx, engine.StartRequest{AppID: e.app, Flow: "resume", Trigger: map[string]any{"n": i}})
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TESSERA_ENGINE_WORKER=1", "TESSERA_ENGINE_DSN="+e.d.DSN,
		"TESSERA_PEER_URL="+srv.URL, "TESSERA_ENGINE_DEFAULT_TIMEOUTS=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// wait until every run is in the middle of its HTTP step
	deadline := time.Now().Add(60 * time.Second)
	for {
		calls, _ := peer.snapshot()
		if len(calls) == runs {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("only %d runs reached the peer", len(calls))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	peer.mu.Lock()
	peer.blocked = false
	peer.mu.Unlock()
	if n := e.count(`SELECT count(*) FROM river_job WHERE state = 'running'`); n != runs {
		t.Fatalf("%d jobs running after the kill, want %d", n, runs)
	}

	// a new worker with River's default timeouts (rescue after 3 minutes)
	restart := time.Now()
	startWorker(t, e.d, queue.Options{Workers: 16, PollInterval: 100 * time.Millisecond}, engine.Options{Connectors: peerCaller(srv.URL)})
	deadline = time.Now().Add(60 * time.Second)
	for e.count(`SELECT count(*) FROM flow_runs WHERE status = 'succeeded'`) < runs {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d runs finished %s after the restart", e.count(`SELECT count(*) FROM flow_runs WHERE status = 'succeeded'`), runs, time.Since(restart))
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(restart)
	t.Logf("all %d runs finished %s after the new worker started", runs, took)
	if took > 10*time.Second {
		t.Fatalf("the runs finished %s after the restart, want within 10s", took)
	}
	calls, effects := peer.snapshot()
	for _, id := range ids {
		key := id.String() + ":call"
		if calls[key] != 2 || effects[key] != 1 {
			t.Errorf("run %s: %d calls (want 2: the interrupted one and its retry with the same key), effect applied %d times (want 1)", id, calls[key], effects[key])
		}
		if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND status = 'succeeded'`, id); n != 2 {
			t.Errorf("run %s: %d succeeded steps, want 2: %s", id, n, e.steps(id))
		}
	}
	if len(calls) != runs {
		t.Errorf("calls under %d keys, want %d: %v", len(calls), runs, calls)
	}
}
