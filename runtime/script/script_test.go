package script_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/script"
)

// TestMain lets the test binary serve as the sandbox worker (the pool starts it with
// TESSERA_SANDBOX_WORKER=1), exactly as the tessera binary does with its worker subcommand.
func TestMain(m *testing.M) {
	switch os.Getenv("TESSERA_SANDBOX_WORKER") {
	case "1":
		os.Exit(script.WorkerMain(os.Args[1:]))
	case "stuck": // a broken worker: says ready, then never reads
		ready := `{"t":"ready"}`
		os.Stdout.Write(append([]byte{0, 0, 0, byte(len(ready))}, ready...))
		time.Sleep(time.Hour)
		os.Exit(0)
	case "silent": // a broken worker: never says ready
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const testTimeout = time.Second

// slack is how long past the deadline a failing call may take: the 250 ms (more under
// -race, whose instrumentation slows everything; bombs are skipped there anyway).
func slack() time.Duration {
	if raceEnabled {
		return time.Second
	}
	return 250 * time.Millisecond
}

func newPool(t testing.TB, mod func(*script.Options)) *script.Pool {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	opts := script.Options{
		Size:    2,
		Timeout: testTimeout,
		Exe:     exe,
		Env:     []string{"TESSERA_SANDBOX_WORKER=1"},
	}
	if mod != nil {
		mod(&opts)
	}
	p, err := script.NewPool(opts)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func scriptErr(t *testing.T, err error) *script.ScriptError {
	t.Helper()
	var se *script.ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("want *ScriptError, got %T %v", err, err)
	}
	return se
}

func mustRun(t *testing.T, p *script.Pool, code string, input any, host script.Host) *script.Result {
	t.Helper()
	res, err := p.Run(context.Background(), code, input, host)
	if err != nil {
		t.Fatalf("Run(%q): %v", code, err)
	}
	return res
}

func TestRunOutputs(t *testing.T) {
	p := newPool(t, nil)
	tests := []struct {
		name, code string
		input      any
		want       string
	}{
		{"sum of input", "return input.a + input.b", map[string]int{"a": 2, "b": 40}, "42"},
		{"object", "return {name: input.name.toUpperCase(), n: [1,2]}", map[string]string{"name": "张三"}, `{"name":"张三","n":[1,2]}`},
		{"undefined becomes null", "let x = 1", nil, "null"},
		{"raw JSON input", "return input.steps.a.v * 2", json.RawMessage(`{"steps":{"a":{"v":21}}}`), "42"},
		{"date serialises", "return new Date(0)", nil, `"1970-01-01T00:00:00.000Z"`},
		{"async await", "const v = await Promise.resolve(input); return v + 1", 1, "2"},
		{"uuid and now", "const u = uuid(); const n = now(); return /^[0-9a-f]{8}-[0-9a-f]{4}-4/.test(u) && !isNaN(Date.parse(n))", nil, "true"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := mustRun(t, p, tc.code, tc.input, nil)
			if string(res.Output) != tc.want {
				t.Fatalf("output %s, want %s", res.Output, tc.want)
			}
		})
	}
}

func TestLogs(t *testing.T) {
	p := newPool(t, nil)
	res := mustRun(t, p, `log("a", 1, {b: 2}); console.log("c"); console.warn("w"); console.error(new Error("e")); return 1`, nil, nil)
	want := []string{`a 1 {"b":2}`, "c", "[warn] w", "[error] Error: e"}
	if strings.Join(res.Logs, "|") != strings.Join(want, "|") {
		t.Fatalf("logs %q, want %q", res.Logs, want)
	}
	res = mustRun(t, p, `for (let i = 0; i < 10000; i++) log("line " + i); return 1`, nil, nil)
	if len(res.Logs) > 201 || !strings.Contains(res.Logs[len(res.Logs)-1], "dropped") {
		t.Fatalf("logs not capped: %d lines, last %q", len(res.Logs), res.Logs[len(res.Logs)-1])
	}
	// Logs survive a failure.
	_, err := p.Run(context.Background(), `log("before"); throw new Error("boom")`, nil, nil)
	if se := scriptErr(t, err); len(se.Logs) != 1 || se.Logs[0] != "before" {
		t.Fatalf("logs on failure: %q", se.Logs)
	}
}

func TestErrorsHaveUserPositions(t *testing.T) {
	p := newPool(t, nil)
	tests := []struct {
		name, code     string
		kind, contains string
		line, col      int
	}{
		{"syntax", "let a = 1;\nlet b = ;", script.KindSyntax, "SyntaxError", 2, 9},
		{"syntax in async", "await 1;\nreturn )", script.KindSyntax, "SyntaxError", 2, 8},
		{"throw", "let a = 1;\n  throw new Error('bad ' + a)", script.KindException, "Error: bad 1", 2, 9},
		{"type error", "const x = input;\nreturn x.y.z", script.KindException, "TypeError", 2, 12},
		{"reference error", "\n\nreturn nope + 1", script.KindException, "ReferenceError: nope is not defined", 3, 8},
		{"thrown object", "throw {code: 7}", script.KindException, `{"code":7}`, 1, 1},
		{"async rejection", "await null;\nthrow new RangeError('late')", script.KindException, "RangeError: late", 2, 7},
		{"unsettled promise", "return new Promise(() => {})", script.KindException, "never settled", 0, 0},
		{"deep recursion", "function f(n) { return f(n + 1) + 1 }\nreturn f(0)", script.KindLimit, "maximum call depth", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Run(context.Background(), tc.code, map[string]any{}, nil)
			se := scriptErr(t, err)
			if se.Kind != tc.kind || !strings.Contains(se.Message, tc.contains) {
				t.Fatalf("got %s %q, want %s containing %q", se.Kind, se.Message, tc.kind, tc.contains)
			}
			if se.Line != tc.line || (tc.col > 0 && se.Column != tc.col) {
				t.Fatalf("position %d:%d, want %d:%d (%s)", se.Line, se.Column, tc.line, tc.col, se.Message)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, code string
		kind       string
		line, col  int
	}{
		{"valid", "return input.a", "", 0, 0},
		{"valid async", "const r = await records.find('lead'); return r", "", 0, 0},
		{"missing expression", "let x = 1;\nreturn x +;", script.KindSyntax, 2, 11},
		{"unterminated string", "return 'abc", script.KindSyntax, 1, 8},
		{"redeclaration", "let a = 1;\nlet a = 2;", script.KindSyntax, 2, 5},
		{"too deep", strings.Repeat("(", 500) + "1" + strings.Repeat(")", 500), script.KindLimit, 1, 401},
		{"too large", "//" + strings.Repeat("x", script.DefaultMaxCode), script.KindLimit, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := script.Check(tc.code)
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			se := scriptErr(t, err)
			if se.Kind != tc.kind || se.Line != tc.line || se.Column != tc.col {
				t.Fatalf("got %s at %d:%d (%s), want %s at %d:%d", se.Kind, se.Line, se.Column, se.Message, tc.kind, tc.line, tc.col)
			}
		})
	}
}

// TestBombs runs hostile scripts: each must fail its own call with a clear error within the
// deadline plus 250 ms, and the pool must then still answer a normal script.
func TestBombs(t *testing.T) {
	if raceEnabled {
		t.Skip("memory limits and ThreadSanitizer do not mix")
	}
	p := newPool(t, nil)
	tests := []struct {
		name  string
		code  string
		kinds []string // acceptable kinds
		msg   string   // substring of the message
	}{
		{"infinite loop", "for(;;){}", []string{script.KindTimeout}, "exceeded its 1s time limit"},
		{"string repeat", "return 'x'.repeat(1<<30)", []string{script.KindMemory}, "memory limit"},
		{"string doubling", "let s='x'; for(;;) s+=s", []string{script.KindMemory, script.KindTimeout}, "exceeded its"},
		{"deep recursion", "function f(){ return f() } return f()", []string{script.KindLimit}, "call depth"},
		{"deep recursion via native", "function f(){ return [1].map(f) } return f()", []string{script.KindLimit, script.KindTimeout}, "exceeded"},
		{"huge array fill", "return new Array(1e9).fill(0).length", []string{script.KindMemory, script.KindTimeout}, "exceeded its"},
		{"push loop", "const a = []; for(;;) a.push({i: a.length})", []string{script.KindMemory, script.KindTimeout}, "exceeded its"},
		{"huge join", "return new Array(1e8).join('abcdefgh').length", []string{script.KindMemory, script.KindTimeout}, "exceeded its"},
		{"regexp backtracking", "return /^(a+)+(?=b)$/.test('a'.repeat(40))", []string{script.KindTimeout}, "time limit"},
		{"catch and loop", "for(;;){ try { for(;;){} } catch (e) {} }", []string{script.KindTimeout}, "time limit"},
		{"huge output", "return 'x'.repeat(2<<20)", []string{script.KindLimit}, "output is larger than 1 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := p.Run(context.Background(), tc.code, nil, nil)
			elapsed := time.Since(start)
			se := scriptErr(t, err)
			ok := false
			for _, k := range tc.kinds {
				ok = ok || se.Kind == k
			}
			if !ok || !strings.Contains(se.Message, tc.msg) {
				t.Fatalf("got %s %q, want one of %v containing %q", se.Kind, se.Message, tc.kinds, tc.msg)
			}
			if limit := testTimeout + slack(); elapsed > limit {
				t.Fatalf("failed after %s, want within %s", elapsed, limit)
			}
			t.Logf("%s after %s: %s", se.Kind, elapsed.Round(time.Millisecond), se.Message)
			res := mustRun(t, p, "return input * 2", 21, nil)
			if string(res.Output) != "42" {
				t.Fatalf("pool answers %s after the bomb", res.Output)
			}
		})
	}
}

// TestBombDoesNotBlockOthers: while one worker is busy with a hostile script, the other keeps
// answering normal calls.
func TestBombDoesNotBlockOthers(t *testing.T) {
	p := newPool(t, nil)
	bombDone := make(chan error, 1)
	go func() {
		_, err := p.Run(context.Background(), "for(;;){}", nil, nil)
		bombDone <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the bomb take a worker
	start := time.Now()
	for i := 0; i < 10; i++ {
		res := mustRun(t, p, "return input + 1", i, nil)
		if string(res.Output) != fmt.Sprint(i+1) {
			t.Fatalf("output %s", res.Output)
		}
	}
	if elapsed := time.Since(start); elapsed > testTimeout/2+slack()-250*time.Millisecond {
		t.Fatalf("normal calls took %s while a bomb ran", elapsed)
	}
	select {
	case err := <-bombDone:
		t.Fatalf("bomb finished early: %v", err)
	default:
	}
	if se := scriptErr(t, <-bombDone); se.Kind != script.KindTimeout {
		t.Fatalf("bomb: %v", se)
	}
}

// TestMemoryLimit uses a small limit: a growing heap kills only its own call, normal
// allocations below the limit work.
func TestMemoryLimit(t *testing.T) {
	if raceEnabled {
		t.Skip("memory limits and ThreadSanitizer do not mix")
	}
	// 160 MiB: a fresh worker's own address space (binary, Go heap arenas and their index, goja)
	// varies from run to run; at 96 and 128 MiB a 20 MiB script failed in 20-30% of runs.
	p := newPool(t, func(o *script.Options) { o.MemoryMB = 160; o.Size = 1 })
	tests := []struct {
		name, code string
		kind       string
	}{
		{"below the limit", "const a = []; for (let i = 0; i < 20; i++) a.push(new Uint8Array(1 << 20)); return a.length", ""},
		{"growing heap", "const a = []; for (;;) a.push(new Uint8Array(1 << 20))", script.KindMemory},
		{"big buffer", "return new Uint8Array(512 * 1024 * 1024).length", script.KindMemory},
		{"after the bombs", "return 1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			res, err := p.Run(context.Background(), tc.code, nil, nil)
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				t.Logf("output %s", res.Output)
				return
			}
			se := scriptErr(t, err)
			if se.Kind != tc.kind || !strings.Contains(se.Message, "memory limit (160 MiB)") {
				t.Fatalf("got %s %q, want %s", se.Kind, se.Message, tc.kind)
			}
			if elapsed := time.Since(start); elapsed > testTimeout+slack() {
				t.Fatalf("failed after %s", elapsed)
			}
		})
	}
}

// TestEscapes tries to reach the host process or leak state between calls.
func TestEscapes(t *testing.T) {
	p := newPool(t, func(o *script.Options) { o.Size = 1 }) // one worker: every call reuses it
	tests := []struct {
		name, code string
		want       string // exact output, or "" when the call must fail
		errHas     string
	}{
		{"constructor chain to process", "return this.constructor.constructor('return process')()", "", "process is not defined"},
		{"function constructor", "return typeof Function('return this')().process", `"undefined"`, ""},
		{"require", "return require('fs')", "", "require is not defined"},
		{"dynamic import", "return import('fs')", "", ""},
		{"host object prototypes", "return typeof records.find.constructor('return process')", `"function"`, ""},
		{"no node or deno globals", "const g = Function('return this')(); return ['process','require','module','Buffer','Deno','fetch','setTimeout','setInterval','__host','os','fs','global','exports'].filter(k => k in g)", `[]`, ""},
		{"host objects are frozen", "'use strict'; records.find = () => 1; return 1", "", "TypeError"},
		{"globals not replaceable", "'use strict'; http = 1; return 1", "", "TypeError"},
		{"pollute Object.prototype", "Object.prototype.polluted = 1; Array.prototype.push = null; globalThis.leak = 1; return 1", "1", ""},
		{"pollution not visible next call", "return [({}).polluted, typeof [].push, typeof globalThis.leak]", `[null,"function","undefined"]`, ""},
		{"pollute JSON", "JSON.stringify = () => '\"hacked\"'; JSON.parse = () => 'hacked'; return {a: 1}", `{"a":1}`, ""},
		{"JSON not polluted next call", "return JSON.stringify({a: 1})", `"{\"a\":1}"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := p.Run(context.Background(), tc.code, nil, nil)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("want an error, got %s", res.Output)
				}
				if !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error %q does not contain %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if string(res.Output) != tc.want {
				t.Fatalf("output %s, want %s", res.Output, tc.want)
			}
		})
	}
}

// TestGlobalsAllowList enumerates every global a script sees.
func TestGlobalsAllowList(t *testing.T) {
	p := newPool(t, nil)
	res := mustRun(t, p, "return Object.getOwnPropertyNames(globalThis)", nil, nil)
	var names []string
	if err := json.Unmarshal(res.Output, &names); err != nil {
		t.Fatal(err)
	}
	standard := map[string]bool{}
	for _, n := range strings.Fields(`Object Function Array String Number BigInt RegExp Date Boolean Proxy Reflect
		Error AggregateError TypeError ReferenceError SyntaxError RangeError EvalError URIError GoError
		eval Math JSON ArrayBuffer DataView Uint8Array Uint8ClampedArray Int8Array Uint16Array Int16Array
		Uint32Array Int32Array Float32Array Float64Array BigInt64Array BigUint64Array Symbol WeakMap WeakSet
		WeakRef FinalizationRegistry Map Set Promise globalThis NaN undefined Infinity isNaN parseInt parseFloat
		isFinite decodeURI decodeURIComponent encodeURI encodeURIComponent escape unescape Iterator`) {
		standard[n] = true
	}
	host := map[string]bool{"records": true, "http": true, "console": true, "log": true, "now": true, "uuid": true, "crypto": true, "encoding": true}
	for _, n := range names {
		if !standard[n] && !host[n] {
			t.Errorf("unexpected global %q", n)
		}
		delete(host, n)
	}
	if len(host) > 0 {
		t.Errorf("host API missing: %v", host)
	}
}

type recordingHost struct {
	mu    sync.Mutex
	calls []string
}

func (h *recordingHost) Call(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error) {
	h.mu.Lock()
	h.calls = append(h.calls, method+" "+string(args))
	h.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.New("host context has no deadline")
	}
	switch method {
	case script.MethodRecordsFind:
		return json.RawMessage(`{"items":[{"id":"r1","data":{"name":"张三"}}]}`), nil
	case script.MethodRecordsGet:
		return nil, errors.New("record not found")
	case script.MethodRecordsCreate, script.MethodRecordsUpdate:
		return json.RawMessage(`{"id":"r2","version":1}`), nil
	case script.MethodHTTPFetch:
		return json.RawMessage(`{"status":201,"headers":{"Content-Type":"application/json"},"body":"{\"ok\":true}"}`), nil
	}
	return nil, fmt.Errorf("unexpected method %s", method)
}

func TestHostCalls(t *testing.T) {
	p := newPool(t, nil)
	h := &recordingHost{}
	code := `
const found = records.find('lead', {stage: {eq: 'new'}}, {limit: 5});
let missing;
try { records.get('lead', 'nope') } catch (e) { missing = e.message }
const made = records.create({entity: 'lead', values: {name: input.name}});
records.update('lead', made.id, {stage: 'won'});
const r = http.fetch('https://example.com/api', {method: 'post', body: {a: 1}});
return {name: found.items[0].data.name, missing, id: made.id, status: r.status, ok: r.ok, json: r.json()};`
	res := mustRun(t, p, code, map[string]string{"name": "李四"}, h)
	want := `{"name":"张三","missing":"record not found","id":"r2","status":201,"ok":true,"json":{"ok":true}}`
	if string(res.Output) != want {
		t.Fatalf("output %s, want %s", res.Output, want)
	}
	wantCalls := []string{
		`records.find {"entity":"lead","filter":{"stage":{"eq":"new"}},"limit":5}`,
		`records.get {"entity":"lead","id":"nope"}`,
		`records.create {"entity":"lead","values":{"name":"李四"}}`,
		`records.update {"entity":"lead","id":"r2","values":{"stage":"won"}}`,
		`http.fetch {"url":"https://example.com/api","body":"{\"a\":1}","headers":{"Content-Type":"application/json"},"method":"POST"}`,
	}
	if strings.Join(h.calls, "\n") != strings.Join(wantCalls, "\n") {
		t.Fatalf("host calls:\n%s\nwant:\n%s", strings.Join(h.calls, "\n"), strings.Join(wantCalls, "\n"))
	}

	// Without a host the API throws a catchable error.
	res = mustRun(t, p, "try { records.find('lead') } catch (e) { return e.message }", nil, nil)
	if !strings.Contains(string(res.Output), "not available") {
		t.Fatalf("no-host output %s", res.Output)
	}

	// A nil HostFunc and a panicking host are errors inside the script, not crashes.
	var nilFunc script.HostFunc
	res = mustRun(t, p, "try { records.find('lead') } catch (e) { return e.message }", nil, nilFunc)
	if !strings.Contains(string(res.Output), "not available") {
		t.Fatalf("nil HostFunc output %s", res.Output)
	}
	panicky := script.HostFunc(func(context.Context, string, json.RawMessage) (json.RawMessage, error) { panic("boom") })
	res = mustRun(t, p, "try { records.find('lead') } catch (e) { return e.message }", nil, panicky)
	if string(res.Output) != `"records.find failed"` {
		t.Fatalf("panicking host output %s", res.Output)
	}

	// A host that never answers cannot hold the call past its deadline.
	slow := script.HostFunc(func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error) {
		time.Sleep(5 * time.Second)
		return nil, nil
	})
	start := time.Now()
	_, err := p.Run(context.Background(), "return records.find('lead')", nil, slow)
	if se := scriptErr(t, err); se.Kind != script.KindTimeout || time.Since(start) > testTimeout+slack() {
		t.Fatalf("slow host: %s after %s", se.Kind, time.Since(start))
	}
}

// scriptRunner mirrors runtime/engine.ScriptRunner: a *Pool is handed to the engine directly.
type scriptRunner interface {
	RunScript(ctx context.Context, code string, input any, host func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error)) (output json.RawMessage, logs []string, err error)
}

func TestRunScriptAdapter(t *testing.T) {
	var r scriptRunner = newPool(t, nil)
	host := func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"id":"r9"}`), nil
	}
	out, logs, err := r.RunScript(context.Background(), "log('hi'); return records.get('lead', 'r9').id", nil, host)
	if err != nil || string(out) != `"r9"` || len(logs) != 1 {
		t.Fatalf("RunScript = %s, %q, %v", out, logs, err)
	}
	_, logs, err = r.RunScript(context.Background(), "log('before'); null.x", nil, nil)
	if se := scriptErr(t, err); se.Kind != script.KindException || len(logs) != 1 {
		t.Fatalf("RunScript failure = %v, logs %q", err, logs)
	}
}

func TestLimits(t *testing.T) {
	p := newPool(t, func(o *script.Options) { o.MaxInput = 1 << 10 })
	tests := []struct {
		name, code string
		input      any
		host       script.Host
		msg        string
	}{
		{"input too large", "return 1", strings.Repeat("x", 2<<10), nil, "input is larger than 1 KiB"},
		{"invalid raw input", "return 1", json.RawMessage(`{`), nil, "not valid JSON"},
		{"host result too large", "return records.find('x')", nil, script.HostFunc(func(context.Context, string, json.RawMessage) (json.RawMessage, error) {
			return json.RawMessage(`"` + strings.Repeat("x", 4<<10) + `"`), nil
		}), "host call result is larger than 1 KiB"},
		{"unserialisable output", "const a = {}; a.a = a; return a", nil, nil, "TypeError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Run(context.Background(), tc.code, tc.input, tc.host)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want one containing %q", err, tc.msg)
			}
		})
	}
}

// TestConcurrentRuns runs 50 calls at once on a pool of 2.
func TestConcurrentRuns(t *testing.T) {
	p := newPool(t, func(o *script.Options) { o.Timeout = 10 * time.Second })
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := p.Run(context.Background(), "let s = 0; for (let k = 0; k < 1000; k++) s += k; return input.i * 1000 + (s === 499500 ? 1 : 0)", map[string]int{"i": i}, nil)
			if err != nil {
				errs <- err
				return
			}
			if want := fmt.Sprint(i*1000 + 1); string(res.Output) != want {
				errs <- fmt.Errorf("call %d: output %s, want %s", i, res.Output, want)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestContextAndClose(t *testing.T) {
	p := newPool(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Run(ctx, "for(;;){}", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 250*time.Millisecond+slack() {
		t.Fatalf("cancelled run: %v after %s", err, time.Since(start))
	}
	mustRun(t, p, "return 1", nil, nil)
	p.Close()
	if _, err := p.Run(context.Background(), "return 1", nil, nil); !errors.Is(err, script.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// TestDefaultExecutable starts workers the way the server does: this binary via /proc/self/exe
// with the worker subcommand in front of the flags and no environment; the package's init (not
// TestMain) serves as the worker.
func TestDefaultExecutable(t *testing.T) {
	if raceEnabled {
		t.Skip("memory limits and ThreadSanitizer do not mix")
	}
	p, err := script.NewPool(script.Options{Size: 1, MemoryMB: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// The flags after the subcommand are honoured: the memory limit says 200 MiB.
	_, err = p.Run(context.Background(), "return new Uint8Array(300 << 20).length", nil, nil)
	if se := scriptErr(t, err); se.Kind != script.KindMemory || !strings.Contains(se.Message, "200 MiB") {
		t.Fatalf("got %v", err)
	}
	res := mustRun(t, p, "return 7", nil, nil)
	if string(res.Output) != "7" {
		t.Fatalf("output %s", res.Output)
	}
}

func TestBrokenWorkers(t *testing.T) {
	exe, _ := os.Executable()
	if _, err := script.NewPool(script.Options{Exe: "/nonexistent/tessera", Args: []string{}}); err == nil {
		t.Fatal("NewPool with a missing executable succeeded")
	}
	start := time.Now()
	_, err := script.NewPool(script.Options{Exe: exe, Env: []string{"TESSERA_SANDBOX_WORKER=silent"}, StartTimeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "not ready") || time.Since(start) > 2*time.Second {
		t.Fatalf("silent worker: %v after %s", err, time.Since(start))
	}

	// A worker that stops reading cannot block a caller past the deadline, even with an input
	// larger than the pipe buffer.
	p := newPool(t, func(o *script.Options) { o.Env = []string{"TESSERA_SANDBOX_WORKER=stuck"}; o.Size = 1 })
	start = time.Now()
	_, err = p.Run(context.Background(), "return 1", strings.Repeat("x", 512<<10), nil)
	if se := scriptErr(t, err); se.Kind != script.KindTimeout || time.Since(start) > testTimeout+slack() {
		t.Fatalf("stuck worker: %v after %s", err, time.Since(start))
	}
}

// BenchmarkRunTrivial measures the overhead of one JavaScript action call (fresh runtime, cached
// program, JSON in and out, one pipe round trip).
func BenchmarkRunTrivial(b *testing.B) {
	p := newPool(b, nil)
	ctx := context.Background()
	input := map[string]any{"trigger": map[string]any{"record": map[string]any{"name": "张三", "amount": 1200}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Run(ctx, "return {ok: input.trigger.record.amount > 1000}", input, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkRunTrivialParallel is the same with concurrent callers on a pool of 2.
func BenchmarkRunTrivialParallel(b *testing.B) {
	p := newPool(b, nil)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Run(ctx, "return {ok: input.n > 1}", map[string]int{"n": 2}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// TestRecycleGrownWorker: a call that leaves the worker's heap above half its limit still
// succeeds, and the worker is replaced afterwards (the pool keeps answering).
func TestRecycleGrownWorker(t *testing.T) {
	if raceEnabled {
		t.Skip("memory limits and ThreadSanitizer do not mix")
	}
	// 300 MiB is over half the 512 MiB limit (the worker asks to be recycled) with room below the
	// limit itself: 150 of 256 MiB left too little address space for the Go heap's arenas and
	// failed about one run in three.
	p := newPool(t, func(o *script.Options) { o.Size = 1; o.MemoryMB = 512 })
	cheap := "return Date.now()"
	res := mustRun(t, p, "globalThis.keep = new Uint8Array(300 << 20); return keep.length", nil, nil)
	if string(res.Output) != fmt.Sprint(300<<20) {
		t.Fatalf("output %s", res.Output)
	}
	for i := 0; i < 3; i++ {
		mustRun(t, p, cheap, nil, nil)
	}
	if st := p.Stats(); st.Started != 2 || st.Calls != 4 {
		t.Fatalf("stats %+v, want 2 workers started (one replacement) and 4 calls", st)
	}
}
