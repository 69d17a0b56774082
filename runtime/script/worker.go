package script

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// WorkerSubcommand is the argument that makes the tessera binary serve as a sandbox worker
// (main.go maps it to WorkerMain).
const WorkerSubcommand = "__sandbox-worker"

// workerEnv marks a process started by a Pool.
const workerEnv = "TESSERA_SANDBOX_WORKER"

// init turns any binary that links this package into a sandbox worker when a Pool starts it
// with its defaults (first argument WorkerSubcommand and TESSERA_SANDBOX_WORKER=1), before main
// or TestMain run: test binaries of packages that use a Pool (the engine's, the API's) need no
// hook, and nothing else in the binary starts (no database, no listeners).
func init() {
	if len(os.Args) > 1 && os.Args[1] == WorkerSubcommand && os.Getenv(workerEnv) == "1" {
		os.Exit(WorkerMain(os.Args[2:]))
	}
}

// WorkerMain is the entry point of a sandbox worker process. It limits its own address space
// (RLIMIT_AS, -memory-mb), sets a Go soft memory limit and GOMAXPROCS=1, then serves script calls
// read from stdin and answers on stdout until stdin closes. It returns the process exit code.
// Nothing else may write to stdout: os.Stdout is pointed at stderr while serving.
func WorkerMain(args []string) int {
	fs := flag.NewFlagSet("sandbox-worker", flag.ContinueOnError)
	memoryMB := fs.Int("memory-mb", DefaultMemoryMB, "address-space limit in MiB (0: none)")
	maxInput := fs.Int("max-input", DefaultMaxInput, "input size cap in bytes")
	maxOutput := fs.Int("max-output", DefaultMaxOutput, "output size cap in bytes")
	maxCode := fs.Int("max-code", DefaultMaxCode, "code size cap in bytes")
	maxDepth := fs.Int("max-depth", DefaultMaxDepth, "JavaScript call depth cap")
	if len(args) > 0 && args[0] == WorkerSubcommand {
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	runtime.GOMAXPROCS(1)
	debug.SetMaxStack(64 << 20)
	if *memoryMB > 0 {
		limit := uint64(*memoryMB) << 20
		debug.SetMemoryLimit(int64(limit) * 6 / 10)
		if err := limitAddressSpace(limit); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox worker:", err)
			return 1
		}
	}
	if err := confine(); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox worker:", err)
		return 1
	}
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	os.Stdout = os.Stderr
	c := &child{
		in:        bufio.NewReaderSize(os.Stdin, 64<<10),
		out:       out,
		maxInput:  *maxInput,
		maxOutput: *maxOutput,
		maxCode:   *maxCode,
		maxDepth:  *maxDepth,
		maxFrame:  frameLimit(*maxInput, *maxOutput, *maxCode),
		memLimit:  uint64(max(*memoryMB, 0)) << 20,
		programs:  map[[32]byte]*goja.Program{},
	}
	if err := c.send(&message{T: msgReady, PID: os.Getpid()}); err != nil {
		return 1
	}
	for {
		m, err := readFrame(c.in, c.maxFrame)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0
			}
			fmt.Fprintln(os.Stderr, "sandbox worker:", err)
			return 1
		}
		if m.T != msgRun {
			fmt.Fprintf(os.Stderr, "sandbox worker: unexpected %q message\n", m.T)
			return 1
		}
		res := c.run(m)
		res.Recycle = c.grown()
		if err := c.send(res); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox worker:", err)
			return 1
		}
	}
}

// frameLimit is the largest message either side accepts.
func frameLimit(maxInput, maxOutput, maxCode int) int {
	return maxInput + maxOutput + maxCode + maxLogBytes*2 + 64<<10
}

// child is the worker side: it owns the pipe and the compiled-program cache.
type child struct {
	in                                     *bufio.Reader
	out                                    *bufio.Writer
	maxInput, maxOutput, maxCode, maxDepth int
	maxFrame                               int
	memLimit                               uint64 // bytes of head-room, 0 for none
	programs                               map[[32]byte]*goja.Program
}

const maxPrograms = 256

var memSample = []metrics.Sample{{Name: "/memory/classes/total:bytes"}}

// grown reports whether the Go runtime holds more than half the memory limit: the address space
// it keeps is then better returned by replacing the worker than risked in the next call.
func (c *child) grown() bool {
	if c.memLimit == 0 {
		return false
	}
	metrics.Read(memSample)
	return memSample[0].Value.Kind() == metrics.KindUint64 && memSample[0].Value.Uint64() > c.memLimit/2
}

func (c *child) send(m *message) error {
	if err := writeFrame(c.out, m); err != nil {
		return err
	}
	return c.out.Flush()
}

func (c *child) program(code string) (*goja.Program, error) {
	key := sha256.Sum256([]byte(code))
	if p, ok := c.programs[key]; ok {
		return p, nil
	}
	p, err := compile(code, c.maxCode)
	if err != nil {
		return nil, err
	}
	if len(c.programs) >= maxPrograms {
		for k := range c.programs { // evict an arbitrary entry
			delete(c.programs, k)
			break
		}
	}
	c.programs[key] = p
	return p, nil
}

// errTimeout is the interrupt value used when the in-worker deadline passes.
var errTimeout = errors.New("deadline")

// call is the state of one script call: a fresh runtime and its collected logs.
type call struct {
	c         *child
	rt        *goja.Runtime
	code      string
	stringify goja.Callable
	parse     goja.Callable
	errorCtor goja.Value // the original Error constructor (the script may replace the global)
	logs      []string
	logBytes  int
	logsCut   bool
	hostCalls int
	pipeErr   error
}

func (c *child) run(m *message) (res *message) {
	cl := &call{c: c, code: m.Code}
	defer func() {
		if x := recover(); x != nil {
			res = cl.fail(&ScriptError{Kind: KindCrash, Message: fmt.Sprintf("script worker failed: %v", x)})
		}
		if cl.pipeErr != nil { // the parent is gone or confused: stop serving
			fmt.Fprintln(os.Stderr, "sandbox worker:", cl.pipeErr)
			os.Exit(1)
		}
	}()
	prg, err := c.program(m.Code)
	if err != nil {
		return cl.fail(err.(*ScriptError))
	}
	rt := goja.New()
	rt.SetMaxCallStackSize(c.maxDepth)
	cl.rt = rt
	if err := cl.install(); err != nil {
		return cl.fail(&ScriptError{Kind: KindCrash, Message: "preparing script runtime: " + err.Error()})
	}
	timeout := time.Duration(m.TimeoutMS) * time.Millisecond
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	timer := time.AfterFunc(timeout, func() { rt.Interrupt(errTimeout) })
	defer timer.Stop()

	fnv, err := rt.RunProgram(prg)
	if err != nil {
		return cl.fail(cl.jsError(err, timeout))
	}
	fn, ok := goja.AssertFunction(fnv)
	if !ok {
		return cl.fail(&ScriptError{Kind: KindSyntax, Message: "script code must be a function body"})
	}
	input := goja.Undefined()
	if len(m.Input) > 0 {
		if input, err = cl.parse(goja.Undefined(), rt.ToValue(string(m.Input))); err != nil {
			return cl.fail(&ScriptError{Kind: KindLimit, Message: "script input is not valid JSON"})
		}
	}
	v, err := fn(goja.Undefined(), input)
	if err != nil {
		return cl.fail(cl.jsError(err, timeout))
	}
	if p, ok := v.Export().(*goja.Promise); ok {
		switch p.State() {
		case goja.PromiseStateFulfilled:
			v = p.Result()
		case goja.PromiseStateRejected:
			return cl.fail(cl.rejection(p.Result()))
		default:
			return cl.fail(&ScriptError{Kind: KindException, Message: "script returned a promise that never settled (there are no timers)"})
		}
	}
	out := "null"
	if v != nil && !goja.IsUndefined(v) {
		s, err := cl.stringify(goja.Undefined(), v)
		if err != nil {
			return cl.fail(cl.jsError(err, timeout))
		}
		if !goja.IsUndefined(s) {
			out = s.String()
		}
	}
	if len(out) > c.maxOutput {
		return cl.fail(&ScriptError{Kind: KindLimit, Message: fmt.Sprintf("script output is larger than %s", sizeText(c.maxOutput))})
	}
	return &message{T: msgResult, Output: json.RawMessage(out), Logs: cl.logs}
}

func (cl *call) fail(e *ScriptError) *message {
	return &message{T: msgResult, Error: e, Logs: cl.logs}
}

// jsError converts an error from goja into a ScriptError with the user's line and column.
func (cl *call) jsError(err error, timeout time.Duration) *ScriptError {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		return &ScriptError{Kind: KindTimeout, Message: timeoutMessage(timeout)}
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		e := &ScriptError{Kind: KindLimit, Message: fmt.Sprintf("script exceeded the maximum call depth (%d)", cl.c.maxDepth)}
		e.Line, e.Column = cl.framePos(so.Stack())
		return e
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		e := &ScriptError{Kind: KindException, Message: cl.describe(ex.Value())}
		e.Line, e.Column = cl.framePos(ex.Stack())
		return e
	}
	var se *ScriptError
	if errors.As(err, &se) {
		return se
	}
	return &ScriptError{Kind: KindException, Message: err.Error()}
}

func (cl *call) framePos(stack []goja.StackFrame) (int, int) {
	for _, f := range stack {
		if f.SrcName() == scriptName {
			p := f.Position()
			if p.Line > 0 {
				return userPos(cl.code, p.Line, p.Column)
			}
		}
	}
	return 0, 0
}

// rejection describes the reason of a rejected promise (async scripts).
func (cl *call) rejection(reason goja.Value) *ScriptError {
	e := &ScriptError{Kind: KindException, Message: cl.describe(reason)}
	if o, ok := reason.(*goja.Object); ok {
		if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
			e.Line, e.Column = stackPos(cl.code, st.String())
		}
	}
	return e
}

// describe renders a thrown value: "TypeError: msg" for errors, JSON for plain objects.
func (cl *call) describe(v goja.Value) (msg string) {
	if v == nil || goja.IsUndefined(v) {
		return "script threw undefined"
	}
	defer func() {
		if recover() != nil {
			msg = "script threw a value that cannot be printed"
		}
	}()
	if o, ok := v.(*goja.Object); ok && o.ClassName() != "Error" {
		if s, err := cl.stringify(goja.Undefined(), o); err == nil && !goja.IsUndefined(s) {
			return "Uncaught " + truncate(s.String(), maxLogLine)
		}
	}
	return truncate(v.String(), maxLogLine)
}

func timeoutMessage(d time.Duration) string {
	return fmt.Sprintf("script exceeded its %s time limit", d)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// prop is one read-only method of a host API object.
type prop struct {
	name string
	v    any
}

// sortedProps lists m's methods in name order.
func sortedProps(m map[string]any) []prop {
	out := make([]prop, 0, len(m))
	for k, v := range m {
		out = append(out, prop{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// install defines the host API on the fresh runtime; everything else is plain ECMAScript.
func (cl *call) install() error {
	rt := cl.rt
	jsonObj := rt.Get("JSON").ToObject(rt)
	var ok bool
	if cl.stringify, ok = goja.AssertFunction(jsonObj.Get("stringify")); !ok {
		return errors.New("JSON.stringify missing")
	}
	if cl.parse, ok = goja.AssertFunction(jsonObj.Get("parse")); !ok {
		return errors.New("JSON.parse missing")
	}
	cl.errorCtor = rt.Get("Error")
	// The host API is defined lazily (a getter builds each object on first use: most scripts touch
	// little of it and native functions are the bulk of a fresh runtime's cost). Globals have no
	// setter and methods are read-only. (A fresh runtime per call is what really keeps calls
	// apart; this only stops accidental overwrites.)
	object := func(methods ...prop) goja.Value {
		o := rt.NewObject()
		for _, m := range methods {
			_ = o.DefineDataProperty(m.name, rt.ToValue(m.v), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		}
		return o
	}
	globals := []struct {
		name  string
		build func() goja.Value
	}{
		{"records", func() goja.Value {
			return object(
				prop{"find", cl.hostFunc(MethodRecordsFind, "entity", "filter")},
				prop{"get", cl.hostFunc(MethodRecordsGet, "entity", "id")},
				prop{"create", cl.hostFunc(MethodRecordsCreate, "entity", "values")},
				prop{"update", cl.hostFunc(MethodRecordsUpdate, "entity", "id", "values")},
			)
		}},
		{"http", func() goja.Value { return object(prop{"fetch", cl.fetch}) }},
		{"console", func() goja.Value {
			return object(prop{"log", cl.logFunc("")}, prop{"info", cl.logFunc("")}, prop{"debug", cl.logFunc("")},
				prop{"warn", cl.logFunc("[warn] ")}, prop{"error", cl.logFunc("[error] ")})
		}},
		{"log", func() goja.Value { return rt.ToValue(cl.logFunc("")) }},
		{"now", func() goja.Value {
			return rt.ToValue(func() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00") })
		}},
		{"uuid", func() goja.Value { return rt.ToValue(newUUID) }},
		{"crypto", func() goja.Value { return object(sortedProps(cl.cryptoObject())...) }},
		{"encoding", func() goja.Value { return object(sortedProps(cl.encodingObject())...) }},
	}
	g := rt.GlobalObject()
	for _, e := range globals {
		var v goja.Value
		build := e.build
		getter := rt.ToValue(func(goja.FunctionCall) goja.Value {
			if v == nil {
				v = build()
			}
			return v
		})
		if err := g.DefineAccessorProperty(e.name, getter, nil, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
			return err
		}
	}
	return nil
}

// throw raises a plain JavaScript Error with msg (catchable by the script).
func (cl *call) throw(msg string) {
	if ctor, ok := cl.errorCtor.(*goja.Object); ok {
		if e, err := cl.rt.New(ctor, cl.rt.ToValue(msg)); err == nil {
			panic(e)
		}
	}
	panic(cl.rt.ToValue(msg))
}

// hostFunc builds records.<x>(...): positional arguments are named by names; a single plain
// object argument is taken as the whole argument object; a further object argument (options
// such as limit and sort) is merged in.
func (cl *call) hostFunc(method string, names ...string) func(goja.FunctionCall) goja.Value {
	return func(fc goja.FunctionCall) goja.Value {
		rt := cl.rt
		var args *goja.Object
		if len(fc.Arguments) == 1 && isPlainObject(fc.Arguments[0]) {
			args = fc.Arguments[0].(*goja.Object)
		} else {
			args = rt.NewObject()
			for i, n := range names {
				if v := fc.Argument(i); !goja.IsUndefined(v) {
					args.Set(n, v)
				}
			}
			if len(fc.Arguments) > len(names) && isPlainObject(fc.Arguments[len(names)]) {
				opts := fc.Arguments[len(names)].(*goja.Object)
				for _, k := range opts.Keys() {
					args.Set(k, opts.Get(k))
				}
			}
		}
		return cl.host(method, args)
	}
}

func isPlainObject(v goja.Value) bool {
	o, ok := v.(*goja.Object)
	return ok && o.ClassName() == "Object"
}

// fetch implements http.fetch(url, {method, headers, body}); an object body is sent as JSON. The
// answer is {status, ok, headers, body} plus json() which parses body.
func (cl *call) fetch(fc goja.FunctionCall) goja.Value {
	rt := cl.rt
	args := rt.NewObject()
	args.Set("url", fc.Argument(0).String())
	method := "GET"
	if init, ok := fc.Argument(1).(*goja.Object); ok {
		if m := init.Get("method"); m != nil && !goja.IsUndefined(m) {
			method = strings.ToUpper(m.String())
		}
		headers := rt.NewObject()
		if h, ok := init.Get("headers").(*goja.Object); ok {
			for _, k := range h.Keys() {
				headers.Set(k, h.Get(k).String())
			}
		}
		if b := init.Get("body"); b != nil && !goja.IsUndefined(b) && !goja.IsNull(b) {
			if _, isObj := b.(*goja.Object); isObj {
				s, err := cl.stringify(goja.Undefined(), b)
				if err != nil {
					panic(err)
				}
				args.Set("body", s)
				if !hasHeader(headers, "content-type") {
					headers.Set("Content-Type", "application/json")
				}
			} else {
				args.Set("body", b.String())
			}
		}
		args.Set("headers", headers)
	}
	args.Set("method", method)
	res := cl.host(MethodHTTPFetch, args)
	if o, ok := res.(*goja.Object); ok {
		if st := o.Get("status"); st != nil {
			code := st.ToInteger()
			o.Set("ok", code >= 200 && code < 300)
		}
		o.Set("json", func(goja.FunctionCall) goja.Value {
			body := o.Get("body")
			if body == nil || goja.IsUndefined(body) {
				return goja.Undefined()
			}
			v, err := cl.parse(goja.Undefined(), body)
			if err != nil {
				panic(err)
			}
			return v
		})
	}
	return res
}

func hasHeader(h *goja.Object, name string) bool {
	for _, k := range h.Keys() {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// host sends one host call to the parent and blocks for the answer.
func (cl *call) host(method string, args goja.Value) goja.Value {
	cl.hostCalls++
	if cl.hostCalls > maxHostCalls {
		cl.throw(fmt.Sprintf("script made more than %d host calls", maxHostCalls))
	}
	s, err := cl.stringify(goja.Undefined(), args)
	if err != nil {
		panic(err)
	}
	if len(s.String()) > cl.c.maxOutput {
		cl.throw(fmt.Sprintf("%s arguments are larger than %s", method, sizeText(cl.c.maxOutput)))
	}
	if err := cl.c.send(&message{T: msgHost, Method: method, Args: json.RawMessage(s.String())}); err != nil {
		cl.pipeErr = err
		cl.throw("host call failed: " + err.Error())
	}
	m, err := readFrame(cl.c.in, cl.c.maxFrame)
	if err == nil && m.T != msgReply {
		err = fmt.Errorf("unexpected %q message while waiting for a host reply", m.T)
	}
	if err != nil {
		cl.pipeErr = err
		cl.throw("host call failed: " + err.Error())
	}
	if m.HostError != "" {
		cl.throw(m.HostError)
	}
	if len(m.Result) == 0 {
		return goja.Undefined()
	}
	v, err := cl.parse(goja.Undefined(), cl.rt.ToValue(string(m.Result)))
	if err != nil {
		panic(err)
	}
	return v
}

// logFunc builds log(...)/console.*: strings print as they are, other values as JSON.
func (cl *call) logFunc(prefix string) func(goja.FunctionCall) goja.Value {
	return func(fc goja.FunctionCall) goja.Value {
		if cl.logsCut {
			return goja.Undefined()
		}
		parts := make([]string, 0, len(fc.Arguments))
		for _, a := range fc.Arguments {
			parts = append(parts, cl.logText(a))
		}
		line := truncate(prefix+strings.Join(parts, " "), maxLogLine)
		if len(cl.logs) >= maxLogLines || cl.logBytes+len(line) > maxLogBytes {
			cl.logsCut = true
			cl.logs = append(cl.logs, "… (further log lines dropped)")
			return goja.Undefined()
		}
		cl.logBytes += len(line)
		cl.logs = append(cl.logs, line)
		return goja.Undefined()
	}
}

func (cl *call) logText(v goja.Value) (text string) {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if _, ok := v.(*goja.Object); !ok {
		return v.String()
	}
	defer func() {
		if recover() != nil {
			text = "[unprintable]"
		}
	}()
	if o := v.(*goja.Object); o.ClassName() == "Error" || o.ClassName() == "Function" {
		return v.String()
	}
	s, err := cl.stringify(goja.Undefined(), v)
	if err != nil || goja.IsUndefined(s) {
		return v.String()
	}
	return truncate(s.String(), maxLogLine)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
