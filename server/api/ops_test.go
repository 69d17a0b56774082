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
