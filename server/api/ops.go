package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/utils"
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
	s.route("GET", "/metrics", "ops", "Prometheus metrics.", adaptor.HTTPHandler(promhttp.Handler()))
	return nil
}
