package script

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestIdleWorkersLastInFirstOut: a call takes the worker idled last, so light load keeps
// running on one warm process and the other workers take only what runs at the same time.
func TestIdleWorkersLastInFirstOut(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPool(Options{Size: 3, Timeout: time.Second, Exe: exe, Env: []string{"TESSERA_SANDBOX_WORKER=1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	take := func() *worker {
		t.Helper()
		w, err := p.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	warm := take()
	p.release(warm, true)
	for i := range 5 {
		w := take()
		if w != warm {
			t.Fatalf("call %d ran on another worker than the one idled last", i+2)
		}
		p.release(w, true)
	}
	a, b := take(), take()
	if a == b {
		t.Fatal("two calls at once got the same worker")
	}
	p.release(b, true)
	p.release(a, true)
	if w := take(); w != a {
		t.Fatal("the next call did not get the worker idled last")
	} else {
		p.release(w, true)
	}
}
