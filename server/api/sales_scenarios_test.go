package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/server/apitest"
	"github.com/tessera/tessera/server/config"
)

// salesWorld is the sales template installed on a fresh server driven by a simulated clock,
// with an in-process SMTP server as the platform SMTP setting and a loopback SMS gateway.
type salesWorld struct {
	e     *apitest.Env
	clock *apitest.Clock
	mail  *apitest.Mailbox
	sms   *smsPeer
	peer  string // the loopback peer's base URL (SMS gateway, WeCom and DingTalk robots)
	loc   *time.Location
	// people by role; tokens by person
	ids    map[string]uuid.UUID
	tokens map[string]string
	teams  map[string]string
}

// smsPeer is a loopback SMS gateway (the sms connector's custom provider) and WeCom robot.
type smsPeer struct {
	mu   sync.Mutex
	msgs []map[string]any
}

func (p *smsPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &m)
	if m != nil {
		m["_path"], m["_query"] = r.URL.Path, r.URL.Query()
	}
	p.mu.Lock()
	p.msgs = append(p.msgs, m)
	p.mu.Unlock()
	_, _ = w.Write([]byte(`{"id":"sms-1"}`))
}

// chat answers whether a WeCom message containing part arrived.
func (p *smsPeer) chat(part string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.msgs {
		if m["msgtype"] == "text" && strings.Contains(fmt.Sprint(m["text"]), part) {
			return true
		}
	}
	return false
}

// dingtalk answers whether a DingTalk robot message containing part arrived, signed with a
// timestamp and an HMAC (the credential's signing secret).
func (p *smsPeer) dingtalk(part string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.msgs {
		q, _ := m["_query"].(url.Values)
		if m["_path"] == "/robot/send" && m["msgtype"] == "text" && strings.Contains(fmt.Sprint(m["text"]), part) &&
			q.Get("access_token") == "ding-tok" && q.Get("timestamp") != "" && q.Get("sign") != "" {
			return true
		}
	}
	return false
}

func (p *smsPeer) to(phone string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.msgs {
		if strings.Contains(fmt.Sprint(m["phones"]), phone) {
			n++
		}
	}
	return n
}

func newSalesWorld(t *testing.T) *salesWorld {
	t.Setenv("TESSERA_NET_ALLOW_HOSTS", "127.0.0.1")
	w := &salesWorld{ids: map[string]uuid.UUID{}, tokens: map[string]string{}, teams: map[string]string{}, sms: &smsPeer{}}
	w.loc, _ = time.LoadLocation("Asia/Shanghai")
	w.mail = apitest.StartMailbox(t)
	peer := httptest.NewServer(w.sms)
	t.Cleanup(peer.Close)
	w.peer = peer.URL
	w.clock = apitest.NewClock(time.Now())
	w.e = apitest.NewWithClock(t, w.clock, apitest.WithConfig(func(c *config.Config) {
		c.SMTP = config.SMTP{Host: w.mail.Host, Port: w.mail.Port, Security: "none", From: "noreply@tessera.test", FromName: "Tessera"}
	}))
	e := w.e
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps/sales/credentials", fmt.Sprintf(`{"name":"sms","connector":"sms","values":{"provider":"custom","gateway_url":%q,"sign_name":"Tessera"}}`, peer.URL+"/send"), e.AdminToken)
	// a WeCom robot: the assignment notice goes there too (DingTalk gets a credential in S4)
	e.Must(201, "POST", "/api/v1/apps/sales/credentials", fmt.Sprintf(`{"name":"wecom","connector":"wecom","values":{"webhook_url":%q}}`, peer.URL+"/cgi-bin/webhook/send?key=k"), e.AdminToken)

	// people: a director; the East team (Shanghai) with its manager and two reps; a senior
	// account manager; a North rep; marketing
	w.person("director", "sales_director", "")
	w.person("manager", "sales_manager", "")
	// the manager sits in the region team above the Shanghai team he manages, so round robin
	// inside the Shanghai team picks reps only and his team_tree scope covers it
	region := e.Must(201, "POST", "/api/v1/admin/teams", fmt.Sprintf(`{"name":"华东大区 East region","manager_id":%q}`, w.ids["manager"]), e.AdminToken).JSON()
	east := e.Must(201, "POST", "/api/v1/admin/teams", fmt.Sprintf(`{"name":"华东-上海 East","manager_id":%q,"parent_id":%q}`, w.ids["manager"], region["id"]), e.AdminToken).JSON()
	w.teams["east"] = east["id"].(string)
	north := e.Must(201, "POST", "/api/v1/admin/teams", `{"name":"华北 North"}`, e.AdminToken).JSON()
	w.teams["north"] = north["id"].(string)
	e.Must(200, "PATCH", "/api/v1/admin/users/"+w.ids["manager"].String(), fmt.Sprintf(`{"team_id":%q}`, region["id"]), e.AdminToken)
	w.person("rep_east1", "sales_rep", "east")
	w.person("rep_east2", "sales_rep", "east")
	w.person("senior", "sales_rep", "north")
	w.person("marketing", "marketing", "")
	return w
}

func (w *salesWorld) person(name, role, team string) {
	var tid *uuid.UUID
	if team != "" {
		u := uuid.MustParse(w.teams[team])
		tid = &u
	}
	id, tok := w.e.CreateUser(name+"@example.com", name, tid)
	w.e.Must(200, "PUT", "/api/v1/admin/users/"+id.String()+"/roles", fmt.Sprintf(`{"roles":[{"app":"sales","role":%q}]}`, role), w.e.AdminToken)
	w.ids[name], w.tokens[name] = id, tok
}

func (w *salesWorld) create(entity, body, token string) map[string]any {
	w.e.T.Helper()
	return w.e.Must(201, "POST", "/api/v1/apps/sales/entities/"+entity+"/records", body, token).JSON()
}

func (w *salesWorld) data(entity, id string) map[string]any {
	w.e.T.Helper()
	return recordData(w.e.T.(*testing.T), w.e, entity, id)
}

// tasks answers the open tasks of a person.
func (w *salesWorld) tasks(person string) []map[string]any {
	r := w.e.Must(200, "GET", "/api/v1/tasks?status=open", nil, w.tokens[person])
	var out []map[string]any
	var wrapped struct {
		Items []map[string]any `json:"items"`
	}
	if json.Unmarshal(r.Body, &wrapped) == nil && wrapped.Items != nil {
		return wrapped.Items
	}
	_ = json.Unmarshal(r.Body, &out)
	return out
}

func (w *salesWorld) hasTask(person, titlePart, recordID string) bool {
	for _, t := range w.tasks(person) {
		if strings.Contains(fmt.Sprint(t["title"]), titlePart) && (recordID == "" || fmt.Sprint(t["record_id"]) == recordID) {
			return true
		}
	}
	return false
}

// notified answers whether a person has a notification whose title contains part.
func (w *salesWorld) notified(person, part string) bool {
	r := w.e.Must(200, "GET", "/api/v1/notifications?limit=100", nil, w.tokens[person]).JSON()
	items, _ := r["items"].([]any)
	for _, it := range items {
		if strings.Contains(fmt.Sprint(it.(map[string]any)["title"]), part) {
			return true
		}
	}
	return false
}

// settle waits until no run of the app is queued or running, so the clock can move on.
func (w *salesWorld) settle(t *testing.T) {
	t.Helper()
	eventually(t, 60*time.Second, func() string {
		r := w.e.Must(200, "GET", "/api/v1/apps/sales/runs?status=queued,running&limit=5", nil, w.e.AdminToken).JSON()
		if items, _ := r["items"].([]any); len(items) > 0 {
			return fmt.Sprintf("%d runs still working, e.g. %v", len(items), items[0].(map[string]any)["flow"])
		}
		return ""
	})
}

// failedRuns fails the test if any run of the app failed.
func (w *salesWorld) noFailedRuns(t *testing.T) {
	t.Helper()
	r := w.e.Must(200, "GET", "/api/v1/apps/sales/runs?status=failed&limit=10", nil, w.e.AdminToken).JSON()
	if items, _ := r["items"].([]any); len(items) > 0 {
		for _, it := range items {
			m := it.(map[string]any)
			t.Errorf("run of %v failed: %v", m["flow"], m["error"])
		}
	}
}

// at moves the simulated clock to the next time (Shanghai) after now matching
// weekday/day-of-month hh:mm, plus 10 s, so exactly one cron tick is due.
func (w *salesWorld) at(next time.Time) {
	w.clock.Set(next.Add(10 * time.Second))
}

// runsOf summarises the latest runs of a flow (status, trigger, error) for failure messages.
func (w *salesWorld) runsOf(flow string) string {
	r := w.e.Must(200, "GET", "/api/v1/apps/sales/flows/"+flow+"/runs?limit=5", nil, w.e.AdminToken).JSON()
	items, _ := r["items"].([]any)
	var b strings.Builder
	fmt.Fprintf(&b, "clock %s; %d runs of %s:", w.clock.Now().In(w.loc).Format(time.RFC3339), len(items), flow)
	for _, it := range items {
		m := it.(map[string]any)
		fmt.Fprintf(&b, " [%v %v %v]", m["status"], m["trigger"], m["error"])
	}
	return b.String()
}

// convRe is a row of the weekly report's conversion table: new leads, won deals, rate.
var convRe = regexp.MustCompile(`<td>[^<]*(?:This|Last) week</td><td>(\d+)</td><td>(\d+)</td><td>([0-9.]+%|—)</td>`)

// convOK checks a conversion row: the rate is won / leads in per cent (one decimal), or a
// dash when there were no leads.
func convOK(m []string) bool {
	var leads, won float64
	fmt.Sscan(m[1], &leads)
	fmt.Sscan(m[2], &won)
	if leads == 0 {
		return m[3] == "—"
	}
	var rate float64
	fmt.Sscan(strings.TrimSuffix(m[3], "%"), &rate)
	return math.Abs(rate-won*100/leads) < 0.051
}

var pixelRe = regexp.MustCompile(`https?://[^"'\s<>]+/t/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)`)

// TestSalesScenarios walks the sales template through the seed scenarios S1-S4 and S6-S8 as
// the people involved, on a simulated clock: SLA escalation, the 3-day nurture wait, the 7-day
// negotiation timeout, the daily score decay, the weekly report and the monthly re-tiering
// happen by moving the clock, not by waiting.
func TestSalesScenarios(t *testing.T) {
	w := newSalesWorld(t)
	e := w.e
	// scenarios share one server and clock (run in order; a failure stops the walk)
	scenario := func(name string, f func(t *testing.T)) {
		t.Log("--- " + name)
		f(t)
	}

	scenario("S1 capture and cleaning", func(t *testing.T) {
		form := e.Must(200, "GET", "/api/v1/apps/sales/forms/web-lead", nil, e.AdminToken).JSON()
		pub, _ := form["public_id"].(string)
		if pub == "" {
			t.Fatalf("web-lead form has no public id: %v", form)
		}
		body := `{"name":" 王五 ","phone":"138 0013 8000","email":" WangWu@Example.COM ","company":"华东机械","consent":true,"utm_source":"baidu"}`
		if r := e.Do("POST", "/api/v1/public/forms/"+pub+"/submit", body, ""); r.Status != 201 {
			t.Fatalf("public form: %d %s", r.Status, r.Body)
		}
		e.Do("POST", "/api/v1/public/forms/"+pub+"/submit", body, "") // the same person again
		eventually(t, 30*time.Second, func() string {
			r := e.Must(200, "GET", "/api/v1/apps/sales/entities/lead/records?filter="+url.QueryEscape(`{"phone":{"eq":"+8613800138000"}}`), nil, e.AdminToken).JSON()
			items, _ := r["items"].([]any)
			if len(items) != 1 {
				return fmt.Sprintf("want one lead for the phone, got %d", len(items))
			}
			d := items[0].(map[string]any)["data"].(map[string]any)
			if d["email"] != "wangwu@example.com" || d["source"] != "web" {
				return fmt.Sprintf("lead not normalised: %v", d)
			}
			return ""
		})
		bad := e.Do("POST", "/api/v1/public/forms/"+pub+"/submit", `{"name":"x","phone":"12","email":"not-an-email","consent":true}`, "")
		if bad.Status != 422 || !strings.Contains(string(bad.Body), "email") {
			t.Fatalf("bad input: %d %s", bad.Status, bad.Body)
		}
	})

	var quiet, opener map[string]any
	scenario("S2 scoring and nurture", func(t *testing.T) {
		// whitepaper leads get the case-study e-mail through the platform SMTP setting, with
		// a tracking pixel
		quiet = w.create("lead", `{"name":"赵一","email":"zhao@example.com","phone":"13900000001","source":"whitepaper","score":30,"tags":["manufacturing_dx"]}`, e.AdminToken)
		opener = w.create("lead", `{"name":"钱二","email":"qian@example.com","phone":"13900000002","source":"whitepaper","score":30,"tags":["manufacturing_dx"]}`, e.AdminToken)
		var pixel string
		eventually(t, 30*time.Second, func() string {
			if len(w.mail.To("zhao@example.com")) == 0 {
				return "no case-study e-mail to zhao"
			}
			m := w.mail.To("qian@example.com")
			if len(m) == 0 {
				return "no case-study e-mail to qian"
			}
			if !strings.Contains(m[0].Subject, "案例") {
				return "subject: " + m[0].Subject
			}
			sub := pixelRe.FindStringSubmatch(m[0].Body)
			if sub == nil {
				return "no tracking pixel in " + m[0].Body
			}
			pixel = sub[1]
			return ""
		})
		// qian opens it: the anonymous pixel adds the activity (+5) and ends the wait
		r := e.Do("GET", "/t/"+pixel, nil, "")
		if r.Status != 200 || r.Header["Content-Type"] != "image/gif" {
			t.Fatalf("pixel: %d %v", r.Status, r.Header)
		}
		if r := e.Do("GET", "/t/"+pixel[:len(pixel)-2]+"xx", nil, ""); r.Status != 404 {
			t.Fatalf("a forged token: %d", r.Status)
		}
		eventually(t, 30*time.Second, func() string {
			d := w.data("lead", opener["id"].(string))
			if fmt.Sprint(d["score"]) != "35" || d["email_opened_at"] == nil {
				return fmt.Sprintf("after opening: %v", d)
			}
			return ""
		})
		hist := e.Must(200, "GET", "/api/v1/apps/sales/entities/lead/records/"+opener["id"].(string)+"/history", nil, e.AdminToken)
		if !strings.Contains(string(hist.Body), `"activity"`) || !strings.Contains(string(hist.Body), "email_opened") {
			t.Fatalf("the opened e-mail is not on the lead's timeline: %s", hist.Body)
		}
		w.settle(t)
		// three days later: zhao, who did not open it, gets the SMS; qian does not
		w.clock.Advance(73 * time.Hour)
		eventually(t, 30*time.Second, func() string {
			if w.sms.to("+8613900000001") != 1 {
				return "no SMS to the lead who did not open the e-mail"
			}
			return ""
		})
		if n := w.sms.to("+8613900000002"); n != 0 {
			t.Fatalf("the lead who opened the e-mail got %d SMS", n)
		}

		// outside events by API token: pricing page twice (+15 each) and a webinar (+25)
		tok := e.Must(201, "POST", "/api/v1/me/tokens", `{"name":"website"}`, e.AdminToken).JSON()["token"].(string)
		for _, typ := range []string{"pricing_visit", "webinar_attended", "pricing_visit"} {
			e.Must(202, "POST", "/api/v1/apps/sales/events", fmt.Sprintf(`{"entity":"lead","match":{"email":"ZHAO@example.com"},"type":%q,"data":{"url":"/pricing"}}`, typ), tok)
			w.settle(t)
		}
		eventually(t, 30*time.Second, func() string {
			d := w.data("lead", quiet["id"].(string))
			// 30 + 15 + 25 + 15 = 85 -> MQL
			if fmt.Sprint(d["score"]) != "85" || d["status"] != "mql" || fmt.Sprint(d["pricing_visits"]) != "2" {
				return fmt.Sprintf("after the events: %v", d)
			}
			if !w.hasTask("manager", "电话回访", quiet["id"].(string)) {
				return "no call task for the sales manager"
			}
			return ""
		})
		for _, c := range []struct {
			body  string
			token string
			want  int
		}{
			{`{"entity":"lead","match":{"email":"nobody@example.com"},"type":"pricing_visit"}`, tok, 404},
			{`{"entity":"lead","match":{"email":"zhao@example.com"},"type":"Pricing Visit!"}`, tok, 422},
			{`{"entity":"lead","match":{"name":"赵一"},"type":"pricing_visit"}`, tok, 422},
			{`{"entity":"lead","match":{"email":"zhao@example.com"},"type":"pricing_visit"}`, "", 401},
			{`{"entity":"lead","match":{"email":"zhao@example.com"},"type":"pricing_visit"}`, w.tokens["rep_east1"], 404},
		} {
			if r := e.Do("POST", "/api/v1/apps/sales/events", c.body, c.token); r.Status != c.want {
				t.Errorf("%s: %d %s, want %d", c.body, r.Status, r.Body, c.want)
			}
		}
		// setting pricing_visits to 2 by hand has the same effect
		third := w.create("lead", `{"name":"孙三","phone":"13900000003","score":10}`, e.AdminToken)
		e.Must(200, "PATCH", "/api/v1/apps/sales/entities/lead/records/"+third["id"].(string), `{"pricing_visits":2}`, e.AdminToken)
		eventually(t, 30*time.Second, func() string {
			if !w.hasTask("manager", "电话回访", third["id"].(string)) {
				return "no call task after pricing_visits: 2"
			}
			return ""
		})
		w.settle(t)
		w.noFailedRuns(t)
	})

	var leadA map[string]any
	scenario("S3 routing and SLA", func(t *testing.T) {
		// the routing table is data the admin edits
		w.create("routing_rule", fmt.Sprintf(`{"name":"华东 -> 上海团队","region":"east","team":%q,"priority":10,"active":true}`, w.teams["east"]), e.AdminToken)
		w.create("routing_rule", fmt.Sprintf(`{"name":"大型企业 -> 资深客户经理","company_size":"large","user":%q,"priority":1,"active":true}`, w.ids["senior"]), e.AdminToken)
		leadA = w.create("lead", `{"name":"周四","phone":"13900000004","region":"east","company_size":"medium","company":"上海精工","score":40}`, e.AdminToken)
		leadB := w.create("lead", `{"name":"吴五","phone":"13900000005","region":"east","company_size":"large","company":"华东重工","score":40}`, e.AdminToken)
		leadC := w.create("lead", `{"name":"郑六","phone":"13900000006","region":"north","company_size":"small","score":40}`, e.AdminToken)
		w.settle(t)
		for _, l := range []map[string]any{leadA, leadB, leadC} {
			e.Must(200, "PATCH", "/api/v1/apps/sales/entities/lead/records/"+l["id"].(string), `{"status":"sql"}`, e.AdminToken)
		}
		owner := func(l map[string]any) string {
			r := e.Must(200, "GET", "/api/v1/apps/sales/entities/lead/records/"+l["id"].(string), nil, e.AdminToken).JSON()
			return fmt.Sprint(r["owner_id"])
		}
		reps := map[string]string{}
		for _, n := range []string{"rep_east1", "rep_east2", "senior"} {
			reps[w.ids[n].String()] = n
		}
		eventually(t, 60*time.Second, func() string {
			a, b, c := reps[owner(leadA)], reps[owner(leadB)], reps[owner(leadC)]
			if a != "rep_east1" && a != "rep_east2" {
				return "east lead owned by " + owner(leadA) + " " + fmt.Sprint(reps) + "; " + w.runsOf("sql-assignment")
			}
			if b != "senior" {
				return "large-company lead owned by " + owner(leadB)
			}
			if c == "" {
				return "fallback lead owned by " + owner(leadC)
			}
			if !w.hasTask(a, "首次联系", leadA["id"].(string)) {
				return "no first-contact task for " + a
			}
			if len(w.mail.To(a+"@example.com")) == 0 {
				return "no e-mail to " + a
			}
			if !w.sms.chat("周四") {
				return "no WeCom notice of the assignment"
			}
			return ""
		})
		w.settle(t)
		repA := reps[owner(leadA)]
		leadA["rep"] = repA
		// the 2 working hours pass unanswered: the task escalates to the team manager
		w.clock.Advance(48 * time.Hour)
		eventually(t, 30*time.Second, func() string {
			if !w.hasTask("manager", "首次联系", leadA["id"].(string)) {
				return "first-contact task not escalated to the manager"
			}
			return ""
		})
		w.settle(t)
		// a logged call without a follow-up note within 2 h alerts the manager; one with a
		// note does not
		e.Must(200, "PATCH", "/api/v1/apps/sales/entities/lead/records/"+leadA["id"].(string), fmt.Sprintf(`{"last_call_at":%q}`, w.clock.Now().UTC().Format(time.RFC3339)), w.tokens[repA])
		e.Must(200, "PATCH", "/api/v1/apps/sales/entities/lead/records/"+leadB["id"].(string), fmt.Sprintf(`{"last_call_at":%q}`, w.clock.Now().UTC().Format(time.RFC3339)), w.tokens["senior"])
		w.settle(t)
		w.create("followup", fmt.Sprintf(`{"lead":%q,"call_at":%q,"need":"MES 选型","objection":"预算","solution":"分期","next_step":"演示"}`, leadB["id"], w.clock.Now().UTC().Format(time.RFC3339)), w.tokens["senior"])
		w.settle(t)
		w.clock.Advance(3 * time.Hour)
		eventually(t, 30*time.Second, func() string {
			if !w.notified("manager", "跟进记录超时 / Follow-up note overdue: 周四") {
				return "manager not alerted of the missing note"
			}
			return ""
		})
		w.settle(t)
		if w.notified("manager", "Follow-up note overdue: 吴五") {
			t.Fatalf("alerted although the note was filed")
		}
		w.noFailedRuns(t)
	})

	scenario("S4 stage changes and negotiation timeout", func(t *testing.T) {
		rep := leadA["rep"].(string)
		deal := w.create("deal", `{"name":"上海精工 MES","amount":300000,"office":"shanghai","channel":"web"}`, w.tokens[rep])
		id := deal["id"].(string)
		for _, st := range []string{"first_call", "demo_done", "proposal"} {
			e.Must(200, "PATCH", "/api/v1/apps/sales/entities/deal/records/"+id, fmt.Sprintf(`{"stage":%q}`, st), w.tokens[rep])
		}
		// the gate: a PDF quote uploaded within 72 h of the customer's last message
		st, f := upload(t, e, w.tokens[rep], "上海精工报价单.pdf", []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))
		if st != 201 {
			t.Fatalf("upload: %d %v", st, f)
		}
		e.Must(200, "PATCH", "/api/v1/apps/sales/entities/deal/records/"+id, fmt.Sprintf(`{"files":[{"id":%q}],"last_customer_message_at":%q}`, f["id"], time.Now().UTC().Format(time.RFC3339)), w.tokens[rep])
		// so far no DingTalk credential: the stage notices skipped the DingTalk step (no
		// failed run, nothing sent); with a signed robot credential the next notice goes there too
		w.settle(t)
		w.noFailedRuns(t)
		if w.sms.dingtalk("上海精工 MES") {
			t.Fatalf("a DingTalk notice without a DingTalk credential")
		}
		e.Must(201, "POST", "/api/v1/apps/sales/credentials", fmt.Sprintf(`{"name":"dingtalk","connector":"dingtalk","values":{"webhook_url":%q,"secret":"SECsigning-secret"}}`, w.peer+"/robot/send?access_token=ding-tok"), e.AdminToken)
		e.Must(200, "PATCH", "/api/v1/apps/sales/entities/deal/records/"+id, `{"stage":"negotiation"}`, w.tokens[rep])
		eventually(t, 30*time.Second, func() string {
			if !w.notified("manager", "Stage changed: 上海精工 MES") {
				return "the manager was not notified of the stage change"
			}
			if !w.sms.dingtalk("Stage changed: 上海精工 MES proposal → negotiation") {
				return "no signed DingTalk notice of the stage change; " + w.runsOf("deal-stage-notify")
			}
			return ""
		})
		w.settle(t)
		w.clock.Advance(8 * 24 * time.Hour)
		eventually(t, 30*time.Second, func() string {
			if d := w.data("deal", id); d["warning"] != "⚠️超期7天" {
				return fmt.Sprintf("deal after 8 days: %v", d)
			}
			if !w.hasTask("manager", "⚠️超期7天", id) {
				return "no timeout task for the manager"
			}
			return ""
		})
		w.settle(t)
	})

	scenario("S7 weekly report and heatmap", func(t *testing.T) {
		now := w.clock.Now().In(w.loc)
		mon := time.Date(now.Year(), now.Month(), now.Day(), 9, 0, 0, 0, w.loc)
		for !mon.After(now) || mon.Weekday() != time.Monday {
			mon = mon.AddDate(0, 0, 1)
		}
		w.at(mon)
		eventually(t, 60*time.Second, func() string {
			for _, who := range []string{"manager@example.com", "director@example.com"} {
				m := w.mail.To(who)
				if len(m) == 0 || !strings.Contains(m[len(m)-1].Body, "<table") || !strings.Contains(m[len(m)-1].Subject, "周报") {
					return "no weekly report e-mail with a table to " + who + "; " + w.runsOf("weekly-report")
				}
				// the lead -> won conversion rate of the report's week and the week before
				if c := convRe.FindAllStringSubmatch(m[len(m)-1].Body, -1); len(c) != 2 || !convOK(c[0]) || !convOK(c[1]) {
					return fmt.Sprintf("no conversion rates (this week and last week) in the weekly report: %v in %s", c, m[len(m)-1].Body)
				}
			}
			return ""
		})
		w.settle(t)
		// the figures: this week's leads as the director sees them
		rep := e.Must(200, "GET", "/api/v1/apps/sales/reports/leads-by-source/data", nil, w.tokens["director"]).JSON()
		total := 0.0
		for _, row := range rep["rows"].([]any) {
			if n, ok := row.([]any)[1].(float64); ok {
				total += n
			}
		}
		if total < 7 {
			t.Fatalf("leads by source: %v", rep["rows"])
		}
		heat := e.Must(200, "GET", "/api/v1/apps/sales/reports/dwell-heatmap/data", nil, w.tokens["director"])
		if !strings.Contains(string(heat.Body), "上海精工 MES") {
			t.Fatalf("heatmap does not list the stuck deal: %s", heat.Body)
		}
	})

	scenario("S6 monthly re-tiering", func(t *testing.T) {
		rep := leadA["rep"].(string)
		acc := map[string]string{}
		for name, body := range map[string]string{
			"strategic": `{"name":"战略客户A","annual_purchase":600000,"relationship_since":"2020-01-01"}`,
			"key":       `{"name":"重点客户B","annual_purchase":300000}`,
			"potential": `{"name":"潜力客户C","inquiries_3m":3}`,
			"normal":    `{"name":"普通客户D"}`,
		} {
			acc[name] = w.create("account", body, w.tokens[rep])["id"].(string)
		}
		w.settle(t)
		now := w.clock.Now().In(w.loc)
		first := time.Date(now.Year(), now.Month()+1, 1, 6, 0, 0, 0, w.loc)
		w.at(first)
		eventually(t, 60*time.Second, func() string {
			for want, id := range acc {
				if d := w.data("account", id); d["tier"] != want {
					return fmt.Sprintf("account %s: %v; %s", want, d, w.runsOf("monthly-tiering"))
				}
			}
			for title, id := range map[string]string{"季度拜访": acc["strategic"], "月度电话": acc["key"], "双周资讯": acc["potential"]} {
				if !w.hasTask(rep, title, id) {
					return "no touch-plan task " + title
				}
			}
			return ""
		})
		w.settle(t)
		for _, tk := range w.tasks(rep) {
			if fmt.Sprint(tk["record_id"]) == acc["normal"] {
				t.Fatalf("a normal account got a task: %v", tk)
			}
		}
	})

	scenario("S2 decay after 30 days without interaction", func(t *testing.T) {
		// 孙三 (score 10 + nothing since) and 赵一 (last activity in S2) are over 30 days old now
		now := w.clock.Now().In(w.loc)
		at := time.Date(now.Year(), now.Month(), now.Day(), 2, 0, 0, 0, w.loc).AddDate(0, 0, 1)
		last, err := time.Parse(time.RFC3339Nano, fmt.Sprint(w.data("lead", quiet["id"].(string))["last_activity_at"]))
		if err != nil {
			t.Fatalf("赵一 has no last activity: %v", err)
		}
		for at.Before(last.Add(30*24*time.Hour + time.Hour)) {
			at = at.AddDate(0, 0, 1)
		}
		w.at(at)
		eventually(t, 60*time.Second, func() string {
			if d := w.data("lead", quiet["id"].(string)); fmt.Sprint(d["score"]) != "65" {
				return fmt.Sprintf("赵一 after decay: %v; %s", d["score"], w.runsOf("score-decay"))
			}
			return ""
		})
		w.settle(t)
		// once per 30 days: the next day's run leaves it
		w.at(at.AddDate(0, 0, 1))
		w.settle(t)
		if d := w.data("lead", quiet["id"].(string)); fmt.Sprint(d["score"]) != "65" {
			t.Fatalf("decayed twice: %v", d["score"])
		}
		w.noFailedRuns(t)
	})

	scenario("S8 permissions", func(t *testing.T) {
		rep := leadA["rep"].(string)
		other := map[string]string{"rep_east1": "rep_east2", "rep_east2": "rep_east1"}[rep]
		lead := "/api/v1/apps/sales/entities/lead/records/" + leadA["id"].(string)
		for _, c := range []struct {
			who, method, path, body string
			want                    int
		}{
			{rep, "GET", lead, "", 200},
			{other, "GET", lead, "", 404},
			{"manager", "GET", lead, "", 200},
			{"director", "GET", lead, "", 200},
			{"marketing", "GET", lead, "", 200},
			{"marketing", "POST", "/api/v1/apps/sales/entities/campaign/records", `{"name":"2026 秋季白皮书","channel":"whitepaper","budget":50000}`, 201},
			{"marketing", "GET", "/api/v1/apps/sales/entities/deal/records", "", 403},
			{"marketing", "GET", "/api/v1/apps/sales/entities/account/records", "", 403},
			{"marketing", "GET", "/api/v1/apps/sales/entities/routing_rule/records", "", 403},
			{rep, "POST", "/api/v1/apps/sales/entities/routing_rule/records", `{"name":"mine","user":"x"}`, 403},
			{"", "GET", lead, "", 401},
		} {
			var body any
			if c.body != "" {
				body = c.body
			}
			if r := e.Do(c.method, c.path, body, w.tokens[c.who]); r.Status != c.want {
				t.Errorf("%s %s %s: %d %s, want %d", c.who, c.method, c.path, r.Status, r.Body, c.want)
			}
		}
		// reps never see cost and margin
		items := e.Must(200, "GET", "/api/v1/apps/sales/entities/deal/records", nil, w.tokens[rep]).JSON()["items"].([]any)
		if len(items) == 0 {
			t.Fatalf("the rep sees no deal")
		}
		for _, it := range items {
			if d := it.(map[string]any)["data"].(map[string]any); d["cost"] != nil || d["margin"] != nil {
				t.Fatalf("cost visible to the rep: %v", d)
			}
		}
	})
}
