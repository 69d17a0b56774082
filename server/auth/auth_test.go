package auth_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
