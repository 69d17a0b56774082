package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/runtime/tracking"
	"github.com/tessera/tessera/runtime/trigger"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// mountActivities registers the activity intake: the authenticated events endpoint and the
// public tracking links (docs/records.md, "Activities").
func (s *Server) mountActivities() error {
	s.route("POST", "/api/v1/apps/:app/events", "records",
		"Append an outside activity {entity, match: {id | <unique field>: value}, type, data} to a record and start its record.activity flows.", s.postEvent)
	s.route("GET", "/t/:token", "records", "E-mail tracking pixel (public; the signed token adds its one activity to its one record).", s.trackingPixel)
	return nil
}

type eventBody struct {
	Entity string          `json:"entity"`
	Match  map[string]any  `json:"match"`
	Type   string          `json:"type"`
	Data   json.RawMessage `json:"data"`
}

// postEvent appends an activity to the record the match names. The caller needs update on the
// entity (an activity starts flows that change the record); a record outside that scope is a
// 404 like a missing one. Calls count against the app's run-start rate limit.
func (s *Server) postEvent(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	if len(c.Body()) > s.Cfg.MaxBody {
		return problem.New(fiber.StatusRequestEntityTooLarge, "the body is too large (请求体过大)")
	}
	var b eventBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	var errs spec.Errors
	if b.Entity == "" {
		errs.Add("entity", "required", "entity is required (须指定实体)")
	}
	if len(b.Match) != 1 {
		errs.Add("match", "required", "match names one record: {\"id\": ...} or {\"<unique field>\": value} (match 须且只能指定一个字段)")
	}
	var data map[string]any
	if len(b.Data) > 0 && string(b.Data) != "null" {
		if err := json.Unmarshal(b.Data, &data); err != nil || data == nil {
			errs.Add("data", "type", "data must be a JSON object (data 须为对象)")
		}
	}
	if len(errs) > 0 {
		return problem.Validation(errs)
	}
	rc, err := s.recordAccess(c.UserContext(), p, c.Params("app"), b.Entity, "update")
	if err != nil {
		return err
	}
	if err := s.Triggers.AllowRun(rc.app.ID); err != nil {
		return rateLimited(c, err)
	}
	var m records.Match
	for k, v := range b.Match {
		if k == "id" {
			id, err := uuid.Parse(strings.TrimSpace(toString(v)))
			if err != nil {
				return problem.Validation(specErrors("match.id", "invalid", "id must be a record id (UUID) (须为记录 ID)"))
			}
			m.ID = id
		} else {
			m.Field, m.Value = k, v
		}
	}
	rec, err := s.Records.AddActivity(c.UserContext(), rc.app, rc.slug, m, records.Activity{Type: b.Type, Data: data}, rc.write("api"))
	if err != nil {
		return recordError(err)
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"record_id": rec.ID, "entity": rc.slug, "type": b.Type})
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// pixelGIF is a transparent 1x1 GIF.
var pixelGIF, _ = base64.StdEncoding.DecodeString("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

// trackingPixel serves the tracking link of a signed token: it adds the token's activity to
// its record (as the system, the token being the only authority) and answers a 1x1 GIF. A bad
// token is a 404; a deleted record still gets the GIF (the answer reveals nothing). Calls are
// limited like webhooks: per token and per app.
func (s *Server) trackingPixel(c *fiber.Ctx) error {
	if s.Tracking == nil {
		return problem.NotFound("not found (不存在)")
	}
	claim, err := s.Tracking.Parse(c.Params("token"))
	if errors.Is(err, tracking.ErrInvalid) || err != nil {
		return problem.NotFound("not found (不存在)")
	}
	if ok, wait := s.Triggers.Limits.Webhook.Allow("track:" + claim.Record.String() + ":" + claim.Type); !ok {
		return rateLimited(c, &trigger.RateLimitedError{Scope: "webhook", RetryAfter: wait})
	}
	if err := s.Triggers.AllowRun(claim.App); err != nil {
		return rateLimited(c, err)
	}
	ctx := c.UserContext()
	app, err := s.Defs.AppByID(ctx, claim.App)
	if err == nil {
		_, err = s.Records.AddActivity(ctx, app, claim.Entity, records.Match{ID: claim.Record},
			records.Activity{Type: claim.Type, Data: map[string]any{"via": "tracking_link"}},
			records.WriteOptions{Actor: access.Subject{System: true}, Source: "tracking"})
	}
	if err != nil && !errors.Is(err, records.ErrNotFound) {
		s.Log.Warn("tracking link", "err", err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store, private")
	c.Set(fiber.HeaderContentType, "image/gif")
	return c.Send(pixelGIF)
}

// trackingLinks makes the links of tracking_link nodes: <public URL>/t/<token>.
type trackingLinks struct{ s *Server }

func (t trackingLinks) TrackingURL(app uuid.UUID, entity string, record uuid.UUID, typ string) (string, string) {
	token := t.s.Tracking.Token(tracking.Claim{App: app, Entity: entity, Record: record, Type: typ})
	return t.s.publicBase() + "/t/" + token, token
}

// publicBase is the server's external base URL: TESSERA_PUBLIC_URL, else http:// + the
// listen address (a wildcard host as localhost).
func (s *Server) publicBase() string {
	if u := strings.TrimRight(s.Cfg.PublicURL, "/"); u != "" {
		return u
	}
	addr := s.Cfg.Addr
	if strings.HasPrefix(addr, ":") {
		addr = "localhost" + addr
	}
	return "http://" + addr
}
