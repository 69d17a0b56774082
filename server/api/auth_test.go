package api_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/server/apitest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestAuthScenarios(t *testing.T) {
	e := apitest.New(t)
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		token  string
		want   int
	}{
		{"login ok", "POST", "/api/v1/auth/login", map[string]string{"email": apitest.AdminEmail, "password": apitest.AdminPassword}, "", 200},
		{"login wrong password", "POST", "/api/v1/auth/login", map[string]string{"email": apitest.AdminEmail, "password": "nope-nope"}, "", 401},
		{"login unknown email", "POST", "/api/v1/auth/login", map[string]string{"email": "ghost@example.com", "password": "whatever1"}, "", 401},
		{"login missing fields", "POST", "/api/v1/auth/login", map[string]string{}, "", 422},
		{"login NUL in email", "POST", "/api/v1/auth/login", `{"email":"a\u0000@x.com","password":"whatever1"}`, "", 422},
		{"login unknown key", "POST", "/api/v1/auth/login", `{"email":"a@b.c","password":"x","admin":true}`, "", 422},
		{"login bad json", "POST", "/api/v1/auth/login", `{"email":`, "", 422},
		{"me with token", "GET", "/api/v1/me", nil, e.AdminToken, 200},
		{"me anonymous", "GET", "/api/v1/me", nil, "", 401},
		{"me bad token", "GET", "/api/v1/me", nil, "not-a-token", 401},
		{"create token", "POST", "/api/v1/me/tokens", map[string]string{"name": "ci"}, e.AdminToken, 201},
		{"create token anonymous", "POST", "/api/v1/me/tokens", map[string]string{"name": "ci"}, "", 401},
		{"create token bad expiry", "POST", "/api/v1/me/tokens", map[string]any{"name": "ci", "expires_in_days": -1}, e.AdminToken, 422},
		{"create token NUL in name", "POST", "/api/v1/me/tokens", `{"name":"a\u0000b"}`, e.AdminToken, 422},
		{"create token control character in name", "POST", "/api/v1/me/tokens", `{"name":"a\u001bb"}`, e.AdminToken, 422},
		{"create token Chinese name", "POST", "/api/v1/me/tokens", map[string]any{"name": "报表脚本"}, e.AdminToken, 201},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do(tc.method, tc.path, tc.body, tc.token)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if r.Status >= 400 && !strings.HasPrefix(r.Header["Content-Type"], "application/problem+json") {
				t.Fatalf("error content type %q, want application/problem+json", r.Header["Content-Type"])
			}
		})
	}
}

func TestAPITokenWorksAsBearer(t *testing.T) {
	e := apitest.New(t)
	r := e.Must(201, "POST", "/api/v1/me/tokens", map[string]string{"name": "script"}, e.AdminToken)
	tok, _ := r.JSON()["token"].(string)
	me := e.Must(200, "GET", "/api/v1/me", nil, tok)
	if me.JSON()["email"] != apitest.AdminEmail {
		t.Fatalf("token resolves to %s", me.Body)
	}
}

func TestCookieSessionNeedsCSRF(t *testing.T) {
	e := apitest.New(t)
	r := e.Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": apitest.AdminEmail, "password": apitest.AdminPassword}, "")
	body := r.JSON()
	tok, csrf := body["token"].(string), body["csrf_token"].(string)
	cookie := "Cookie: tessera_session=" + tok
	e.Must(200, "GET", "/api/v1/me", nil, "", cookie)
	e.Must(403, "POST", "/api/v1/me/tokens", map[string]string{"name": "x"}, "", cookie)
	e.Must(403, "POST", "/api/v1/me/tokens", map[string]string{"name": "x"}, "", cookie, "X-CSRF-Token: wrong")
	e.Must(201, "POST", "/api/v1/me/tokens", map[string]string{"name": "x"}, "", cookie, "X-CSRF-Token: "+csrf)
	e.Must(204, "POST", "/api/v1/auth/logout", nil, "", cookie, "X-CSRF-Token: "+csrf)
	e.Must(401, "GET", "/api/v1/me", nil, "", cookie)
}

func TestLoginRateLimit(t *testing.T) {
	e := apitest.New(t)
	var last *apitest.Resp
	for i := 0; i < 12; i++ {
		last = e.Do("POST", "/api/v1/auth/login", map[string]string{"email": apitest.AdminEmail, "password": "wrong-password"}, "")
	}
	if last.Status != 429 {
		t.Fatalf("after 12 failures status %d, want 429", last.Status)
	}
	// The lockout lasts what is left of the limiter's one-minute window; Retry-After says so
	// in whole seconds (it said 900). The attempts themselves take time, so anything from 1 to 60.
	ra, err := strconv.Atoi(last.Header["Retry-After"])
	if err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q, want 1..60 seconds", last.Header["Retry-After"])
	}
}

// TestEveryRouteNeedsAuth walks the OpenAPI document (built from the live route table) and checks
// that every route off the public allow-list answers 401 without credentials, also with odd
// spellings of the path.
func TestEveryRouteNeedsAuth(t *testing.T) {
	e := apitest.New(t)
	doc := e.Must(200, "GET", "/api/v1/openapi.json", nil, "").JSON()
	paths := doc["paths"].(map[string]any)
	if len(paths) < 5 {
		t.Fatalf("openapi lists only %d paths", len(paths))
	}
	for p, ops := range paths {
		for method, op := range ops.(map[string]any) {
			sec, hasSec := op.(map[string]any)["security"]
			public := hasSec && len(sec.([]any)) == 0
			concrete := strings.NewReplacer("{", "", "}", "").Replace(p)
			if public {
				continue
			}
			for _, variant := range []string{concrete, concrete + "/", concrete + "?/hooks/x", strings.Replace(concrete, "/api/v1/", "/api/v1%2f", 1), strings.Replace(concrete, "/api/v1/", "/api/v1/public/../", 1)} {
				r := e.Do(strings.ToUpper(method), variant, nil, "")
				if r.Status != 401 {
					t.Errorf("%s %s without credentials: %d, want 401", strings.ToUpper(method), variant, r.Status)
				}
			}
		}
	}
	for _, p := range []string{"/api/v1/nope", "/api/v1/", "/api", "/hooks%2f..%2fapi/v1/me", "/api/v1/public%2fforms/x/submit"} {
		if r := e.Do("GET", p, nil, ""); r.Status != 401 {
			t.Errorf("GET %s without credentials: %d, want 401", p, r.Status)
		}
	}
}

func TestTokensListRevokeAndLenientHeaders(t *testing.T) {
	e := apitest.New(t)
	tok := e.Must(201, "POST", "/api/v1/me/tokens", map[string]string{"name": "script"}, e.AdminToken).JSON()
	list := e.Must(200, "GET", "/api/v1/me/tokens", nil, e.AdminToken)
	if !strings.Contains(string(list.Body), `"script"`) || strings.Contains(string(list.Body), tok["token"].(string)) {
		t.Fatalf("token list: %s", list.Body)
	}
	// The scheme is case-insensitive (RFC 9110).
	e.Must(200, "GET", "/api/v1/me", nil, "", "Authorization: bearer "+tok["token"].(string))
	e.Must(204, "DELETE", "/api/v1/me/tokens/"+tok["id"].(string), nil, e.AdminToken)
	e.Must(401, "GET", "/api/v1/me", nil, tok["token"].(string))
	e.Must(404, "DELETE", "/api/v1/me/tokens/"+tok["id"].(string), nil, e.AdminToken)
	// curl -d sends JSON as form-urlencoded; a JSON body is still read as JSON. Other types are 415.
	e.Must(200, "POST", "/api/v1/auth/login", `{"email":"`+apitest.AdminEmail+`","password":"`+apitest.AdminPassword+`"}`, "", "Content-Type: application/x-www-form-urlencoded")
	e.Must(415, "POST", "/api/v1/auth/login", `<login/>`, "", "Content-Type: application/xml")
}
