package api

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokenBody struct {
	Name      string `json:"name"`
	ExpiresIn int    `json:"expires_in_days,omitempty"`
}

func (s *Server) mountAuth() error {
	s.route("POST", "/api/v1/auth/login", "auth", "Log in with email and password; returns a bearer token and sets a session cookie.", s.login)
	s.route("POST", "/api/v1/auth/logout", "auth", "End the current session.", s.logout)
	s.route("GET", "/api/v1/me", "auth", "The current user.", func(c *fiber.Ctx) error {
		p, err := auth.Require(c)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"user": p, "id": p.UserID, "email": p.Email, "name": p.Name, "is_admin": p.IsAdmin, "csrf_token": p.CSRF})
	})
	s.route("POST", "/api/v1/me/tokens", "auth", "Create a personal API token (shown once).", s.createToken)
	s.route("GET", "/api/v1/me/tokens", "auth", "List my API tokens (without their secrets).", func(c *fiber.Ctx) error {
		p, err := auth.Require(c)
		if err != nil {
			return err
		}
		items, err := s.Auth.ListTokens(c.UserContext(), p.UserID)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": items})
	})
	s.route("DELETE", "/api/v1/me/tokens/:id", "auth", "Revoke one of my API tokens.", func(c *fiber.Ctx) error {
		p, err := auth.Require(c)
		if err != nil {
			return err
		}
		id, err := paramUUID(c, "id")
		if err != nil {
			return err
		}
		ok, err := s.Auth.RevokeToken(c.UserContext(), p.UserID, id)
		if err != nil {
			return err
		}
		if !ok {
			return problem.NotFound("token not found (令牌不存在)")
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
	return nil
}

func (s *Server) login(c *fiber.Ctx) error {
	var b loginBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	var errs spec.Errors
	if b.Email == "" {
		errs.Add("email", "required", "email is required (请填写邮箱)")
	} else if !utf8.ValidString(b.Email) || strings.ContainsRune(b.Email, 0) || len(b.Email) > 320 {
		errs.Add("email", "invalid", "email is not a valid address (邮箱格式不正确)")
	}
	if b.Password == "" {
		errs.Add("password", "required", "password is required (请填写密码)")
	}
	if len(errs) > 0 {
		return problem.Validation(errs)
	}
	token, csrf, p, err := s.Auth.Login(c.UserContext(), auth.ClientIP(c), b.Email, b.Password)
	var limited *auth.RateLimited
	switch {
	case errors.As(err, &limited):
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(limited.Wait.Seconds()))))
		return problem.New(429, err.Error()).WithCode("rate_limited")
	case errors.Is(err, auth.ErrRateLimited):
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(s.Auth.LoginRetryAfter().Seconds()))))
		return problem.New(429, err.Error())
	case errors.Is(err, auth.ErrBadCredentials):
		return problem.Unauthorized(err.Error()).WithCode("bad_credentials")
	case err != nil:
		return err
	}
	exp := time.Now().Add(s.Cfg.SessionTTL)
	c.Cookie(&fiber.Cookie{Name: auth.SessionCookie, Value: token, Path: "/", Expires: exp, HTTPOnly: true, SameSite: "Lax", Secure: s.Cfg.SecureCookies})
	c.Cookie(&fiber.Cookie{Name: auth.CSRFCookie, Value: csrf, Path: "/", Expires: exp, SameSite: "Strict", Secure: s.Cfg.SecureCookies})
	return c.JSON(fiber.Map{"token": token, "csrf_token": csrf, "user": p})
}

func (s *Server) logout(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	if p.SessionID != "" {
		if err := s.Auth.Logout(c.UserContext(), p.SessionID); err != nil {
			return err
		}
	}
	c.ClearCookie(auth.SessionCookie, auth.CSRFCookie)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) createToken(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	var b tokenBody
	if len(c.Body()) > 0 {
		if err := bindJSON(c, &b); err != nil {
			return err
		}
	}
	if len(b.Name) > 100 {
		return problem.Validation(specErrors("name", "too_long", "name must have at most 100 characters (名称最多 100 个字符)"))
	}
	if !plainText(b.Name) { // NUL cannot be stored (it was a 500); control characters garble lists
		return problem.Validation(specErrors("name", "invalid", "the name contains invalid characters (名称包含无效字符)"))
	}
	if b.ExpiresIn < 0 || b.ExpiresIn > 3650 {
		return problem.Validation(specErrors("expires_in_days", "out_of_range", "expires_in_days must be from 0 (never) to 3650 (有效天数须在 0 到 3650 之间，0 表示永不过期)"))
	}
	id, tok, err := s.Auth.CreateToken(c.UserContext(), p.UserID, b.Name, time.Duration(b.ExpiresIn)*24*time.Hour)
	if err != nil {
		return err
	}
	return c.Status(201).JSON(fiber.Map{"id": id, "token": tok, "name": b.Name})
}
