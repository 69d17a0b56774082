package api

import (
	"encoding/json"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/builder/store"
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
	return nil
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
	_, app, err := s.loadApp(c, "read")
	if err != nil {
		return err
	}
	defs, err := s.Store.List(c.UserContext(), app, kind)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(defs))
	for i, d := range defs {
		items[i] = defView(d)
	}
	return c.JSON(fiber.Map{"items": items})
}

func (s *Server) getDef(c *fiber.Ctx, kind string) error {
	_, app, err := s.loadApp(c, "read")
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
	return c.JSON(defView(d))
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
	_, app, err := s.loadApp(c, "read")
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
