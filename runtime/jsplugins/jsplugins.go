// Package jsplugins loads connectors written in JavaScript from a plugins directory
// (TESSERA_PLUGINS_DIR) without recompiling: each <dir>/<name>/manifest.json holds an
// sdk.Spec as JSON and <dir>/<name>/index.js the code, run in runtime/script's sandboxed
// worker processes with the same limits as flow scripts. A broken plugin is reported and
// skipped; it never stops the server.
//
// index.js defines an `operations` object with one function per operation id, called with
// (params, ctx), and optionally `test(ctx)` when the manifest lists the "test" capability:
//
//	const operations = {
//	  send(params, ctx) {
//	    const r = http.fetch(ctx.credentials.url, {method: 'POST', body: {text: params.text}});
//	    if (!r.ok) throw new Error((r.status >= 500 ? 'retry: ' : '') + 'answered ' + r.status);
//	    return {status: r.status};
//	  },
//	};
//
// ctx is {credentials, idempotency_key, attempt, app_id, run_id, node_id, now}. The code may
// use log(...), http.fetch (through the host's SSRF-guarded client), crypto.* (hmac, hash,
// randomUUID, randomBytes) and encoding.* (base64, hex); records.* is not available to
// connectors. An error whose message starts with "retry:" is retryable, other exceptions are
// permanent.
//
// More capabilities, each listed in the manifest: "options" calls
// options(operation, param, params, ctx) for parameters marked dynamic_options and answers
// [{value, label}]; "poll" serves the manifest's triggers with poll(ctx, state), where
// ctx.trigger and ctx.params name the trigger and its parameters and state is what the previous
// poll returned (null the first time), answering {items, state, ids}.
package jsplugins

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/runtime/script"
)

// Runner runs sandboxed JavaScript; *script.Pool and the flow engine's ScriptPool fit.
type Runner interface {
	RunScript(ctx context.Context, code string, input any,
		host func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error)) (json.RawMessage, []string, error)
}

// Limits of plugin files.
const (
	MaxManifest = 256 << 10
	MaxCode     = 256 << 10
)

// Plugin is one loaded JavaScript connector.
type Plugin struct {
	spec   sdk.Spec
	code   string
	runner Runner
	dir    string
}

// TestablePlugin is a Plugin whose manifest lists the "test" capability.
type TestablePlugin struct{ *Plugin }

// Spec returns the plugin's spec (Source "plugin").
func (p *Plugin) Spec() sdk.Spec { return p.spec }

// Dir is the plugin's directory.
func (p *Plugin) Dir() string { return p.dir }

// Test runs index.js's test(ctx).
func (p TestablePlugin) Test(ctx context.Context, env sdk.Env) error {
	_, err := p.call(ctx, env, "", nil, true)
	return err
}

// wrapper calls the plugin's code; it is constant per plugin so the sandbox caches the
// compiled program.
const wrapper = `
;
if (input.kind === 'test') {
  if (typeof test !== 'function') throw new Error('the plugin defines no test(ctx) function');
  test(input.ctx);
  return null;
}
if (input.kind === 'options') {
  if (typeof options !== 'function') throw new Error('the plugin defines no options(operation, param, params, ctx) function');
  return options(input.operation, input.param, input.params, input.ctx);
}
if (input.kind === 'poll') {
  if (typeof poll !== 'function') throw new Error('the plugin defines no poll(ctx, state) function');
  return poll(input.ctx, input.state);
}
if (typeof operations !== 'object' || operations === null || typeof operations[input.operation] !== 'function') {
  throw new Error('the plugin defines no operations.' + input.operation + ' function');
}
return operations[input.operation](input.params, input.ctx);
`

// jsCall is one call into a plugin's code: kind "operation", "test", "options" or "poll".
type jsCall struct {
	kind      string
	operation string
	param     string
	params    map[string]any
	trigger   string
	state     any
}

func (p *Plugin) call(ctx context.Context, env sdk.Env, operation string, params map[string]any, test bool) (any, error) {
	kind := "operation"
	if test {
		kind = "test"
	}
	return p.invoke(ctx, env, jsCall{kind: kind, operation: operation, params: params})
}

func (p *Plugin) invoke(ctx context.Context, env sdk.Env, c jsCall) (any, error) {
	creds := env.Credentials
	if creds == nil {
		creds = map[string]string{}
	}
	jsctx := map[string]any{"credentials": creds, "idempotency_key": env.IdempotencyKey, "attempt": env.Attempt,
		"app_id": env.AppID, "run_id": env.RunID, "node_id": env.NodeID, "now": env.Time().UTC().Format(time.RFC3339Nano)}
	input := map[string]any{"kind": c.kind, "operation": c.operation, "params": c.params, "ctx": jsctx}
	switch c.kind {
	case "options":
		input["param"] = c.param
	case "poll":
		jsctx["trigger"], jsctx["params"] = c.trigger, c.params
		input["state"] = c.state
	}
	out, logs, err := p.runner.RunScript(ctx, p.code, input, func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error) {
		if method != script.MethodHTTPFetch {
			return nil, fmt.Errorf("%s is not available to connector plugins", method)
		}
		return fetch(ctx, env.Client(), args)
	})
	log := env.Log().With("plugin", p.spec.ID)
	for _, l := range logs {
		log.Info(l)
	}
	if err != nil {
		var se *script.ScriptError
		if errors.As(err, &se) {
			switch {
			case se.Kind == script.KindTimeout || se.Kind == script.KindCrash:
				return nil, sdk.Temporary(fmt.Errorf("plugin %s: %w", p.spec.ID, err))
			case strings.HasPrefix(strings.TrimPrefix(se.Message, "Error: "), "retry:"):
				return nil, sdk.Temporary(fmt.Errorf("plugin %s: %w", p.spec.ID, err))
			}
			return nil, sdk.Permanent(fmt.Errorf("plugin %s: %w", p.spec.ID, err))
		}
		return nil, sdk.Temporary(fmt.Errorf("plugin %s: %w", p.spec.ID, err))
	}
	var v any
	if len(out) > 0 {
		if err := json.Unmarshal(out, &v); err != nil {
			return nil, sdk.Permanent(fmt.Errorf("plugin %s: decoding output: %w", p.spec.ID, err))
		}
	}
	return v, nil
}

// fetch answers http.fetch through the env's (guarded) client: {status, headers, body}.
func fetch(ctx context.Context, client *http.Client, args json.RawMessage) (json.RawMessage, error) {
	return script.Fetch(ctx, client, args)
}

// LoadDir reads one plugin directory (manifest.json + index.js) and checks it: strict JSON,
// a valid spec, code that compiles. It does not register the plugin.
func LoadDir(dir string, runner Runner) (sdk.Connector, error) {
	mf, err := readLimited(filepath.Join(dir, "manifest.json"), MaxManifest)
	if err != nil {
		return nil, err
	}
	var s sdk.Spec
	dec := json.NewDecoder(bytes.NewReader(mf))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	code, err := readLimited(filepath.Join(dir, "index.js"), MaxCode)
	if err != nil {
		return nil, err
	}
	src := string(code) + wrapper
	if err := script.Check(src); err != nil {
		return nil, fmt.Errorf("index.js: %w", err)
	}
	p := &Plugin{code: src, runner: runner, dir: dir}
	caps := map[string]bool{}
	for _, c := range s.Capabilities {
		switch c {
		case "test", "options", "poll":
			caps[c] = true
		default:
			return nil, fmt.Errorf("manifest.json: capability %q is not supported for JavaScript plugins (use test, options, poll)", c)
		}
	}
	if len(s.Triggers) > 0 && !caps["poll"] {
		return nil, errors.New(`manifest.json: triggers need the "poll" capability (and a poll(ctx, state) function)`)
	}
	if caps["poll"] && len(s.Triggers) == 0 {
		return nil, errors.New(`manifest.json: the "poll" capability needs at least one trigger`)
	}
	s.Capabilities, s.Source = nil, "plugin"
	for i := range s.Operations {
		op := s.Operations[i].ID
		s.Operations[i].Run = func(ctx context.Context, env sdk.Env, params map[string]any) (any, error) {
			return p.call(ctx, env, op, params, false)
		}
	}
	if err := sdk.CheckSpec(s); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	p.spec = s
	return withCapabilities(p, caps["test"], caps["options"], caps["poll"]), nil
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Base(path), err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", filepath.Base(path), max)
	}
	return b, nil
}

// Problem is a plugin that failed to load.
type Problem struct {
	Dir string `json:"dir"`
	Err string `json:"error"`
}

// Load loads every plugin under root into reg, logging and skipping broken ones (bad
// manifest, code that does not compile, an id already taken). It returns the loaded
// connector ids and the problems, both sorted.
func Load(root string, reg *sdk.Registry, runner Runner, log *slog.Logger) (loaded []string, problems []Problem) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		log.Error("reading the plugins directory", "dir", root, "err", err)
		return nil, []Problem{{Dir: root, Err: err.Error()}}
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		c, err := LoadDir(dir, runner)
		if err == nil {
			err = reg.Add(c)
		}
		if err != nil {
			log.Error("skipping broken connector plugin", "dir", dir, "err", err)
			problems = append(problems, Problem{Dir: dir, Err: err.Error()})
			continue
		}
		log.Info("loaded connector plugin", "id", c.Spec().ID, "version", c.Spec().Version, "dir", dir)
		loaded = append(loaded, c.Spec().ID)
	}
	sort.Strings(loaded)
	return loaded, problems
}

// LazyPool is a Runner that starts its sandbox workers on the first call, so servers with
// plugins that are never used start no processes.
type LazyPool struct {
	opts script.Options
	once sync.Once
	pool *script.Pool
	err  error
	mu   sync.Mutex
}

// NewLazyPool returns a lazily started pool.
func NewLazyPool(opts script.Options) *LazyPool { return &LazyPool{opts: opts} }

// RunScript implements Runner.
func (l *LazyPool) RunScript(ctx context.Context, code string, input any,
	host func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error)) (json.RawMessage, []string, error) {
	l.once.Do(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.pool, l.err = script.NewPool(l.opts)
	})
	if l.err != nil {
		return nil, nil, fmt.Errorf("starting the JavaScript sandbox: %w", l.err)
	}
	return l.pool.RunScript(ctx, code, input, host)
}

// Close stops the workers if they were started.
func (l *LazyPool) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pool != nil {
		return l.pool.Close()
	}
	return nil
}
