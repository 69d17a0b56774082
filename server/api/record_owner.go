package api

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/tessera/tessera/server/problem"
)

// mountRecordOwner registers the owner hand-over of a record (lead assignment by a manager).
func (s *Server) mountRecordOwner() {
	s.route(fiber.MethodPut, "/api/v1/apps/:app/entities/:entity/records/:id/owner", "records",
		`Hand a record over to another user: {"owner_id":"<user id>"}; the record's team becomes the user's team. Needs update rights on the record (its row scope); answers the record.`,
		s.setRecordOwner)
}

func (s *Server) setRecordOwner(c *fiber.Ctx) error {
	rc, id, err := s.resolveRecordID(c, "update")
	if err != nil {
		return err
	}
	body, err := readValues(c, 4<<10)
	if err != nil {
		return err
	}
	raw, _ := body["owner_id"].(string)
	owner, perr := uuid.Parse(raw)
	if perr != nil || len(body) != 1 {
		return problem.Validation(specErrors("owner_id", "invalid", `send {"owner_id":"<user id>"} (请提供 owner_id：用户 ID)`))
	}
	rec, err := s.Records.SetOwner(c.UserContext(), rc.app, rc.slug, id, owner, rc.write("api"))
	if err != nil {
		return s.writeScopeError(c, rc, id, "update", err)
	}
	c.Set(fiber.HeaderETag, fmt.Sprintf(`"%d"`, rec.Version))
	return c.JSON(rec)
}
