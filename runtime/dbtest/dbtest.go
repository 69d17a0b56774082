// Package dbtest gives tests a real, throwaway PostgreSQL database with migrations applied.
//
// One private cluster is started per `go test` process (under a temp dir), a template database
// is migrated once, and each call to New clones it with CREATE DATABASE ... TEMPLATE, which
// takes milliseconds. Set TESSERA_TEST_DATABASE_URL to use an existing server instead of a
// private cluster (the role must be allowed to create databases).
package dbtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/migrations"
	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/pgserver"
)

var (
	once     sync.Once
	adminDSN func(dbname string) string
	initErr  error
	counter  atomic.Int64
	cluster  *pgserver.Cluster
	tmpDir   string
)

const templateDB = "tessera_template"

func setup() {
	ctx := context.Background()
	if u := os.Getenv("TESSERA_TEST_DATABASE_URL"); u != "" {
		adminDSN = func(name string) string { return withDB(u, name) }
	} else {
		dir, err := os.MkdirTemp("", "tessera-pg-")
		if err != nil {
			initErr = err
			return
		}
		tmpDir = dir
		c, err := pgserver.Start(ctx, dir)
		if err != nil {
			initErr = err
			return
		}
		cluster = c
		adminDSN = c.URL
	}
	conn, err := pgx.Connect(ctx, adminDSN("postgres"))
	if err != nil {
		initErr = fmt.Errorf("dbtest: connecting: %w", err)
		return
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("%s_%d", templateDB, os.Getpid())
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		initErr = fmt.Errorf("dbtest: creating template: %w", err)
		return
	}
	d, err := db.Open(ctx, adminDSN(name))
	if err != nil {
		initErr = err
		return
	}
	initErr = migrations.Up(ctx, d.SQL)
	d.Close()
}

func withDB(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

// New returns the DSN of a fresh migrated database, dropped when the test ends.
func New(tb testing.TB) string {
	tb.Helper()
	once.Do(setup)
	if initErr != nil {
		tb.Fatalf("dbtest: %v", initErr)
	}
	ctx := context.Background()
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), counter.Add(1))
	conn, err := pgx.Connect(ctx, adminDSN("postgres"))
	if err != nil {
		tb.Fatalf("dbtest: connecting: %v", err)
	}
	defer conn.Close(ctx)
	tmpl := fmt.Sprintf("%s_%d", templateDB, os.Getpid())
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		tb.Fatalf("dbtest: cloning template: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), adminDSN("postgres"))
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return adminDSN(name)
}

// Open returns a fresh migrated database opened with db.Open, closed when the test ends.
func Open(tb testing.TB) *db.DB {
	tb.Helper()
	d, err := db.Open(context.Background(), New(tb))
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	tb.Cleanup(d.Close)
	return d
}

// Main wraps testing.M: it runs the tests and then stops the private cluster. Use it from
// TestMain: `func TestMain(m *testing.M) { dbtest.Main(m) }`.
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
	}
	if tmpDir != "" && !strings.Contains(tmpDir, "..") {
		_ = os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}
