// Package problem renders RFC 9457 problem+json errors at the HTTP edge.
package problem

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/builder/spec"
)

// ContentType is the media type of problem documents.
const ContentType = "application/problem+json"

// Problem is an RFC 9457 problem document. It implements error so handlers can return it.
type Problem struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	Status   int               `json:"status"`
	Detail   string            `json:"detail,omitempty"`
	Instance string            `json:"instance,omitempty"`
	Code     string            `json:"code,omitempty"`
	Errors   []spec.FieldError `json:"errors,omitempty"`
	// Extra keys merged into the document (e.g. the existing record id on a conflict).
	Extra map[string]any `json:"-"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Title)
}

// New builds a problem with the standard title for status.
func New(status int, detail string) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

// Newf builds a problem with a formatted detail.
func Newf(status int, format string, args ...any) *Problem {
	return New(status, fmt.Sprintf(format, args...))
}

// WithCode sets a machine-readable code.
func (p *Problem) WithCode(code string) *Problem { p.Code = code; return p }

// With adds an extra member to the document.
func (p *Problem) With(key string, v any) *Problem {
	if p.Extra == nil {
		p.Extra = map[string]any{}
	}
	p.Extra[key] = v
	return p
}

// Validation is a 422 with field errors.
func Validation(errs spec.Errors) *Problem {
	p := New(fiber.StatusUnprocessableEntity, "the request has invalid fields (请求中有无效字段)")
	p.Type = "https://tessera.dev/problems/validation"
	p.Errors = errs
	if len(errs) == 1 {
		p.Detail = errs[0].Message
	}
	return p
}

// Shorthands for the common statuses.
func BadRequest(detail string) *Problem   { return New(400, detail) }
func Unauthorized(detail string) *Problem { return New(401, detail) }
func Forbidden(detail string) *Problem    { return New(403, detail) }
func NotFound(detail string) *Problem     { return New(404, detail) }
func Conflict(detail string) *Problem     { return New(409, detail) }

// Write sends p as the response.
func Write(c *fiber.Ctx, p *Problem) error {
	if p.Instance == "" {
		p.Instance = c.Path()
	}
	body := map[string]any{"type": p.Type, "title": p.Title, "status": p.Status}
	if p.Detail != "" {
		body["detail"] = p.Detail
	}
	if p.Instance != "" {
		body["instance"] = p.Instance
	}
	if p.Code != "" {
		body["code"] = p.Code
	}
	if p.Errors != nil {
		body["errors"] = p.Errors
	}
	for k, v := range p.Extra {
		body[k] = v
	}
	c.Status(p.Status)
	if err := c.JSON(body); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ContentType)
	return nil
}

// From converts any error to a problem: problems pass through, spec.Errors become 422, Fiber
// errors keep their status, everything else is a 500 whose detail is not leaked.
func From(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var fe spec.Errors
	if errors.As(err, &fe) {
		return Validation(fe)
	}
	var one spec.FieldError
	if errors.As(err, &one) {
		return Validation(spec.Errors{one})
	}
	var fiberErr *fiber.Error
	if errors.As(err, &fiberErr) {
		switch fiberErr.Code {
		case fiber.StatusRequestEntityTooLarge:
			return New(413, "the request body is too large (请求体过大)")
		default:
			return New(fiberErr.Code, fiberErr.Message)
		}
	}
	return New(500, "internal error (服务器内部错误)")
}

// Handler is the Fiber error handler: every error leaves as problem+json.
func Handler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		p := From(err)
		if p.Status >= 500 {
			log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
		}
		return Write(c, p)
	}
}
