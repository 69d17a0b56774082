package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/runtime/pgtext"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// storedHeaders are the request headers a route stores (webhook payloads, run idempotency keys).
var storedHeaders = []string{"Idempotency-Key", fiber.HeaderContentType, fiber.HeaderUserAgent, fiber.HeaderXRequestID}

// textGuard refuses, for every route, the text PostgreSQL cannot store before a handler sees it:
// a NUL character (JSON \u0000) or invalid UTF-8 in a query parameter, a stored header, a JSON
// body (any key or string, with lone UTF-16 surrogate escapes) or the fields of a form body
// (urlencoded or multipart; uploaded file contents are bytes and not checked). The answer is a
// 422 naming the parameter, header or JSON path; a NUL in the URL path answers 404. Without it
// such text reached a query and failed there as a 500 (SQLSTATE 22P05/22021).
func (s *Server) textGuard() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !pgtext.ValidString(c.Path()) {
			return problem.NotFound("not found / 未找到")
		}
		if strings.HasPrefix(c.Path(), "/api/v1/admin/") {
			// every admin route answers 403 to a non-admin before it looks at the input
			if _, err := auth.RequireAdmin(c); err != nil {
				return err
			}
		}
		if field := badRequestText(c, !(isImportUpload(c) && s.bodyStreamed(c))); field != "" {
			return problem.Validation(specErrors(field, "invalid_value", pgtext.Message))
		}
		return c.Next()
	}
}

// badRequestText answers the name of the first query parameter, stored header or body field
// holding text PostgreSQL cannot store, or "".
// A streamed import's body is not read here (it is checked row by row as it is imported).
func badRequestText(c *fiber.Ctx, readBody bool) string {
	bad := ""
	visit := func(k, v []byte) {
		if bad == "" && (!pgtext.ValidBytes(k) || !pgtext.ValidBytes(v)) {
			bad = pgtext.FieldName(string(k))
		}
	}
	c.Context().QueryArgs().VisitAll(visit)
	if bad != "" {
		return bad
	}
	for _, h := range storedHeaders {
		if !pgtext.ValidBytes(c.Request().Header.Peek(h)) {
			return h
		}
	}
	if !readBody {
		return ""
	}
	body := requestBody(c)
	if len(body) == 0 {
		return ""
	}
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	switch {
	case IsJSONBody(c):
		if p, found := pgtext.JSONPath(body); found {
			return p
		}
	case ct == fiber.MIMEApplicationForm:
		c.Request().PostArgs().VisitAll(visit)
	case ct == fiber.MIMEMultipartForm:
		form, err := c.MultipartForm()
		if err != nil {
			return "" // the route reports a malformed form
		}
		for k, vs := range form.Value {
			for _, v := range vs {
				if bad == "" && (!pgtext.ValidString(k) || !pgtext.ValidString(v)) {
					bad = pgtext.FieldName(k)
				}
			}
		}
		for k, fs := range form.File {
			for _, f := range fs {
				if bad == "" && (!pgtext.ValidString(k) || !pgtext.ValidString(f.Filename)) {
					bad = pgtext.FieldName(k)
				}
			}
		}
	}
	return bad
}
