package pgserver_test

import (
	"context"
	"os"
	"path/filepath"
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
