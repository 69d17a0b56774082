package api

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/problem"
)

// mountViews registers saved list views, grouped counts and bulk record actions.
func (s *Server) mountViews() error {
	views := "/api/v1/apps/:app/entities/:entity/views"
	s.route(fiber.MethodGet, views, "records", "Saved list views of the entity the caller may see: their own and the shared ones", s.listViews)
	s.route(fiber.MethodPost, views, "records", "Save a list view {name, shared, config:{columns, filter, sort, group}} (201); shared views need design or manage rights on the app", s.createView)
	s.route(fiber.MethodPut, views+"/:id", "records", "Replace a saved view (its owner; shared views: app builders and admins); another user's personal view is 404", s.updateView)
	s.route(fiber.MethodDelete, views+"/:id", "records", "Delete a saved view (same rights as PUT)", s.deleteView)
	s.route(fiber.MethodGet, "/api/v1/apps/:app/entities/:entity/groups", "records",
		"Record counts per value of a field (group=<field>; filter and q as the list): {items:[{value, count}], display}", s.groupRecords)
	s.route(fiber.MethodPost, "/api/v1/apps/:app/entities/:entity/records/bulk", "records",
		"Bulk action on up to 500 records in one request {action: update|owner|delete, ids, values | owner_id}: each row goes through the normal write path in its own savepoint; answers {rows:[{id, status, code, errors}], ok, failed} (200, 207 when some rows failed)", s.bulkRecords)
	return nil
}

// viewAccess resolves the caller's rights on the entity's views (read on the entity first).
func (s *Server) viewAccess(c *fiber.Ctx) (*recordCtx, records.ViewAccess, error) {
	rc, err := s.resolveRecordCtx(c, "read")
	if err != nil {
		return nil, records.ViewAccess{}, err
	}
	a := records.ViewAccess{User: rc.p.UserID, Hidden: rc.grant.Hidden}
	for _, action := range []string{"publish", "manage"} {
		g, err := s.Authz.Grant(c.UserContext(), rc.p.Subject(), rc.app.ID, "app", action)
		if err != nil {
			return nil, a, fmt.Errorf("checking permission: %w", err)
		}
		a.MayShare = a.MayShare || g.Allowed()
	}
	return rc, a, nil
}

// viewError maps view store errors to problems.
func viewError(err error) error {
	switch {
	case errors.Is(err, records.ErrViewNotFound):
		return problem.NotFound("view not found (视图不存在)")
	case errors.Is(err, records.ErrForbidden):
		return problem.Forbidden("only app builders and admins may change shared views (只有应用搭建者和管理员可以修改共享视图)").WithCode("share_forbidden")
	}
	return recordError(err)
}

func (s *Server) listViews(c *fiber.Ctx) error {
	rc, a, err := s.viewAccess(c)
	if err != nil {
		return err
	}
	items, err := s.Records.Views(c.UserContext(), rc.app, rc.slug, a)
	if err != nil {
		return viewError(err)
	}
	return c.JSON(fiber.Map{"items": items, "can_share": a.MayShare})
}

func (s *Server) createView(c *fiber.Ctx) error {
	rc, a, err := s.viewAccess(c)
	if err != nil {
		return err
	}
	var in records.ViewInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	v, err := s.Records.CreateView(c.UserContext(), rc.app, rc.slug, in, a)
	if err != nil {
		return viewError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) updateView(c *fiber.Ctx) error {
	rc, a, err := s.viewAccess(c)
	if err != nil {
		return err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	var in records.ViewInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	v, err := s.Records.UpdateView(c.UserContext(), rc.app, rc.slug, id, in, a)
	if err != nil {
		return viewError(err)
	}
	return c.JSON(v)
}

func (s *Server) deleteView(c *fiber.Ctx) error {
	rc, a, err := s.viewAccess(c)
	if err != nil {
		return err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	if err := s.Records.DeleteView(c.UserContext(), rc.app, rc.slug, id, a); err != nil {
		return viewError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) groupRecords(c *fiber.Ctx) error {
	rc, err := s.resolveRecordCtx(c, "read")
	if err != nil {
		return err
	}
	q := records.ListQuery{Q: c.Query("q")}
	if f := c.Query("filter"); f != "" {
		q.Filter = json.RawMessage(f)
	}
	items, err := s.Records.GroupCounts(c.UserContext(), rc.app, rc.slug, q, c.Query("group"), rc.grant)
	if err != nil {
		return recordError(err)
	}
	// name the user, team and relation values like a list page does
	ent, _, err := s.Defs.Entity(c.UserContext(), rc.app.ID, rc.slug)
	if err != nil {
		return err
	}
	refs := records.NewRefs()
	f := ent.Field(c.Query("group"))
	switch c.Query("group") {
	case "owner_id":
		f = &spec.Field{Key: "owner_id", Type: spec.TypeUser}
	case "team_id":
		f = &spec.Field{Key: "team_id", Type: spec.TypeTeam}
	}
	for _, it := range items {
		refs.Value(f, it.Value)
	}
	display, err := s.Records.Display(c.UserContext(), rc.app, refs, rc.links)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "display": display})
}

func (s *Server) bulkRecords(c *fiber.Ctx) error {
	var req records.BulkRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	action := map[string]string{records.BulkUpdate: "update", records.BulkOwner: "update", records.BulkDelete: "delete"}[req.Action]
	if action == "" {
		return problem.Validation(specErrors("action", "invalid_value", "action must be update, owner or delete (操作须为 update、owner 或 delete)"))
	}
	rc, err := s.resolveRecordCtx(c, action)
	if err != nil {
		return err
	}
	read, err := s.Authz.Grant(c.UserContext(), rc.p.Subject(), rc.app.ID, "entity:"+rc.slug, "read")
	if err != nil {
		return fmt.Errorf("checking permission: %w", err)
	}
	res, err := s.Records.Bulk(c.UserContext(), rc.app, rc.slug, req, read, rc.write("bulk"))
	if err != nil {
		return recordError(err)
	}
	status := fiber.StatusOK
	if res.Failed > 0 {
		status = fiber.StatusMultiStatus
	}
	return c.Status(status).JSON(res)
}
