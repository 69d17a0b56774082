package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/builder/store"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// mountDefinitions registers, for each kind (entities, forms, flows, reports, dashboards):
// list, get, save draft (PUT), publish and versions.
func (s *Server) mountDefinitions() error {
	for _, kind := range spec.Kinds {
		kind := kind
		base := "/api/v1/apps/:app/" + kind
		s.route("GET", base, "definitions", "List the app's "+kind+" with their drafts.", func(c *fiber.Ctx) error { return s.listDefs(c, kind) })
		s.route("GET", base+"/:slug", "definitions", "One of the app's "+kind+": the draft plus published_version (and public_id for public forms).", func(c *fiber.Ctx) error { return s.getDef(c, kind) })
		s.route("PUT", base+"/:slug", "definitions", "Save the draft of one of the app's "+kind+" (the body is the definition JSON).", func(c *fiber.Ctx) error { return s.putDef(c, kind) })
		s.route("POST", base+"/:slug/publish", "definitions", "Validate and publish the draft as a new immutable version.", func(c *fiber.Ctx) error { return s.publishDef(c, kind) })
		s.route("GET", base+"/:slug/versions", "definitions", "The published versions, newest first.", func(c *fiber.Ctx) error { return s.listVersions(c, kind) })
	}
	s.route("PUT", "/api/v1/apps/:app/forms/:slug/with-entity", "definitions",
		"Save the drafts of a form and of its entity together ({form, entity, publish}); with publish both are published, the entity first. All or nothing.", s.putFormWithEntity)
	return nil
}

// putFormWithEntity saves a form with the entity it writes in one transaction (the form
// designer creates entity fields as it places them).
func (s *Server) putFormWithEntity(c *fiber.Ctx) error {
	p, app, err := s.loadApp(c, "publish")
	if err != nil {
		return err
	}
	var in struct {
		Form    json.RawMessage `json:"form"`
		Entity  json.RawMessage `json:"entity"`
		Publish bool            `json:"publish"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if len(in.Form) == 0 || string(in.Form) == "null" {
		return problem.Validation(specErrors("form", "required", "the form definition is required (缺少表单定义)"))
	}
	var head struct {
		Entity string `json:"entity"`
	}
	_ = json.Unmarshal(in.Form, &head)
	req := store.FormWithEntity{FormSlug: c.Params("slug"), Form: in.Form, EntitySlug: head.Entity, Publish: in.Publish}
	if len(in.Entity) > 0 && string(in.Entity) != "null" {
		var eh struct {
			Slug string `json:"slug"`
		}
		_ = json.Unmarshal(in.Entity, &eh)
		if head.Entity == "" || eh.Slug != head.Entity {
			return problem.Validation(specErrors("entity.slug", "mismatch", "the entity must be the one the form writes (实体与表单不一致)"))
		}
		req.Entity = in.Entity
	}
	ev, fv, err := s.Store.SaveFormWithEntity(c.UserContext(), &p.UserID, app, req)
	if err != nil {
		return err
	}
	out := fiber.Map{"slug": req.FormSlug, "entity_version": ev, "version": fv}
	if in.Publish {
		if d, err := s.Store.Get(c.UserContext(), app, spec.KindForm, req.FormSlug); err == nil && d.PublicID != nil {
			out["public_id"] = *d.PublicID
		}
	}
	return c.JSON(out)
}

// defView is the draft's keys plus the definition's state.
func defView(d *store.Definition) map[string]any {
	out := map[string]any{}
	_ = json.Unmarshal(d.Draft, &out)
	out["published_version"] = d.PublishedVersion
	out["modified"] = d.Modified
	out["updated_at"] = d.UpdatedAt
	var public struct {
		Public bool `json:"public"`
	}
	_ = json.Unmarshal(d.Draft, &public)
	if d.PublicID != nil && public.Public {
		out["public_id"] = *d.PublicID
	}
	return out
}

func (s *Server) listDefs(c *fiber.Ctx, kind string) error {
	p, app, err := s.loadApp(c, "read")
	if err != nil {
		return err
	}
	defs, err := s.Store.List(c.UserContext(), app, kind)
	if err != nil {
		return err
	}
	v, err := s.definitionViewer(c, p, app)
	if err != nil {
		return err
	}
	items := []map[string]any{}
	for _, d := range defs {
		if out, ok, err := v.view(c.UserContext(), d); err != nil {
			return err
		} else if ok {
			items = append(items, out)
		}
	}
	return c.JSON(fiber.Map{"items": items})
}

func (s *Server) getDef(c *fiber.Ctx, kind string) error {
	p, app, err := s.loadApp(c, "read")
	if err != nil {
		return err
	}
	d, err := s.Store.Get(c.UserContext(), app, kind, c.Params("slug"))
	if errors.Is(err, store.ErrNotFound) {
		return problem.NotFound(kind + " " + c.Params("slug") + " not found")
	}
	if err != nil {
		return err
	}
	v, err := s.definitionViewer(c, p, app)
	if err != nil {
		return err
	}
	out, ok, err := v.view(c.UserContext(), d)
	if err != nil {
		return err
	}
	if !ok {
		return problem.NotFound(kind + " " + c.Params("slug") + " not found")
	}
	return c.JSON(out)
}

// definitionViewer shows definitions as the caller may see them: builders (publish right) see
// everything; others see only what their grants let them use, and entities without the fields
// hidden from them.
type definitionViewer struct {
	s       *Server
	sub     access.Subject
	app     *store.App
	builder bool
}

func (s *Server) definitionViewer(c *fiber.Ctx, p *auth.Principal, app *store.App) (*definitionViewer, error) {
	g, err := s.Authz.Grant(c.UserContext(), p.Subject(), app.ID, "app", "publish")
	if err != nil {
		return nil, err
	}
	return &definitionViewer{s: s, sub: p.Subject(), app: app, builder: g.Allowed()}, nil
}

var singular = map[string]string{spec.KindEntity: "entity", spec.KindForm: "form", spec.KindFlow: "flow", spec.KindReport: "report", spec.KindDashboard: "dashboard"}

func (v *definitionViewer) view(ctx context.Context, d *store.Definition) (map[string]any, bool, error) {
	out := defView(d)
	if v.builder {
		return out, true, nil
	}
	resource := singular[d.Kind] + ":" + d.Slug
	var g access.Grant
	var err error
	for _, action := range []string{"read", "create", "run"} {
		if g, err = v.s.Authz.Grant(ctx, v.sub, v.app.ID, resource, action); err != nil {
			return nil, false, err
		}
		if g.Allowed() {
			break
		}
	}
	if !g.Allowed() {
		return nil, false, nil
	}
	if d.Kind == spec.KindEntity && len(g.Hidden) > 0 {
		if fields, ok := out["fields"].([]any); ok {
			kept := make([]any, 0, len(fields))
			for _, f := range fields {
				if m, ok := f.(map[string]any); ok && g.Hidden[fmt.Sprint(m["key"])] {
					continue
				}
				kept = append(kept, f)
			}
			out["fields"] = kept
		}
	}
	return out, true, nil
}

func (s *Server) putDef(c *fiber.Ctx, kind string) error {
	p, app, err := s.loadApp(c, "publish")
	if err != nil {
		return err
	}
	if err := bindRaw(c); err != nil {
		return err
	}
	d, created, err := s.Store.SaveDraft(c.UserContext(), &p.UserID, app, kind, c.Params("slug"), c.Body())
	if err != nil {
		return err
	}
	status := 200
	if created {
		status = 201
	}
	return c.Status(status).JSON(defView(d))
}

func (s *Server) publishDef(c *fiber.Ctx, kind string) error {
	p, app, err := s.loadApp(c, "publish")
	if err != nil {
		return err
	}
	v, err := s.Store.Publish(c.UserContext(), &p.UserID, app, kind, c.Params("slug"))
	if errors.Is(err, store.ErrNotFound) {
		return problem.NotFound(kind + " " + c.Params("slug") + " not found; save a draft first")
	}
	if err != nil {
		return err
	}
	d, err := s.Store.Get(c.UserContext(), app, kind, c.Params("slug"))
	if err != nil {
		return err
	}
	out := fiber.Map{"version": v, "slug": d.Slug, "kind": kind}
	if kind == "flows" {
		// published all the same; the builder sees what would fail at run time
		var f spec.Flow
		if json.Unmarshal(d.Draft, &f) == nil {
			w, err := engine.EmptyRoleWarnings(c.UserContext(), s.DB.Pool, app.ID, &f)
			if err != nil {
				return err
			}
			if len(w) > 0 {
				out["warnings"] = w
			}
		}
	}
	var public struct {
		Public bool `json:"public"`
	}
	_ = json.Unmarshal(d.Draft, &public)
	if d.PublicID != nil && public.Public {
		out["public_id"] = *d.PublicID
		out["public_url"] = "/f/" + *d.PublicID
	}
	return c.JSON(out)
}

func (s *Server) listVersions(c *fiber.Ctx, kind string) error {
	_, app, err := s.loadApp(c, "publish")
	if err != nil {
		return err
	}
	vs, err := s.Store.Versions(c.UserContext(), app, kind, c.Params("slug"))
	if errors.Is(err, store.ErrNotFound) {
		return problem.NotFound(kind + " " + c.Params("slug") + " not found")
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": vs})
}

// bindRaw checks that the body is present JSON (content type and syntax) without decoding it.
func bindRaw(c *fiber.Ctx) error {
	var v json.RawMessage
	return bindJSON(c, &v)
}
