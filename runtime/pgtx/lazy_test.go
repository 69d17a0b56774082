package pgtx_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/pgtx"
)

// TestLazy: a Lazy transaction begins with its first statement in one round trip, a failing
// prefix keeps what was sent with it from running, and one that never began costs nothing.
func TestLazy(t *testing.T) {
	d, counter := dbtest.OpenCounted(t)
	ctx := context.Background()
	if _, err := d.Pool.Exec(ctx, `CREATE TABLE lazy_t (n int)`); err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		t.Helper()
		if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM lazy_t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tests := []struct {
		name   string
		prefix []*pgx.QueuedQuery
		run    func(l *pgtx.Lazy) error
		trips  int // round trips of the run and its commit
		rows   int // rows committed
	}{
		{"exec first", nil, func(l *pgtx.Lazy) error {
			_, err := l.Exec(ctx, `INSERT INTO lazy_t VALUES ($1)`, 1)
			return err
		}, 2, 1},
		{"query row first", nil, func(l *pgtx.Lazy) error {
			var n int
			return l.QueryRow(ctx, `INSERT INTO lazy_t VALUES ($1) RETURNING n`, 2).Scan(&n)
		}, 2, 1},
		{"a batch with its commit first", nil, func(l *pgtx.Lazy) error {
			b := &pgx.Batch{}
			b.Queue(`INSERT INTO lazy_t VALUES ($1)`, 3)
			b.Queue(`commit`)
			return l.SendBatch(ctx, b).Close()
		}, 1, 1},
		{"a failing prefix keeps the batch and its commit from running", []*pgx.QueuedQuery{{SQL: `SELECT 1 / 0`}}, func(l *pgtx.Lazy) error {
			b := &pgx.Batch{}
			b.Queue(`INSERT INTO lazy_t VALUES ($1)`, 4)
			b.Queue(`commit`)
			if err := l.SendBatch(ctx, b).Close(); err == nil || l.PrefixErr == nil {
				t.Errorf("the batch after a failing prefix: %v (prefix %v), want the prefix's error", err, l.PrefixErr)
			}
			return nil
		}, 2, 0},
		{"never begun", nil, func(*pgtx.Lazy) error { return nil }, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := count()
			counter.Reset()
			l := &pgtx.Lazy{Send: d.Pool.SendBatch, Prefix: tc.prefix}
			if err := tc.run(l); err != nil {
				t.Fatal(err)
			}
			if err := l.Commit(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) && !errors.Is(err, pgx.ErrTxCommitRollback) {
				t.Fatalf("commit: %v", err)
			}
			_ = l.Rollback(ctx) // releases the connection whatever happened
			if trips := counter.RoundTrips(); trips != tc.trips {
				t.Errorf("%d round trips, want %d:\n%s", trips, tc.trips, counter.Report())
			}
			if got := count() - before; got != tc.rows {
				t.Errorf("%d rows committed, want %d", got, tc.rows)
			}
		})
	}
}
