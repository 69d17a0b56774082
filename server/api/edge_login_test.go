package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// TestLoginLimitsPerClientAddress: failed logins are limited per client address whatever the
// emails (password spraying), X-Forwarded-For names the client only when the peer is a trusted
// proxy (TESSERA_TRUSTED_PROXIES), and then its right-most untrusted entry (a client cannot
// prepend its way out of the limit).
func TestLoginLimitsPerClientAddress(t *testing.T) {
	spray := func(t *testing.T, e *apitest.Env, xff func(i int) string) {
		t.Helper()
		for i := range 40 {
			r := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": fmt.Sprintf("user%d@example.com", i), "password": "Summer2024!"}, "",
				"X-Forwarded-For: "+xff(i))
			want := 401
			if i >= 30 {
				want = 429
			}
			if r.Status != want {
				t.Fatalf("attempt %d: status %d, want %d: %s", i+1, r.Status, want, r.Body)
			}
			if want == 429 && (r.Header["Retry-After"] == "" || r.Header["Retry-After"] == "0" || !strings.Contains(string(r.Body), "稍后再试")) {
				t.Fatalf("429 without Retry-After or bilingual message: %v %s", r.Header, r.Body)
			}
		}
	}
	t.Run("untrusted peer: X-Forwarded-For ignored", func(t *testing.T) {
		t.Setenv("TESSERA_TRUSTED_PROXIES", "")
		e := apitest.New(t)
		// every attempt claims another client: the peer's address is what counts
		spray(t, e, func(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) })
		e.Must(429, "POST", "/api/v1/auth/login", map[string]string{"email": apitest.AdminEmail, "password": apitest.AdminPassword}, "")
	})
	t.Run("trusted proxy: the forwarded client counts", func(t *testing.T) {
		t.Setenv("TESSERA_TRUSTED_PROXIES", "0.0.0.0/8, 10.0.0.0/8, 127.0.0.1")
		e := apitest.New(t)
		spray(t, e, func(int) string { return "203.0.113.7" })
		login := map[string]string{"email": apitest.AdminEmail, "password": apitest.AdminPassword}
		for _, tc := range []struct {
			xff  string
			want int
		}{
			{"203.0.113.7", 429},
			{"1.2.3.4, 203.0.113.7", 429},         // the client prepended an address
			{"203.0.113.7, 10.0.0.5", 429},        // through a second, trusted proxy
			{"203.0.113.8", 200},                  // another client behind the same proxy
			{"203.0.113.7, 203.0.113.9", 200},     // the proxy saw 203.0.113.9
			{"not-an-address, 203.0.113.10", 200}, // garbage on the left is not believed
		} {
			if r := e.Do("POST", "/api/v1/auth/login", login, "", "X-Forwarded-For: "+tc.xff); r.Status != tc.want {
				t.Fatalf("X-Forwarded-For %q: status %d, want %d: %s", tc.xff, r.Status, tc.want, r.Body)
			}
		}
		if a := lastAudit(t, e, "auth.login"); a.After["ip"] != "203.0.113.10" {
			t.Fatalf("the audit row names %v, want the forwarded client", a.After["ip"])
		}
	})
}

// TestWeakPasswordsRefused: wherever a password is set (admin create, admin reset, the first
// admin) a common, guessable or email-equal password is refused with a bilingual 422 on the
// password field; a good one is accepted.
func TestWeakPasswordsRefused(t *testing.T) {
	e := apitest.New(t)
	r := e.Must(201, "POST", "/api/v1/admin/users", map[string]any{"email": "rep@example.com", "password": "zhangsan#2026"}, e.AdminToken).JSON()
	id, _ := r["id"].(string)
	for _, pw := range []string{"12345678", "123456789", "password", "Password2024!", "P@ssw0rd", "qwertyuiop", "1qaz2wsx3edc",
		"iloveyou520", "woaini1314", "aaaaaaaaaaaa", "abababab12", "2580258025", "short", "rep@example.com"} {
		t.Run(pw, func(t *testing.T) {
			for _, req := range []struct{ method, path string }{{"POST", "/api/v1/admin/users"}, {"PATCH", "/api/v1/admin/users/" + id}} {
				body := map[string]any{"password": pw}
				if req.method == "POST" {
					body["email"] = "rep@example.com"
				}
				r := e.Must(422, req.method, req.path, body, e.AdminToken)
				errs, _ := r.JSON()["errors"].([]any)
				found := false
				for _, x := range errs {
					if f := x.(map[string]any); f["field"] == "password" && f["code"] == "weak_password" && hasHan(f["message"].(string)) {
						found = true
					}
				}
				if !found {
					t.Fatalf("%s %s: no bilingual password error: %s", req.method, req.path, r.Body)
				}
			}
		})
	}
	for _, pw := range []string{"correct-horse-battery", "Tessera-2026-ok", "13812345679x", "zhangsan#2027"} {
		e.Must(200, "PATCH", "/api/v1/admin/users/"+id, map[string]any{"password": pw}, e.AdminToken)
	}
	ctx := context.Background()
	if _, err := e.Srv.Auth.EnsureAdmin(ctx, "boss@example.com", "12345678"); err == nil || !hasHan(err.Error()) {
		t.Fatalf("a weak first admin password was accepted: %v", err)
	}
	if created, err := e.Srv.Auth.EnsureAdmin(ctx, apitest.AdminEmail, "12345678"); created || err != nil {
		t.Fatalf("an existing admin is left alone whatever the variable says: %v %v", created, err)
	}
}
