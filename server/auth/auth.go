// Package auth authenticates requests: argon2id passwords, sessions stored in PostgreSQL, API
// tokens, CSRF protection for cookie sessions, login rate limiting and the public allow-list.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/server/problem"
)

// Cookie and header names.
const (
	SessionCookie = "tessera_session"
	CSRFCookie    = "tessera_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID    uuid.UUID  `json:"id"`
	Email     string     `json:"email"`
	Name      string     `json:"name"`
	IsAdmin   bool       `json:"is_admin"`
	TeamID    *uuid.UUID `json:"team_id"`
	Locale    string     `json:"locale"`
	Via       string     `json:"-"` // session | token
	SessionID string     `json:"-"`
	CSRF      string     `json:"-"`
}

// Subject converts the principal to the identity permission checks use.
func (p *Principal) Subject() access.Subject {
	return access.Subject{UserID: p.UserID, TeamID: p.TeamID, IsAdmin: p.IsAdmin}
}

// Service issues and checks credentials.
type Service struct {
	Pool       *pgxpool.Pool
	SessionTTL time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client
	// (TESSERA_TRUSTED_PROXIES); from any other peer the header is ignored.
	TrustedProxies []netip.Prefix
	limiter        *loginLimiter // failures per client address and email
	ipLimiter      *loginLimiter // failures per client address, whatever the email
	// touched is when this process last stored a token's last_used_at (token hash -> time):
	// the column is minute-grained, so a token's requests within a minute write nothing.
	touched sync.Map
	// cache holds resolved tokens while ListenPrincipals runs (cache.go)
	cache principalCache
}

// NewService returns an auth service on pool.
func NewService(pool *pgxpool.Pool, ttl time.Duration) *Service {
	// 10 failures per client and email within a minute lock that pair for the rest of the minute:
	// guessing stays impractically slow without locking the real user out for long.
	// 30 failures from one client address within 10 minutes, whatever the emails, lock the
	// address for the rest of that window: password spraying (one common password tried on
	// many accounts) stays slow, an office behind one NAT address keeps room for typos.
	return &Service{Pool: pool, SessionTTL: ttl, limiter: newLoginLimiter(10, time.Minute), ipLimiter: newLoginLimiter(LoginFailuresPerIP, 10*time.Minute)}
}

// ErrBadCredentials is returned for an unknown email, a wrong password or a disabled user.
var ErrBadCredentials = errors.New("invalid email or password (邮箱或密码错误)")

// ErrRateLimited is returned when too many failed logins came from one client for one email,
// or from one client address for any emails (wrapped in a *RateLimited).
var ErrRateLimited = errors.New("too many failed login attempts; try again later (登录失败次数过多，请稍后再试)")

// LoginFailuresPerIP is how many failed logins one client address may make within 10 minutes.
const LoginFailuresPerIP = 30

// RateLimited is a refused login with how long the client has to wait (the Retry-After).
type RateLimited struct {
	Wait  time.Duration
	PerIP bool
}

func (e *RateLimited) Error() string {
	if e.PerIP {
		return "too many failed logins from this address; try again later (此地址登录失败次数过多，请稍后再试)"
	}
	return ErrRateLimited.Error()
}

func (e *RateLimited) Unwrap() error { return ErrRateLimited }

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

const principalCols = `u.id, u.email, u.name, u.is_admin, u.team_id, u.locale`

func scanPrincipal(row pgx.Row, p *Principal, extra ...any) error {
	return row.Scan(append([]any{&p.UserID, &p.Email, &p.Name, &p.IsAdmin, &p.TeamID, &p.Locale}, extra...)...)
}

// Login checks the credentials and opens a session. It returns the session token (usable as a
// cookie value and as a bearer token), the CSRF token and the principal. Every successful login
// and every refused one (wrong password, unknown email, disabled user) writes an audit_log row
// (action auth.login / auth.login_failed, target user:<id> or email:<address>) with the client
// address and, when refused, the reason; a refused login has no actor. Passwords are never logged.
// Rate-limited attempts are not logged one by one: the failures that led to the limit are.
func (s *Service) Login(ctx context.Context, clientIP, email, password string) (token, csrf string, p *Principal, err error) {
	key := clientIP + "|" + strings.ToLower(strings.TrimSpace(email))
	if wait := s.ipLimiter.wait(clientIP); wait > 0 {
		return "", "", nil, &RateLimited{Wait: wait, PerIP: true}
	}
	if wait := s.limiter.wait(key); wait > 0 {
		return "", "", nil, &RateLimited{Wait: wait}
	}
	p = &Principal{}
	var hash string
	var disabled bool
	err = scanPrincipal(s.Pool.QueryRow(ctx, `SELECT `+principalCols+`, u.password_hash, u.disabled FROM users u WHERE lower(u.email) = lower($1)`, strings.TrimSpace(email)), p, &hash, &disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		CheckPassword(dummyHash, password) // same cost as a real check: no user enumeration by timing
		s.limiter.fail(key)
		s.ipLimiter.fail(clientIP)
		if err := s.auditLogin(ctx, s.Pool, uuid.Nil, "auth.login_failed", loginTarget(uuid.Nil, email), clientIP, "unknown_email"); err != nil {
			return "", "", nil, err
		}
		return "", "", nil, ErrBadCredentials
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("login: loading user: %w", err)
	}
	if !CheckPassword(hash, password) || disabled {
		s.limiter.fail(key)
		s.ipLimiter.fail(clientIP)
		reason := "bad_password"
		if disabled {
			reason = "disabled"
		}
		// The actor stays empty: whoever typed the password is not known to be the user.
		if err := s.auditLogin(ctx, s.Pool, uuid.Nil, "auth.login_failed", loginTarget(p.UserID, email), clientIP, reason); err != nil {
			return "", "", nil, err
		}
		return "", "", nil, ErrBadCredentials
	}
	s.limiter.reset(key)
	token, csrf = randomToken(32), randomToken(24)
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)`,
			hashToken(token), p.UserID, csrf, time.Now().Add(s.SessionTTL)); err != nil {
			return fmt.Errorf("login: storing session: %w", err)
		}
		return s.auditLogin(ctx, tx, p.UserID, "auth.login", loginTarget(p.UserID, email), clientIP, "")
	})
	if err != nil {
		return "", "", nil, err
	}
	p.Via, p.SessionID, p.CSRF = "session", hashToken(token), csrf
	return token, csrf, p, nil
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// loginTarget names the account a login tried: the user when the email matched one, else the
// email as typed (trimmed, lower-cased, at most 320 bytes).
func loginTarget(user uuid.UUID, email string) string {
	if user != uuid.Nil {
		return "user:" + user.String()
	}
	e := strings.ToLower(strings.TrimSpace(email))
	if len(e) > 320 {
		e = e[:320]
	}
	return "email:" + strings.ToValidUTF8(e, "")
}

// auditLogin writes one audit_log row for a login attempt.
func (s *Service) auditLogin(ctx context.Context, db execer, actor uuid.UUID, action, target, clientIP, reason string) error {
	after := map[string]string{}
	if clientIP != "" {
		after["ip"] = clientIP
	}
	if reason != "" {
		after["reason"] = reason
	}
	return audit(ctx, db, actor, action, target, after)
}

// audit writes one audit_log row (actor NULL for uuid.Nil); after is stored as JSON.
func audit(ctx context.Context, db execer, actor uuid.UUID, action, target string, after map[string]string) error {
	var actorArg any
	if actor != uuid.Nil {
		actorArg = actor
	}
	if _, err := db.Exec(ctx, `INSERT INTO audit_log (actor, action, target, after) VALUES ($1, $2, $3, $4)`,
		actorArg, action, target, after); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

var dummyHash, _ = HashPassword("not-a-real-password")

// LoginRetryAfter is how long a client locked out by ErrRateLimited for one email waits at most:
// the limiter's window. A *RateLimited error carries the exact wait.
func (s *Service) LoginRetryAfter() time.Duration { return s.limiter.window }

// Logout deletes the session.
func (s *Service) Logout(ctx context.Context, sessionID string) error {
	_, err := s.Pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, sessionID)
	s.ForgetPrincipals()
	return err
}

// CreateToken issues a long-lived API token for user. The plain token is returned once; the
// creation is audited (auth.token_create, never the secret).
func (s *Service) CreateToken(ctx context.Context, user uuid.UUID, name string, ttl time.Duration) (id uuid.UUID, token string, err error) {
	token = "tsr_" + randomToken(32)
	var expires *time.Time
	if ttl > 0 {
		t := time.Now().Add(ttl)
		expires = &t
	}
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			user, name, hashToken(token), expires).Scan(&id); err != nil {
			return err
		}
		exp := "never"
		if expires != nil {
			exp = expires.UTC().Format(time.RFC3339)
		}
		return audit(ctx, tx, user, "auth.token_create", "token:"+id.String(), map[string]string{"name": name, "expires_at": exp})
	})
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("creating API token: %w", err)
	}
	return id, token, nil
}

// Token is a personal API token as listed to its owner (never the secret).
type Token struct {
	ID         uuid.UUID  `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
}

// ListTokens lists a user's API tokens.
func (s *Service) ListTokens(ctx context.Context, user uuid.UUID) ([]Token, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC`, user)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Token])
}

// RevokeToken deletes one of a user's API tokens (audited as auth.token_revoke); false when
// the user has no such token.
func (s *Service) RevokeToken(ctx context.Context, user, id uuid.UUID) (bool, error) {
	var ok bool
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM api_tokens WHERE id = $1 AND user_id = $2`, id, user)
		if err != nil {
			return err
		}
		if ok = tag.RowsAffected() == 1; !ok {
			return nil
		}
		return audit(ctx, tx, user, "auth.token_revoke", "token:"+id.String(), nil)
	})
	s.ForgetPrincipals()
	if err != nil {
		return false, fmt.Errorf("revoking token: %w", err)
	}
	return ok, nil
}

// FromBearer resolves an API token or a session token.
func (s *Service) FromBearer(ctx context.Context, token string) (*Principal, error) {
	h := hashToken(token)
	now := time.Now()
	k := principalKey{hash: h}
	p, ok := s.cache.get(k, now)
	if !ok {
		gen := s.cache.gen.Load()
		p = &Principal{}
		// one round trip for both kinds of bearer: an API token, or a session token (what the
		// UI's login answers) presented as bearer (#18: a request used to look in api_tokens,
		// miss, and look again in sessions)
		var session bool
		var expires *time.Time
		err := scanPrincipal(s.Pool.QueryRow(ctx, `SELECT `+principalCols+`, false, t.expires_at FROM api_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.token_hash = $1 AND NOT u.disabled AND (t.expires_at IS NULL OR t.expires_at > now())
			UNION ALL
			SELECT `+principalCols+`, true, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.id = $1 AND s.expires_at > now() AND NOT u.disabled
			LIMIT 1`, h), p, &session, &expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		p.Via = "token" // a session token presented as bearer needs no CSRF token either
		if session {
			p.SessionID = h
		}
		s.cache.put(k, p, expires, gen, now)
	}
	if p.SessionID != "" {
		return p, nil
	}
	if last, ok := s.touched.Load(h); !ok || now.Sub(last.(time.Time)) > time.Minute {
		s.touched.Store(h, now)
		_, _ = s.Pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = now() WHERE token_hash = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, h)
	}
	return p, nil
}

// FromSession resolves a session cookie value; nil when unknown or expired.
func (s *Service) FromSession(ctx context.Context, token string) (*Principal, error) {
	h := hashToken(token)
	now := time.Now()
	k := principalKey{hash: h, cookie: true}
	if p, ok := s.cache.get(k, now); ok {
		return p, nil
	}
	gen := s.cache.gen.Load()
	p := &Principal{}
	var expires time.Time
	err := scanPrincipal(s.Pool.QueryRow(ctx, `SELECT `+principalCols+`, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.expires_at > now() AND NOT u.disabled`, h), p, &p.CSRF, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.Via, p.SessionID = "session", h
	s.cache.put(k, p, &expires, gen, now)
	return p, nil
}

// EnsureAdmin creates the first admin when no user with that email exists and reports whether
// it did; a password ValidatePassword refuses is an error then (the server does not start). Concurrent starts of several replicas are race-free (an advisory transaction lock
// plus the unique email index).
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (bool, error) {
	if email == "" || password == "" {
		return false, nil
	}
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("creating first admin: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7355608)`); err != nil {
		return false, fmt.Errorf("creating first admin: lock: %w", err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))`, strings.TrimSpace(email)).Scan(&exists); err != nil {
		return false, fmt.Errorf("creating first admin: %w", err)
	}
	if exists {
		return false, nil
	}
	if err := ValidatePassword(password, email); err != nil {
		return false, fmt.Errorf("TESSERA_ADMIN_PASSWORD is refused / TESSERA_ADMIN_PASSWORD 不可用: %w", err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return false, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO users (email, name, password_hash, is_admin) VALUES ($1, $2, $3, true)
		ON CONFLICT (lower(email)) DO NOTHING`, strings.TrimSpace(email), "Administrator", hash)
	if err != nil {
		return false, fmt.Errorf("creating first admin: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("creating first admin: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ---- middleware ----

// The explicit allow-list of paths served without credentials. Everything else, including
// unknown paths and odd encodings such as %2f, needs a session or a token.
var (
	publicAPI  = regexp.MustCompile(`^/api/v1/(openapi\.json|auth/login|public/forms/[A-Za-z0-9_-]+(/submit|/visibility|/uploads|/lookup/[A-Za-z0-9_]+)?)$`)
	publicHook = regexp.MustCompile(`^/hooks/[A-Za-z0-9_.-]+$`)
	publicPage = regexp.MustCompile(`^/(healthz|readyz|metrics|f/[A-Za-z0-9_-]+)$`)
	// E-mail tracking links: a signed token that can only add one activity to one record.
	publicTrack = regexp.MustCompile(`^/t/[A-Za-z0-9_-]{16,600}\.[A-Za-z0-9_-]{24}$`)
	// The single-page UI shell and its assets carry no data.
	publicUI = regexp.MustCompile(`^/((assets|locales)/[A-Za-z0-9_./-]+|[A-Za-z0-9_.-]*|(login|apps|admin|tasks|builder|settings|me|records|runs|forms|reports|dashboards)(/[A-Za-z0-9_.~-]+)*/?)$`)
)

// IsPublic reports whether path is on the public allow-list.
func IsPublic(path string) bool {
	switch {
	case strings.Contains(path, ".."):
		return false
	case path == "/mcp" || strings.HasPrefix(path, "/mcp/"):
		return false // the MCP server (API tokens only)
	case path == "/api" || strings.HasPrefix(path, "/api/"):
		return publicAPI.MatchString(path)
	case path == "/hooks" || strings.HasPrefix(path, "/hooks/"):
		return publicHook.MatchString(path)
	case strings.HasPrefix(path, "/t/"):
		return publicTrack.MatchString(path)
	default:
		return publicPage.MatchString(path) || publicUI.MatchString(path)
	}
}

// IsWebhook reports whether path is a public webhook (POST /hooks/{key}).
func IsWebhook(path string) bool {
	return !strings.Contains(path, "..") && publicHook.MatchString(path)
}

const localsKey = "tessera.principal"

// Middleware authenticates every request; non-public paths without valid credentials get 401,
// cookie-authenticated unsafe requests without the CSRF header get 403.
func (s *Service) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(clientIPKey, clientIP(c, s.TrustedProxies))
		if IsWebhook(c.Path()) {
			// A webhook's own secret (HMAC signature) decides; a caller's Authorization header
			// (a provider's own bearer token) or cookie is not ours to check.
			return c.Next()
		}
		p, err := s.resolve(c)
		if err != nil {
			return err
		}
		if p != nil {
			c.Locals(localsKey, p)
		}
		if IsPublic(c.Path()) {
			return c.Next()
		}
		if p == nil {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="tessera"`)
			return problem.Unauthorized("authentication required: log in or send Authorization: Bearer <token> (请先登录)")
		}
		if p.Via == "session" && !safeMethod(c.Method()) {
			if h := c.Get(CSRFHeader); h == "" || h != p.CSRF {
				return problem.Forbidden("missing or wrong " + CSRFHeader + " header for a cookie session (缺少或错误的 " + CSRFHeader + " 请求头)").WithCode("csrf")
			}
		}
		return c.Next()
	}
}

func (s *Service) resolve(c *fiber.Ctx) (*Principal, error) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return nil, problem.Unauthorized("the Authorization header must be 'Bearer <token>' (Authorization 请求头格式应为 Bearer <token>)")
		}
		p, err := s.FromBearer(c.UserContext(), strings.TrimSpace(tok))
		if err != nil {
			return nil, fmt.Errorf("authenticating bearer token: %w", err)
		}
		if p == nil {
			return nil, problem.Unauthorized("the token is invalid or expired (令牌无效或已过期)")
		}
		return p, nil
	}
	if v := c.Cookies(SessionCookie); v != "" {
		p, err := s.FromSession(c.UserContext(), v)
		if err != nil {
			return nil, fmt.Errorf("authenticating session: %w", err)
		}
		return p, nil
	}
	return nil, nil
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// From returns the request's principal, or nil for anonymous requests.
func From(c *fiber.Ctx) *Principal {
	p, _ := c.Locals(localsKey).(*Principal)
	return p
}

// Require returns the principal or a 401 problem.
func Require(c *fiber.Ctx) (*Principal, error) {
	if p := From(c); p != nil {
		return p, nil
	}
	return nil, problem.Unauthorized("authentication required (请先登录)")
}

// RequireAdmin returns the principal when it is a platform admin.
func RequireAdmin(c *fiber.Ctx) (*Principal, error) {
	p, err := Require(c)
	if err != nil {
		return nil, err
	}
	if !p.IsAdmin {
		return nil, problem.Forbidden("platform admin rights required (需要平台管理员权限)").WithCode("admin_required")
	}
	return p, nil
}

// ---- login rate limiting ----

type loginLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
}

func newLoginLimiter(max int, window time.Duration) *loginLimiter {
	return &loginLimiter{max: max, window: window, fails: map[string][]time.Time{}}
}

func (l *loginLimiter) prune(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

// wait answers how long key must wait before its next attempt: 0 while it is under the limit,
// else until its oldest failure leaves the window.
func (l *loginLimiter) wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	ts := l.prune(key, now)
	if len(ts) < l.max {
		return 0
	}
	return max(ts[len(ts)-l.max].Add(l.window).Sub(now), time.Second)
}

func (l *loginLimiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 100000 { // bound memory under a spray attack
		l.fails = map[string][]time.Time{}
	}
	l.fails[key] = append(l.prune(key, time.Now()), time.Now())
}

func (l *loginLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}
