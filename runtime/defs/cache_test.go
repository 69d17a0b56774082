package defs_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/defs"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestPublishedCacheFollowsPublishes: a listening loader answers the published entity and the
// app from memory (no statement), and sees a publish made by another replica's connection.
func TestPublishedCacheFollowsPublishes(t *testing.T) {
	d, counter := dbtest.OpenCounted(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var app uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('crm', 'CRM') RETURNING id`).Scan(&app); err != nil {
		t.Fatal(err)
	}
	publish := func(body string) {
		t.Helper()
		if _, err := d.Pool.Exec(ctx, `WITH d AS (INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, 'entities', 'lead', $2, 1)
			ON CONFLICT (app_id, kind, slug) DO UPDATE SET draft = $2, published_version = definitions.published_version + 1 RETURNING id, published_version)
			INSERT INTO definition_versions (definition_id, version, body) SELECT id, published_version, $2 FROM d`, app, body); err != nil {
			t.Fatal(err)
		}
	}
	publish(`{"slug":"lead","fields":[{"key":"name","type":"text"}]}`)
	l := defs.New(d.Pool)
	go l.Listen(ctx, nil)
	waitFor(t, l.Caching)
	tests := []struct {
		name string
		read func() error
	}{
		{"published entity", func() error { _, _, err := l.Entity(ctx, app, "lead"); return err }},
		{"app by id", func() error { _, err := l.AppByID(ctx, app); return err }},
		{"app by slug", func() error { _, err := l.App(ctx, "crm"); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.read(); err != nil {
				t.Fatal(err)
			}
			counter.Reset()
			if err := tc.read(); err != nil {
				t.Fatal(err)
			}
			if n, _ := counter.Counts(); n != 0 {
				t.Fatalf("a cached read ran %d statements:\n%s", n, counter.Report())
			}
		})
	}
	publish(`{"slug":"lead","fields":[{"key":"name","type":"text"},{"key":"city","type":"text"}]}`)
	waitFor(t, func() bool {
		_, v, err := l.Entity(ctx, app, "lead")
		return err == nil && v == 2
	})
	ent, _, _ := l.Entity(ctx, app, "lead")
	if len(ent.Fields) != 2 || ent.Slug != "lead" || ent.Fields[1].Type != spec.TypeText {
		t.Fatalf("entity after publish: %+v", ent)
	}
	if _, err := d.Pool.Exec(ctx, `UPDATE apps SET name = 'CRM 2' WHERE id = $1`, app); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { a, err := l.AppByID(ctx, app); return err == nil && a.Name == "CRM 2" })
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 20 s")
		}
	}
}
