package pgserver_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/pgserver"
)

// TestStartStopRestartKeepsData starts a private cluster, writes a row, stops it and starts it
// again on the same directory: the row is still there.
func TestStartStopRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := pgserver.Start(ctx, dir)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		c.Stop()
		t.Fatalf("connect: %v", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('hello')`); err != nil {
		t.Fatalf("write: %v", err)
	}
	conn.Close(ctx)
	c.Stop()
	if _, err := os.Stat(filepath.Join(dir, "pgdata", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid left behind after Stop: %v", err)
	}

	c2, err := pgserver.Start(ctx, dir)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	defer c2.Stop()
	conn, err = pgx.Connect(ctx, c2.URL("postgres"))
	if err != nil {
		t.Fatalf("reconnect: %v", err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != "hello" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
}

func TestMissingBinariesNameTheInstallCommand(t *testing.T) {
	t.Setenv("TESSERA_PG_BIN", t.TempDir())
	_, err := pgserver.Start(context.Background(), t.TempDir())
	if err == nil {
		t.Fatal("start without binaries succeeded")
	}
	t.Setenv("TESSERA_PG_BIN", "")
	t.Setenv("PATH", "")
	if _, err := pgserver.FindBinDir(); err != nil && !strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Fatalf("error does not name the install command: %v", err)
	}
}

// TestSecondStartAttachesToTheRunningCluster: a second Start on a directory whose cluster
// runs (tessera migrate while tessera serve runs) uses that cluster and leaves it running; a
// postmaster.pid naming a process that is not PostgreSQL (left by a crash) is stale.
func TestSecondStartAttachesToTheRunningCluster(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, err := pgserver.Start(ctx, dir)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	defer first.Stop()
	second, err := pgserver.Start(ctx, dir)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if first.Attached() || !second.Attached() {
		t.Fatalf("attached: first %v, second %v", first.Attached(), second.Attached())
	}
	conn, err := pgx.Connect(ctx, second.URL("postgres"))
	if err != nil {
		t.Fatalf("connect through the second: %v", err)
	}
	conn.Close(ctx)
	second.Stop()
	if _, err := os.Stat(filepath.Join(dir, "pgdata", "postmaster.pid")); err != nil {
		t.Fatalf("the attached Stop touched the running cluster: %v", err)
	}
	conn, err = pgx.Connect(ctx, first.URL("postgres"))
	if err != nil {
		t.Fatalf("the first cluster stopped with the attached one: %v", err)
	}
	conn.Close(ctx)
	first.Stop()

	// a crash left a postmaster.pid naming a live process that is not PostgreSQL (this test)
	pidFile := filepath.Join(dir, "pgdata", "postmaster.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"+filepath.Join(dir, "pgdata")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	third, err := pgserver.Start(ctx, dir)
	if err != nil {
		t.Fatalf("start over a stale postmaster.pid: %v", err)
	}
	defer third.Stop()
	if third.Attached() {
		t.Fatal("attached to a process that is not PostgreSQL")
	}
}
