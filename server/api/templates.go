package api

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/builder/store"
	"github.com/tessera/tessera/builder/templates"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

type installBody struct {
	Slug string `json:"slug,omitempty"`
	Name string `json:"name,omitempty"`
	// Sample seeds the template's sample records when it has some.
	Sample bool `json:"sample,omitempty"`
}

func (s *Server) mountTemplates() error {
	s.route("GET", "/api/v1/templates", "apps", "The built-in app templates.", func(c *fiber.Ctx) error {
		if _, err := auth.Require(c); err != nil {
			return err
		}
		list, err := templates.List()
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": list})
	})
	s.route("POST", "/api/v1/templates/:name/install", "apps", "Install a template as a new app (platform admin); body {slug, name} optional.", s.installTemplate)
	return nil
}

func (s *Server) installTemplate(c *fiber.Ctx) error {
	p, err := auth.RequireAdmin(c)
	if err != nil {
		return err
	}
	raw, err := templates.Bundle(c.Params("name"))
	if err != nil {
		return problem.NotFound(err.Error())
	}
	var b installBody
	if len(c.Body()) > 0 {
		if err := bindJSON(c, &b); err != nil {
			return err
		}
	}
	// ?slug= and ?name= work as for /apps/import (the 409 for a taken slug suggests them)
	if b.Slug == "" {
		b.Slug = c.Query("slug")
	}
	if b.Name == "" {
		b.Name = c.Query("name")
	}
	var bundle store.Bundle
	if err := json.Unmarshal(raw, &bundle); err != nil {
		return err
	}
	return s.installBundle(c, p, &bundle, store.ImportOptions{Slug: b.Slug, Name: b.Name, Publish: true})
}
