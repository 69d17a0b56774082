package trigger

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/ratelimit"
)

// Limits are the intake rate limits: per webhook key and per app (webhooks and manual runs).
// Nil limiters allow everything.
type Limits struct {
	Webhook *ratelimit.Limiter
	App     *ratelimit.Limiter
	// Backlog is the queued work over which intake is refused (engine.OverloadedFor; 0: off).
	Backlog time.Duration
}

// RateLimitedError answers an intake over its rate limit; RetryAfter is when a call would pass.
type RateLimitedError struct {
	Scope      string // "webhook", "app" or "backlog"
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	if e.Scope == "backlog" {
		return fmt.Sprintf("too many runs are queued; retry in %s (排队的流程运行过多，请 %s 后重试)", e.wait(), e.wait())
	}
	if e.Scope == "webhook" {
		return fmt.Sprintf("too many calls of this webhook; retry in %s (此 webhook 调用过于频繁，请 %s 后重试)", e.wait(), e.wait())
	}
	return fmt.Sprintf("too many runs started in this app; retry in %s (此应用启动流程过于频繁，请 %s 后重试)", e.wait(), e.wait())
}

func (e *RateLimitedError) wait() time.Duration {
	return max(time.Second, e.RetryAfter.Round(time.Second))
}

// AllowRun takes a token of app's run-start limit (manual runs call it; webhooks also take one
// of their own key's).
func (s *Service) AllowRun(app uuid.UUID) error {
	if s.Engine != nil {
		if wait, over := s.Engine.OverloadedFor(s.Limits.Backlog); over {
			return &RateLimitedError{Scope: "backlog", RetryAfter: wait}
		}
	}
	if ok, wait := s.Limits.App.Allow(app.String()); !ok {
		return &RateLimitedError{Scope: "app", RetryAfter: wait}
	}
	return nil
}

func (s *Service) allowWebhook(app uuid.UUID, key string) error {
	if ok, wait := s.Limits.Webhook.Allow(key); !ok {
		return &RateLimitedError{Scope: "webhook", RetryAfter: wait}
	}
	return s.AllowRun(app)
}
