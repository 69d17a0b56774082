package dbtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
)

// TestCounter: the statement counter the statement-budget tests rely on counts what it says it
// does (a regression here would let every budget pass).
func TestCounter(t *testing.T) {
	d, c := dbtest.OpenCounted(t)
	ctx := context.Background()
	if _, err := d.Pool.Exec(ctx, `CREATE TABLE counted (n int)`); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                     string
		run                      func(*db.DB) error
		statements, commits, rts int
	}{
		{"a read on its own", func(d *db.DB) error {
			_, err := d.Pool.Exec(ctx, `SELECT 1`)
			return err
		}, 1, 0, 1},
		{"a write on its own commits", func(d *db.DB) error {
			_, err := d.Pool.Exec(ctx, `INSERT INTO counted VALUES (1)`)
			return err
		}, 1, 1, 1},
		{"a transaction: begin, two writes, commit", func(d *db.DB) error {
			return pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO counted VALUES (2)`); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `UPDATE counted SET n = n + 1`)
				return err
			})
		}, 4, 1, 4},
		{"a batch: three statements, one round trip", func(d *db.DB) error {
			b := &pgx.Batch{}
			b.Queue(`SELECT 1`)
			b.Queue(`INSERT INTO counted VALUES (3)`)
			b.Queue(`SELECT 2`)
			return d.Pool.SendBatch(ctx, b).Close()
		}, 3, 1, 1},
		{"background work is not counted", func(d *db.DB) error {
			_, err := d.Pool.Exec(ctx, `SELECT count(*) /* tessera:background */ FROM counted`)
			return err
		}, 0, 0, 0},
	}
	for _, tc := range cases {
		c.Reset()
		if err := tc.run(d); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		n, commits := c.Counts()
		if rts := c.RoundTrips(); n != tc.statements || commits != tc.commits || rts != tc.rts {
			t.Errorf("%s: %d statements, %d commits, %d round trips; want %d, %d, %d\n%s", tc.name, n, commits, rts, tc.statements, tc.commits, tc.rts, c.Report())
		}
	}
}
