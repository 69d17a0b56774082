package api

import (
	"encoding/json"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/builder/store"
	"github.com/tessera/tessera/builder/templates"
	"github.com/tessera/tessera/runtime/demo"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

type installBody struct {
	Slug string `json:"slug,omitempty"`
	Name string `json:"name,omitempty"`
	// Demo fills the new app with generated demo data (runtime/demo): DemoCount records of
	// its main entity (default 2,000, at most MaxInstallDemo) and months of history.
	Demo      bool `json:"demo,omitempty"`
	DemoCount int  `json:"demo_count,omitempty"`
}

// MaxInstallDemo bounds the demo data an install request generates (it answers when done);
// `tessera demo seed` generates more.
const MaxInstallDemo = 20_000

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
	if b.DemoCount < 0 || b.DemoCount > MaxInstallDemo {
		return problem.Validation(spec.Errors{{Field: "demo_count", Code: "out_of_range",
			Message: fmt.Sprintf("demo data is at most %d records here; use `tessera demo seed` for more (演示数据最多 %d 条，更多请用命令行)", MaxInstallDemo, MaxInstallDemo)}})
	}
	var bundle store.Bundle
	if err := json.Unmarshal(raw, &bundle); err != nil {
		return err
	}
	var then func(app *store.App) (any, error)
	if b.Demo {
		then = func(app *store.App) (any, error) {
			sum, err := demo.Seed(c.UserContext(), s.demoDeps(), app.Slug, demo.Options{Count: b.DemoCount, Actor: p.UserID})
			if err != nil {
				// the count was checked above, so this is the generator's fault, not the caller's
				return nil, fmt.Errorf("generating demo data for %s: %v", app.Slug, err)
			}
			return sum, nil
		}
	}
	return s.installBundle(c, p, &bundle, store.ImportOptions{Slug: b.Slug, Name: b.Name, Publish: true}, then)
}

// demoDeps are the services demo data is written through.
func (s *Server) demoDeps() demo.Deps {
	return demo.Deps{Pool: s.DB.Pool, Loader: s.Defs, Records: s.Records, Authz: s.Policies}
}
