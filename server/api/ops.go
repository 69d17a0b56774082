package api

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera/tessera/migrations"
	"github.com/tessera/tessera/server/problem"
)

var (
	httpRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "tessera_http_requests_total", Help: "HTTP requests by method, route and status.",
	}, []string{"method", "route", "status"})
	httpDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "tessera_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route"})
)

// metricsPool is the pool the tessera_db_pool_* gauges read (the latest server's; one per
// process outside tests).
var (
	metricsPool     atomic.Pointer[pgxpool.Pool]
	metricsPoolOnce sync.Once
)

// registerPoolMetrics exports the connection pool's figures: connections taken, idle and
// allowed, and the count of acquires that had to wait for a connection.
func registerPoolMetrics(p *pgxpool.Pool) {
	metricsPool.Store(p)
	metricsPoolOnce.Do(func() {
		stat := func(f func(*pgxpool.Stat) float64) func() float64 {
			return func() float64 {
				if p := metricsPool.Load(); p != nil {
					return f(p.Stat())
				}
				return 0
			}
		}
		promauto.NewGaugeFunc(prometheus.GaugeOpts{Name: "tessera_db_pool_acquired_conns", Help: "Database connections in use."},
			stat(func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }))
		promauto.NewGaugeFunc(prometheus.GaugeOpts{Name: "tessera_db_pool_idle_conns", Help: "Idle database connections."},
			stat(func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }))
		promauto.NewGaugeFunc(prometheus.GaugeOpts{Name: "tessera_db_pool_max_conns", Help: "Database connections allowed."},
			stat(func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }))
		promauto.NewCounterFunc(prometheus.CounterOpts{Name: "tessera_db_pool_empty_acquire_total", Help: "Acquires that waited because every connection was taken."},
			stat(func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }))
		promauto.NewCounterFunc(prometheus.CounterOpts{Name: "tessera_db_pool_acquire_wait_seconds_total", Help: "Time spent waiting for a free connection."},
			stat(func(s *pgxpool.Stat) float64 { return s.EmptyAcquireWaitTime().Seconds() }))
	})
}

func metricsMiddleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		// Fiber's strings point into reused buffers: copy them before Prometheus keeps them.
		route, method := utils.CopyString(c.Route().Path), utils.CopyString(c.Method())
		status := c.Response().StatusCode()
		if err != nil {
			status = problem.From(err).Status
		}
		httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
		httpDuration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		return err
	}
}

func (s *Server) mountOps() error {
	s.route("GET", "/healthz", "ops", "Liveness: the process answers.", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok"})
	})
	s.route("GET", "/readyz", "ops", "Readiness: database reachable and migrations applied.", func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
		defer cancel()
		if err := s.DB.Pool.Ping(ctx); err != nil {
			return problem.New(503, "database unreachable")
		}
		pending, err := migrations.Pending(ctx, s.DB.SQL)
		if err != nil {
			return problem.New(503, "cannot read migration state")
		}
		if pending {
			return problem.New(503, "migrations pending")
		}
		return c.JSON(fiber.Map{"status": "ready"})
	})
	registerPoolMetrics(s.DB.Pool)
	s.route("GET", "/metrics", "ops", "Prometheus metrics.", adaptor.HTTPHandler(promhttp.Handler()))
	return nil
}
