package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/server/problem"
)

// mountRecordPage registers what the record page reads besides the record: its related records
// and its stage bar.
func (s *Server) mountRecordPage(base string) {
	s.route(fiber.MethodGet, base+"/:id/related", "records", "Relations of a record in both directions, each with the list filter of its related records and their count (only entities and records the caller may read)", s.recordRelated)
	s.route(fiber.MethodGet, base+"/:id/stages", "records", "Stage bar of a record: for every stage whether its gates would let the record move there now, with the gate's message (lang=en|zh-CN)", s.recordStages)
}

func (s *Server) recordRelated(c *fiber.Ctx) error {
	rc, id, err := s.resolveRecordID(c, "read")
	if err != nil {
		return err
	}
	panels, err := s.Records.Related(c.UserContext(), rc.app, rc.slug, id, rc.grant, rc.links)
	if err != nil {
		return recordError(err)
	}
	return c.JSON(fiber.Map{"items": panels})
}

func (s *Server) recordStages(c *fiber.Ctx) error {
	rc, id, err := s.resolveRecordID(c, "read")
	if err != nil {
		return err
	}
	ent, _, err := s.Defs.Entity(c.UserContext(), rc.app.ID, rc.slug)
	if err != nil {
		return err
	}
	if ent.Stages == nil || ent.Stages.Field == "" || rc.grant.Hidden[ent.Stages.Field] {
		return problem.NotFound("this entity has no stages (该实体没有阶段)")
	}
	locale := rc.p.Locale
	if l := c.Query("lang"); l != "" {
		locale = l
	} else if locale == "" {
		locale = pageLocale(c)
	}
	checks, err := s.Records.StageChecks(c.UserContext(), rc.app, rc.slug, id, rc.grant, locale)
	if err != nil {
		return recordError(err)
	}
	// whether the caller may move this record at all (update scope, stage field writable)
	upd, err := s.Authz.Grant(c.UserContext(), rc.p.Subject(), rc.app.ID, "entity:"+rc.slug, "update")
	if err != nil {
		return err
	}
	editable := upd.Allowed() && !upd.ReadOnly[ent.Stages.Field] && !upd.Hidden[ent.Stages.Field]
	if editable {
		if _, err := s.Records.Get(c.UserContext(), rc.app, rc.slug, id, upd); err != nil {
			editable = false
		}
	}
	return c.JSON(fiber.Map{"field": ent.Stages.Field, "editable": editable, "stages": checks})
}
