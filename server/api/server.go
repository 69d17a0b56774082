// Package api wires the HTTP routes (one file per resource) onto Fiber.
package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/config"
	"github.com/tessera/tessera/server/problem"
)

// Server holds the dependencies shared by the route files.
type Server struct {
	Cfg  config.Config
	DB   *db.DB
	Log  *slog.Logger
	Auth *auth.Service
	// Services holds the runtime services the route files use. Each route file adds what it
	// needs in its mount function; see services.go.
	Services
	app      *fiber.App
	docs     map[string]routeDoc // "METHOD /path" -> docs, for openapi.json
	stopping func()
	imports  importRegistry // progress of this replica's running imports
}

// New builds the Fiber app with every route mounted.
func New(cfg config.Config, d *db.DB, log *slog.Logger) (*Server, error) {
	s := &Server{Cfg: cfg, DB: d, Log: log, Auth: auth.NewService(d.Pool, cfg.SessionTTL), docs: map[string]routeDoc{}}
	proxies, err := auth.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	s.Auth.TrustedProxies = proxies
	s.app = fiber.New(fiber.Config{
		AppName:      "tessera",
		ErrorHandler: problem.Handler(log),
		BodyLimit:    int(cfg.MaxUpload) + 1<<20,
		// Bodies past BodyLimit are streamed, not refused: record imports read them as they
		// come (up to TESSERA_MAX_IMPORT_MB); bodyLimit answers 413 for every other route.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		CaseSensitive:                true,
		// Params, queries and headers outlive the handler: an accepted run is worked inline by
		// a goroutine after the answer, and fasthttp reuses a request's memory once the handler
		// returns (an inline run's flow name was overwritten by the next request's bytes).
		Immutable:             true,
		DisableStartupMessage: true,
		ReadTimeout:           readTimeout(cfg),
		WriteTimeout:          120 * time.Second,
		IdleTimeout:           120 * time.Second,
		JSONEncoder:           encodeJSON,
		JSONDecoder:           json.Unmarshal,
	})
	s.app.Use(recover.New())
	s.app.Use(s.bodyLimit())
	s.app.Use(securityHeaders(cfg.SecureCookies))
	s.app.Use(requestid.New())
	s.app.Use(s.accessLog())
	s.app.Use(metricsMiddleware())
	s.app.Use(s.Auth.Middleware())
	s.app.Use(s.textGuard())
	s.app.Use(s.dropDefsAfterChange)
	if err := s.initServices(); err != nil {
		return nil, err
	}
	for _, mount := range mounts {
		if err := mount(s); err != nil {
			return nil, err
		}
	}
	s.mountUI() // last: the SPA fallback
	return s, nil
}

// mounts lists the route files' mount functions, in order.
var mounts = []func(*Server) error{
	(*Server).mountOps,
	(*Server).mountAuth,
	(*Server).mountOpenAPI,
	(*Server).mountApps,
	(*Server).mountTemplates,
	(*Server).mountDefinitions,
	(*Server).mountRecords,
	(*Server).mountImports,
	(*Server).mountViews,
	(*Server).mountFiles,
	(*Server).mountForms,
	(*Server).mountAdmin,
	(*Server).mountFlows,
	(*Server).mountActivities,
	(*Server).mountTasks,
	(*Server).mountNotifications,
	(*Server).mountReports,
	(*Server).mountCatalog,
	(*Server).mountAI,
	(*Server).mountMCP,
}

// App returns the Fiber app (tests use App().Test).
func (s *Server) App() *fiber.App { return s.app }

// Listen serves on addr until Shutdown.
func (s *Server) Listen(addr string) error { return s.app.Listen(addr) }

// Shutdown stops accepting requests and waits for running ones.
func (s *Server) Shutdown(timeout time.Duration) error {
	if s.stopping != nil {
		s.stopping()
	}
	return s.app.ShutdownWithTimeout(timeout)
}

// OnShutdown registers work to do when the server stops (background workers).
func (s *Server) OnShutdown(f func()) {
	prev := s.stopping
	s.stopping = func() {
		f()
		if prev != nil {
			prev()
		}
	}
}

// routeDoc describes a route for openapi.json.
type routeDoc struct {
	Summary string
	Public  bool
	Tag     string
}

// route registers a handler and its documentation in one call.
func (s *Server) route(method, path, tag, summary string, h ...fiber.Handler) {
	s.app.Add(method, path, h...)
	s.docs[method+" "+path] = routeDoc{Summary: summary, Tag: tag, Public: auth.IsPublic(examplePath(path))}
}

func examplePath(p string) string {
	parts := strings.Split(p, "/")
	for i, x := range parts {
		if strings.HasPrefix(x, ":") {
			parts[i] = "x"
		}
	}
	return strings.Join(parts, "/")
}

func (s *Server) accessLog() fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			status = problem.From(err).Status
		}
		s.Log.Info("http", "method", c.Method(), "path", c.Path(), "status", status,
			"ms", time.Since(start).Milliseconds(), "request_id", c.GetRespHeader(fiber.HeaderXRequestID))
		return err
	}
}

// requestBody is the request's body for reading inside the handler: fasthttp's own bytes when
// the body is not content-encoded, without Fiber's copies (Ctx.Body, under Immutable, copies
// every header name looking for Content-Encoding and then the body: twice per create). A
// caller keeps nothing of it past the handler (a decoder copies what it keeps). An encoded body
// goes through Ctx.Body, which decodes it.
func requestBody(c *fiber.Ctx) []byte {
	if len(c.Request().Header.Peek(fiber.HeaderContentEncoding)) == 0 {
		return c.Request().Body()
	}
	return c.Body()
}

// IsJSONBody reports whether the request body is to be read as JSON: application/json or any
// +json type, and, for clients that forget the header (curl -d), a missing or form-urlencoded
// content type whose body is a JSON object or array.
func IsJSONBody(c *fiber.Ctx) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	switch {
	case ct == fiber.MIMEApplicationJSON || strings.HasSuffix(ct, "+json"):
		return true
	case ct == "" || ct == fiber.MIMEApplicationForm:
		b := bytes.TrimSpace(requestBody(c))
		return len(b) > 0 && (b[0] == '{' || b[0] == '[')
	}
	return false
}

// bindJSON strictly decodes the JSON body into v: 415 for another content type, 422 with the
// offending path for bad JSON or unknown keys.
func bindJSON(c *fiber.Ctx, v any) error {
	if len(c.Body()) > 0 && !IsJSONBody(c) {
		return problem.New(fiber.StatusUnsupportedMediaType, "send the body as application/json (请以 application/json 发送请求体)")
	}
	if len(c.Body()) == 0 {
		return problem.Validation(specErrors("$", "required", "a JSON body is required (请求体不能为空)"))
	}
	if err := decodeStrict(c.Body(), v); err != nil {
		return err
	}
	return nil
}

// encodeJSON is the answer encoder. A record is sent as its MarshalJSON encodes it (with
// encoding/json, so strings are escaped alike), without encoding/json's second pass that
// validates and compacts a Marshaler's output: about a tenth of a record create's encoding.
// Other Marshalers (raw JSON from the database, say) keep that pass and its HTML escaping.
func encodeJSON(v any) ([]byte, error) {
	if r, ok := v.(*records.Record); ok && r != nil {
		return r.MarshalJSON()
	}
	return json.Marshal(v)
}

// readTimeout is the server's read timeout (config.Config.ReadTimeout, 60 s when unset).
func readTimeout(cfg config.Config) time.Duration {
	if cfg.ReadTimeout > 0 {
		return cfg.ReadTimeout
	}
	return 60 * time.Second
}
