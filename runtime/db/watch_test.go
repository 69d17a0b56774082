package db_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestWatchPoolReportsAStall: a pool whose every connection is held while nothing else
// acquires is reported (with its figures); a pool with free connections is not.
func TestWatchPoolReportsAStall(t *testing.T) {
	d := dbtest.Open(t)
	cfg := d.Pool.Config().Copy()
	cfg.MaxConns, cfg.MinConns = 2, 0
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	old := db.StallAfter
	db.StallAfter = 40 * time.Millisecond
	defer func() { db.StallAfter = old }()

	watch := func() (int, string) {
		var buf bytes.Buffer
		ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
		defer cancel()
		n := db.WatchPool(ctx, pool, slog.New(slog.NewTextHandler(&buf, nil)), 10*time.Millisecond)
		return n, buf.String()
	}
	if n, _ := watch(); n != 0 {
		t.Fatalf("an idle pool reported %d stalls", n)
	}
	var held []*pgxpool.Conn
	for i := 0; i < 2; i++ {
		c, err := pool.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	n, logged := watch()
	for _, c := range held {
		c.Release()
	}
	if n == 0 || !strings.Contains(logged, "connection pool stalled") || !strings.Contains(logged, "acquired=2") {
		t.Fatalf("a full pool was not reported (%d): %s", n, logged)
	}
}
