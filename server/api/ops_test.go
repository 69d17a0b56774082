package api_test

import (
	"strings"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// TestMetricsExportPoolFigures: /metrics carries the request counters and the database pool
// gauges an operator needs to see a starved pool.
func TestMetricsExportPoolFigures(t *testing.T) {
	e := apitest.New(t)
	e.Do("GET", "/healthz", nil, "")
	r := e.Do("GET", "/metrics", nil, "")
	if r.Status != 200 {
		t.Fatalf("GET /metrics: %d %s", r.Status, r.Body)
	}
	body := string(r.Body)
	for _, want := range []string{"tessera_http_requests_total", "tessera_db_pool_max_conns", "tessera_db_pool_acquired_conns",
		"tessera_db_pool_empty_acquire_total", "tessera_db_pool_acquire_wait_seconds_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// A known path asked with a method it does not serve answers 405 with an Allow header; an
// unknown path stays 404, and without credentials the API still answers 401 first.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	e := apitest.New(t)
	cases := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"DELETE", "/api/v1/apps", 405, "GET, HEAD, POST"},
		{"GET", "/api/v1/auth/login", 405, "POST"},
		{"PATCH", "/api/v1/notifications/read-all", 405, "POST"},
		{"PUT", "/api/v1/apps/sales/entities/lead/records/123/", 405, "DELETE, GET, HEAD, PATCH"},
		{"DELETE", "/api/v1/nope", 404, ""},
		{"GET", "/api/v1/nope", 404, ""},
	}
	for _, c := range cases {
		r := e.Do(c.method, c.path, nil, e.AdminToken)
		if r.Status != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, r.Status, r.Body, c.status)
			continue
		}
		if ct := r.Header["Content-Type"]; !strings.HasPrefix(ct, "application/problem+json") {
			t.Errorf("%s %s: content type %q", c.method, c.path, ct)
		}
		if c.allow != "" && r.Header["Allow"] != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, r.Header["Allow"], c.allow)
		}
	}
	if r := e.Do("DELETE", "/api/v1/apps", nil, ""); r.Status != 401 {
		t.Errorf("DELETE /api/v1/apps without credentials: %d, want 401", r.Status)
	}
}
