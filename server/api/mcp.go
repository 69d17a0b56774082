package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/jackc/pgx/v5"
	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// The MCP server (Model Context Protocol, streamable HTTP at /mcp) lets an AI client (Claude
// Desktop, Cursor, any MCP client) work with Tessera as the owner of an API token: every tool
// runs as that user through the same services as the REST API (row scopes and field rules in
// SQL), every call is audited, and an administrator can turn the server off per app.

// mcpPrincipalKey carries the authenticated principal from Fiber to the net/http MCP handler
// (fasthttp's request context answers Value with its user values, which Fiber's Locals set).
const mcpPrincipalKey = "tessera.mcp.principal"

func (s *Server) mountMCP() error {
	srv := mcp.NewServer(&mcp.Implementation{Name: "tessera", Title: "Tessera", Version: "1"}, &mcp.ServerOptions{
		Instructions: "Tools of a Tessera low-code workspace. Every tool acts as the token's user: you see and change only what that user may. " +
			"Start with list_apps and list_entities; filters use the record filter language, e.g. {\"stage\":{\"eq\":\"new\"},\"amount\":{\"gte\":1000}}.",
	})
	s.addMCPTools(srv)
	srv.AddReceivingMiddleware(s.mcpAudit())
	// Stateless JSON answers: every POST carries its own authentication and answer, which fits
	// Fiber's buffered adaptor and lets any replica serve any call.
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	verify := func(ctx context.Context, _ string, r *http.Request) (*mcpauth.TokenInfo, error) {
		p, _ := r.Context().Value(mcpPrincipalKey).(*auth.Principal)
		if p == nil {
			return nil, mcpauth.ErrInvalidToken
		}
		return &mcpauth.TokenInfo{UserID: p.UserID.String(), Extra: map[string]any{"principal": p}}, nil
	}
	handler := adaptor.HTTPHandler(mcpauth.RequireBearerToken(verify, &mcpauth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h))
	serve := func(c *fiber.Ctx) error {
		// the global auth middleware already refused missing or invalid credentials (401)
		p, err := auth.Require(c)
		if err != nil {
			return err
		}
		if p.Via != "token" {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="tessera"`)
			return problem.Unauthorized("the MCP server takes an API token: send Authorization: Bearer <token> (MCP 服务需要 API 令牌)")
		}
		c.Locals(mcpPrincipalKey, p)
		return handler(c)
	}
	s.route("POST", "/mcp", "mcp", "Model Context Protocol server (streamable HTTP, stateless JSON answers); Authorization: Bearer <API token>.", serve)
	s.route("GET", "/mcp", "mcp", "MCP: no server-sent event stream (405, stateless server).", serve)
	s.route("DELETE", "/mcp", "mcp", "MCP: no sessions to end (405, stateless server).", serve)
	s.route("GET", "/api/v1/apps/:app/mcp", "mcp", "Whether the MCP server serves this app.", s.getAppMCP)
	s.route("PUT", "/api/v1/apps/:app/mcp", "mcp", "Turn the MCP server on or off for this app {enabled} (app managers; audited).", s.putAppMCP)
	return nil
}

// mcpEnabled reads the app setting mcp.enabled (default on).
func mcpEnabled(settings json.RawMessage) bool {
	var st struct {
		MCP *struct {
			Enabled *bool `json:"enabled"`
		} `json:"mcp"`
	}
	if len(settings) == 0 || json.Unmarshal(settings, &st) != nil || st.MCP == nil || st.MCP.Enabled == nil {
		return true
	}
	return *st.MCP.Enabled
}

func (s *Server) getAppMCP(c *fiber.Ctx) error {
	_, app, err := s.loadApp(c, "read")
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"enabled": mcpEnabled(app.Settings)})
}

func (s *Server) putAppMCP(c *fiber.Ctx) error {
	p, app, err := s.loadApp(c, "manage")
	if err != nil {
		return err
	}
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	if body.Enabled == nil {
		return problem.Validation(specErrors("enabled", "required", "enabled (true or false) is required / 须提供 enabled（true 或 false）"))
	}
	settings := map[string]any{}
	if len(app.Settings) > 0 {
		_ = json.Unmarshal(app.Settings, &settings)
	}
	if settings == nil {
		settings = map[string]any{}
	}
	settings["mcp"] = map[string]any{"enabled": *body.Enabled}
	raw, _ := json.Marshal(settings)
	if _, err := s.Store.UpdateApp(c.UserContext(), &p.UserID, app, "", raw); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"enabled": *body.Enabled})
}

// mcpPrincipal is the token's user of a tool call.
func mcpPrincipal(req *mcp.CallToolRequest) *auth.Principal {
	if req == nil || req.Extra == nil || req.Extra.TokenInfo == nil {
		return nil
	}
	p, _ := req.Extra.TokenInfo.Extra["principal"].(*auth.Principal)
	return p
}

// mcpApp loads an app the caller may read and that serves MCP; any other app is "not found"
// (a disabled app says so to those who can read it).
func (s *Server) mcpApp(ctx context.Context, p *auth.Principal, slug string) (*defs.App, error) {
	app, err := s.Defs.App(ctx, slug)
	if errors.Is(err, defs.ErrNotFound) {
		return nil, problem.NotFound("app " + slug + " not found / 应用 " + slug + " 不存在")
	}
	if err != nil {
		return nil, err
	}
	g, err := s.Authz.Grant(ctx, p.Subject(), app.ID, "app", "read")
	if err != nil {
		return nil, err
	}
	if !g.Allowed() {
		return nil, problem.NotFound("app " + slug + " not found / 应用 " + slug + " 不存在")
	}
	if !mcpEnabled(app.Settings) {
		return nil, problem.Forbidden("an administrator turned the MCP server off for app " + slug + " / 管理员已为应用 " + slug + " 关闭 MCP 服务").WithCode("mcp_disabled")
	}
	return app, nil
}

// mcpReadOnly records which tools only read (their audit rows skip the WAL flush wait).
var mcpReadOnly sync.Map

// mcpTool registers a tool whose handler runs as the token's user; it answers the result as
// JSON text (and structured content) or a tool error with the problem's message (mcpAudit
// audits the call).
func mcpTool[In any](s *Server, srv *mcp.Server, name, desc string, readOnly bool, fn func(ctx context.Context, p *auth.Principal, in In) (any, error)) {
	tool := &mcp.Tool{Name: name, Description: desc, Annotations: &mcp.ToolAnnotations{ReadOnlyHint: readOnly}}
	mcpReadOnly.Store(name, readOnly)
	mcp.AddTool(srv, tool, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, any, error) {
		p := mcpPrincipal(req)
		if p == nil {
			return nil, nil, errors.New("not authenticated")
		}
		out, err := fn(ctx, p, in)
		if err != nil {
			msg := s.toolError(err)
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}, nil, nil
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, nil, fmt.Errorf("encoding the result: %w", err)
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}, StructuredContent: json.RawMessage(b)}, nil, nil
	})
}

// mcpAudit is the server's receiving middleware that audits every tools/call, also the ones
// the SDK refuses before a tool runs (unknown tool, arguments not matching the schema).
func (s *Server) mcpAudit() mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method != "tools/call" {
				return next(ctx, method, req)
			}
			started := time.Now()
			res, err := next(ctx, method, req)
			var p *auth.Principal
			if ex := req.GetExtra(); ex != nil && ex.TokenInfo != nil {
				p, _ = ex.TokenInfo.Extra["principal"].(*auth.Principal)
			}
			if p == nil {
				return res, err
			}
			var name string
			var args any
			if cp, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && cp != nil {
				name = cp.Name
				_ = json.Unmarshal(cp.Arguments, &args)
			}
			size, failure := 0, ""
			if err != nil {
				failure = err.Error()
			}
			if r, ok := res.(*mcp.CallToolResult); ok && r != nil {
				var text strings.Builder
				for _, c := range r.Content {
					if tc, ok := c.(*mcp.TextContent); ok {
						text.WriteString(tc.Text)
					}
				}
				size = text.Len()
				if r.IsError {
					failure = text.String()
				}
			}
			ro, _ := mcpReadOnly.Load(name)
			s.auditMCP(ctx, p, name, args, size, failure, time.Since(started), ro == true)
			return res, err
		}
	}
}

// toolError turns an error into the text an MCP client shows: a problem's detail and field
// errors (gate messages, validation), never internals.
func (s *Server) toolError(err error) string {
	var pr *problem.Problem
	var se spec.Errors
	switch {
	case errors.As(err, &pr):
		msg := pr.Detail
		if msg == "" {
			msg = pr.Title
		}
		for _, fe := range pr.Errors {
			msg += "\n" + fe.Field + ": " + fe.Message
		}
		return msg
	case errors.As(err, &se):
		parts := make([]string, 0, len(se))
		for _, fe := range se {
			parts = append(parts, fe.Field+": "+fe.Message)
		}
		return "invalid input / 输入无效\n" + strings.Join(parts, "\n")
	}
	if pe := recordError(err); pe != err {
		return s.toolError(pe)
	}
	s.Log.Error("mcp tool failed", "error", err)
	return "internal error / 服务器内部错误"
}

// secretKey matches argument keys whose values are never written to the audit log.
var secretKey = regexp.MustCompile(`(?i)(pass(word)?|secret|token|api[_-]?key|credential|authorization)`)

// redact copies v with secret-looking keys masked and long strings shortened.
func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if secretKey.MatchString(k) {
				out[k] = "***"
				continue
			}
			out[k] = redact(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redact(e)
		}
		return out
	case string:
		if r := []rune(x); len(r) > 200 {
			return string(r[:200]) + "…"
		}
	}
	return v
}

// auditMCP writes one audit_log row per tool call: the tool, its arguments without secrets,
// the result's size, whether it failed, and how long it took. The row of a read-only tool is
// committed without waiting for the WAL flush (synchronous_commit off: it is on disk within
// the WAL writer's delay, and a read has no other write to wait for), which keeps reads as
// fast as over REST; the row of a write is flushed like the write itself.
func (s *Server) auditMCP(ctx context.Context, p *auth.Principal, tool string, args any, size int, failure string, took time.Duration, readOnly bool) {
	after := map[string]any{"tool": tool, "arguments": redact(args), "result_bytes": size, "ok": failure == "", "ms": took.Milliseconds()}
	if failure != "" {
		after["error"] = redact(failure)
	}
	b, _ := json.Marshal(after)
	// the call's own context may end with the request; the audit row is written regardless
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := pgx.BeginFunc(actx, s.DB.Pool, func(tx pgx.Tx) error {
		if readOnly {
			if _, err := tx.Exec(actx, `SET LOCAL synchronous_commit TO off`); err != nil {
				return err
			}
		}
		_, err := tx.Exec(actx, `INSERT INTO audit_log (actor, action, target, after) VALUES ($1, 'mcp.call', $2, $3)`, p.UserID, "mcp:"+tool, b)
		return err
	})
	if err != nil {
		s.Log.Error("mcp: writing the audit row", "tool", tool, "error", err)
	}
}
