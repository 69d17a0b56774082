package auth_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/server/auth"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestPasswordHashing(t *testing.T) {
	h, err := auth.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		hash, pw string
		want     bool
	}{
		{h, "correct horse", true},
		{h, "correct horse ", false},
		{h, "", false},
		{"$argon2id$v=19$m=1,t=1,p=1$!!$!!", "x", false},
		{"plain", "plain", false},
	}
	for _, c := range cases {
		if got := auth.CheckPassword(c.hash, c.pw); got != c.want {
			t.Errorf("CheckPassword(%q, %q) = %v", c.hash, c.pw, got)
		}
	}
	if auth.ValidatePassword("short") == nil || auth.ValidatePassword("long enough") != nil {
		t.Error("password policy")
	}
}

// TestEnsureAdminIsRaceFree: eight replicas starting at once create exactly one admin.
func TestEnsureAdminIsRaceFree(t *testing.T) {
	d := dbtest.Open(t)
	var wg sync.WaitGroup
	var created atomic.Int32
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := auth.NewService(d.Pool, time.Hour)
			ok, err := s.EnsureAdmin(context.Background(), "Admin@Example.com", "admin-password")
			if err != nil {
				t.Error(err)
			}
			if ok {
				created.Add(1)
			}
		}()
	}
	wg.Wait()
	if created.Load() != 1 {
		t.Errorf("%d starts report creating the admin, want 1", created.Load())
	}
	var n int
	if err := d.Pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE lower(email) = 'admin@example.com' AND is_admin`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("admins: %d, %v", n, err)
	}
}

func TestPublicAllowList(t *testing.T) {
	cases := map[string]bool{
		"/healthz": true, "/readyz": true, "/metrics": true, "/api/v1/openapi.json": true, "/api/v1/auth/login": true,
		"/f/abc123": true, "/api/v1/public/forms/abc/submit": true, "/api/v1/public/forms/abc/visibility": true, "/api/v1/public/forms/abc/other": false, "/api/v1/public/forms/abc/uploads": true, "/api/v1/public/forms/abc/lookup/product": true, "/api/v1/public/forms/abc/uploads/x": false, "/api/v1/public/forms/abc/lookup/a/b": false, "/hooks/lead-in": true, "/": true, "/login": true,
		"/apps/crm/entities/lead": true, "/assets/index-abc.js": true,
		"/api/v1/me": false, "/api/v1/apps": false, "/api/v1/auth/logout": false, "/api": false, "/api/": false,
		"/hooks/": false, "/hooks/a/b": false, "/api/v1/public/forms/x/../../apps": false, "/api/v1%2fapps": false,
		"/hooks%2f..%2fapi": false, "/api/v1/hooks/x": false, "/mcp": false, "/f/a/b": false, "/api/v1/public/../apps": false,
		// e-mail tracking links: a signed token only (payload "." 24-character signature)
		"/t/eyJhIjoiMDAwMDAwMDAtMDAwMC.abcdefghijklmnopqrstuvwx": true, "/t/": false, "/t/abc": false,
		"/t/eyJhIjoiMDAwMDAwMDAtMDAwMC.short": false, "/t/eyJhIjoiMDAwMDAwMDAtMDAwMC.abcdefghijklmnopqrstuvwx/x": false,
		"/t/../api/v1/apps.abcdefghijklmnopqrstuvwx": false,
	}
	for p, want := range cases {
		if got := auth.IsPublic(p); got != want {
			t.Errorf("IsPublic(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestTokenCacheFollowsIdentityChanges: two replicas cache resolved tokens; a logout, a token
// revoked, a user disabled, a session expired or a user's locale changed reaches the replica
// that made the change at once and the other one through the notification channel.
func TestTokenCacheFollowsIdentityChanges(t *testing.T) {
	d := dbtest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := auth.NewService(d.Pool, time.Hour), auth.NewService(d.Pool, time.Hour)
	go a.ListenPrincipals(ctx, nil)
	go b.ListenPrincipals(ctx, nil)
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 10 s", what)
			}
		}
	}
	eventually("both replicas listen", func() bool { return a.CachingPrincipals() && b.CachingPrincipals() })

	// cached: a change that nobody announces (triggers off) is not seen, so no look-up was made
	t.Run("cached", func(t *testing.T) {
		if _, err := d.Pool.Exec(ctx, `INSERT INTO users (email, name, password_hash, locale) VALUES ('cached@example.com', 'U', $1, 'zh-CN')`, mustHash(t)); err != nil {
			t.Fatal(err)
		}
		session, _, _, err := b.Login(ctx, "10.0.1.1", "cached@example.com", "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		if p, err := b.FromBearer(ctx, session); err != nil || p == nil {
			t.Fatal(p, err)
		}
		tx, err := d.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			t.Skip("cannot turn triggers off:", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = 'cached@example.com')`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if p, err := b.FromBearer(ctx, session); err != nil || p == nil {
			t.Fatalf("a cached session answered %+v %v: it was looked up again", p, err)
		}
		b.ForgetPrincipals()
		if p, err := b.FromBearer(ctx, session); err != nil || p != nil {
			t.Fatalf("after ForgetPrincipals the deleted session answered %+v %v", p, err)
		}
	})

	cases := []struct {
		name   string
		change func(t *testing.T, user string, session, apiToken string)
		check  func(p *auth.Principal) bool // true once the change is seen
		bearer func(session, apiToken string) string
		atOnce bool // the replica that made the change sees it before answering
	}{
		{"logout", func(t *testing.T, _ string, session, _ string) {
			p, _ := a.FromBearer(ctx, session)
			if err := a.Logout(ctx, p.SessionID); err != nil {
				t.Fatal(err)
			}
		}, func(p *auth.Principal) bool { return p == nil }, func(s, _ string) string { return s }, true},
		{"token revoked", func(t *testing.T, user string, _ string, apiToken string) {
			var id string
			if err := d.Pool.QueryRow(ctx, `SELECT id FROM api_tokens WHERE user_id = $1`, user).Scan(&id); err != nil {
				t.Fatal(err)
			}
			p, _ := a.FromBearer(ctx, apiToken)
			if ok, err := a.RevokeToken(ctx, p.UserID, uuidOf(t, id)); err != nil || !ok {
				t.Fatal(ok, err)
			}
		}, func(p *auth.Principal) bool { return p == nil }, func(_, tok string) string { return tok }, true},
		{"user disabled (by SQL)", func(t *testing.T, user string, _, _ string) {
			if _, err := d.Pool.Exec(ctx, `UPDATE users SET disabled = true WHERE id = $1`, user); err != nil {
				t.Fatal(err)
			}
		}, func(p *auth.Principal) bool { return p == nil }, func(_, tok string) string { return tok }, false},
		{"session expired (by SQL)", func(t *testing.T, _ string, session, _ string) {
			if _, err := d.Pool.Exec(ctx, `UPDATE sessions SET expires_at = now() - interval '1 second'`); err != nil {
				t.Fatal(err)
			}
		}, func(p *auth.Principal) bool { return p == nil }, func(s, _ string) string { return s }, false},
		{"locale changed (by SQL)", func(t *testing.T, user string, _, _ string) {
			if _, err := d.Pool.Exec(ctx, `UPDATE users SET locale = 'en' WHERE id = $1`, user); err != nil {
				t.Fatal(err)
			}
		}, func(p *auth.Principal) bool { return p != nil && p.Locale == "en" }, func(s, _ string) string { return s }, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			email := "user" + string(rune('a'+i)) + "@example.com"
			if _, err := d.Pool.Exec(ctx, `INSERT INTO users (email, name, password_hash, locale) VALUES ($1, 'U', $2, 'zh-CN')`, email, mustHash(t)); err != nil {
				t.Fatal(err)
			}
			session, _, p, err := a.Login(ctx, "10.0.0."+string(rune('1'+i)), email, "correct horse battery")
			if err != nil {
				t.Fatal(err)
			}
			_, apiToken, err := a.CreateToken(ctx, p.UserID, "t", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			tok := c.bearer(session, apiToken)
			for _, s := range []*auth.Service{a, b} { // both replicas have it cached
				if p, err := s.FromBearer(ctx, tok); err != nil || p == nil || c.check(p) {
					t.Fatalf("before the change: %+v %v", p, err)
				}
			}
			c.change(t, p.UserID.String(), session, apiToken)
			if c.atOnce {
				if p, err := a.FromBearer(ctx, tok); err != nil || !c.check(p) {
					t.Fatalf("the replica that made the change answered %+v %v", p, err)
				}
			}
			for name, s := range map[string]*auth.Service{"a": a, "b": b} {
				eventually("replica "+name, func() bool {
					p, err := s.FromBearer(ctx, tok)
					return err == nil && c.check(p)
				})
			}
		})
	}
}

func mustHash(t *testing.T) string {
	h, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func uuidOf(t *testing.T, s string) uuid.UUID {
	u, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
