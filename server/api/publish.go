package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/builder/store"
	"github.com/tessera/tessera/builder/validate"
	"github.com/tessera/tessera/runtime/authz"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/runtime/report"
	"github.com/tessera/tessera/server/auth"
)

// engineNodes answers validate.Catalog from the engine's node registry.
type engineNodes struct{}

func (engineNodes) HasNode(t string) bool {
	for _, n := range engine.NodeTypes() {
		if n.Name == t {
			return true
		}
	}
	return false
}

// initPublishHooks connects publishing to the runtime: flows are compiled, reports validated
// against their entity, entities get their indexes, and bundles carry roles.
func (s *Server) initPublishHooks() {
	s.Store.SetHooks(store.Hooks{
		Catalog: engineNodes{},
		Check: func(ctx context.Context, app *store.App, kind string, def any, lk validate.Lookup) spec.Errors {
			switch d := def.(type) {
			case *spec.Flow:
				_, errs := engine.Compile(d)
				errs = append(errs, s.checkWebhookKey(ctx, app, d)...)
				errs = append(errs, s.checkPollTrigger(ctx, app.ID, d)...)
				return append(errs, s.CheckConnectorNodes(ctx, app.ID, d)...)
			case *spec.Report:
				return report.Validate(d, lk.Entity(d.Entity))
			}
			return nil
		},
		Provision: func(ctx context.Context, tx pgx.Tx, app *store.App, kind string, def any) error {
			if ent, ok := def.(*spec.Entity); ok {
				a := &defs.App{ID: app.ID, Slug: app.Slug, Name: app.Name, Settings: app.Settings}
				if err := records.ProvisionIndexes(ctx, tx, a, ent); err != nil {
					return uniqueIndexError(ent, err)
				}
				if err := report.ProvisionReportIndexes(ctx, tx, a, ent); err != nil {
					return fmt.Errorf("creating report indexes: %w", err)
				}
				if _, err := records.ProvisionStagePaths(ctx, tx, a, ent); err != nil {
					return fmt.Errorf("building stage paths: %w", err)
				}
				if _, err := report.ProvisionStays(ctx, tx, a, ent); err != nil {
					return fmt.Errorf("building stage stays: %w", err)
				}
			}
			return nil
		},
		ExportRoles: func(ctx context.Context, app *store.App) (json.RawMessage, error) {
			roles, err := s.Policies.ListRoles(ctx, app.Slug)
			if err != nil {
				return nil, err
			}
			var custom []authz.RoleDef
			for _, r := range roles {
				if !r.Builtin {
					r.App = ""
					custom = append(custom, r)
				}
			}
			return json.Marshal(custom)
		},
	})
	// Roles are installed right after the bundle's definitions committed.
	s.AfterImport = func(ctx context.Context, p *auth.Principal, app *store.App, b *store.Bundle) error {
		if len(b.Roles) == 0 || string(b.Roles) == "null" {
			return nil
		}
		var roles []authz.RoleDef
		if err := json.Unmarshal(b.Roles, &roles); err != nil {
			return spec.Errors{{Field: "roles", Code: "invalid_type", Message: "roles must be a list of role definitions"}}
		}
		for i, r := range roles {
			r.App = app.Slug
			if _, _, err := s.Policies.PutRole(ctx, p.UserID, r); err != nil {
				return spec.PrefixErrors(err, fmt.Sprintf("roles[%d].", i))
			}
		}
		return nil
	}
}

// checkWebhookKey refuses a webhook key that another published flow (of any app) already
// answers: POST /hooks/{key} must start exactly one flow.
func (s *Server) checkWebhookKey(ctx context.Context, app *store.App, f *spec.Flow) spec.Errors {
	if f.Trigger.Type != "webhook" || f.Trigger.Key == "" {
		return nil
	}
	var owner string
	err := s.DB.Pool.QueryRow(ctx, `SELECT a.slug || '/' || d.slug FROM definitions d
		JOIN definition_versions v ON v.definition_id = d.id AND v.version = d.published_version
		JOIN apps a ON a.id = d.app_id
		WHERE d.kind = 'flows' AND d.published_version > 0 AND v.body->'trigger'->>'type' = 'webhook'
		  AND v.body->'trigger'->>'key' = $1 AND NOT (d.app_id = $2 AND d.slug = $3)
		LIMIT 1`, f.Trigger.Key, app.ID, f.Slug).Scan(&owner)
	if err != nil {
		return nil // pgx.ErrNoRows: the key is free; a failed look-up is caught by the trigger at run time
	}
	return spec.Errors{{Field: "trigger.key", Code: "duplicate", Message: fmt.Sprintf("webhook key %q is already used by flow %s (Webhook 键已被占用)", f.Trigger.Key, owner)}}
}

// uniqueIndexError turns a unique index that existing records violate into a 422 naming the field.
func uniqueIndexError(ent *spec.Entity, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		var errs spec.Errors
		for i, f := range ent.Fields {
			if f.Unique && strings.Contains(err.Error(), "."+f.Key+":") {
				errs.Add(fmt.Sprintf("fields[%d].unique", i), "duplicate_values", "existing %s records share values of %q; remove the duplicates before making it unique (已有重复值，无法设为唯一)", ent.Slug, f.Key)
			}
		}
		if len(errs) == 0 {
			errs.Add("fields", "duplicate_values", "existing records violate a unique field: %s", pgErr.Detail)
		}
		return errs
	}
	return fmt.Errorf("creating indexes: %w", err)
}

// dropDefsAfterChange drops the published-definition cache (runtime/defs) once a request that
// may have changed definitions or apps has finished: the change is seen by this replica's next
// request at once; other replicas drop theirs when its notification arrives (milliseconds).
func (s *Server) dropDefsAfterChange(c *fiber.Ctx) error {
	err := c.Next()
	if m := c.Method(); m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions || s.Defs == nil {
		return err
	}
	seg := strings.Split(strings.Trim(c.Path(), "/"), "/")
	if len(seg) < 3 || seg[0] != "api" {
		return err
	}
	last := seg[len(seg)-1]
	switch {
	case seg[2] == "apps" && (len(seg) <= 6 || last == "publish" || last == "unpublish" || last == "restore"),
		seg[2] == "templates", seg[2] == "mcp":
		s.Defs.Drop()
	}
	return err
}
