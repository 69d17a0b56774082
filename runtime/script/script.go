// Package script runs user JavaScript actions (goja) in a pool of sandboxed child processes.
//
// User JavaScript never runs inside the server process: goja has no memory cap and Interrupt
// does not stop native built-ins, so a single `'x'.repeat(1<<30)` could take the server down.
// Instead a Pool starts worker processes of the same binary (see WorkerMain), each with an
// address-space limit (RLIMIT_AS), a Go soft memory limit and GOMAXPROCS=1. The parent enforces
// a wall-clock deadline per call and kills (SIGKILL) and replaces a worker that overruns it or
// dies. Every call gets a fresh goja.Runtime; compiled programs are cached per worker by code
// hash. Scripts reach the outside world only through an allow-listed host API (records.*,
// http.fetch, log/console, now, uuid) whose record and HTTP calls travel over the pipe to a
// caller-supplied Host.
//
// Workers are this same binary started as `<binary> __sandbox-worker [flags]` with
// TESSERA_SANDBOX_WORKER=1: the package's init serves them before main (or TestMain) runs, so any
// binary that links this package, test binaries included, works as its own worker. main.go also
// registers WorkerMain as a CLI subcommand.
package script

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Error kinds reported in ScriptError.Kind. They are stable identifiers (UIs translate them).
const (
	KindException = "exception" // the script threw (or returned a rejected promise)
	KindSyntax    = "syntax"    // the code does not compile
	KindTimeout   = "timeout"   // the call exceeded its time limit
	KindMemory    = "memory"    // the worker ran out of its memory (address space) limit
	KindCrash     = "crash"     // the worker process died for another reason
	KindLimit     = "limit"     // input/output/code size, call depth or log caps
)

// ScriptError is the error of a script call that failed because of the script (as opposed to a
// cancelled context or a closed pool). Line and Column are 1-based and relative to the user's code
// (the function body); they are 0 when unknown.
type ScriptError struct {
	Message string   `json:"message"`
	Line    int      `json:"line,omitempty"`
	Column  int      `json:"column,omitempty"`
	Kind    string   `json:"kind"`
	Logs    []string `json:"logs,omitempty"` // log lines collected before the failure
}

// Error formats the message with its position when known.
func (e *ScriptError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d, column %d)", e.Message, e.Line, e.Column)
	}
	return e.Message
}

// Host answers the host API calls a script makes (records.find/get/create/update and
// http.fetch). The caller supplies one per Run so it can apply the flow's permissions and route
// HTTP through the SSRF-guarded client. args is a JSON object (see docs/scripting.md for the
// shapes); the returned JSON is handed to the script as the call's return value. An error is
// thrown into the script as an Error with the error's text as message.
type Host interface {
	Call(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error)
}

// HostFunc adapts a function to the Host interface.
type HostFunc func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error)

// Call calls f.
func (f HostFunc) Call(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error) {
	return f(ctx, method, args)
}

// Result is the outcome of a successful script call.
type Result struct {
	Output   json.RawMessage `json:"output"`         // the script's return value as JSON (null for undefined)
	Logs     []string        `json:"logs,omitempty"` // log()/console.* lines, capped
	Duration time.Duration   `json:"duration"`       // wall time of the call inside the worker pool, queueing excluded
}

// Host API method names forwarded to Host.Call.
const (
	MethodRecordsFind   = "records.find"
	MethodRecordsGet    = "records.get"
	MethodRecordsCreate = "records.create"
	MethodRecordsUpdate = "records.update"
	MethodHTTPFetch     = "http.fetch"
)

// Default limits.
const (
	DefaultSize      = 2
	DefaultMemoryMB  = 512
	DefaultTimeout   = 2 * time.Second
	DefaultMaxInput  = 1 << 20
	DefaultMaxOutput = 1 << 20
	DefaultMaxCode   = 256 << 10
	DefaultMaxDepth  = 2000
	maxLogLines      = 200
	maxLogBytes      = 64 << 10
	maxLogLine       = 2000
	maxHostCalls     = 1000
	maxNesting       = 400
)
