package migrations_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/migrations"
	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestConcurrentUpDownStatus: the template database is already migrated; roll everything back on
// a clone, then let four "replicas" apply the migrations at once under the advisory lock.
func TestConcurrentUpDownStatus(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	for {
		pending, err := migrations.Pending(ctx, d.SQL)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		_ = d.Pool.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied`).Scan(&n)
		if n == 0 {
			break
		}
		_ = pending
		if err := migrations.Down(ctx, d.SQL); err != nil {
			t.Fatalf("down: %v", err)
		}
	}
	var exists bool
	_ = d.Pool.QueryRow(ctx, `SELECT to_regclass('public.records') IS NOT NULL`).Scan(&exists)
	if exists {
		t.Fatal("records table survives rolling everything back")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := db.Open(ctx, d.DSN)
			if err != nil {
				errs <- err
				return
			}
			defer r.Close()
			errs <- migrations.Up(ctx, r.SQL)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent up: %v", err)
		}
	}
	pending, err := migrations.Pending(ctx, d.SQL)
	if err != nil || pending {
		t.Fatalf("pending after up: %v %v", pending, err)
	}
	var sb strings.Builder
	if err := migrations.Status(ctx, d.SQL, &sb); err != nil || !strings.Contains(sb.String(), "00001") || strings.Contains(sb.String(), "pending") {
		t.Fatalf("status: %v\n%s", err, sb.String())
	}
	conn, err := pgx.Connect(ctx, d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var dup int
	_ = conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT version_id FROM goose_db_version WHERE is_applied GROUP BY version_id HAVING count(*) > 1) x`).Scan(&dup)
	if dup != 0 {
		t.Fatalf("%d migrations applied twice", dup)
	}
}
