package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/problem"
)

// mountComments registers a record's comments.
func (s *Server) mountComments(base string) {
	s.route(fiber.MethodGet, base+"/:id/comments", "records", "A record's comments, oldest first (anyone who may read the record)", s.listComments)
	s.route(fiber.MethodPost, base+"/:id/comments", "records", "Comment on a record {body, mentions:[user id]}; each mentioned user is notified and must be able to read the record (else 422, nothing written)", s.addComment)
}

func (s *Server) listComments(c *fiber.Ctx) error {
	rc, id, err := s.resolveRecordID(c, "read")
	if err != nil {
		return err
	}
	items, err := s.Records.Comments(c.UserContext(), rc.app, rc.slug, id, rc.grant)
	if err != nil {
		return recordError(err)
	}
	return c.JSON(fiber.Map{"items": items})
}

// userGrant is another user's read grant on an entity of the app (none when disabled or unknown).
func (s *Server) userGrant(appID uuid.UUID) records.ReaderGrant {
	return func(ctx context.Context, user uuid.UUID, entity string) (access.Grant, error) {
		sub := access.Subject{UserID: user}
		var disabled bool
		if err := s.DB.Pool.QueryRow(ctx, `SELECT team_id, is_admin, disabled FROM users WHERE id = $1`, user).Scan(&sub.TeamID, &sub.IsAdmin, &disabled); err != nil || disabled {
			return access.Grant{Scope: access.ScopeNone}, nil
		}
		return s.Authz.Grant(ctx, sub, appID, "entity:"+entity, "read")
	}
}

func (s *Server) addComment(c *fiber.Ctx) error {
	rc, id, err := s.resolveRecordID(c, "read")
	if err != nil {
		return err
	}
	var body struct {
		Body     string      `json:"body"`
		Mentions []uuid.UUID `json:"mentions"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	body.Body = strings.TrimSpace(body.Body)
	if body.Body == "" {
		return problem.Validation(specErrors("body", "required", "write a comment / 请填写评论内容"))
	}
	if len([]rune(body.Body)) > 5000 || len(body.Mentions) > 20 {
		return problem.Validation(specErrors("body", "too_long", "a comment is at most 5000 characters with 20 mentions / 评论最多 5000 个字符、提及 20 人"))
	}
	cm, err := s.Records.AddComment(c.UserContext(), rc.app, rc.slug, id, rc.grant, rc.p.Subject(), cmp.Or(rc.p.Name, rc.p.Email), body.Body, body.Mentions, s.userGrant(rc.app.ID))
	var me *records.MentionError
	if errors.As(err, &me) {
		names := strings.Join(me.Names, ", ")
		return problem.Validation(spec.Errors{{Field: "mentions", Code: "cannot_read",
			Message: fmt.Sprintf("%s may not read this record, so they cannot be mentioned / %s 无权查看此记录，不能提及", names, strings.Join(me.Names, "、"))}})
	}
	if err != nil {
		return recordError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(cm)
}
