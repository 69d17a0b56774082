package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/google/uuid"

	"github.com/tessera/tessera/server/apitest"
)

// auditRow is one audit_log row as the tests read it.
type auditRow struct {
	Actor  *uuid.UUID
	Action string
	Target string
	After  map[string]any
}

func lastAudit(t *testing.T, e *apitest.Env, action string) auditRow {
	t.Helper()
	var r auditRow
	var after []byte
	err := e.DB.Pool.QueryRow(context.Background(), `SELECT actor, action, target, after FROM audit_log
		WHERE action = $1 ORDER BY id DESC LIMIT 1`, action).Scan(&r.Actor, &r.Action, &r.Target, &after)
	if err != nil {
		t.Fatalf("audit row %s: %v", action, err)
	}
	if len(after) > 0 {
		_ = json.Unmarshal(after, &r.After)
	}
	return r
}

// TestLoginsAndTokensAreAudited: every login (good or refused) and every API token created or
// revoked writes an audit row naming the account and the reason, never the password.
func TestLoginsAndTokensAreAudited(t *testing.T) {
	e := apitest.New(t)
	userID, userTok := e.CreateUser("rep@example.com", "Rep", nil)
	offID, _ := e.CreateUser("off@example.com", "Off", nil)
	e.Must(200, "PATCH", "/api/v1/admin/users/"+offID.String(), map[string]any{"disabled": true}, e.AdminToken)

	cases := []struct {
		name, email, password string
		status                int
		action, target        string
		actor                 *uuid.UUID
		reason                string
	}{
		{"good password", "REP@example.com", "password-rep@example.com", 200, "auth.login", "user:" + userID.String(), &userID, ""},
		{"wrong password", "rep@example.com", "wrong-password-1", 401, "auth.login_failed", "user:" + userID.String(), nil, "bad_password"},
		{"unknown email", " Ghost@Example.com ", "whatever-123", 401, "auth.login_failed", "email:ghost@example.com", nil, "unknown_email"},
		{"disabled user", "off@example.com", "password-off@example.com", 401, "auth.login_failed", "user:" + offID.String(), nil, "disabled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.Must(tc.status, "POST", "/api/v1/auth/login", map[string]string{"email": tc.email, "password": tc.password}, "")
			r := lastAudit(t, e, tc.action)
			if r.Target != tc.target || (tc.actor == nil) != (r.Actor == nil) || (tc.actor != nil && *r.Actor != *tc.actor) {
				t.Fatalf("audit row %+v, want target %s actor %v", r, tc.target, tc.actor)
			}
			if r.After["ip"] == nil || (tc.reason != "" && r.After["reason"] != tc.reason) {
				t.Fatalf("audit after %v, want ip and reason %q", r.After, tc.reason)
			}
		})
	}
	var leaked int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE after::text LIKE '%password-%' OR after::text LIKE '%wrong-password%'`).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("passwords in the audit log: %d (%v)", leaked, err)
	}

	tok := e.Must(201, "POST", "/api/v1/me/tokens", map[string]any{"name": "ci", "expires_in_days": 30}, userTok).JSON()
	id, _ := tok["id"].(string)
	if r := lastAudit(t, e, "auth.token_create"); r.Target != "token:"+id || r.Actor == nil || *r.Actor != userID || r.After["name"] != "ci" || strings.Contains(r.After["name"].(string), "tsr_") {
		t.Fatalf("token audit %+v", r)
	}
	e.Must(204, "DELETE", "/api/v1/me/tokens/"+id, nil, userTok)
	if r := lastAudit(t, e, "auth.token_revoke"); r.Target != "token:"+id || r.Actor == nil || *r.Actor != userID {
		t.Fatalf("revoke audit %+v", r)
	}
	// Revoking again is a 404 and writes nothing.
	e.Must(404, "DELETE", "/api/v1/me/tokens/"+id, nil, userTok)
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'auth.token_revoke'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("revoke rows %d (%v)", n, err)
	}
	// The audit log stays admin-only.
	e.Must(403, "GET", "/api/v1/admin/audit?action=auth.login", nil, userTok)
	items := e.Must(200, "GET", "/api/v1/admin/audit?action=auth.login_failed", nil, e.AdminToken).JSON()["items"].([]any)
	if len(items) != 3 {
		t.Fatalf("failed logins listed: %d", len(items))
	}
}

// TestTwoAdminsCannotDemoteEachOther: two admins removing each other's rights at the same
// moment both pass their request's admin check; the second change must be refused (409
// last_admin) so that an active admin is left. The policy lock is held while both requests
// arrive, so they really overlap.
func TestTwoAdminsCannotDemoteEachOther(t *testing.T) {
	for _, change := range []map[string]any{{"is_admin": false}, {"disabled": true}} {
		t.Run(strings.Join(keys(change), ","), func(t *testing.T) {
			e := apitest.New(t)
			r := e.Must(201, "POST", "/api/v1/admin/users", map[string]any{"email": "second@example.com", "password": "second-password-1", "is_admin": true}, e.AdminToken)
			secondID, _ := r.JSON()["id"].(string)
			secondTok := e.Login("second@example.com", "second-password-1")

			ctx := context.Background()
			hold, err := e.DB.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := hold.Exec(ctx, `SELECT pg_advisory_xact_lock(7355609)`); err != nil { // authz.Tx's lock
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i, req := range []struct{ target, token string }{{secondID, e.AdminToken}, {e.AdminID.String(), secondTok}} {
				wg.Add(1)
				go func(i int, target, token string) {
					defer wg.Done()
					statuses[i] = e.Do("PATCH", "/api/v1/admin/users/"+target, change, token).Status
				}(i, req.target, req.token)
			}
			// Wait until both requests queue on the lock (not a timing assertion: it polls).
			for {
				var waiting int
				if err := e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7355609 AND NOT granted`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				if waiting >= 2 {
					break
				}
			}
			if err := hold.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			ok, refused := 0, 0
			for _, s := range statuses {
				switch s {
				case 200:
					ok++
				case 409:
					refused++
				}
			}
			if ok != 1 || refused != 1 {
				t.Fatalf("statuses %v, want one 200 and one 409", statuses)
			}
			var admins int
			if err := e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE is_admin AND NOT disabled`).Scan(&admins); err != nil || admins != 1 {
				t.Fatalf("active admins %d (%v)", admins, err)
			}
		})
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestAuthProblemsAreBilingual: the 401 and 403 answers of the auth layer and the admin
// routes carry zh-CN next to English.
func TestAuthProblemsAreBilingual(t *testing.T) {
	e := apitest.New(t)
	_, userTok := e.CreateUser("plain@example.com", "Plain", nil)
	cases := []struct {
		name, method, path string
		token              string
		headers            []string
		want               int
	}{
		{"anonymous", "GET", "/api/v1/me", "", nil, 401},
		{"bad scheme", "GET", "/api/v1/me", "", []string{"Authorization: Basic abc"}, 401},
		{"unknown token", "GET", "/api/v1/me", "tsr_nope", nil, 401},
		{"not an admin", "GET", "/api/v1/admin/audit", userTok, nil, 403},
		{"bad audit cursor", "GET", "/api/v1/admin/audit?cursor=x", e.AdminToken, nil, 422},
		{"bad audit actor", "GET", "/api/v1/admin/audit?actor=bob", e.AdminToken, nil, 422},
		{"bad user id", "GET", "/api/v1/admin/users/bob", e.AdminToken, nil, 404},
		{"bad limit", "GET", "/api/v1/admin/users?limit=0", e.AdminToken, nil, 422},
		{"unknown token id", "DELETE", "/api/v1/me/tokens/" + uuid.NewString(), userTok, nil, 404},
		{"long token name", "POST", "/api/v1/me/tokens", userTok, nil, 422},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.method == "POST" {
				body = map[string]any{"name": strings.Repeat("n", 101)}
			}
			r := e.Do(tc.method, tc.path, body, tc.token, tc.headers...)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			detail, _ := r.JSON()["detail"].(string)
			if !hasHan(detail) {
				t.Fatalf("detail %q has no zh-CN text", detail)
			}
		})
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// TestRoleErrorsAllAtOnce: a role body with a wrong action, a wrong scope and a misspelt field
// answers one 422 naming all three, not only the first kind of mistake.
func TestRoleErrorsAllAtOnce(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, e.AdminToken)
	e.Must(201, "PUT", "/api/v1/apps/crm/entities/deal", map[string]any{"slug": "deal", "fields": []any{map[string]any{"key": "name", "type": "text"}, map[string]any{"key": "cost", "type": "money"}}}, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/crm/entities/deal/publish", nil, e.AdminToken)
	for _, method := range []string{"POST", "PUT"} {
		r := e.Must(422, method, "/api/v1/admin/roles", map[string]any{"app": "crm", "name": "rep",
			"permissions": []any{map[string]any{"resource": "entity:deal", "actions": []string{"fly"}, "scope": "galaxy"}},
			"fields":      map[string]any{"deal": map[string]any{"hidden": []string{"cots"}}}}, e.AdminToken)
		got := map[string]bool{}
		for _, fe := range r.JSON()["errors"].([]any) {
			got[fe.(map[string]any)["field"].(string)] = true
		}
		for _, want := range []string{"permissions[0].actions[0]", "permissions[0].scope", "fields.deal.hidden[0]"} {
			if !got[want] {
				t.Fatalf("%s: errors %s lack %s", method, r.Body, want)
			}
		}
	}
}

// TestDeleteTeam: an unused team is deleted (audited); one with members, sub-teams or live
// records is 409 team_in_use with the counts, and stays.
func TestDeleteTeam(t *testing.T) {
	e := apitest.New(t)
	adm := e.AdminToken
	newTeam := func(name string, parent string) string {
		body := map[string]any{"name": name}
		if parent != "" {
			body["parent_id"] = parent
		}
		return e.Must(201, "POST", "/api/v1/admin/teams", body, adm).JSON()["id"].(string)
	}
	parent := newTeam("Parent", "")
	newTeam("Child", parent)
	withMember := newTeam("Members", "")
	memberID, _ := e.CreateUser("m@example.com", "M", nil)
	e.Must(200, "PATCH", "/api/v1/admin/users/"+memberID.String(), map[string]any{"team_id": withMember}, adm)
	withRecords := newTeam("Records", "")
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, adm)
	var appID uuid.UUID
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT id FROM apps WHERE slug = 'crm'`).Scan(&appID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Pool.Exec(context.Background(), `INSERT INTO records (app_id, entity, team_id, data) VALUES ($1, 'lead', $2, '{}')`, appID, withRecords); err != nil {
		t.Fatal(err)
	}
	unused := newTeam("Unused", "")
	_, userTok := e.CreateUser("plain@example.com", "Plain", nil)

	cases := []struct {
		name, id, token string
		want            int
		check           func(t *testing.T, m map[string]any)
	}{
		{"non-admin", unused, userTok, 403, nil},
		{"has a sub-team", parent, adm, 409, func(t *testing.T, m map[string]any) {
			if m["code"] != "team_in_use" || m["sub_teams"] != float64(1) {
				t.Fatalf("%v", m)
			}
		}},
		{"has a member", withMember, adm, 409, func(t *testing.T, m map[string]any) {
			if m["members"] != float64(1) {
				t.Fatalf("%v", m)
			}
		}},
		{"has records", withRecords, adm, 409, func(t *testing.T, m map[string]any) {
			if m["records"] != true {
				t.Fatalf("%v", m)
			}
		}},
		{"unused", unused, adm, 204, nil},
		{"already gone", unused, adm, 404, nil},
		{"not an id", "sales", adm, 404, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do("DELETE", "/api/v1/admin/teams/"+tc.id, nil, tc.token)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.check != nil {
				tc.check(t, r.JSON())
			}
		})
	}
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM teams`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("teams left %d (%v), want 4", n, err)
	}
	if r := lastAudit(t, e, "team.delete"); r.Target != "team:"+unused {
		t.Fatalf("audit %+v", r)
	}
}
