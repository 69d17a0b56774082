package api_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tessera/tessera/server/apitest"
)

// bearer adds a token to every request of the MCP client.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// BenchmarkMCPToolLatency measures search_records and get_record through a real TCP listener
// with the SDK's client, as one of 10 reps (own scope, a hidden field) over
// TESSERA_BENCH_MCP_RECORDS leads (default 100000, bulk-inserted in SQL): p50 and p99 of
// TESSERA_BENCH_MCP_CALLS calls each (default 300), with the same reads over REST beside them.
//
//	go test ./server/api -run '^$' -bench BenchmarkMCPToolLatency -benchtime 1x
func BenchmarkMCPToolLatency(b *testing.B) {
	n, calls := 100000, 300
	if v, err := strconv.Atoi(os.Getenv("TESSERA_BENCH_MCP_RECORDS")); err == nil && v > 0 {
		n = v
	}
	if v, err := strconv.Atoi(os.Getenv("TESSERA_BENCH_MCP_CALLS")); err == nil && v > 0 {
		calls = v
	}
	e := apitest.New(b)
	adm := e.AdminToken
	ctx := context.Background()
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, adm)
	e.Must(201, "PUT", "/api/v1/apps/crm/entities/lead", map[string]any{"slug": "lead", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true},
		map[string]any{"key": "phone", "type": "phone"},
		map[string]any{"key": "cost", "type": "number"},
		map[string]any{"key": "stage", "type": "select", "options": []string{"new", "qualified", "won"}, "indexed": true}}}, adm)
	e.Must(200, "POST", "/api/v1/apps/crm/entities/lead/publish", nil, adm)
	e.Must(201, "POST", "/api/v1/admin/roles", map[string]any{"app": "crm", "name": "rep", "permissions": []any{
		map[string]any{"resource": "entity:lead", "actions": []string{"read", "create", "update"}, "scope": "own"},
		map[string]any{"resource": "app", "actions": []string{"read"}, "scope": "all"}},
		"fields": map[string]any{"lead": map[string]any{"hidden": []string{"cost"}}}}, adm)
	reps := make([]uuid.UUID, 10)
	var session string
	for i := range reps {
		id, tok := e.CreateUser(fmt.Sprintf("rep%d@example.com", i), "Rep", nil)
		reps[i] = id
		e.Must(200, "PUT", "/api/v1/admin/users/"+id.String()+"/roles", map[string]any{"roles": []any{map[string]string{"app": "crm", "role": "rep"}}}, adm)
		if i == 0 {
			session = tok
		}
	}
	token := apiToken(b, e, session)
	var appID uuid.UUID
	if err := e.DB.Pool.QueryRow(ctx, `SELECT id FROM apps WHERE slug = 'crm'`).Scan(&appID); err != nil {
		b.Fatal(err)
	}
	started := time.Now()
	if _, err := e.DB.Pool.Exec(ctx, `INSERT INTO records (app_id, entity, owner_id, created_at, updated_at, data)
		SELECT $1, 'lead', ($2::uuid[])[1 + g % 10], now() - g * interval '1 second', now() - g * interval '1 second',
			jsonb_build_object('name', 'lead ' || g, 'phone', '+86139' || lpad(g::text, 8, '0'), 'cost', g % 997, 'stage', (ARRAY['new','qualified','won'])[1 + g % 3])
		FROM generate_series(1, $3::int) g`, appID, reps, n); err != nil {
		b.Fatal(err)
	}
	if _, err := e.DB.Pool.Exec(ctx, `ANALYZE records`); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d leads in %s", n, time.Since(started).Round(time.Millisecond))
	var ids []string
	rows, err := e.DB.Pool.Query(ctx, `SELECT id::text FROM records WHERE app_id = $1 AND owner_id = $2 ORDER BY random() LIMIT 1000`, appID, reps[0])
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go e.Srv.App().Listener(ln)
	c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + ln.Addr().String() + "/mcp",
		HTTPClient: &http.Client{Transport: bearer{token}}, DisableStandaloneSSE: true, MaxRetries: -1}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()

	measure := func(name string, args func(i int) map[string]any) {
		var took []time.Duration
		for i := 0; i < calls; i++ {
			t0 := time.Now()
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args(i)})
			took = append(took, time.Since(t0))
			if err != nil || res.IsError {
				b.Fatalf("%s: %v %v", name, err, res)
			}
		}
		slices.Sort(took)
		p := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
		b.ReportMetric(p(0.5), name+"-p50-ms")
		b.ReportMetric(p(0.99), name+"-p99-ms")
	}
	// the same reads over REST, for comparison
	rest := func(name string, path func(i int) string) {
		var took []time.Duration
		hc := &http.Client{Transport: bearer{token}}
		for i := 0; i < calls; i++ {
			t0 := time.Now()
			resp, err := hc.Get("http://" + ln.Addr().String() + path(i))
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%s: %v %v", name, err, resp)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			took = append(took, time.Since(t0))
		}
		slices.Sort(took)
		p := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
		b.ReportMetric(p(0.5), name+"-p50-ms")
		b.ReportMetric(p(0.99), name+"-p99-ms")
	}
	for b.Loop() {
		rest("rest-list", func(i int) string {
			return "/api/v1/apps/crm/entities/lead/records?limit=20&filter=" + url.QueryEscape(`{"stage":{"eq":"`+[]string{"new", "qualified", "won"}[i%3]+`"}}`)
		})
		rest("rest-get", func(i int) string { return "/api/v1/apps/crm/entities/lead/records/" + ids[i%len(ids)] })
		measure("search_records", func(i int) map[string]any {
			return map[string]any{"app": "crm", "entity": "lead", "filter": map[string]any{"stage": map[string]any{"eq": []string{"new", "qualified", "won"}[i%3]}}, "limit": 20}
		})
		measure("get_record", func(i int) map[string]any {
			return map[string]any{"app": "crm", "entity": "lead", "id": ids[i%len(ids)]}
		})
	}
}
