package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/server/apitest"
)

// benchEntity has the 10 fields a typical lead form fills, with phone dedupe.
const benchEntity = `{"slug":"lead","fields":[
 {"key":"name","type":"text","required":true},{"key":"phone","type":"phone","unique":true},
 {"key":"email","type":"email"},{"key":"company","type":"text"},{"key":"city","type":"text"},
 {"key":"budget","type":"money"},{"key":"channel","type":"select","options":["web","wechat","phone"]},
 {"key":"need","type":"textarea"},{"key":"visit","type":"date"},{"key":"source","type":"text"},
 {"key":"stage","type":"select","options":["new","won"]}],
 "stages":{"field":"stage","order":["new","won"]},
 "dedupe":{"keys":[["phone"]],"on_duplicate":"merge"}}`

const benchForm = `{"slug":"web","entity":"lead","public":true,"rate_limit":100000000,
 "layout":[{"field":"name"},{"field":"phone"},{"field":"email"},{"field":"company"},{"field":"city"},
  {"field":"budget"},{"field":"channel"},{"field":"need"},{"field":"visit"}],"defaults":{"source":"web"}}`

func benchBody(i int) []byte {
	b, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("客户 %d", i), "phone": fmt.Sprintf("139%08d", i),
		"email": fmt.Sprintf("c%d@example.com", i), "company": "某某科技有限公司", "city": "上海", "budget": 120000.5,
		"channel": "web", "need": "想了解一下产品价格和交付周期", "visit": "2026-12-01"})
	return b
}

// runSubmissions drives b.N requests through app and reports submissions/s and latency
// percentiles.
func runSubmissions(b *testing.B, app *fiber.App, path string, seq *int) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", path, bytes.NewReader(benchBody(*seq)))
		*seq++
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		res, err := app.Test(req, -1)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		lat = append(lat, time.Since(t0))
		if res.StatusCode != 201 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "submissions/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkPublicFormSubmit measures the whole public submit path (10 fields: validation and
// normalisation, dedupe look-up, unique check, insert, created/stage events, hooks) next to a
// raw Fiber handler doing one INSERT of the same JSON, on the same database and harness.
// Run: go test ./server/api -run '^$' -bench PublicFormSubmit -benchtime 2000x
func BenchmarkPublicFormSubmit(b *testing.B) {
	e := apitest.New(b)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	for _, d := range [][2]string{{"entities/lead", benchEntity}, {"forms/web", benchForm}} {
		if r := e.Do("PUT", "/api/v1/apps/crm/"+d[0], d[1], e.AdminToken); r.Status != 200 && r.Status != 201 {
			b.Fatalf("PUT %s: %d %s", d[0], r.Status, r.Body)
		}
		e.Must(200, "POST", "/api/v1/apps/crm/"+d[0]+"/publish", nil, e.AdminToken)
	}
	pid, _ := e.Must(200, "GET", "/api/v1/apps/crm/forms/web", nil, e.AdminToken).JSON()["public_id"].(string)
	var appID string
	if err := e.DB.Pool.QueryRow(b.Context(), `SELECT id FROM apps WHERE slug = 'crm'`).Scan(&appID); err != nil {
		b.Fatal(err)
	}

	seq := 1_000_000
	b.Run("tessera", func(b *testing.B) {
		runSubmissions(b, e.Srv.App(), "/api/v1/public/forms/"+pid+"/submit", &seq)
	})

	b.Run("baseline-fiber-insert", func(b *testing.B) {
		raw := fiber.New(fiber.Config{DisableStartupMessage: true})
		raw.Post("/submit", func(c *fiber.Ctx) error {
			var v map[string]any
			if err := json.Unmarshal(c.Body(), &v); err != nil {
				return c.SendStatus(400)
			}
			data, _ := json.Marshal(v)
			var id string
			if err := e.DB.Pool.QueryRow(c.UserContext(), `INSERT INTO records (app_id, entity, data) VALUES ($1, 'baseline', $2) RETURNING id`, appID, data).Scan(&id); err != nil {
				return err
			}
			return c.Status(201).JSON(fiber.Map{"id": id})
		})
		runSubmissions(b, raw, "/submit", &seq)
	})
}

// BenchmarkRecordCreate measures the record-create API (4 fields, bearer token) in process:
// its allocations per create are the Go side's cost that #18's bench pays per request.
// Run: go test ./server/api -run '^$' -bench RecordCreate -benchmem -benchtime 3000x
func BenchmarkRecordCreate(b *testing.B) {
	e := apitest.New(b)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	if r := e.Do("PUT", "/api/v1/apps/crm/entities/lead", `{"slug":"lead","fields":[{"key":"name","type":"text","required":true},
 {"key":"score","type":"number"},{"key":"phone","type":"text"},{"key":"city","type":"text"}]}`, e.AdminToken); r.Status != 200 && r.Status != 201 {
		b.Fatalf("PUT entity: %d %s", r.Status, r.Body)
	}
	e.Must(200, "POST", "/api/v1/apps/crm/entities/lead/publish", nil, e.AdminToken)
	token := e.Must(201, "POST", "/api/v1/me/tokens", map[string]any{"name": "bench", "expires_in_days": 30}, e.AdminToken).JSON()["token"].(string)
	for deadline := time.Now().Add(10 * time.Second); !e.Srv.Auth.CachingPrincipals(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the token cache's listener did not start within 10 s")
		}
	}
	app := e.Srv.App()
	do := func(i int) {
		body := fmt.Sprintf(`{"name":"r%d","score":%d,"phone":"13900000000","city":"上海"}`, i, i)
		req := httptest.NewRequest("POST", "/api/v1/apps/crm/entities/lead/records", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := app.Test(req, -1)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 201 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	for i := range 50 {
		do(-i) // warm the caches and the prepared statements
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		do(i)
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU is the CPU time this process has used (user and system): the Go side's cost,
// without PostgreSQL's.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
