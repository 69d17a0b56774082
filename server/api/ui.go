package api

import (
	"io/fs"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/tessera/tessera/server/problem"
	"github.com/tessera/tessera/ui"
)

// mountUI serves the embedded single-page app; unknown non-API paths get index.html.
func (s *Server) mountUI() {
	dist, err := fs.Sub(ui.Dist, "dist")
	if err != nil {
		return
	}
	index, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		index = []byte(`<!doctype html><meta charset="utf-8"><title>Tessera</title><p>The UI is not built. Run <code>make build</code>. 界面尚未构建，请运行 <code>make build</code>。</p>`)
	}
	s.app.Use("/assets", filesystem.New(filesystem.Config{Root: http.FS(dist), PathPrefix: "assets", MaxAge: 31536000}))
	s.app.Use(func(c *fiber.Ctx) error {
		p := c.Path()
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			return problem.NotFound("no route " + c.Method() + " " + p)
		}
		if len(p) >= 4 && p[:4] == "/api" || len(p) >= 6 && p[:6] == "/hooks" {
			return problem.NotFound("no route " + c.Method() + " " + p)
		}
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Type("html", "utf-8")
		return c.Send(index)
	})
}
