package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/script"
)

// ScriptPool runs script nodes in runtime/script's sandbox; the worker processes start on the
// first call (an api-role server never starts them).
type ScriptPool struct {
	opts script.Options
	once sync.Once
	pool *script.Pool
	err  error
	gate *shareGate // fair shares of the workers between apps (sandboxshare.go)
}

// NewScriptPool returns a lazily started sandbox pool.
func NewScriptPool(opts script.Options) *ScriptPool {
	size := opts.Size
	if size <= 0 {
		size = script.DefaultSize
	}
	return &ScriptPool{opts: opts, gate: newShareGate(size)}
}

// RunScript implements ScriptRunner.
func (s *ScriptPool) RunScript(ctx context.Context, code string, input any, host func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error)) (json.RawMessage, []string, error) {
	s.once.Do(func() { s.pool, s.err = script.NewPool(s.opts) })
	if s.err != nil {
		return nil, nil, fmt.Errorf("starting the JavaScript sandbox: %w", s.err)
	}
	app, _ := ctx.Value(appCtxKey{}).(uuid.UUID)
	if err := s.gate.acquire(ctx, app); err != nil {
		return nil, nil, err
	}
	res, err := s.pool.Run(ctx, code, input, script.HostFunc(host))
	s.gate.release(app)
	if err != nil {
		var se *script.ScriptError
		if errors.As(err, &se) && se.Kind != script.KindCrash {
			return nil, se.Logs, Permanent(err)
		}
		return nil, nil, err
	}
	return res.Output, res.Logs, nil
}

// Close stops the worker processes.
func (s *ScriptPool) Close() error {
	if s.pool != nil {
		return s.pool.Close()
	}
	return nil
}

// PermanentError marks a step error that retrying cannot fix (bad input, script exceptions).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so the node's retry policy is skipped.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{err}
}

// fetch answers a script's http.fetch through the engine's (SSRF-guarded) HTTP client.
func (x *Exec) fetch(ctx context.Context, args json.RawMessage) (json.RawMessage, error) {
	if RunTx(ctx) != nil {
		// a working in one transaction may be rolled back and worked again: no request is sent
		// from it, the run is worked step by step (runPlan sees the flag)
		if x.plan != nil {
			x.plan.fetches.Store(true)
		}
		return nil, errFetchInTx
	}
	return script.Fetch(ctx, x.Engine.opts.HTTPClient, args)
}

// errFetchInTx answers http.fetch in a working in one transaction, which is then abandoned.
var errFetchInTx = errors.New("http.fetch: the run is worked again step by step")

// zhText is err's zh-CN text when it has a translation: the sandbox's own messages (time and
// memory limits, sizes...), not a script's exception text, which is shown as thrown.
func zhText(err error) (string, bool) {
	var se *script.ScriptError
	if !errors.As(err, &se) {
		return "", false
	}
	bare := *se
	bare.Line, bare.Column = 0, 0
	if bare.Localized("zh-CN") == bare.Message {
		return "", false
	}
	return se.Localized("zh-CN"), true
}

// stepErrorText is a failed step's stored error: the English text, plus " / " and the zh-CN
// text when it has a translation ("script exceeded its 2s time limit / 脚本超出了 2s 的时间限制").
func stepErrorText(err error) string {
	if zh, ok := zhText(err); ok {
		return err.Error() + " / " + zh
	}
	return err.Error()
}

// runErrorText is a failed run's error, naming the step in both languages:
// "node js: script exceeded its 2s time limit / 节点 js：脚本超出了 2s 的时间限制", or
// "node js / 节点 js: TypeError: ..." when the text has no translation.
func runErrorText(node string, err error) string {
	if zh, ok := zhText(err); ok {
		return fmt.Sprintf("node %s: %s / 节点 %s：%s", node, err.Error(), node, zh)
	}
	return fmt.Sprintf("node %s / 节点 %s: %s", node, node, err.Error())
}
