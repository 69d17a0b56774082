package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tessera/tessera/runtime/engine"
)

type fakeConnectors struct {
	calls atomic.Int64
	keys  chan string
}

func (f *fakeConnectors) CallConnector(_ context.Context, c engine.ConnectorCall) (any, error) {
	n := f.calls.Add(1)
	f.keys <- c.IdempotencyKey
	switch {
	case c.Operation == "send" && n == 1:
		return nil, errors.New("temporary outage")
	case c.Operation == "send":
		return map[string]any{"sent_to": c.Input["to"], "via": c.Connector}, nil
	default:
		return nil, engine.Permanent(errors.New("bad request"))
	}
}

func TestConnectorNode(t *testing.T) {
	e := newEnv(t, true)
	fc := &fakeConnectors{keys: make(chan string, 10)}
	e.eng.SetConnectors(fc)
	e.publish(`{"slug":"notify","trigger":{"type":"manual"},"nodes":[
	  {"id":"sms","type":"connector","retry":{"max_attempts":3,"backoff":"20ms"},"params":{"connector":"sms","operation":"send","credential":"main","input":{"to":"{{ trigger.phone }}"}}}]}`)
	run := e.start("notify", map[string]any{"phone": "+8613800138000"})
	r := e.wait(run, "succeeded", "failed")
	if r.Status != "succeeded" || r.Output["sent_to"] != "+8613800138000" {
		t.Fatalf("run %s: %s", r.Status, e.steps(run))
	}
	k1, k2 := <-fc.keys, <-fc.keys
	if k1 != k2 || !strings.HasPrefix(k1, run.String()+":sms") {
		t.Fatalf("idempotency keys %q %q", k1, k2)
	}
	// a permanent error is not retried
	e.publish(`{"slug":"bad","trigger":{"type":"manual"},"nodes":[
	  {"id":"x","type":"connector","retry":{"max_attempts":5,"backoff":"10ms"},"params":{"connector":"sms","operation":"oops"}}]}`)
	run = e.start("bad", nil)
	if r := e.wait(run, "failed"); !strings.Contains(deref(r.Error), "bad request") {
		t.Fatalf("error %q", deref(r.Error))
	}
	if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1`, run); n != 1 {
		t.Fatalf("permanent error tried %d times", n)
	}
}

func TestForeachCreatesOncePerItem(t *testing.T) {
	e := newEnv(t, true)
	e.publish(`{"slug":"fan","trigger":{"type":"manual"},"nodes":[
	  {"id":"each","type":"foreach","params":{"items":"{{ trigger.names }}","node":{"type":"record.create","params":{"entity":"contact","values":{"name":"{{ item }}","pos":"{{ index }}"}}}}},
	  {"id":"boom","type":"record.update","retry":{"max_attempts":2,"backoff":"10ms"},"params":{"entity":"contact","id":"00000000-0000-0000-0000-000000000009","values":{}}}],
	  "edges":[{"from":"each","to":"boom"}]}`)
	run := e.start("fan", map[string]any{"names": []any{"甲", "乙", "丙"}})
	e.wait(run, "failed")
	// simulate a crash after the writes but before the foreach step was saved: its step row is
	// gone, so the retry runs the foreach again; the per-item idempotency keys stop new writes
	if _, err := e.d.Pool.Exec(context.Background(), `DELETE FROM flow_steps WHERE run_id = $1 AND node = 'each'`, run); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Retry(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	e.wait(run, "failed")
	if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND node = 'each'`, run); n != 1 {
		t.Fatalf("foreach did not run again (%d rows)", n)
	}
	if n := e.count(`SELECT count(*) FROM records WHERE entity = 'contact'`); n != 3 {
		t.Fatalf("%d contacts, want 3", n)
	}
}
