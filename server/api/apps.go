package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/builder/store"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

type createAppBody struct {
	Slug     string          `json:"slug"`
	Name     string          `json:"name"`
	Settings json.RawMessage `json:"settings,omitempty"`
}

type patchAppBody struct {
	Name     string          `json:"name,omitempty"`
	Settings json.RawMessage `json:"settings,omitempty"`
}

// appView is an app with its definitions, as the UI's app home needs it.
type appView struct {
	*store.App
	Entities   []*store.Definition `json:"entities"`
	Forms      []*store.Definition `json:"forms"`
	Flows      []*store.Definition `json:"flows"`
	Reports    []*store.Definition `json:"reports"`
	Dashboards []*store.Definition `json:"dashboards"`
	// Can says what the caller may do with the app itself (the shell offers design, publish,
	// versions and export controls only when true).
	Can appCan `json:"can"`
	// Permissions lists, per resource the caller can use ("entity:lead", "form:web-lead", ...),
	// the actions they hold on it.
	Permissions map[string][]string `json:"permissions"`
}

type appCan struct {
	Design bool `json:"design"` // save drafts, publish, see versions
	Manage bool `json:"manage"`
	Export bool `json:"export"` // export the app bundle
}

// actionZH names the actions in Chinese for bilingual refusals.
var actionZH = map[string]string{"read": "查看", "create": "新建", "update": "修改", "delete": "删除", "export": "导出", "run": "运行", "publish": "设计和发布", "manage": "管理"}

func (s *Server) mountApps() error {
	s.route("GET", "/api/v1/apps", "apps", "List the apps the caller can see.", s.listApps)
	s.route("POST", "/api/v1/apps", "apps", "Create an app (platform admin).", s.createApp)
	s.route("POST", "/api/v1/apps/import", "apps", "Import an app bundle (platform admin); ?publish=false keeps drafts only.", s.importApp)
	s.route("GET", "/api/v1/apps/:app", "apps", "An app with its definitions.", s.getApp)
	s.route("PATCH", "/api/v1/apps/:app", "apps", "Rename an app or change its settings (time zone, business calendar).", s.patchApp)
	s.route("GET", "/api/v1/apps/:app/export", "apps", "Export an app as one JSON bundle.", s.exportApp)
	return nil
}

// loadApp resolves :app and checks that the caller may perform action on resource "app".
func (s *Server) loadApp(c *fiber.Ctx, action string) (*auth.Principal, *store.App, error) {
	p, err := auth.Require(c)
	if err != nil {
		return nil, nil, err
	}
	app, err := s.Store.GetApp(c.UserContext(), c.Params("app"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, problem.NotFound("app " + c.Params("app") + " not found")
	}
	if err != nil {
		return nil, nil, err
	}
	g, err := s.Authz.Grant(c.UserContext(), p.Subject(), app.ID, "app", action)
	if err != nil {
		return nil, nil, err
	}
	if !g.Allowed() {
		// Callers who may not even read the app learn nothing about its existence.
		if action != "read" {
			if rg, err := s.Authz.Grant(c.UserContext(), p.Subject(), app.ID, "app", "read"); err == nil && rg.Allowed() {
				return nil, nil, problem.Forbidden(fmt.Sprintf("you may not %s app %s (您没有%s应用 %s 的权限)", action, app.Slug, actionZH[action], app.Slug)).WithCode("forbidden_" + action)
			}
		}
		return nil, nil, problem.NotFound("app " + c.Params("app") + " not found")
	}
	return p, app, nil
}

func (s *Server) listApps(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	apps, err := s.Store.ListApps(c.UserContext())
	if err != nil {
		return err
	}
	items := []*store.App{}
	for _, a := range apps {
		g, err := s.Authz.Grant(c.UserContext(), p.Subject(), a.ID, "app", "read")
		if err != nil {
			return err
		}
		if g.Allowed() {
			items = append(items, a)
		}
	}
	return c.JSON(fiber.Map{"items": items})
}

func (s *Server) createApp(c *fiber.Ctx) error {
	p, err := auth.RequireAdmin(c)
	if err != nil {
		return err
	}
	var b createAppBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	app, err := s.Store.CreateApp(c.UserContext(), &p.UserID, b.Slug, b.Name, b.Settings)
	if errors.Is(err, store.ErrExists) {
		return problem.Conflict("an app with slug " + b.Slug + " already exists").WithCode("exists")
	}
	if err != nil {
		return err
	}
	return c.Status(201).JSON(app)
}

func (s *Server) getApp(c *fiber.Ctx) error {
	p, app, err := s.loadApp(c, "read")
	if err != nil {
		return err
	}
	defs, err := s.Store.List(c.UserContext(), app, "")
	if err != nil {
		return err
	}
	viewer, err := s.definitionViewer(c, p, app)
	if err != nil {
		return err
	}
	v := appView{App: app, Entities: []*store.Definition{}, Forms: []*store.Definition{}, Flows: []*store.Definition{}, Reports: []*store.Definition{}, Dashboards: []*store.Definition{},
		Permissions: map[string][]string{}}
	if v.Can, err = s.appCan(c.UserContext(), p, app); err != nil {
		return err
	}
	for _, d := range defs {
		out, ok, err := viewer.view(c.UserContext(), d)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if !viewer.builder { // the draft as this caller may see it, without the state keys
			for _, k := range []string{"published_version", "public_id", "updated_at", "modified"} {
				delete(out, k)
			}
			d.Draft, _ = json.Marshal(out)
		}
		if err := s.collectPermissions(c.UserContext(), p, app, d, v.Permissions); err != nil {
			return err
		}
		switch d.Kind {
		case spec.KindEntity:
			v.Entities = append(v.Entities, d)
		case spec.KindForm:
			v.Forms = append(v.Forms, d)
		case spec.KindFlow:
			v.Flows = append(v.Flows, d)
		case spec.KindReport:
			v.Reports = append(v.Reports, d)
		case spec.KindDashboard:
			v.Dashboards = append(v.Dashboards, d)
		}
	}
	return c.JSON(v)
}

func (s *Server) patchApp(c *fiber.Ctx) error {
	p, app, err := s.loadApp(c, "manage")
	if err != nil {
		return err
	}
	var b patchAppBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	out, err := s.Store.UpdateApp(c.UserContext(), &p.UserID, app, b.Name, b.Settings)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) exportApp(c *fiber.Ctx) error {
	_, app, err := s.loadApp(c, "manage")
	if err != nil {
		return err
	}
	b, err := s.Store.Export(c.UserContext(), app)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+app.Slug+`.tessera.json"`)
	return c.JSON(b)
}

func (s *Server) importApp(c *fiber.Ctx) error {
	p, err := auth.RequireAdmin(c)
	if err != nil {
		return err
	}
	var b store.Bundle
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	return s.installBundle(c, p, &b, store.ImportOptions{Slug: c.Query("slug"), Name: c.Query("name"), Publish: c.Query("publish") != "false"}, nil)
}

// installBundle imports a bundle and answers 201 with the new app (409 when the slug is taken).
// then, when set, runs after the import (e.g. demo data) and its answer joins the app's.
func (s *Server) installBundle(c *fiber.Ctx, p *auth.Principal, b *store.Bundle, opt store.ImportOptions, then func(app *store.App) (any, error)) error {
	app, err := s.Store.Import(c.UserContext(), &p.UserID, b, opt)
	if errors.Is(err, store.ErrExists) {
		slug := opt.Slug
		if slug == "" {
			slug = b.App.Slug
		}
		return problem.Conflict("an app with slug " + slug + " already exists; pass ?slug= to install under another slug").WithCode("exists")
	}
	if err != nil {
		return err
	}
	if s.AfterImport != nil {
		if err := s.AfterImport(c.UserContext(), p, app, b); err != nil {
			return err
		}
	}
	if then != nil {
		extra, err := then(app)
		if err != nil {
			return err
		}
		return c.Status(201).JSON(struct {
			*store.App
			Demo any `json:"demo,omitempty"`
		}{app, extra})
	}
	return c.Status(201).JSON(app)
}

// appCan answers what the caller may do with the app itself.
func (s *Server) appCan(ctx context.Context, p *auth.Principal, app *store.App) (appCan, error) {
	var out appCan
	for action, dst := range map[string]*bool{"publish": &out.Design, "manage": &out.Manage} {
		g, err := s.Authz.Grant(ctx, p.Subject(), app.ID, "app", action)
		if err != nil {
			return out, err
		}
		*dst = g.Allowed()
	}
	out.Export = out.Design || out.Manage
	return out, nil
}

// collectPermissions adds the actions the caller holds on definition d to perms.
func (s *Server) collectPermissions(ctx context.Context, p *auth.Principal, app *store.App, d *store.Definition, perms map[string][]string) error {
	resource := singular[d.Kind] + ":" + d.Slug
	actions := []string{}
	for _, a := range []string{"read", "create", "update", "delete", "export", "run"} {
		g, err := s.Authz.Grant(ctx, p.Subject(), app.ID, resource, a)
		if err != nil {
			return fmt.Errorf("checking permission: %w", err)
		}
		if g.Allowed() {
			actions = append(actions, a)
		}
	}
	perms[resource] = actions
	return nil
}
