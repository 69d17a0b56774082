package auth

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera/tessera/runtime/db"
)

// Resolved tokens are cached (#18: a request's token look-up was a database round trip of its
// own) while a listener follows AuthNotifyChannel, on which a trigger (migration 00151)
// announces every change that can end or alter an identity: a session or API token deleted, a
// token's expiry or owner changed, a user changed or deleted. Each announcement, and each
// (re)connection of the listener, drops the whole cache; while the listener is down nothing is
// cached. A value read from the database is stored only when no announcement came in between,
// so a revocation is never hidden by a read that raced with it. This process's own logout,
// revocation and user changes drop the cache at once (ForgetPrincipals), before they answer.

// AuthNotifyChannel is where identity changes are announced.
const AuthNotifyChannel = "tessera_auth"

// principalTTL bounds how long a resolved token is trusted without a new look-up.
const principalTTL = time.Minute

type principalKey struct {
	hash   string
	cookie bool // a session cookie (answers the CSRF token) rather than a bearer
}

type cachedPrincipal struct {
	p     Principal
	until time.Time
}

type principalCache struct {
	mu   sync.RWMutex
	gen  atomic.Int64
	live atomic.Bool
	m    map[principalKey]cachedPrincipal
}

// get answers a copy of the cached principal for k, if any and still valid at now.
func (c *principalCache) get(k principalKey, now time.Time) (*Principal, bool) {
	if !c.live.Load() {
		return nil, false
	}
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || !now.Before(v.until) {
		return nil, false
	}
	p := v.p
	return &p, true
}

// put stores p (read at generation gen) until the earlier of expires and the TTL, unless the
// cache was dropped since.
func (c *principalCache) put(k principalKey, p *Principal, expires *time.Time, gen int64, now time.Time) {
	if !c.live.Load() {
		return
	}
	until := now.Add(principalTTL)
	if expires != nil && expires.Before(until) {
		until = *expires
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if c.m == nil || len(c.m) > 50000 {
		c.m = map[principalKey]cachedPrincipal{}
	}
	c.m[k] = cachedPrincipal{p: *p, until: until}
}

func (c *principalCache) drop() {
	c.mu.Lock()
	c.gen.Add(1)
	c.m = nil
	c.mu.Unlock()
}

// ForgetPrincipals drops every cached token resolution of this process (call after changing
// sessions, tokens or users; other replicas hear of it through AuthNotifyChannel).
func (s *Service) ForgetPrincipals() { s.cache.drop() }

// CachingPrincipals reports whether the listener is up (resolved tokens are cached).
func (s *Service) CachingPrincipals() bool { return s.cache.live.Load() }

// ListenPrincipals keeps the token cache in step with AuthNotifyChannel until ctx ends (call
// once per service); without it nothing is cached.
func (s *Service) ListenPrincipals(ctx context.Context, log *slog.Logger) {
	db.Follow(ctx, s.Pool, AuthNotifyChannel, "auth: identity change listener", s.cache.drop, &s.cache.live, log)
}
