package api

import (
	"regexp"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"
)

var fiberParam = regexp.MustCompile(`:([A-Za-z_]+)\??`)

// mountOpenAPI serves an OpenAPI 3.1 document built from the live route table, so it always
// lists every route.
func (s *Server) mountOpenAPI() error {
	s.route("GET", "/api/v1/openapi.json", "ops", "This OpenAPI document.", func(c *fiber.Ctx) error {
		return c.JSON(s.openAPI())
	})
	return nil
}

func (s *Server) openAPI() map[string]any {
	paths := map[string]map[string]any{}
	keys := make([]string, 0, len(s.docs))
	for k := range s.docs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	problemRef := map[string]any{"description": "problem+json", "content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
	for _, k := range keys {
		method, path, _ := strings.Cut(k, " ")
		d := s.docs[k]
		oaPath := fiberParam.ReplaceAllString(path, "{$1}")
		if paths[oaPath] == nil {
			paths[oaPath] = map[string]any{}
		}
		var params []map[string]any
		for _, m := range fiberParam.FindAllStringSubmatch(path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		op := map[string]any{
			"summary": d.Summary, "tags": []string{d.Tag}, "operationId": strings.ToLower(method) + strings.NewReplacer("/", "_", ":", "", "{", "", "}", "", ".", "_", "-", "_").Replace(path),
			"responses": map[string]any{"200": map[string]any{"description": "OK"}, "default": problemRef},
		}
		if params != nil {
			op["parameters"] = params
		}
		if d.Public {
			op["security"] = []any{}
		}
		paths[oaPath][strings.ToLower(method)] = op
	}
	return map[string]any{
		"openapi":  "3.1.0",
		"info":     map[string]any{"title": "Tessera API", "version": "1.0.0", "description": "Self-hosted low-code automation platform. Errors are RFC 9457 problem+json."},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []string{}}, map[string]any{"session": []string{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "tessera_session"},
			},
			"schemas": map[string]any{"Problem": map[string]any{"type": "object", "properties": map[string]any{
				"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"}, "status": map[string]any{"type": "integer"},
				"detail": map[string]any{"type": "string"}, "errors": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
					"field": map[string]any{"type": "string"}, "code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}},
			}}},
		},
	}
}
