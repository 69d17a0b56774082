package script

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("script pool is closed")

// killGrace is how long the parent waits past the deadline for the worker's own interrupt to
// answer before it kills the worker.
const killGrace = 100 * time.Millisecond

// Options configure a Pool. Zero values take the defaults.
type Options struct {
	// Size is the number of worker processes (default 2). Calls beyond it wait for a free worker.
	Size int
	// MemoryMB is each worker's address-space limit (RLIMIT_AS) in MiB (default 512); the Go soft
	// memory limit is set to 60% of it. A negative value disables the limit (tests only).
	MemoryMB int
	// Timeout is the wall-clock limit of one call, host calls included (default 2s).
	Timeout time.Duration
	// Exe is the worker executable. Empty means this binary (/proc/self/exe) with Args defaulting
	// to WorkerSubcommand; with Exe set, Args are used as given (tests pass the test binary and
	// select the worker through Env).
	Exe  string
	Args []string
	// Env is the workers' environment. Nil gives a minimal one (TZ and ZONEINFO only): workers
	// never see the server's secrets. GOMAXPROCS=1, GOTRACEBACK=none and (unless Env sets it)
	// TESSERA_SANDBOX_WORKER=1 are always added; with the default Exe and Args the latter makes
	// the package's init serve as the worker in any binary that links it.
	Env []string
	// MaxInput and MaxOutput cap the JSON size of the input and the output (default 1 MiB each);
	// host-call arguments are capped by MaxOutput and host-call results by MaxInput.
	MaxInput, MaxOutput int
	// MaxCode caps the size of the code (default 256 KiB).
	MaxCode int
	// MaxDepth caps the JavaScript call depth (default 2000).
	MaxDepth int
	// MaxCalls recycles a worker after this many calls (default 10000).
	MaxCalls int
	// StartTimeout bounds a worker's start-up (default 10s).
	StartTimeout time.Duration
	// Logger receives worker crash reports (default slog.Default()).
	Logger *slog.Logger
}

func (o *Options) defaults() error {
	if o.Size <= 0 {
		o.Size = DefaultSize
	}
	if o.MemoryMB == 0 {
		o.MemoryMB = DefaultMemoryMB
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Exe == "" {
		// /proc/self/exe stays this very binary even when the file on disk is replaced or
		// deleted by an upgrade, so replacement workers always speak the same protocol.
		exe := "/proc/self/exe"
		if _, err := os.Stat(exe); err != nil {
			if exe, err = os.Executable(); err != nil {
				return fmt.Errorf("finding the sandbox worker executable: %w", err)
			}
		}
		o.Exe = exe
		if o.Args == nil {
			o.Args = []string{WorkerSubcommand}
		}
	}
	if o.Env == nil {
		for _, k := range []string{"TZ", "ZONEINFO"} {
			if v, ok := os.LookupEnv(k); ok {
				o.Env = append(o.Env, k+"="+v)
			}
		}
	}
	if o.MaxInput <= 0 {
		o.MaxInput = DefaultMaxInput
	}
	if o.MaxOutput <= 0 {
		o.MaxOutput = DefaultMaxOutput
	}
	if o.MaxCode <= 0 {
		o.MaxCode = DefaultMaxCode
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxCalls <= 0 {
		o.MaxCalls = 10000
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// Pool runs scripts in a fixed number of sandboxed worker processes. It is safe for concurrent use.
type Pool struct {
	opts Options
	// idle holds the idle workers, the one idled last on top: a call takes the worker that ran
	// last, so light load keeps running on warm processes and the others only take the excess.
	// ready holds one token per idle worker (a worker is pushed before its token is sent).
	// mu guards idle, closed and workers.
	idle    []*worker
	ready   chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	closed  bool
	workers map[*worker]struct{}
	wg      sync.WaitGroup
	started atomic.Int64
	calls   atomic.Int64
}

// Stats are counters for monitoring a pool.
type Stats struct {
	Calls   int64 // calls that reached a worker
	Started int64 // worker processes started, replacements included
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	return Stats{Calls: p.calls.Load(), Started: p.started.Load()}
}

// NewPool starts opts.Size workers and waits until each is ready.
func NewPool(opts Options) (*Pool, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	p := &Pool{
		opts:    opts,
		ready:   make(chan struct{}, opts.Size),
		done:    make(chan struct{}),
		workers: map[*worker]struct{}{},
	}
	for i := 0; i < opts.Size; i++ {
		w, err := p.spawn()
		if err != nil {
			p.Close()
			return nil, err
		}
		p.putIdle(w)
	}
	return p, nil
}

// Timeout is the per-call time limit of the pool.
func (p *Pool) Timeout() time.Duration { return p.opts.Timeout }

// Run calls code (a JavaScript function body that sees `input`) with input encoded as JSON
// (json.RawMessage and []byte are taken as JSON text) in a worker, and returns its return value as
// JSON. host answers records.* and http.fetch; nil makes those calls throw. A failure of the script
// is a *ScriptError; other errors are ErrClosed, the context's error or start-up failures.
func (p *Pool) Run(ctx context.Context, code string, input any, host Host) (*Result, error) {
	if len(code) > p.opts.MaxCode {
		return nil, &ScriptError{Kind: KindLimit, Message: fmt.Sprintf("script code is larger than %s", sizeText(p.opts.MaxCode))}
	}
	in, err := encodeInput(input)
	if err != nil {
		return nil, err
	}
	if len(in) > p.opts.MaxInput {
		return nil, &ScriptError{Kind: KindLimit, Message: fmt.Sprintf("script input is larger than %s", sizeText(p.opts.MaxInput))}
	}
	w, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	p.calls.Add(1)
	res, healthy, err := p.call(ctx, w, code, in, host)
	p.release(w, healthy)
	return res, err
}

// RunScript is Run in the shape of the flow engine's ScriptRunner (runtime/engine), so a *Pool
// can be handed to the engine as is. host may be nil. On failure the log lines collected before
// it are returned with the error.
func (p *Pool) RunScript(ctx context.Context, code string, input any,
	host func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error),
) (json.RawMessage, []string, error) {
	var h Host
	if host != nil {
		h = HostFunc(host)
	}
	res, err := p.Run(ctx, code, input, h)
	if err != nil {
		var se *ScriptError
		if errors.As(err, &se) {
			return nil, se.Logs, err
		}
		return nil, nil, err
	}
	return res.Output, res.Logs, nil
}

func encodeInput(input any) (json.RawMessage, error) {
	switch v := input.(type) {
	case nil:
		return json.RawMessage("null"), nil
	case json.RawMessage:
		if len(v) == 0 {
			return json.RawMessage("null"), nil
		}
		if !json.Valid(v) {
			return nil, &ScriptError{Kind: KindLimit, Message: "script input is not valid JSON"}
		}
		return v, nil
	case []byte:
		if !json.Valid(v) {
			return nil, &ScriptError{Kind: KindLimit, Message: "script input is not valid JSON"}
		}
		return v, nil
	}
	b, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("encoding script input: %w", err)
	}
	return b, nil
}

// Close stops all workers; running calls fail with ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	ws := make([]*worker, 0, len(p.workers))
	for w := range p.workers {
		ws = append(ws, w)
	}
	p.mu.Unlock()
	var stops sync.WaitGroup
	for _, w := range ws {
		stops.Add(1)
		go func() {
			defer stops.Done()
			w.stop()
		}()
	}
	stops.Wait()
	p.wg.Wait()
	return nil
}

func (p *Pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *Pool) acquire(ctx context.Context) (*worker, error) {
	for {
		select {
		case <-p.ready:
			w := p.takeIdle()
			if w.dead() {
				p.retire(w)
				p.replace()
				continue
			}
			return w, nil
		case <-p.done:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for a script worker: %w", ctx.Err())
		}
	}
}

func (p *Pool) release(w *worker, healthy bool) {
	w.calls++
	if !healthy || w.calls >= p.opts.MaxCalls || w.dead() {
		w.kill()
		p.retire(w)
		p.replace()
		return
	}
	p.putIdle(w)
}

// putIdle makes w idle (never blocks: at most Size workers exist).
func (p *Pool) putIdle(w *worker) {
	p.mu.Lock()
	p.idle = append(p.idle, w)
	p.mu.Unlock()
	p.ready <- struct{}{}
}

// takeIdle pops the worker idled last; the caller holds one of ready's tokens.
func (p *Pool) takeIdle() *worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	return w
}

func (p *Pool) retire(w *worker) {
	p.mu.Lock()
	delete(p.workers, w)
	p.mu.Unlock()
}

// replace starts a worker in the background (with backoff on failure) and makes it idle.
func (p *Pool) replace() {
	if p.isClosed() {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		backoff := 50 * time.Millisecond
		for {
			w, err := p.spawn()
			if err == nil {
				p.putIdle(w)
				return
			}
			if errors.Is(err, ErrClosed) {
				return
			}
			p.opts.Logger.Error("starting script worker", "err", err)
			select {
			case <-p.done:
				return
			case <-time.After(backoff):
			}
			if backoff < 5*time.Second {
				backoff *= 2
			}
		}
	}()
}

// spawn starts one worker and waits for its ready message.
func (p *Pool) spawn() (*worker, error) {
	args := append(append([]string{}, p.opts.Args...),
		"-memory-mb="+strconv.Itoa(max(p.opts.MemoryMB, 0)),
		"-max-input="+strconv.Itoa(p.opts.MaxInput),
		"-max-output="+strconv.Itoa(p.opts.MaxOutput),
		"-max-code="+strconv.Itoa(p.opts.MaxCode),
		"-max-depth="+strconv.Itoa(p.opts.MaxDepth),
	)
	cmd := exec.Command(p.opts.Exe, args...)
	cmd.Env = append(append([]string{}, p.opts.Env...), "GOMAXPROCS=1", "GOTRACEBACK=none")
	if !hasEnv(p.opts.Env, workerEnv) {
		cmd.Env = append(cmd.Env, workerEnv+"=1")
	}
	isolate(cmd)
	// Our own pipe (not cmd.StdinPipe) so writes can carry a deadline: a stuck worker can never
	// block a caller.
	stdinR, stdin, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting script worker: %w", err)
	}
	cmd.Stdin = stdinR
	defer stdinR.Close() // the child has its copy after Start
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting script worker: %w", err)
	}
	w := &worker{
		cmd:    cmd,
		stdin:  stdin,
		msgs:   make(chan *message, 1),
		killed: make(chan struct{}),
		stderr: &tail{max: 8 << 10},
	}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		stdin.Close()
		return nil, fmt.Errorf("starting script worker %s: %w", p.opts.Exe, err)
	}
	go w.readLoop(bufio.NewReaderSize(stdout, 64<<10), frameLimit(p.opts.MaxInput, p.opts.MaxOutput, p.opts.MaxCode))

	timer := time.NewTimer(p.opts.StartTimeout)
	defer timer.Stop()
	select {
	case m, ok := <-w.msgs:
		if !ok || m.T != msgReady {
			w.kill()
			w.waitExit()
			return nil, fmt.Errorf("starting script worker: no ready message (stderr: %q)", w.stderr.String())
		}
	case <-timer.C:
		w.kill()
		return nil, fmt.Errorf("starting script worker: not ready after %s", p.opts.StartTimeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		w.kill()
		return nil, ErrClosed
	}
	p.workers[w] = struct{}{}
	p.started.Add(1)
	return w, nil
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

type hostAnswer struct {
	result json.RawMessage
	err    error
}

// call runs one request on w. healthy reports whether w can serve further calls.
func (p *Pool) call(ctx context.Context, w *worker, code string, input json.RawMessage, host Host) (res *Result, healthy bool, err error) {
	timeout := p.opts.Timeout
	start := time.Now()
	if err := w.send(&message{T: msgRun, Code: code, Input: input, TimeoutMS: max(1, timeout.Milliseconds())}, start.Add(timeout+killGrace)); err != nil {
		return nil, false, p.sendError(w, err, timeout)
	}
	killTimer := time.NewTimer(timeout + killGrace)
	defer killTimer.Stop()
	hostCtx, cancelHost := context.WithDeadline(ctx, start.Add(timeout))
	defer cancelHost()
	var hostDone chan hostAnswer
	for {
		select {
		case m, ok := <-w.msgs:
			if !ok {
				return nil, false, p.deathError(w)
			}
			switch {
			case m.T == msgHost && hostDone == nil:
				hostDone = make(chan hostAnswer, 1)
				go func(method string, args json.RawMessage) {
					r, err := p.callHost(hostCtx, host, method, args)
					hostDone <- hostAnswer{r, err}
				}(m.Method, m.Args)
			case m.T == msgResult:
				if m.Error != nil {
					m.Error.Logs = m.Logs
					if m.Error.Kind == KindTimeout {
						m.Error.Message = timeoutMessage(timeout)
					}
					return nil, !m.Recycle, m.Error
				}
				if len(m.Output) > p.opts.MaxOutput {
					return nil, true, &ScriptError{Kind: KindLimit, Logs: m.Logs,
						Message: fmt.Sprintf("script output is larger than %s", sizeText(p.opts.MaxOutput))}
				}
				if !json.Valid(m.Output) {
					w.kill()
					return nil, false, &ScriptError{Kind: KindCrash, Logs: m.Logs, Message: "script worker returned invalid JSON"}
				}
				return &Result{Output: m.Output, Logs: m.Logs, Duration: time.Since(start)}, !m.Recycle, nil
			default:
				w.kill()
				return nil, false, &ScriptError{Kind: KindCrash, Message: fmt.Sprintf("script worker sent an unexpected %q message", m.T)}
			}
		case a := <-hostDone:
			hostDone = nil
			reply := &message{T: msgReply, Result: a.result}
			switch {
			case a.err != nil:
				reply.Result, reply.HostError = nil, a.err.Error()
				if reply.HostError == "" {
					reply.HostError = "host call failed"
				}
			case len(a.result) > p.opts.MaxInput:
				reply.Result, reply.HostError = nil, fmt.Sprintf("host call result is larger than %s", sizeText(p.opts.MaxInput))
			case len(a.result) > 0 && !json.Valid(a.result):
				reply.Result, reply.HostError = nil, "host call returned invalid JSON"
			}
			if err := w.send(reply, start.Add(timeout+killGrace)); err != nil {
				return nil, false, p.sendError(w, err, timeout)
			}
		case <-killTimer.C:
			w.kill()
			return nil, false, &ScriptError{Kind: KindTimeout, Message: timeoutMessage(timeout)}
		case <-ctx.Done():
			w.kill()
			if p.isClosed() {
				return nil, false, ErrClosed
			}
			return nil, false, fmt.Errorf("running script: %w", ctx.Err())
		}
	}
}

var hostMethods = map[string]bool{
	MethodRecordsFind: true, MethodRecordsGet: true, MethodRecordsCreate: true,
	MethodRecordsUpdate: true, MethodHTTPFetch: true,
}

func (p *Pool) callHost(ctx context.Context, host Host, method string, args json.RawMessage) (res json.RawMessage, err error) {
	if !hostMethods[method] {
		return nil, fmt.Errorf("%s is not available to scripts", method)
	}
	if hf, ok := host.(HostFunc); host == nil || ok && hf == nil {
		return nil, fmt.Errorf("%s is not available here", method)
	}
	if len(args) > p.opts.MaxOutput || !json.Valid(args) {
		return nil, fmt.Errorf("%s: invalid arguments", method)
	}
	defer func() {
		if x := recover(); x != nil { // a faulty Host must not take the server down
			p.opts.Logger.Error("script host call panicked", "method", method, "panic", x)
			res, err = nil, fmt.Errorf("%s failed", method)
		}
	}()
	return host.Call(ctx, method, args)
}

// sendError handles a failed write to a worker: past the deadline it is a timeout (the worker
// stopped reading), otherwise the worker died.
func (p *Pool) sendError(w *worker, err error, timeout time.Duration) error {
	w.kill()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &ScriptError{Kind: KindTimeout, Message: timeoutMessage(timeout)}
	}
	return p.deathError(w)
}

// deathError explains why a worker died during a call (its stdout closed); it waits for the
// process to exit so the stderr tail is complete.
func (p *Pool) deathError(w *worker) error {
	w.kill()
	w.waitExit()
	if p.isClosed() {
		return ErrClosed
	}
	text := w.stderr.String()
	switch {
	case strings.Contains(text, "out of memory"), strings.Contains(text, "cannot allocate memory"),
		strings.Contains(text, "stack exceeds"), strings.Contains(text, "stack overflow"):
		return &ScriptError{Kind: KindMemory, Message: fmt.Sprintf("script exceeded its memory limit (%d MiB)", p.opts.MemoryMB)}
	}
	p.opts.Logger.Warn("script worker crashed", "state", w.cmd.ProcessState.String(), "stderr", firstLines(text, 3))
	return &ScriptError{Kind: KindCrash, Message: "script worker crashed"}
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// worker is the parent's handle on one child process.
type worker struct {
	cmd      *exec.Cmd
	stdin    *os.File
	msgs     chan *message // closed after the process has exited
	killed   chan struct{}
	killOnce sync.Once
	stderr   *tail
	calls    int
}

// readLoop forwards the child's messages until its stdout closes, then reaps the process.
func (w *worker) readLoop(r io.Reader, maxFrame int) {
	defer close(w.msgs)
	for {
		m, err := readFrame(r, maxFrame)
		if err != nil {
			w.kill() // EOF (it exited) or a protocol error: either way it is finished
			_, _ = io.Copy(io.Discard, r)
			_ = w.cmd.Wait()
			return
		}
		select {
		case w.msgs <- m:
		case <-w.killed:
		}
	}
}

// send writes one message; a worker that does not take it within the deadline is broken.
func (w *worker) send(m *message, deadline time.Time) error {
	if err := w.stdin.SetWriteDeadline(deadline); err != nil {
		return fmt.Errorf("sending to script worker: %w", err)
	}
	return writeFrame(w.stdin, m)
}

func (w *worker) kill() {
	w.killOnce.Do(func() {
		close(w.killed)
		_ = w.cmd.Process.Kill()
		_ = w.stdin.Close()
	})
}

// stop asks the worker to exit by closing its stdin, killing it if it lingers.
func (w *worker) stop() {
	_ = w.stdin.Close()
	select {
	case <-w.exited():
	case <-time.After(time.Second):
	}
	w.kill()
}

func (w *worker) dead() bool {
	select {
	case <-w.killed:
		return true
	default:
		return false
	}
}

// exited is closed once the reader has reaped the process. Receiving from the closed msgs channel
// after draining works as the signal.
func (w *worker) exited() <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		for range w.msgs {
		}
		close(ch)
	}()
	return ch
}

func (w *worker) waitExit() {
	for range w.msgs {
	}
}

// tail keeps the first max/4 and the last max bytes written to it (a worker's stderr): the
// first line of a fatal error says why the worker died.
type tail struct {
	mu    sync.Mutex
	max   int
	total int
	head  []byte
	buf   []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := t.max/4 - len(t.head); n > 0 {
		t.head = append(t.head, b[:min(len(b), n)]...)
	}
	t.total += len(b)
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.total <= t.max {
		return string(t.buf)
	}
	return string(t.head) + "\n…\n" + string(t.buf)
}
