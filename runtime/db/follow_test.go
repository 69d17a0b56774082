package db_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
)

// TestFollowDropsOnNotifyAndReconnects: a notification on the channel drops the cache; when the
// listening connection is killed the cache stops being live, is dropped, and following resumes
// on a new connection; ending ctx ends Follow.
func TestFollowDropsOnNotifyAndReconnects(t *testing.T) {
	d := dbtest.Open(t)
	ctx, cancel := context.WithCancel(t.Context())
	var live atomic.Bool
	var drops atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Follow(ctx, d.Pool, "tessera_follow_test", "test listener", func() { drops.Add(1) }, &live, nil)
	}()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// the listener's backend pid, 0 when there is none
	listener := func() int {
		var pid int
		if err := d.Pool.QueryRow(t.Context(), `SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE query LIKE 'LISTEN "tessera_follow_test"%'`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		return pid
	}
	waitFor("the listener to be up", live.Load)
	before := drops.Load()
	if _, err := d.Pool.Exec(t.Context(), `NOTIFY tessera_follow_test`); err != nil {
		t.Fatal(err)
	}
	waitFor("a drop after NOTIFY", func() bool { return drops.Load() > before })

	// kill the listening backend: Follow reconnects and is live again
	var old int
	waitFor("the listener's backend", func() bool { old = listener(); return old != 0 })
	if _, err := d.Pool.Exec(t.Context(), `SELECT pg_terminate_backend($1)`, old); err != nil {
		t.Fatal(err)
	}
	waitFor("a new listener", func() bool { pid := listener(); return live.Load() && pid != 0 && pid != old })
	before = drops.Load()
	if _, err := d.Pool.Exec(t.Context(), `NOTIFY tessera_follow_test`); err != nil {
		t.Fatal(err)
	}
	waitFor("a drop after NOTIFY on the new connection", func() bool { return drops.Load() > before })

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not end with its context")
	}
	if live.Load() {
		t.Fatal("live after Follow ended")
	}
}
