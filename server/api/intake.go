package api

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/problem"
)

// mountIntake registers the review of pending submissions: values an anonymous caller (or a
// writer without rights on the record) submitted for an existing record, kept for its owner
// (see runtime/records intake.go).
func (s *Server) mountIntake() {
	base := "/api/v1/apps/:app/entities/:entity/records/:id/intake"
	s.route(fiber.MethodGet, base, "records",
		"Pending submissions on a record: {items:[{id, status, source, values, changes:{field:[current, submitted]}, created_at}]} (read rights on the record).", s.listIntake)
	s.route(fiber.MethodPost, base+"/:submission/accept", "records",
		"Accept a pending submission: its values are applied as an update by the caller (update rights; optional {\"fields\":[...]} limits them); answers the record. 409 already_decided.", s.acceptIntake)
	s.route(fiber.MethodPost, base+"/:submission/dismiss", "records",
		"Dismiss a pending submission (update rights on the record); the record is not changed. 409 already_decided.", s.dismissIntake)
}

func (s *Server) listIntake(c *fiber.Ctx) error {
	rc, id, err := s.resolveRecordID(c, "read")
	if err != nil {
		return err
	}
	items, err := s.Records.Intake(c.UserContext(), rc.app, rc.slug, id, rc.grant)
	if err != nil {
		return recordError(err)
	}
	return c.JSON(fiber.Map{"items": items})
}

// intakeError maps a failed decision: an already decided submission is a 409; a record the
// caller may read but not update a 403 (writeScopeError); anything unreadable a 404.
func (s *Server) intakeError(c *fiber.Ctx, rc *recordCtx, err error) error {
	if errors.Is(err, records.ErrIntakeDecided) {
		return problem.Conflict("this submission was already accepted or dismissed (该提交已被处理)").WithCode("already_decided")
	}
	if errors.Is(err, records.ErrIntakeNotFound) {
		return problem.NotFound("submission not found (提交不存在)")
	}
	id, _ := paramUUID(c, "id")
	return s.writeScopeError(c, rc, id, "update", err)
}

// decisionCtx resolves a decision on a submission: the caller's update grant, the record id
// and the submission id.
func (s *Server) decisionCtx(c *fiber.Ctx) (*recordCtx, uuid.UUID, uuid.UUID, error) {
	rc, id, err := s.resolveRecordID(c, "update")
	if err != nil {
		return nil, uuid.Nil, uuid.Nil, err
	}
	sub, err := paramUUID(c, "submission")
	return rc, id, sub, err
}

func (s *Server) acceptIntake(c *fiber.Ctx) error {
	rc, id, sub, err := s.decisionCtx(c)
	if err != nil {
		return err
	}
	var body struct {
		Fields []string `json:"fields"`
	}
	if len(c.Body()) > 0 {
		if err := bindJSON(c, &body); err != nil {
			return err
		}
	}
	rec, err := s.Records.AcceptIntake(c.UserContext(), rc.app, rc.slug, id, sub, body.Fields, rc.write("intake"))
	if err != nil {
		return s.intakeError(c, rc, err)
	}
	return c.JSON(rec)
}

func (s *Server) dismissIntake(c *fiber.Ctx) error {
	rc, id, sub, err := s.decisionCtx(c)
	if err != nil {
		return err
	}
	if err := s.Records.DismissIntake(c.UserContext(), rc.app, rc.slug, id, sub, rc.write("intake")); err != nil {
		return s.intakeError(c, rc, err)
	}
	return c.JSON(fiber.Map{"id": sub, "status": records.IntakeDismissed})
}
