package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
)

// Bundle is a whole app as one JSON document (export/import, templates).
type Bundle struct {
	SchemaVersion int               `json:"schema_version"`
	App           BundleApp         `json:"app"`
	Entities      []json.RawMessage `json:"entities,omitempty"`
	Forms         []json.RawMessage `json:"forms,omitempty"`
	Flows         []json.RawMessage `json:"flows,omitempty"`
	Reports       []json.RawMessage `json:"reports,omitempty"`
	Dashboards    []json.RawMessage `json:"dashboards,omitempty"`
	Roles         json.RawMessage   `json:"roles,omitempty"`
	// Unpublished lists "kind/slug" of definitions that were never published: an import saves
	// them as drafts only.
	Unpublished []string `json:"unpublished,omitempty"`
	// Seed records to create after publishing, per entity slug (templates' sample data).
	Records map[string][]map[string]any `json:"records,omitempty"`
}

// BundleApp is the app part of a bundle.
type BundleApp struct {
	Slug     string          `json:"slug"`
	Name     string          `json:"name"`
	Label    spec.Label      `json:"label,omitempty"`
	Settings json.RawMessage `json:"settings,omitempty"`
}

func (b *Bundle) byKind() [][2]any {
	return [][2]any{{spec.KindEntity, b.Entities}, {spec.KindForm, b.Forms}, {spec.KindFlow, b.Flows}, {spec.KindReport, b.Reports}, {spec.KindDashboard, b.Dashboards}}
}

// Export returns an app's drafts (the current editable state) as a bundle.
func (s *Store) Export(ctx context.Context, app *App) (*Bundle, error) {
	b := &Bundle{SchemaVersion: spec.SchemaVersion, App: BundleApp{Slug: app.Slug, Name: app.Name, Settings: app.Settings}}
	defs, err := s.List(ctx, app, "")
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		if d.PublishedVersion == 0 {
			b.Unpublished = append(b.Unpublished, d.Kind+"/"+d.Slug)
		}
		switch d.Kind {
		case spec.KindEntity:
			b.Entities = append(b.Entities, d.Draft)
		case spec.KindForm:
			b.Forms = append(b.Forms, d.Draft)
		case spec.KindFlow:
			b.Flows = append(b.Flows, d.Draft)
		case spec.KindReport:
			b.Reports = append(b.Reports, d.Draft)
		case spec.KindDashboard:
			b.Dashboards = append(b.Dashboards, d.Draft)
		}
	}
	if s.hooks.ExportRoles != nil {
		if b.Roles, err = s.hooks.ExportRoles(ctx, app); err != nil {
			return nil, fmt.Errorf("exporting roles: %w", err)
		}
	}
	return b, nil
}

// ImportOptions tune an import.
type ImportOptions struct {
	Slug    string // overrides the bundle's app slug
	Name    string // overrides the bundle's app name
	Publish bool   // publish every definition after saving it
}

// Import creates a new app from a bundle in one transaction: every definition is saved (and
// published, entities first) or nothing is. Errors name the definition that failed.
func (s *Store) Import(ctx context.Context, actor *uuid.UUID, b *Bundle, opt ImportOptions) (*App, error) {
	if b.SchemaVersion > spec.SchemaVersion {
		return nil, spec.Errors{{Field: "schema_version", Code: "unsupported", Message: fmt.Sprintf("bundle schema version %d is newer than this server's %d", b.SchemaVersion, spec.SchemaVersion)}}
	}
	slug, name := b.App.Slug, b.App.Name
	if opt.Slug != "" {
		slug = opt.Slug
	}
	if opt.Name != "" {
		name = opt.Name
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("importing app: %w", err)
	}
	defer tx.Rollback(ctx)
	app, err := createApp(ctx, tx, actor, slug, name, b.App.Settings)
	if err != nil {
		return nil, spec.PrefixErrors(err, "app.")
	}
	type saved struct{ kind, slug string }
	var order []saved
	draftOnly := map[string]bool{}
	for _, k := range b.Unpublished {
		draftOnly[k] = true
	}
	// Every entity of the bundle counts as published while the bundle's definitions are checked,
	// so relations between them resolve whatever their order.
	pending := map[string]*spec.Entity{}
	for _, raw := range b.Entities {
		if v, err := spec.Decode(spec.KindEntity, raw); err == nil {
			e := v.(*spec.Entity)
			if !draftOnly[spec.KindEntity+"/"+e.Slug] {
				pending[e.Slug] = e
			}
		}
	}
	for _, kv := range b.byKind() {
		kind, items := kv[0].(string), kv[1].([]json.RawMessage)
		for i, raw := range items {
			var head struct {
				Slug string `json:"slug"`
			}
			_ = json.Unmarshal(raw, &head)
			if head.Slug == "" {
				return nil, spec.Errors{{Field: fmt.Sprintf("%s[%d].slug", kind, i), Code: "required", Message: "every definition needs a slug"}}
			}
			if kind == spec.KindFlow && slug != b.App.Slug {
				raw = renameWebhookKey(raw, b.App.Slug, slug)
			}
			if _, _, err := saveDraft(ctx, tx, actor, app, kind, head.Slug, raw); err != nil {
				return nil, spec.PrefixErrors(err, fmt.Sprintf("%s[%d].", kind, i))
			}
			order = append(order, saved{kind, head.Slug})
		}
	}
	if opt.Publish {
		for _, d := range order {
			if draftOnly[d.kind+"/"+d.slug] {
				continue
			}
			if _, err := s.publish(ctx, tx, actor, app, d.kind, d.slug, pending); err != nil {
				return nil, spec.PrefixErrors(err, fmt.Sprintf("%s/%s: ", d.kind, d.slug))
			}
		}
	}
	if len(b.Roles) > 0 && string(b.Roles) != "null" && s.hooks.ImportRoles != nil {
		if err := s.hooks.ImportRoles(ctx, tx, actor, app, b.Roles); err != nil {
			return nil, spec.PrefixErrors(err, "roles.")
		}
	}
	if err := audit(ctx, tx, actor, "app.import", "app:"+app.Slug, nil, map[string]int{"definitions": len(order)}); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("importing app: %w", err)
	}
	return app, nil
}

// renameWebhookKey gives a flow's webhook key the new app slug when a bundle is installed under
// another slug, so that copies of an app do not fight over POST /hooks/{key}: the old slug in
// the key is replaced, or the new slug is put in front.
func renameWebhookKey(raw json.RawMessage, oldSlug, newSlug string) json.RawMessage {
	var doc map[string]json.RawMessage
	if json.Unmarshal(raw, &doc) != nil {
		return raw
	}
	var trig map[string]any
	if json.Unmarshal(doc["trigger"], &trig) != nil || trig["type"] != "webhook" {
		return raw
	}
	key, _ := trig["key"].(string)
	if key == "" {
		return raw
	}
	if oldSlug != "" && strings.Contains(key, oldSlug) {
		key = strings.Replace(key, oldSlug, newSlug, 1)
	} else {
		key = newSlug + "-" + key
	}
	trig["key"] = key
	doc["trigger"], _ = json.Marshal(trig)
	out, err := json.Marshal(doc)
	if err != nil {
		return raw
	}
	return out
}
