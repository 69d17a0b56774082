// Package apitest starts a real Tessera API on a fresh PostgreSQL database for route tests.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/server/api"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/config"
)

// AdminEmail and AdminPassword are the first admin every Env starts with.
const (
	AdminEmail    = "admin@example.com"
	AdminPassword = "admin-password-1"
)

// Env is a running API on its own database.
type Env struct {
	T          testing.TB
	Srv        *api.Server
	DB         *db.DB
	Cfg        config.Config
	AdminToken string
	AdminID    uuid.UUID
}

// New starts an API with a fresh database and a logged-in admin.
func New(t testing.TB, opts ...Option) *Env {
	return start(t, nil, opts)
}

// NewWithClock starts an API whose flows, timers and cron run on clock (see Clock).
func NewWithClock(t testing.TB, clock *Clock, opts ...Option) *Env {
	e := start(t, clock, opts)
	clock.env = e
	return e
}

// NewCounted is New on a database whose statements the returned counter counts (every pool of
// the server: the shared one, the engine's run sessions); reset it before the operation measured.
func NewCounted(t testing.TB, opts ...Option) (*Env, *dbtest.Counter) {
	t.Helper()
	d, c := dbtest.OpenCounted(t)
	return startOn(t, d, nil, opts), c
}

func start(t testing.TB, clock *Clock, opts []Option) *Env {
	t.Helper()
	return startOn(t, dbtest.Open(t), clock, opts)
}

func startOn(t testing.TB, d *db.DB, clock *Clock, opts []Option) *Env {
	t.Helper()
	cfg := config.FromEnv()
	cfg.DatabaseURL = d.DSN
	cfg.DataDir = t.TempDir()
	cfg.AdminEmail, cfg.AdminPassword = AdminEmail, AdminPassword
	if clock != nil {
		cfg.Clock = clock.Now
	}
	for _, o := range opts {
		o(&cfg)
	}
	// TESSERA_TEST_LOG=1 shows the server's log (cron, workers, requests) on stderr.
	var logTo io.Writer = io.Discard
	if os.Getenv("TESSERA_TEST_LOG") == "1" {
		logTo = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logTo, nil))
	srv, err := api.New(cfg, d, log)
	if err != nil {
		t.Fatalf("apitest: building server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(0) })
	// A stalled pool (every connection taken, none freed for 30 s) is reported on stderr with
	// the pool's figures, so a hung test says why in the CI log.
	watchCtx, stopWatch := context.WithCancel(context.Background())
	t.Cleanup(stopWatch)
	go db.WatchPool(watchCtx, d.Pool, slog.New(slog.NewTextHandler(os.Stderr, nil)).With("test", t.Name()), 5*time.Second)
	if _, err := srv.Auth.EnsureAdmin(context.Background(), AdminEmail, AdminPassword); err != nil {
		t.Fatalf("apitest: admin: %v", err)
	}
	e := &Env{T: t, Srv: srv, DB: d, Cfg: cfg}
	e.AdminToken = e.Login(AdminEmail, AdminPassword)
	if err := d.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE email = $1`, AdminEmail).Scan(&e.AdminID); err != nil {
		t.Fatalf("apitest: admin id: %v", err)
	}
	return e
}

// Resp is a response with its body read.
type Resp struct {
	Status int
	Header map[string]string
	Body   []byte
}

// JSON decodes the body as an object.
func (r *Resp) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Decode decodes the body into v.
func (r *Resp) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
}

// Do sends a request. body may be nil, a string/[]byte (sent as is) or a value (sent as JSON).
// token "" sends no credentials. headers are "Name: value" pairs.
func (e *Env) Do(method, path string, body any, token string, headers ...string) *Resp {
	e.T.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.T.Fatalf("apitest: encoding body: %v", err)
		}
		rd, ct = bytes.NewReader(raw), "application/json"
	}
	req := httptest.NewRequest(method, path, rd)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := e.Srv.App().Test(req, -1)
	if err != nil {
		e.T.Fatalf("apitest: %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	hdr := map[string]string{}
	for k := range res.Header {
		hdr[k] = res.Header.Get(k)
	}
	return &Resp{Status: res.StatusCode, Header: hdr, Body: raw}
}

// Must sends a request and fails the test unless the status is want; it returns the response.
func (e *Env) Must(want int, method, path string, body any, token string, headers ...string) *Resp {
	e.T.Helper()
	r := e.Do(method, path, body, token, headers...)
	if r.Status != want {
		e.T.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// Login returns a bearer token for the user.
func (e *Env) Login(email, password string) string {
	e.T.Helper()
	r := e.Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, "")
	tok, _ := r.JSON()["token"].(string)
	if tok == "" {
		e.T.Fatalf("apitest: login gave no token: %s", r.Body)
	}
	return tok
}

// CreateUser inserts a user directly (no admin API needed) and returns its id and a token.
func (e *Env) CreateUser(email, name string, teamID *uuid.UUID) (uuid.UUID, string) {
	e.T.Helper()
	hash, err := auth.HashPassword("password-" + email)
	if err != nil {
		e.T.Fatal(err)
	}
	var id uuid.UUID
	if err := e.DB.Pool.QueryRow(context.Background(), `INSERT INTO users (email, name, password_hash, team_id) VALUES ($1, $2, $3, $4) RETURNING id`,
		email, name, hash, teamID).Scan(&id); err != nil {
		e.T.Fatalf("apitest: creating user: %v", err)
	}
	return id, e.Login(email, "password-"+email)
}
