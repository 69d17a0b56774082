package dbtest

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/db"
)

// Counter is a pgx query tracer that counts the statements a pool runs and the commits they
// cost, so tests assert the database work of an operation without timing anything.
//
// A commit is an explicit COMMIT, or a writing statement (INSERT, UPDATE, DELETE, NOTIFY) run
// outside a transaction (PostgreSQL commits it on its own). Background statements that belong to
// no operation are not counted: River's maintenance and polling (its sqlc "-- name:" queries,
// except job inserts and state changes), statements marked with the comment
// /* tessera:background */, and the BEGIN and COMMIT of a transaction that ran only those.
type Counter struct {
	mu    sync.Mutex
	sqls  []string
	inTx  map[*pgx.Conn]bool
	marks []int // commit flags per statement (1 = this statement committed)
	// trips flags the statements that began a round trip (a query on its own, or the first
	// counted query of a batch); batchOpen marks the connections inside a batch whose first
	// counted query is still to come.
	trips     []int
	batchOpen map[*pgx.Conn]bool
	// pending holds a connection's BEGIN (and whether it began a round trip) until a counted
	// statement follows it: a transaction of background statements only is background work.
	pending map[*pgx.Conn]int
}

var riverName = regexp.MustCompile(`^-- name: (\w+)`)

// riverCounted are River statements that are part of an operation's cost.
var riverCounted = map[string]bool{
	"JobInsertFastMany": true, "JobInsertFastManyNoReturning": true, "JobInsertFull": true,
	"JobSetStateIfRunningMany": true, "PGNotifyMany": true,
}

// Background reports whether sql is background work (not counted).
func Background(sql string) bool {
	if strings.Contains(sql, "tessera:background") {
		return true
	}
	if m := riverName.FindStringSubmatch(strings.TrimSpace(sql)); m != nil {
		return !riverCounted[m[1]]
	}
	return false
}

var writeRE = regexp.MustCompile(`(?i)\b(insert|update|delete|pg_notify|notify)\b`)

// TraceQueryStart implements pgx.QueryTracer.
func (c *Counter) TraceQueryStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.add(conn, d.SQL, false)
	return ctx
}

// TraceBatchStart, TraceBatchQuery and TraceBatchEnd implement pgx.BatchTracer: each query of
// a batch is a statement (one round trip, several statements).
func (c *Counter) TraceBatchStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batchOpen == nil {
		c.batchOpen = map[*pgx.Conn]bool{}
	}
	c.batchOpen[conn] = true
	return ctx
}

// TraceBatchQuery counts one query of a batch.
func (c *Counter) TraceBatchQuery(_ context.Context, conn *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.add(conn, d.SQL, true)
}

// TraceBatchEnd implements pgx.BatchTracer.
func (c *Counter) TraceBatchEnd(_ context.Context, conn *pgx.Conn, _ pgx.TraceBatchEndData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.batchOpen, conn)
}

func (c *Counter) add(conn *pgx.Conn, sql string, batched bool) {
	if Background(sql) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inTx == nil {
		c.inTx = map[*pgx.Conn]bool{}
	}
	trip := 1
	if batched {
		if c.batchOpen[conn] {
			c.batchOpen[conn] = false
		} else {
			trip = 0 // sent with the batch's first query
		}
	}
	if c.pending == nil {
		c.pending = map[*pgx.Conn]int{}
	}
	s := strings.ToLower(strings.TrimSpace(sql))
	commit := 0
	switch {
	case strings.HasPrefix(s, "begin"):
		c.inTx[conn] = true
		c.pending[conn] = trip // counted with the first counted statement of the transaction
		return
	case strings.HasPrefix(s, "commit") || (strings.HasPrefix(s, "rollback") && !strings.HasPrefix(s, "rollback to")):
		c.inTx[conn] = false
		if bt, ok := c.pending[conn]; ok {
			delete(c.pending, conn) // nothing counted in it: background work
			if bt == 1 && trip == 0 {
				c.batchOpen[conn] = true // a later query of the batch begins its round trip
			}
			return
		}
		if strings.HasPrefix(s, "commit") {
			commit = 1
		}
	case !c.inTx[conn] && writeRE.MatchString(s):
		commit = 1
	}
	if bt, ok := c.pending[conn]; ok {
		delete(c.pending, conn)
		c.sqls = append(c.sqls, "begin")
		c.marks = append(c.marks, 0)
		c.trips = append(c.trips, bt) // (this statement's own flag is right as computed)
	}
	c.sqls = append(c.sqls, sql)
	c.marks = append(c.marks, commit)
	c.trips = append(c.trips, trip)
}

// TraceQueryEnd implements pgx.QueryTracer.
func (c *Counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Reset forgets what was counted.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sqls, c.marks, c.trips = nil, nil, nil
	c.pending = nil // a transaction begun before is counted from its next statement, without its BEGIN
}

// Counts answers the statements and commits counted since the last Reset.
func (c *Counter) Counts() (statements, commits int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.marks {
		commits += m
	}
	return len(c.sqls), commits
}

// RoundTrips answers the round trips to the database counted since the last Reset: a statement
// sent on its own is one, a batch of statements (pgx.Batch, its queries pipelined) is one.
func (c *Counter) RoundTrips() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.trips {
		n += t
	}
	return n
}

// Statements answers the SQL text counted since the last Reset (for failure messages).
func (c *Counter) Statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sqls...)
}

// Report formats the counted statements one a line, shortened (for failure messages).
func (c *Counter) Report() string {
	var b strings.Builder
	c.mu.Lock()
	trips := append([]int(nil), c.trips...)
	c.mu.Unlock()
	for i, s := range c.Statements() {
		s = strings.Join(strings.Fields(s), " ")
		if len(s) > 140 {
			s = s[:140] + "…"
		}
		with := "" // a statement sent in the round trip of the one before
		if i < len(trips) && trips[i] == 0 {
			with = "+ "
		}
		fmt.Fprintf(&b, "  %d. %s%s\n", i+1, with, s)
	}
	return b.String()
}

// OpenCounted returns a fresh migrated database whose pool (and every pool copied from its
// config) counts its statements with the returned Counter.
func OpenCounted(tb testing.TB) (*db.DB, *Counter) {
	tb.Helper()
	c := &Counter{}
	d, err := db.OpenTraced(context.Background(), New(tb), c)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	tb.Cleanup(d.Close)
	return d, c
}
