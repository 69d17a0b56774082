package api

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/runtime/notify"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// mountNotifications registers the in-app notification routes (the caller's own only).
func (s *Server) mountNotifications() error {
	s.route("GET", "/api/v1/notifications", "notifications", "My notifications, newest first (unread=true, limit, cursor), with unread_count.", s.listNotifications)
	s.route("POST", "/api/v1/notifications/read-all", "notifications", "Mark all my notifications read; answers {updated}.", s.readAllNotifications)
	s.route("POST", "/api/v1/notifications/:id/read", "notifications", "Mark one of my notifications read.", s.readNotification)
	return nil
}

func (s *Server) listNotifications(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	o := notify.ListOptions{Limit: limit, Cursor: c.Query("cursor")}
	switch c.Query("unread") {
	case "", "false", "0":
	case "true", "1":
		o.Unread = true
	default:
		return problem.Validation(specErrors("unread", "invalid", "unread must be true or false"))
	}
	page, err := notify.List(c.UserContext(), s.DB.Pool, p.UserID, o)
	if errors.Is(err, notify.ErrBadCursor) {
		return problem.Validation(specErrors("cursor", "invalid", "invalid cursor"))
	}
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) readNotification(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	n, err := notify.MarkRead(c.UserContext(), s.DB.Pool, p.UserID, id)
	if errors.Is(err, notify.ErrNotFound) {
		return problem.NotFound("notification not found / 通知不存在")
	}
	if err != nil {
		return err
	}
	return c.JSON(n)
}

func (s *Server) readAllNotifications(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	n, err := notify.MarkAllRead(c.UserContext(), s.DB.Pool, p.UserID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"updated": n, "unread_count": 0})
}
