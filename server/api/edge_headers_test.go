package api_test

import (
	"strings"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// TestSecurityHeadersOnEveryResponse: pages (the SPA shell and its routes), assets, API answers
// and errors all carry a CSP without inline scripts, nosniff, a framing ban and a referrer
// policy; HSTS only with TESSERA_SECURE_COOKIES=1; the public form page keeps its own policy.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	for _, secure := range []string{"", "1"} {
		t.Run("secure="+secure, func(t *testing.T) {
			t.Setenv("TESSERA_SECURE_COOKIES", secure)
			e := apitest.New(t)
			for _, tc := range []struct {
				name, method, path, token string
				page                      bool
			}{
				{"SPA index", "GET", "/", "", true},
				{"SPA route", "GET", "/apps/crm/records", "", true},
				{"asset", "GET", "/assets/index-missing.js", "", true}, // assets carry the page policy
				{"API", "GET", "/api/v1/me", e.AdminToken, false},
				{"API error", "GET", "/api/v1/apps/nope", e.AdminToken, false},
				{"unauthenticated", "GET", "/api/v1/apps", "", false},
				{"health", "GET", "/healthz", "", false},
				{"webhook", "POST", "/hooks/none", "", false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := e.Do(tc.method, tc.path, nil, tc.token)
					csp := r.Header["Content-Security-Policy"]
					if csp == "" || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-eval") {
						t.Fatalf("%s: CSP %q", tc.path, csp)
					}
					if script := directive(csp, "script-src"); strings.Contains(script, "unsafe-inline") {
						t.Fatalf("%s: inline scripts allowed: %q", tc.path, csp)
					}
					if tc.page && directive(csp, "script-src") != "'self'" && !strings.HasPrefix(directive(csp, "script-src"), "'self' 'sha256-") {
						t.Fatalf("%s: page script-src %q", tc.path, directive(csp, "script-src"))
					}
					if !tc.page && !strings.Contains(csp, "default-src 'none'") {
						t.Fatalf("%s: a non-page answer should allow nothing: %q", tc.path, csp)
					}
					want := map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "strict-origin-when-cross-origin"}
					for k, v := range want {
						if r.Header[k] != v {
							t.Fatalf("%s: %s = %q, want %q", tc.path, k, r.Header[k], v)
						}
					}
					if hsts := r.Header["Strict-Transport-Security"]; (secure == "1") != strings.HasPrefix(hsts, "max-age=") {
						t.Fatalf("%s: HSTS %q with TESSERA_SECURE_COOKIES=%q", tc.path, hsts, secure)
					}
				})
			}
		})
	}
	// the public form page keeps its embeddable, nonce-based policy
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	e.Must(201, "PUT", "/api/v1/apps/crm/entities/lead", map[string]any{"slug": "lead", "fields": []any{map[string]any{"key": "name", "type": "text"}}}, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/crm/entities/lead/publish", nil, e.AdminToken)
	e.Must(201, "PUT", "/api/v1/apps/crm/forms/web", map[string]any{"slug": "web", "entity": "lead", "public": true, "layout": []any{map[string]any{"field": "name"}}}, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/crm/forms/web/publish", nil, e.AdminToken)
	pid, _ := e.Must(200, "GET", "/api/v1/apps/crm/forms/web", nil, e.AdminToken).JSON()["public_id"].(string)
	r := e.Must(200, "GET", "/f/"+pid, nil, "")
	if csp := r.Header["Content-Security-Policy"]; !strings.Contains(csp, "frame-ancestors *") || !strings.Contains(csp, "'nonce-") || r.Header["X-Frame-Options"] != "" {
		t.Fatalf("public form page: CSP %q, X-Frame-Options %q", csp, r.Header["X-Frame-Options"])
	}
	if r.Header["X-Content-Type-Options"] != "nosniff" {
		t.Fatalf("public form page lacks nosniff")
	}
}

// directive answers one CSP directive's sources.
func directive(csp, name string) string {
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == name {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}
