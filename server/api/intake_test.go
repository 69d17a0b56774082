package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// intakeEnv is the sales template with a lead owned by rep A (with notes only A may read),
// rep B (reads and updates their own leads only) and a sync webhook flow creating leads.
type intakeEnv struct {
	e          *apitest.Env
	aTok, bTok string
	aID        string
	lead       string // A's lead: phone +8613800138000, vip@bigcorp.example
	pid        string // the public web-lead form
	before     map[string]any
	beforeVer  float64
	leadPath   string
}

func newIntakeEnv(t *testing.T) *intakeEnv {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	env := &intakeEnv{e: e}
	a, aTok := e.CreateUser("a@example.com", "Rep A", nil)
	b, bTok := e.CreateUser("b@example.com", "Rep B", nil)
	for _, u := range []string{a.String(), b.String()} {
		e.Must(200, "PUT", "/api/v1/admin/users/"+u+"/roles", `{"roles":[{"app":"sales","role":"sales_rep"}]}`, e.AdminToken)
	}
	env.aTok, env.bTok, env.aID = aTok, bTok, a.String()
	env.lead = e.Must(201, "POST", "/api/v1/apps/sales/entities/lead/records",
		`{"name":"钱总","phone":"138 0013 8000","email":"VIP@bigcorp.example","title":"CFO","notes":"预算 200 万，下周签约","source":"referral"}`, aTok).JSON()["id"].(string)
	env.leadPath = "/api/v1/apps/sales/entities/lead/records/" + env.lead
	env.pid = e.Must(200, "GET", "/api/v1/apps/sales/forms/web-lead", nil, e.AdminToken).JSON()["public_id"].(string)
	// a sync webhook whose only step creates the lead: its run output is the webhook's answer
	e.Must(201, "PUT", "/api/v1/apps/sales/flows/lead-sync", map[string]any{"slug": "lead-sync",
		"trigger": map[string]any{"type": "webhook", "key": "lead-sync", "mode": "sync"},
		"nodes": []any{map[string]any{"id": "create", "type": "record.create", "params": map[string]any{"entity": "lead", "values": map[string]any{
			"name": "{{ trigger.body.name }}", "phone": "{{ trigger.body.phone ?? '' }}", "email": "{{ trigger.body.email ?? '' }}", "source": "sem"}}}}}, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/sales/flows/lead-sync/publish", nil, e.AdminToken)
	env.before, env.beforeVer = env.snapshot(t)
	return env
}

// snapshot is A's lead as stored (data and version).
func (env *intakeEnv) snapshot(t *testing.T) (map[string]any, float64) {
	r := env.e.Must(200, "GET", env.leadPath, nil, env.e.AdminToken).JSON()
	return r["data"].(map[string]any), r["version"].(float64)
}

// unchanged fails unless A's lead is exactly as it was.
func (env *intakeEnv) unchanged(t *testing.T) {
	t.Helper()
	d, v := env.snapshot(t)
	if v != env.beforeVer || fmt.Sprint(d) != fmt.Sprint(env.before) {
		t.Fatalf("the existing lead changed: v%v %v, was v%v %v", v, d, env.beforeVer, env.before)
	}
}

// pending lists the submissions waiting on A's lead (as A).
func (env *intakeEnv) pending(t *testing.T) []map[string]any {
	var b struct{ Items []map[string]any }
	env.e.Must(200, "GET", env.leadPath+"/intake", nil, env.aTok).Decode(t, &b)
	return b.Items
}

func keysOf(body []byte) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return "not an object: " + string(body)
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// TestAnonymousIntakeOnlyAdds is the attack table of "anonymous intake can only add": a
// webhook or public form submission with an existing customer's phone or e-mail answers
// exactly like one with a new phone (status and keys; no id, data or merged flag of the
// lead), changes nothing on the lead, and leaves a pending submission for its owner with a
// notification. Rep B, who may not read A's lead, gets a receipt and changes nothing.
func TestAnonymousIntakeOnlyAdds(t *testing.T) {
	env := newIntakeEnv(t)
	e := env.e
	secret := []string{env.lead, "预算", "CFO", "referral", `"merged"`, `"version"`, `"data"`}
	tests := []struct {
		name      string
		hit, miss func() *apitest.Resp
		status    int
		// output, when set, reads what the anonymous caller finally gets (the run's output)
		output func(r *apitest.Resp) []byte
	}{
		{"sync webhook by e-mail", func() *apitest.Resp {
			return e.Do("POST", "/hooks/lead-sync", `{"name":"x","email":"vip@BIGCORP.example"}`, "")
		}, func() *apitest.Resp {
			return e.Do("POST", "/hooks/lead-sync", `{"name":"x","email":"new1@example.com"}`, "")
		}, 200, nil},
		{"sync webhook by phone", func() *apitest.Resp {
			return e.Do("POST", "/hooks/lead-sync", `{"name":"x","phone":"+86 138-0013-8000"}`, "")
		}, func() *apitest.Resp {
			return e.Do("POST", "/hooks/lead-sync", `{"name":"x","phone":"13900139001"}`, "")
		}, 200, nil},
		{"sales template webhook", func() *apitest.Resp {
			return e.Do("POST", "/hooks/sales-lead-in", `{"name":"x","email":"VIP@bigcorp.example","channel":"sem"}`, "")
		}, func() *apitest.Resp {
			return e.Do("POST", "/hooks/sales-lead-in", `{"name":"x","email":"new2@example.com","channel":"sem"}`, "")
		}, 202, func(r *apitest.Resp) []byte {
			run := waitRun(t, e, r.JSON()["run_id"].(string))
			out, _ := json.Marshal(run["output"])
			return out
		}},
		{"public form by phone", func() *apitest.Resp {
			return e.Do("POST", "/api/v1/public/forms/"+env.pid+"/submit", `{"name":"x","phone":"13800138000","email":"other@example.com","consent":true}`, "")
		}, func() *apitest.Resp {
			return e.Do("POST", "/api/v1/public/forms/"+env.pid+"/submit", `{"name":"x","phone":"13900139003","consent":true}`, "")
		}, 201, nil},
		{"rep B without read rights", func() *apitest.Resp {
			return e.Do("POST", "/api/v1/apps/sales/entities/lead/records", `{"name":"x","phone":"13800138000","company":"B corp"}`, env.bTok)
		}, nil, 202, nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hit := tc.hit()
			if hit.Status != tc.status {
				t.Fatalf("hit: %d %s, want %d", hit.Status, hit.Body, tc.status)
			}
			for _, s := range secret {
				if strings.Contains(string(hit.Body), s) {
					t.Fatalf("the answer to a hit reveals %q: %s", s, hit.Body)
				}
			}
			if tc.miss != nil {
				miss := tc.miss()
				if miss.Status != hit.Status || keysOf(miss.Body) != keysOf(hit.Body) || miss.Header["Content-Type"] != hit.Header["Content-Type"] {
					t.Fatalf("hit and miss differ:\n%d %s\n%d %s", hit.Status, hit.Body, miss.Status, miss.Body)
				}
				if tc.output != nil {
					ho, mo := tc.output(hit), tc.output(miss)
					if keysOf(ho) != keysOf(mo) || keysOf(ho) != "status,submission_id" {
						t.Fatalf("run outputs differ or are no receipts:\n%s\n%s", ho, mo)
					}
					for _, s := range secret {
						if strings.Contains(string(ho), s) {
							t.Fatalf("the run output reveals %q: %s", s, ho)
						}
					}
				}
			}
			env.unchanged(t)
			if n := len(env.pending(t)); n != i+1 {
				t.Fatalf("%d pending submissions on the lead, want %d", n, i+1)
			}
		})
	}
	// the owner was told once per submission, with a link to the lead
	var n int
	if err := e.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'intake_pending' AND record_id = $2`,
		env.aID, env.lead).Scan(&n); err != nil || n != len(tests) {
		t.Fatalf("owner notifications %d (%v), want %d", n, err, len(tests))
	}
	// the history shows the submissions, with what they would change
	hist := string(e.Must(200, "GET", env.leadPath+"/history", nil, env.aTok).Body)
	if strings.Count(hist, `"intake.duplicate"`) != len(tests) || !strings.Contains(hist, `"email":["vip@bigcorp.example","other@example.com"]`) {
		t.Fatalf("history: %s", hist)
	}
	// rep B cannot list, accept or dismiss them
	sub := env.pending(t)[0]["id"].(string)
	e.Must(404, "GET", env.leadPath+"/intake", nil, env.bTok)
	e.Must(404, "POST", env.leadPath+"/intake/"+sub+"/accept", nil, env.bTok)
	e.Must(404, "POST", env.leadPath+"/intake/"+sub+"/dismiss", nil, env.bTok)
	env.unchanged(t)
}

// TestIntakeReview: the owner accepts a pending submission (applied as an update by the owner,
// through validation and hooks) or dismisses one; a decided submission answers 409; a rep
// with read and update rights on the lead still merges (200, merged).
func TestIntakeReview(t *testing.T) {
	env := newIntakeEnv(t)
	e := env.e
	e.Must(201, "POST", "/api/v1/public/forms/"+env.pid+"/submit", `{"name":"x","phone":"13800138000","company":"大客户集团","email":"new@bigcorp.example","consent":true}`, "")
	e.Must(201, "POST", "/api/v1/public/forms/"+env.pid+"/submit", `{"name":"y","phone":"13800138000","company":"垃圾","consent":true}`, "")
	p := env.pending(t)
	if len(p) != 2 {
		t.Fatalf("pending %v", p)
	}
	first, second := p[0]["id"].(string), p[1]["id"].(string)
	if fmt.Sprint(p[0]["changes"].(map[string]any)["company"]) != "[<nil> 大客户集团]" {
		t.Fatalf("changes %v", p[0]["changes"])
	}
	tests := []struct {
		name, path, body string
		token            string
		status           int
	}{
		{"accept only some fields", env.leadPath + "/intake/" + first + "/accept", `{"fields":["company"]}`, env.aTok, 200},
		{"accept again", env.leadPath + "/intake/" + first + "/accept", "", env.aTok, 409},
		{"dismiss", env.leadPath + "/intake/" + second + "/dismiss", "", env.aTok, 200},
		{"dismiss again", env.leadPath + "/intake/" + second + "/dismiss", "", env.aTok, 409},
		{"unknown submission", env.leadPath + "/intake/00000000-0000-0000-0000-000000000000/accept", "", env.aTok, 404},
		{"bad body", env.leadPath + "/intake/" + first + "/accept", `{"fields":"company"}`, env.aTok, 422},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			if r := e.Do("POST", tc.path, body, tc.token); r.Status != tc.status {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.status)
			}
		})
	}
	d, _ := env.snapshot(t)
	if d["company"] != "大客户集团" || d["email"] != "vip@bigcorp.example" || d["notes"] != "预算 200 万，下周签约" {
		t.Fatalf("after accepting the company only: %v", d)
	}
	if len(env.pending(t)) != 0 {
		t.Fatal("decided submissions are still pending")
	}
	// the accepted change is A's update in the history
	var hist struct {
		Items []struct {
			Kind    string
			Actor   *string
			Changes map[string]any
		}
	}
	e.Must(200, "GET", env.leadPath+"/history", nil, env.aTok).Decode(t, &hist)
	last := hist.Items[len(hist.Items)-1]
	if last.Kind != "updated" || last.Actor == nil || *last.Actor != env.aID || fmt.Sprint(last.Changes["company"]) != "[<nil> 大客户集团]" {
		t.Fatalf("last event %+v", last)
	}
	// an authenticated writer with read and update rights keeps the merge
	m := e.Must(200, "POST", "/api/v1/apps/sales/entities/lead/records", `{"name":"钱总","phone":"13800138000","industry":"manufacturing"}`, env.aTok).JSON()
	if m["merged"] != true || m["id"] != env.lead || m["data"].(map[string]any)["industry"] != "manufacturing" {
		t.Fatalf("merge by the owner: %v", m)
	}
	// an admin too (a search by e-mail finds the merged lead)
	m = e.Must(200, "POST", "/api/v1/apps/sales/entities/lead/records", `{"name":"钱总","email":"vip@bigcorp.example","title":"CFO"}`, e.AdminToken).JSON()
	if m["merged"] != true || m["id"] != env.lead {
		t.Fatalf("merge by an admin: %v", m)
	}
	if r := e.Must(200, "GET", "/api/v1/apps/sales/entities/lead/records?filter="+url.QueryEscape(`{"email":{"eq":"vip@bigcorp.example"}}`), nil, env.aTok).JSON(); len(r["items"].([]any)) != 1 {
		t.Fatalf("leads by e-mail: %v", r)
	}
}
