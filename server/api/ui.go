package api

import (
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

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
	s.app.Use("/assets", assetHandler(dist))
	allowed := s.methodsByPath()
	s.app.Use(func(c *fiber.Ctx) error {
		p := c.Path()
		if methods := allowed(p); len(methods) > 0 {
			// the path exists, not with this method (RFC 9110 section 15.5.6)
			c.Set(fiber.HeaderAllow, strings.Join(methods, ", "))
			return problem.New(fiber.StatusMethodNotAllowed, c.Method()+" is not allowed on "+p+"; allowed: "+strings.Join(methods, ", ")+" (不支持该请求方法)")
		}
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			return problem.NotFound("no route " + c.Method() + " " + p + " (接口不存在)")
		}
		if len(p) >= 4 && p[:4] == "/api" || len(p) >= 6 && p[:6] == "/hooks" {
			return problem.NotFound("no route " + c.Method() + " " + p + " (接口不存在)")
		}
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Type("html", "utf-8")
		return c.Send(index)
	})
}

// methodsByPath answers, for a request path no route matched, the methods the documented
// routes accept on that path (none when the path itself is unknown).
func (s *Server) methodsByPath() func(path string) []string {
	type pattern struct {
		re      *regexp.Regexp
		methods []string
	}
	byPath := map[string][]string{}
	for k := range s.docs {
		method, path, _ := strings.Cut(k, " ")
		byPath[path] = append(byPath[path], method)
	}
	var patterns []pattern
	for path, methods := range byPath {
		segs := strings.Split(path, "/")
		for i, seg := range segs {
			if strings.HasPrefix(seg, ":") {
				segs[i] = "[^/]+"
			} else {
				segs[i] = regexp.QuoteMeta(seg)
			}
		}
		sort.Strings(methods)
		patterns = append(patterns, pattern{re: regexp.MustCompile("^" + strings.Join(segs, "/") + "/?$"), methods: methods})
	}
	return func(path string) []string {
		set := map[string]bool{}
		for _, p := range patterns {
			if p.re.MatchString(path) {
				for _, m := range p.methods {
					set[m] = true
				}
			}
		}
		if set[fiber.MethodGet] {
			set[fiber.MethodHead] = true
		}
		out := make([]string, 0, len(set))
		for m := range set {
			out = append(out, m)
		}
		sort.Strings(out)
		return out
	}
}
