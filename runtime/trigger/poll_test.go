package trigger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/queue"
	"github.com/tessera/tessera/runtime/trigger"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// feed is a test connector whose "new_items" trigger returns the items of its feed after the
// position held in the state (a decimal index).
type feed struct {
	mu    sync.Mutex
	items []any
	err   error
	calls int
	creds []string
	// block, when set, makes the next Poll signal entered and wait for release
	block   bool
	entered chan struct{}
	release chan struct{}
}

func (f *feed) Spec() sdk.Spec {
	return sdk.Spec{ID: "feed", Version: "1.0.0", Label: sdk.T("Feed", "订阅源"),
		Credentials: []sdk.Param{{Key: "token", Type: sdk.TypeSecret, Label: sdk.T("Token", "令牌")}},
		Triggers: []sdk.Trigger{{ID: "new_items", Label: sdk.T("New items", "新条目"),
			Params: []sdk.Param{{Key: "list", Type: sdk.TypeString, Label: sdk.T("List", "列表"), Required: true},
				{Key: "page", Type: sdk.TypeNumber, Label: sdk.T("Page size", "每页"), Default: 50}}}}}
}

func (f *feed) Poll(ctx context.Context, env sdk.Env, trig string, params map[string]any, state []byte) (sdk.PollResult, error) {
	f.mu.Lock()
	f.calls++
	f.creds = append(f.creds, env.Credential("token"))
	block := f.block
	f.block = false
	f.mu.Unlock()
	if block {
		f.entered <- struct{}{}
		<-f.release
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return sdk.PollResult{}, f.err
	}
	if fmt.Sprint(params["page"]) != "50" {
		return sdk.PollResult{}, errors.New("the page default was not applied")
	}
	pos := 0
	if len(state) > 0 {
		pos, _ = strconv.Atoi(string(state))
	}
	return sdk.PollResult{Items: append([]any(nil), f.items[pos:]...), State: []byte(strconv.Itoa(len(f.items)))}, nil
}

func (f *feed) add(items ...any) {
	f.mu.Lock()
	f.items = append(f.items, items...)
	f.mu.Unlock()
}

func (f *feed) set(fn func(f *feed)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

type pollEnv struct {
	t     *testing.T
	d     *db.DB
	eng   *engine.Engine
	app   uuid.UUID
	feed  *feed
	clock *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newPollEnv(t *testing.T) *pollEnv { return newPollEnvWork(t, false) }

// newPollEnvWork gives an engine on a fresh database; with work its queue runs the flows.
func newPollEnvWork(t *testing.T, work bool) *pollEnv {
	d := dbtest.Open(t)
	ctx := context.Background()
	var eng *engine.Engine
	q, err := queue.New(d.Pool, queue.Options{Work: work, Workers: 2, PollInterval: 100 * time.Millisecond,
		Handler: func(ctx context.Context, id uuid.UUID) error { return eng.Execute(ctx, id) }})
	if err != nil {
		t.Fatal(err)
	}
	eng = engine.New(d.Pool, defs.New(d.Pool), q, engine.Options{})
	if work {
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if work {
			_ = q.Stop(c)
		}
		eng.Close()
	})
	e := &pollEnv{t: t, d: d, eng: eng, feed: &feed{}, clock: &clock{t: time.Now()}}
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('crm', 'CRM') RETURNING id`).Scan(&e.app); err != nil {
		t.Fatal(err)
	}
	return e
}

// replica is one poll runner (a replica of the server) over the test registry.
func (e *pollEnv) replica() *trigger.Poller {
	reg := sdk.NewRegistry()
	if err := reg.Add(e.feed); err != nil {
		e.t.Fatal(err)
	}
	calls := trigger.ConnectorPolls{Registry: reg, Env: func(ctx context.Context, app uuid.UUID, connector, credential string) (sdk.Env, error) {
		if app != e.app || connector != "feed" {
			return sdk.Env{}, errors.New("wrong app or connector")
		}
		return sdk.Env{Credentials: map[string]string{"token": "tok-" + credential}}, nil
	}}
	p := trigger.NewPoller(e.eng, calls, nil)
	p.Now = e.clock.Now
	p.Timeout = 10 * time.Second
	return p
}

func (e *pollEnv) publish(slug, body string) {
	e.t.Helper()
	ctx := context.Background()
	var version int
	if err := e.d.Pool.QueryRow(ctx, `INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, 'flows', $2, $3, 1)
		ON CONFLICT (app_id, kind, slug) DO UPDATE SET draft = $3, published_version = definitions.published_version + 1
		RETURNING published_version`, e.app, slug, body).Scan(&version); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.d.Pool.Exec(ctx, `INSERT INTO definition_versions (definition_id, version, body)
		SELECT id, $3, $4 FROM definitions WHERE app_id = $1 AND kind = 'flows' AND slug = $2`, e.app, slug, version, body); err != nil {
		e.t.Fatal(err)
	}
}

func (e *pollEnv) tick(p *trigger.Poller) int {
	e.t.Helper()
	n, err := p.Tick(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *pollEnv) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.d.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *pollEnv) status(flow string) *trigger.PollStatus {
	e.t.Helper()
	s, err := trigger.PollState(context.Background(), e.d.Pool, e.app, flow)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

const pollFlow = `{"slug":"inbox","trigger":{"type":"poll","connector":"feed","trigger":"new_items","credential":"main","params":{"list":"leads"},"interval":"5m"},
  "nodes":[{"id":"s","type":"set","params":{"values":{"name":"{{ trigger.item.name }}"}}}]}`

func TestPollStartsOneRunPerNewItem(t *testing.T) {
	e := newPollEnv(t)
	e.publish("inbox", pollFlow)
	e.feed.add(map[string]any{"id": "a", "name": "张三"}, map[string]any{"id": 2, "name": "李四"}, "no id")
	p := e.replica()

	if n := e.tick(p); n != 1 {
		t.Fatalf("first tick polled %d flows, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'inbox'`); n != 3 {
		t.Fatalf("%d runs, want one per item (3)", n)
	}
	// the item is the trigger payload's item; items with an id carry the key poll:<id>
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'inbox' AND trigger->>'type' = 'poll' AND trigger->'item'->>'name' = '张三' AND idempotency_key = 'poll:a'`); n != 1 {
		t.Fatal("run of item a: wrong trigger payload or idempotency key")
	}
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE idempotency_key = 'poll:2'`); n != 1 {
		t.Fatal("numeric ids are keys too")
	}
	if e.feed.creds[0] != "tok-main" {
		t.Fatalf("the poll got credential %q", e.feed.creds[0])
	}
	var state string
	if err := e.d.Pool.QueryRow(context.Background(), `SELECT convert_from(state, 'UTF8') FROM flow_poll_state WHERE flow = 'inbox'`).Scan(&state); err != nil || state != "3" {
		t.Fatalf("state %q (%v), want the connector's cursor 3", state, err)
	}
	st := e.status("inbox")
	if st.LastItems != 3 || st.ItemsTotal != 3 || st.LastError != nil || st.LastPolledAt == nil || st.Connector != "feed" || st.IntervalSecs != 300 {
		t.Fatalf("status %+v", st)
	}

	// not due again before the interval passed
	if n := e.tick(p); n != 0 {
		t.Fatalf("polled again before the interval: %d", n)
	}
	e.clock.Add(5 * time.Minute)
	e.feed.add(map[string]any{"id": "c", "name": "王五"})
	if n := e.tick(p); n != 1 {
		t.Fatalf("second poll: %d", n)
	}
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'inbox'`); n != 4 {
		t.Fatalf("%d runs after the second poll, want 4", n)
	}
	if st := e.status("inbox"); st.LastItems != 1 || st.ItemsTotal != 4 {
		t.Fatalf("status %+v", st)
	}
}

func TestPollTwoReplicasNoDuplicates(t *testing.T) {
	e := newPollEnv(t)
	e.publish("inbox", pollFlow)
	a, b := e.replica(), e.replica()
	e.feed.add(map[string]any{"id": "1"}, map[string]any{"id": "2"})
	e.feed.set(func(f *feed) { f.block, f.entered, f.release = true, make(chan struct{}), make(chan struct{}) })

	// replica a is polling; replica b finds the poll leased and does nothing
	done := make(chan int)
	go func() { n, _ := a.Tick(context.Background()); done <- n }()
	<-e.feed.entered
	if n := e.tick(b); n != 0 {
		t.Fatalf("replica b polled a leased flow (%d)", n)
	}
	close(e.feed.release)
	if n := <-done; n != 1 {
		t.Fatalf("replica a polled %d", n)
	}
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'inbox'`); n != 2 {
		t.Fatalf("%d runs, want 2", n)
	}

	// both replicas tick together, many times, while new items arrive: one run per item
	for i := 3; i <= 8; i++ {
		e.feed.add(map[string]any{"id": strconv.Itoa(i)}, "plain "+strconv.Itoa(i))
		e.clock.Add(5 * time.Minute)
		var wg sync.WaitGroup
		for _, r := range []*trigger.Poller{a, b, a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = r.Tick(context.Background()) }()
		}
		wg.Wait()
	}
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'inbox'`); n != 2+12 {
		t.Fatalf("%d runs, want 14 (one per item)", n)
	}
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'inbox' AND trigger->'item' = '"plain 5"'`); n != 1 {
		t.Fatalf("item without id started %d times", n)
	}
}

// A replica that loses its lease mid-poll (it hung past the lease) commits nothing: the
// replica that took over polled the same cursor and started the items once.
func TestPollLostLeaseStartsNothing(t *testing.T) {
	e := newPollEnv(t)
	e.publish("inbox", pollFlow)
	a, b := e.replica(), e.replica()
	e.feed.add("x", "y") // no ids: only the lease keeps them from starting twice
	e.feed.set(func(f *feed) { f.block, f.entered, f.release = true, make(chan struct{}), make(chan struct{}) })
	done := make(chan int)
	go func() { n, _ := a.Tick(context.Background()); done <- n }()
	<-e.feed.entered
	e.clock.Add(time.Hour) // a's lease (Timeout + 30 s) expired
	if n := e.tick(b); n != 1 {
		t.Fatalf("replica b did not take the expired poll over (%d)", n)
	}
	close(e.feed.release)
	<-done
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'inbox'`); n != 2 {
		t.Fatalf("%d runs, want 2", n)
	}
	if st := e.status("inbox"); st.LastError != nil {
		t.Fatalf("a lost lease is not an error of the trigger: %v", *st.LastError)
	}
}

func TestPollErrorsAreRecorded(t *testing.T) {
	e := newPollEnv(t)
	e.publish("inbox", pollFlow)
	p := e.replica()
	e.feed.add(map[string]any{"id": "1"})
	e.feed.set(func(f *feed) { f.err = sdk.Temporary(errors.New("feed answered 503")) })
	e.tick(p)
	st := e.status("inbox")
	if st.LastError == nil || st.Failures != 1 || st.LastErrorAt == nil || st.LastSuccessAt != nil {
		t.Fatalf("status after a failure %+v", st)
	}
	if want := "feed trigger new_items: feed answered 503"; *st.LastError != want {
		t.Fatalf("last_error %q, want %q", *st.LastError, want)
	}
	if n := e.count(`SELECT count(*) FROM flow_runs`); n != 0 {
		t.Fatalf("%d runs after a failed poll", n)
	}
	// the second failure waits twice the interval
	e.clock.Add(5 * time.Minute)
	e.tick(p)
	if st := e.status("inbox"); st.Failures != 2 || st.NextPollAt.Sub(e.clock.Now()).Round(time.Second) != 10*time.Minute {
		t.Fatalf("status after two failures %+v", st)
	}
	e.feed.set(func(f *feed) { f.err = nil })
	e.clock.Add(10 * time.Minute)
	e.tick(p)
	st = e.status("inbox")
	if st.LastError != nil || st.Failures != 0 || st.LastItems != 1 || st.LastSuccessAt == nil {
		t.Fatalf("status after recovery %+v", st)
	}
	if n := e.count(`SELECT count(*) FROM flow_runs`); n != 1 {
		t.Fatalf("%d runs after recovery, want 1", n)
	}
}

func TestPollParamsAreValidated(t *testing.T) {
	e := newPollEnv(t)
	e.publish("inbox", `{"slug":"inbox","trigger":{"type":"poll","connector":"feed","trigger":"new_items"},"nodes":[{"id":"s","type":"set","params":{"values":{}}}]}`)
	p := e.replica()
	e.tick(p)
	st := e.status("inbox")
	if st.LastError == nil || e.feed.calls != 0 {
		t.Fatalf("a poll without its required param ran: %+v, %d calls", st, e.feed.calls)
	}
	if st.IntervalSecs != 300 {
		t.Fatalf("default interval %d s, want 300", st.IntervalSecs)
	}
}

func TestPollConfigChangeResetsStateAndIdsDedupe(t *testing.T) {
	e := newPollEnv(t)
	e.publish("inbox", pollFlow)
	p := e.replica()
	e.feed.add(map[string]any{"id": "a"}, map[string]any{"id": "b"})
	e.tick(p)
	// a new version with other params: the cursor starts over, the feed answers everything
	// again, and items with an id start no second run
	e.publish("inbox", `{"slug":"inbox","trigger":{"type":"poll","connector":"feed","trigger":"new_items","credential":"main","params":{"list":"deals"},"interval":"10m"},
	  "nodes":[{"id":"s","type":"set","params":{"values":{}}}]}`)
	e.feed.add(map[string]any{"id": "c"})
	if n := e.tick(p); n != 1 {
		t.Fatalf("the changed flow was not polled at once (%d)", n)
	}
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'inbox'`); n != 3 {
		t.Fatalf("%d runs, want 3 (a, b once; c)", n)
	}
	if st := e.status("inbox"); st.FlowVersion != 2 || st.IntervalSecs != 600 {
		t.Fatalf("status %+v", st)
	}
	// a new version with the same trigger keeps the cursor
	e.publish("inbox", `{"slug":"inbox","trigger":{"type":"poll","connector":"feed","trigger":"new_items","credential":"main","params":{"list":"deals"},"interval":"10m",
	  "condition":"trigger.item.id != 'skip'"},"nodes":[{"id":"s","type":"set","params":{"values":{"v":2}}}]}`)
	if n := e.tick(p); n != 0 {
		t.Fatalf("a new version with the same trigger polled before its time (%d)", n)
	}
	e.clock.Add(10 * time.Minute)
	e.feed.add(map[string]any{"id": "skip"}, map[string]any{"id": "d"})
	e.tick(p)
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'inbox' AND flow_version = 3`); n != 1 {
		t.Fatalf("%d runs of version 3, want 1 (the condition skips one item)", n)
	}
	// a flow that no longer polls loses its state row
	e.publish("inbox", `{"slug":"inbox","trigger":{"type":"manual"},"nodes":[{"id":"s","type":"set","params":{"values":{}}}]}`)
	e.tick(p)
	if _, err := trigger.PollState(context.Background(), e.d.Pool, e.app, "inbox"); !errors.Is(err, trigger.ErrNoPollState) {
		t.Fatalf("state of a flow that no longer polls: %v", err)
	}
}

// The started runs execute and read the item as trigger.item.
func TestPollRunsReadTheItem(t *testing.T) {
	e := newPollEnvWork(t, true)
	e.publish("inbox", pollFlow)
	e.feed.add(map[string]any{"id": "a", "name": "张三"})
	e.tick(e.replica())
	deadline := time.Now().Add(30 * time.Second)
	for {
		var status string
		var out map[string]any
		if err := e.d.Pool.QueryRow(context.Background(), `SELECT status, output FROM flow_runs WHERE flow = 'inbox'`).Scan(&status, &out); err != nil {
			t.Fatal(err)
		}
		if status == engine.StatusSucceeded {
			if out["name"] != "张三" {
				t.Fatalf("output %v", out)
			}
			return
		}
		if status == engine.StatusFailed || time.Now().After(deadline) {
			t.Fatalf("run is %s", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestItemID(t *testing.T) {
	for _, tc := range []struct {
		item any
		want string
	}{
		{map[string]any{"id": "x"}, "x"},
		{map[string]any{"id": float64(12)}, "12"},
		{map[string]any{"id": json.Number("7")}, "7"},
		{map[string]any{"id": ""}, ""},
		{map[string]any{"id": true}, ""},
		{"text", ""},
	} {
		if got := trigger.ItemID(tc.item); got != tc.want {
			t.Errorf("ItemID(%v) = %q, want %q", tc.item, got, tc.want)
		}
	}
}
