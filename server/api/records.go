package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/dynjson"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// mountRecords registers the records routes.
func (s *Server) mountRecords() error {
	base := "/api/v1/apps/:app/entities/:entity/records"
	s.route(fiber.MethodGet, base, "records", "List records (filter, sort, limit, cursor, q)", s.listRecords)
	s.route(fiber.MethodPost, base, "records", "Create a record (201; a dedupe merge answers 200 with merged:true; a match the caller may not read and update 202 {submission_id, status: pending_review}: kept for its owner's review, unchanged)", s.createRecord)
	s.route(fiber.MethodGet, base+"/:id", "records", "Get a record", s.getRecord)
	s.route(fiber.MethodPatch, base+"/:id", "records", "Update a record partially (If-Match or version -> 409 when stale)", s.updateRecord)
	s.route(fiber.MethodDelete, base+"/:id", "records", "Delete a record (If-Match -> 409 when stale)", s.deleteRecord)
	s.route(fiber.MethodGet, base+"/:id/history", "records", "Record history: changes and stage transitions", s.recordHistory)
	s.mountRecordOwner()
	s.mountIntake()
	s.mountPeople()
	s.mountComments(base)
	s.mountRecordPage(base)
	return nil
}

// recordCtx is what every record route resolves first: caller, app, entity and grant.
type recordCtx struct {
	p     *auth.Principal
	app   *defs.App
	slug  string
	grant access.Grant
	// links is the caller's read grant on other entities (relation values may only link
	// records the caller can read).
	links func(ctx context.Context, entity string) (access.Grant, error)
}

// resolveRecordCtx authenticates, loads the app (404 also when the caller cannot open it) and
// the published entity (404) and asks for the caller's grant for action (403 when denied).
func (s *Server) resolveRecordCtx(c *fiber.Ctx, action string) (*recordCtx, error) {
	p, err := auth.Require(c)
	if err != nil {
		return nil, err
	}
	return s.recordAccess(c.UserContext(), p, c.Params("app"), c.Params("entity"), action)
}

// resolveRecordID is resolveRecordCtx for a route of one record: then the record id of the path
// (":id", 404 when it is no UUID), read after the caller's access was checked.
func (s *Server) resolveRecordID(c *fiber.Ctx, action string) (*recordCtx, uuid.UUID, error) {
	rc, err := s.resolveRecordCtx(c, action)
	if err != nil {
		return nil, uuid.Nil, err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return nil, uuid.Nil, err
	}
	return rc, id, nil
}

// recordAccess is resolveRecordCtx for a known caller (the MCP tools use it too): the app (404
// also when the caller cannot open it), the published entity (404) and the caller's grant for
// action (403 when denied).
func (s *Server) recordAccess(ctx context.Context, p *auth.Principal, appSlug, slug, action string) (*recordCtx, error) {
	app, err := s.readableApp(ctx, p, appSlug, problem.NotFound("app not found (应用不存在)"))
	if err != nil {
		return nil, err
	}
	if _, _, err := s.Defs.Entity(ctx, app.ID, slug); errors.Is(err, defs.ErrNotFound) {
		return nil, problem.NotFound("entity not found (实体不存在)")
	} else if err != nil {
		return nil, err
	}
	g, err := s.Authz.Grant(ctx, p.Subject(), app.ID, "entity:"+slug, action)
	if err != nil {
		return nil, fmt.Errorf("checking permission: %w", err)
	}
	if !g.Allowed() {
		return nil, problem.Forbidden("you may not " + action + " " + slug + " records (没有权限)")
	}
	sub := p.Subject()
	links := func(ctx context.Context, entity string) (access.Grant, error) {
		return s.Authz.Grant(ctx, sub, app.ID, "entity:"+entity, "read")
	}
	return &recordCtx{p: p, app: app, slug: slug, grant: g, links: links}, nil
}

func (rc *recordCtx) write(source string) records.WriteOptions {
	return records.WriteOptions{Actor: rc.p.Subject(), Grant: rc.grant, Source: source, LinkGrant: rc.links}
}

// recordError maps store errors to problems.
func recordError(err error) error {
	var dup *records.DuplicateError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, records.ErrNotFound):
		return problem.NotFound("record not found (记录不存在)")
	case errors.Is(err, records.ErrConflict):
		return problem.Conflict("the record was changed by someone else; reload and try again (记录已被他人修改，请刷新后重试)").WithCode("version_conflict")
	case errors.As(err, &dup):
		pr := problem.Conflict("a matching record already exists (已存在重复记录)").WithCode("duplicate")
		if dup.ExistingID != uuid.Nil {
			pr = pr.With("existing_id", dup.ExistingID)
		}
		return pr
	case errors.Is(err, records.ErrReadOnlyField):
		pr := problem.Forbidden(err.Error() + " (只读字段)").WithCode("read_only")
		var ro *records.ReadOnlyError
		if errors.As(err, &ro) {
			// Per field too, like a 422, so a form can mark the fields.
			fes := make([]spec.FieldError, 0, len(ro.Fields))
			for _, f := range ro.Fields {
				fes = append(fes, spec.FieldError{Field: f, Code: "read_only", Message: "the field is read-only for you (该字段对您只读)"})
			}
			pr = pr.With("errors", fes)
		}
		return pr
	case errors.Is(err, records.ErrForbidden):
		return problem.Forbidden("not allowed (没有权限)")
	}
	return err
}

// readValues decodes a JSON object body keeping numbers exact; limit bounds the body size.
func readValues(c *fiber.Ctx, limit int) (map[string]any, error) {
	body := requestBody(c)
	if limit > 0 && len(body) > limit {
		return nil, problem.New(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes (请求体过大)", limit))
	}
	if len(body) > 0 && !IsJSONBody(c) {
		return nil, problem.New(fiber.StatusUnsupportedMediaType, "send the body as application/json (请以 application/json 发送请求体)")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, problem.Validation(specErrors("$", "required", "a JSON object body is required (需要 JSON 对象)"))
	}
	// the usual case, an object, without encoding/json's reflection (the same values); anything
	// else is decoded below, for its error
	if v, err := dynjson.Unmarshal(body, true); err == nil {
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil || v == nil {
		return nil, problem.Validation(specErrors("$", "invalid_json", "the body must be a JSON object of field values (需要 JSON 对象)"))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, problem.Validation(specErrors("$", "invalid_json", "unexpected data after the JSON object"))
	}
	return v, nil
}

func (s *Server) listRecords(c *fiber.Ctx) error {
	rc, err := s.resolveRecordCtx(c, "read")
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", records.DefaultLimit, 1, records.MaxLimit)
	if err != nil {
		return err
	}
	q := records.ListQuery{Sort: c.Query("sort"), Limit: limit, Cursor: c.Query("cursor"), Q: c.Query("q")}
	if f := c.Query("filter"); f != "" {
		q.Filter = json.RawMessage(f)
	}
	page, err := s.Records.List(c.UserContext(), rc.app, rc.slug, q, rc.grant)
	if err != nil {
		return recordError(err)
	}
	if q.Cursor == "" {
		s.ListUses.Note(rc.app.ID, rc.slug, q.Filter, q.Sort) // auto indexes for columns lists are often sorted or filtered by
	}
	if page.Display, err = s.Records.PageDisplay(c.UserContext(), rc.app, rc.slug, page.Items, rc.links); err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) createRecord(c *fiber.Ctx) error {
	rc, err := s.resolveRecordCtx(c, "create")
	if err != nil {
		return err
	}
	values, err := readValues(c, s.Cfg.MaxBody)
	if err != nil {
		return err
	}
	rec, err := s.Records.Create(c.UserContext(), rc.app, rc.slug, values, rc.write("api"))
	if err != nil {
		return recordError(err)
	}
	if rec.Receipt != nil {
		return c.Status(fiber.StatusAccepted).JSON(receiptAnswer(rec.Receipt, rc.p.Locale))
	}
	if rec.Merged {
		return c.Status(fiber.StatusOK).JSON(rec)
	}
	return c.Status(fiber.StatusCreated).JSON(rec)
}

func (s *Server) getRecord(c *fiber.Ctx) error {
	rc, id, err := s.resolveRecordID(c, "read")
	if err != nil {
		return err
	}
	rec, err := s.Records.Get(c.UserContext(), rc.app, rc.slug, id, rc.grant)
	if err != nil {
		return recordError(err)
	}
	if rec.Display, err = s.Records.PageDisplay(c.UserContext(), rc.app, rc.slug, []*records.Record{rec}, rc.links); err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, fmt.Sprintf(`"%d"`, rec.Version))
	return c.JSON(rec)
}

// expectedVersion reads If-Match (a number, optionally quoted or weak) or "version" in the body.
func expectedVersion(c *fiber.Ctx, patch map[string]any) (*int, error) {
	var fromBody *int
	if raw, ok := patch["version"]; ok {
		delete(patch, "version")
		n, err := strconv.Atoi(fmt.Sprint(raw))
		if err != nil || n < 0 {
			return nil, problem.Validation(specErrors("version", "invalid_type", "version must be an integer (版本号应为整数)"))
		}
		fromBody = &n
	}
	if h := strings.TrimSpace(c.Get(fiber.HeaderIfMatch)); h != "" && h != "*" {
		h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
		n, err := strconv.Atoi(h)
		if err != nil || n < 0 {
			return nil, problem.Validation(specErrors("If-Match", "invalid_type", "If-Match must be the record version (an integer) (If-Match 应为记录版本号)"))
		}
		return &n, nil
	}
	return fromBody, nil
}

func (s *Server) updateRecord(c *fiber.Ctx) error {
	rc, id, err := s.resolveRecordID(c, "update")
	if err != nil {
		return err
	}
	patch, err := readValues(c, s.Cfg.MaxBody)
	if err != nil {
		return err
	}
	ver, err := expectedVersion(c, patch)
	if err != nil {
		return err
	}
	rec, err := s.Records.Update(c.UserContext(), rc.app, rc.slug, id, patch, ver, rc.write("api"))
	if err != nil {
		return s.writeScopeError(c, rc, id, "update", err)
	}
	c.Set(fiber.HeaderETag, fmt.Sprintf(`"%d"`, rec.Version))
	return c.JSON(rec)
}

func (s *Server) deleteRecord(c *fiber.Ctx) error {
	rc, id, err := s.resolveRecordID(c, "delete")
	if err != nil {
		return err
	}
	w := rc.write("api")
	if w.IfVersion, err = expectedVersion(c, map[string]any{}); err != nil {
		return err
	}
	if err := s.Records.Delete(c.UserContext(), rc.app, rc.slug, id, w); err != nil {
		return s.writeScopeError(c, rc, id, "delete", err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// writeScopeError maps a failed PATCH or DELETE. A record outside the caller's update (delete)
// scope but inside their read scope is a 403 (they can see it, so "not found" would be a lie);
// one they cannot read either stays a 404 that reveals nothing.
func (s *Server) writeScopeError(c *fiber.Ctx, rc *recordCtx, id uuid.UUID, action string, err error) error {
	if !errors.Is(err, records.ErrNotFound) {
		return recordError(err)
	}
	ctx := c.UserContext()
	rg, gerr := s.Authz.Grant(ctx, rc.p.Subject(), rc.app.ID, "entity:"+rc.slug, "read")
	if gerr != nil {
		return fmt.Errorf("checking permission: %w", gerr)
	}
	if rg.Allowed() {
		if _, gerr := s.Records.Get(ctx, rc.app, rc.slug, id, rg); gerr == nil {
			zh := map[string]string{"update": "修改", "delete": "删除"}[action]
			return problem.Forbidden("you may not " + action + " this record (没有权限" + zh + "此记录)").WithCode("out_of_scope")
		}
	}
	return recordError(err)
}

func (s *Server) recordHistory(c *fiber.Ctx) error {
	rc, id, err := s.resolveRecordID(c, "read")
	if err != nil {
		return err
	}
	evs, err := s.Records.History(c.UserContext(), rc.app, rc.slug, id, rc.grant)
	if err != nil {
		return recordError(err)
	}
	display, err := s.Records.HistoryDisplay(c.UserContext(), rc.app, rc.slug, evs, rc.links)
	if err != nil {
		return err
	}
	for i := range evs {
		if a := evs[i].Actor; a != nil {
			evs[i].ActorName = display[a.String()]
		}
	}
	return c.JSON(fiber.Map{"items": evs, "display": display})
}

// receiptAnswer is the 202 answer of a create that left a pending submission on a record the
// caller may not change (see runtime/records intake.go).
func receiptAnswer(r *events.Receipt, locale string) fiber.Map {
	msg := "提交已收到：已有匹配的记录，您的内容已转交其负责人审核"
	if strings.HasPrefix(locale, "en") {
		msg = "Received: a matching record exists; your values were sent to its owner for review"
	}
	return fiber.Map{"submission_id": r.SubmissionID, "status": r.Status, "message": msg}
}
