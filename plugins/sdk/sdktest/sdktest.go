// Package sdktest runs connector operations without a server: a Harness gives an sdk.Env
// with a plain HTTP client and dialer (which, unlike the production client, may reach
// loopback so tests can start local peers), fixed credentials, an optional fixed clock and
// captured log lines.
//
//	func TestSend(t *testing.T) {
//		srv := httptest.NewServer(...)
//		h := sdktest.New(t).WithCredentials(map[string]string{"token": "t"})
//		out, err := h.Run(myconnector.Connector{}, "send", map[string]any{"url": srv.URL})
//		...
//	}
package sdktest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
)

// Log is one captured log line.
type Log struct {
	Level   slog.Level
	Message string
	Attrs   map[string]any
}

// Harness runs a connector's operations with a test Env.
type Harness struct {
	t testing.TB
	// Env is passed to every call; tests may change its fields directly.
	Env  sdk.Env
	logs *logStore
	ctx  context.Context
}

type logStore struct {
	mu   sync.Mutex
	logs []Log
}

// New returns a harness whose Env has a plain HTTP client (30 s timeout), a plain dialer,
// IdempotencyKey "test-run:test-node", Attempt 1 and a capturing logger.
func New(t testing.TB) *Harness {
	t.Helper()
	store := &logStore{}
	d := &net.Dialer{Timeout: 10 * time.Second}
	h := &Harness{t: t, logs: store, ctx: context.Background()}
	h.Env = sdk.Env{
		HTTP:           &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}},
		Credentials:    map[string]string{},
		Logger:         slog.New(&captureHandler{store: store}),
		IdempotencyKey: "test-run:test-node",
		Attempt:        1,
		RunID:          "test-run",
		NodeID:         "test-node",
		Dial:           d.DialContext,
	}
	return h
}

// WithCredentials sets the decrypted credential values the operation sees.
func (h *Harness) WithCredentials(values map[string]string) *Harness {
	h.Env.Credentials = values
	return h
}

// WithNow fixes the Env clock.
func (h *Harness) WithNow(now time.Time) *Harness {
	h.Env.Now = func() time.Time { return now }
	return h
}

// WithContext sets the context passed to every call (default context.Background()).
func (h *Harness) WithContext(ctx context.Context) *Harness {
	h.ctx = ctx
	return h
}

// Run validates params against the operation's spec, applies defaults and runs it, exactly
// as the flow engine does after rendering templates.
func (h *Harness) Run(c sdk.Connector, operation string, params map[string]any) (any, error) {
	h.t.Helper()
	return sdk.Invoke(h.ctx, c, operation, h.Env, params)
}

// MustRun is Run failing the test on error.
func (h *Harness) MustRun(c sdk.Connector, operation string, params map[string]any) any {
	h.t.Helper()
	out, err := h.Run(c, operation, params)
	if err != nil {
		h.t.Fatalf("running %s.%s: %v", c.Spec().ID, operation, err)
	}
	return out
}

// Test runs the connector's connection test; it fails the test when c is not an sdk.Tester.
func (h *Harness) Test(c sdk.Connector) error {
	h.t.Helper()
	tc, ok := c.(sdk.Tester)
	if !ok {
		h.t.Fatalf("connector %s does not implement sdk.Tester", c.Spec().ID)
	}
	return tc.Test(h.ctx, h.Env)
}

// Options calls the connector's OptionsProvider; it fails the test when c has none.
func (h *Harness) Options(c sdk.Connector, operation, param string, params map[string]any) ([]sdk.Option, error) {
	h.t.Helper()
	op, ok := c.(sdk.OptionsProvider)
	if !ok {
		h.t.Fatalf("connector %s does not implement sdk.OptionsProvider", c.Spec().ID)
	}
	return op.Options(h.ctx, h.Env, operation, param, params)
}

// Poll calls the connector's Poller after validating params against the trigger's spec; it
// fails the test when c has no Poller or no such trigger.
func (h *Harness) Poll(c sdk.Connector, trigger string, params map[string]any, state []byte) (sdk.PollResult, error) {
	h.t.Helper()
	p, ok := c.(sdk.Poller)
	if !ok {
		h.t.Fatalf("connector %s does not implement sdk.Poller", c.Spec().ID)
	}
	tr, ok := c.Spec().Trigger(trigger)
	if !ok {
		h.t.Fatalf("connector %s has no trigger %q", c.Spec().ID, trigger)
	}
	prepared, errs := sdk.Prepare(tr.Params, params)
	if len(errs) > 0 {
		return sdk.PollResult{}, sdk.FieldErrors(errs)
	}
	return p.Poll(h.ctx, h.Env, trigger, prepared, state)
}

// Logs returns the captured log lines so far.
func (h *Harness) Logs() []Log {
	h.logs.mu.Lock()
	defer h.logs.mu.Unlock()
	return append([]Log(nil), h.logs.logs...)
}

// LogText returns the captured log lines as text, one per line ("LEVEL msg k=v ...").
func (h *Harness) LogText() string {
	var b strings.Builder
	for _, l := range h.Logs() {
		fmt.Fprintf(&b, "%s %s", l.Level, l.Message)
		for k, v := range l.Attrs {
			fmt.Fprintf(&b, " %s=%v", k, v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// CheckSpec fails the test when c's spec is invalid, does not survive a JSON round trip,
// or misses a Chinese label on the connector, an operation or a parameter.
func CheckSpec(t testing.TB, c sdk.Connector) {
	t.Helper()
	s := sdk.Describe(c)
	if err := sdk.CheckSpec(s); err != nil {
		t.Fatalf("invalid spec: %v", err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("spec does not encode as JSON: %v", err)
	}
	var back sdk.Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("spec JSON does not decode: %v", err)
	}
	if back.ID != s.ID || len(back.Operations) != len(s.Operations) {
		t.Fatalf("spec JSON round trip lost data: %s", b)
	}
	if s.Label.ZhCN == "" {
		t.Errorf("connector %s: label zh-CN missing", s.ID)
	}
	check := func(where string, ps []sdk.Param) {
		for _, p := range ps {
			if p.Label.En == "" || p.Label.ZhCN == "" {
				t.Errorf("%s param %s: label en and zh-CN required", where, p.Key)
			}
		}
	}
	check(s.ID+" credentials", s.Credentials)
	for _, op := range s.Operations {
		if op.Label.En == "" || op.Label.ZhCN == "" {
			t.Errorf("operation %s.%s: label en and zh-CN required", s.ID, op.ID)
		}
		check(s.ID+"."+op.ID, op.Params)
	}
	for _, tr := range s.Triggers {
		if tr.Label.En == "" || tr.Label.ZhCN == "" {
			t.Errorf("trigger %s.%s: label en and zh-CN required", s.ID, tr.ID)
		}
		check(s.ID+" trigger "+tr.ID, tr.Params)
	}
}

type captureHandler struct {
	store *logStore
	attrs []slog.Attr
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	l := Log{Level: r.Level, Message: r.Message, Attrs: map[string]any{}}
	for _, a := range h.attrs {
		l.Attrs[a.Key] = a.Value.Any()
	}
	r.Attrs(func(a slog.Attr) bool {
		l.Attrs[a.Key] = a.Value.Any()
		return true
	})
	h.store.mu.Lock()
	h.store.logs = append(h.store.logs, l)
	h.store.mu.Unlock()
	return nil
}

func (h *captureHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &captureHandler{store: h.store, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }
