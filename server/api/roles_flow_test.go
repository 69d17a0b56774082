package api_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/server/api"
	"github.com/tessera/tessera/server/config"
)

// TestServeRolesSplitWork: an api-role server inserts runs but works none; a worker-role
// server on the same database works them.
func TestServeRolesSplitWork(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	mk := func(role string) *api.Server {
		cfg := config.FromEnv()
		cfg.DatabaseURL, cfg.DataDir, cfg.Role = d.DSN, t.TempDir(), role
		s, err := api.New(cfg, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Shutdown(5 * time.Second) })
		return s
	}
	apiSrv := mk("api")
	var app uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('crm', 'CRM') RETURNING id`).Scan(&app); err != nil {
		t.Fatal(err)
	}
	body := `{"slug":"r","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"set","params":{"values":{"ok":true}}}]}`
	if _, err := d.Pool.Exec(ctx, `WITH d AS (INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, 'flows', 'r', $2, 1) RETURNING id)
		INSERT INTO definition_versions (definition_id, version, body) SELECT id, 1, $2 FROM d`, app, body); err != nil {
		t.Fatal(err)
	}
	id, _, err := apiSrv.Engine.Start(ctx, nil, engine.StartRequest{AppID: app, Flow: "r", Trigger: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	status := func() string {
		var s string
		_ = d.Pool.QueryRow(ctx, `SELECT status FROM flow_runs WHERE id = $1`, id).Scan(&s)
		return s
	}
	time.Sleep(1500 * time.Millisecond)
	if st := status(); st != "queued" {
		t.Fatalf("the api role worked the run: %s", st)
	}
	mk("worker")
	deadline := time.Now().Add(20 * time.Second)
	for status() != "succeeded" {
		if time.Now().After(deadline) {
			t.Fatalf("the worker role did not work the run: %s", status())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
