package dbtest_test

import (
	"context"
	"testing"

	"github.com/tessera/tessera/runtime/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestFreshDatabasesAreMigratedAndIsolated(t *testing.T) {
	a, b := dbtest.Open(t), dbtest.Open(t)
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, `INSERT INTO apps (slug, name) VALUES ('crm', 'CRM')`); err != nil {
		t.Fatalf("insert into a: %v", err)
	}
	var n int
	if err := b.Pool.QueryRow(ctx, `SELECT count(*) FROM apps`).Scan(&n); err != nil {
		t.Fatalf("count in b: %v", err)
	}
	if n != 0 {
		t.Fatalf("database b sees %d apps written to a", n)
	}
}
