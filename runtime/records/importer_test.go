package records_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/records"
)

// importRows is a RowSource over fixed rows.
func importRows(rows []map[string]any) records.RowSource {
	i := 0
	return func() (map[string]any, error) {
		if i >= len(rows) {
			return nil, io.EOF
		}
		i++
		return rows[i-1], nil
	}
}

// rowCodes collects the error codes of each failed row ("field/code", sorted).
type rowCodes map[int][]string

func (rc rowCodes) collect(i int, err error) error {
	var fe spec.Errors
	var dup *records.DuplicateError
	switch {
	case errors.As(err, &fe):
		for _, e := range fe {
			rc[i] = append(rc[i], e.Field+"/"+e.Code)
		}
	case errors.As(err, &dup):
		rc[i] = append(rc[i], "duplicate")
	default:
		rc[i] = append(rc[i], err.Error())
	}
	sort.Strings(rc[i])
	return nil
}

// provision creates the expression indexes a publish of the entity provisions (the staging
// check of an import looks keys up in them).
func (e *env) provision(slug string) {
	e.t.Helper()
	ctx := context.Background()
	ent, _, err := defs.New(e.d.Pool).Entity(ctx, e.app.ID, slug)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, e.d.Pool, func(tx pgx.Tx) error { return records.ProvisionIndexes(ctx, tx, e.app, ent) }); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.d.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestImportModesAndRowErrors: per-row errors keep their row numbers (validation, required,
// stage gates), a row repeating an earlier row's dedupe key merges into it (in the same batch
// or a later one), partial mode writes the good rows with their history, all-or-nothing writes
// nothing when a row fails.
func TestImportModesAndRowErrors(t *testing.T) {
	rows := []map[string]any{
		{"name": "A", "phone": "138 0013 8000", "amount": 10},
		{"phone": "13800138001"},
		{"name": "C", "amount": "abc"},
		{"name": "D", "stage": "negotiation"},
		{"name": "E", "email": "e@example.com", "stage": "proposal"},
		{"name": "F", "phone": "+8613800138000", "cost": 5},
		{"name": "G", "unknown": 1},
	}
	wantErrs := rowCodes{1: {"name/required"}, 2: {"amount/invalid_type"}, 3: {"stage/stage_gate"}, 6: {"unknown/unknown_field"}}
	for _, tc := range []struct {
		name    string
		partial bool
		batch   int
	}{
		{"partial, one batch", true, 100},
		{"partial, batches of 2", true, 2},
		{"all, batches of 3", false, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			got := rowCodes{}
			res, err := e.store.Import(ctx, e.app, "lead", importRows(rows), records.ImportOptions{Write: e.w(), Partial: tc.partial, BatchSize: tc.batch, RowError: got.collect})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(wantErrs) {
				t.Fatalf("row errors: got %v, want %v", got, wantErrs)
			}
			if res.Rows != 7 || res.Created != 2 || res.Merged != 1 || res.Failed != 4 {
				t.Fatalf("counts: %+v", res)
			}
			n := e.count(`SELECT count(*) FROM records WHERE app_id = $1 AND entity = 'lead'`, e.app.ID)
			if !tc.partial {
				if n != 0 || res.Committed {
					t.Fatalf("all-or-nothing wrote %d records (committed %v)", n, res.Committed)
				}
				return
			}
			if n != 2 || !res.Committed || len(res.IDs) != 3 {
				t.Fatalf("partial: %d records, %+v", n, res)
			}
			// row 0 was created, then row 5 merged into it (filling cost)
			a, err := e.store.Get(ctx, e.app, "lead", res.IDs[0], e.w().Grant)
			if err != nil {
				t.Fatal(err)
			}
			if res.IDs[2] != a.ID || a.Data["phone"] != "+8613800138000" || fmt.Sprint(a.Data["cost"]) != "5" || a.Data["source"] != "web" || !strings.HasPrefix(fmt.Sprint(a.Data["code"]), "L-") || fmt.Sprint(a.Data["double"]) != "20" {
				t.Fatalf("merged record: %v (ids %v)", a.Data, res.IDs)
			}
			h, err := e.store.History(ctx, e.app, "lead", a.ID, e.w().Grant)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, ev := range h {
				kinds = append(kinds, ev.Kind)
			}
			if strings.Join(kinds, ",") != "created,stage,merged" {
				t.Fatalf("history of the merged record: %v", kinds)
			}
			// row 4 was created in proposal: created and stage events, a stage path
			if k := e.count(`SELECT count(*) FROM record_events WHERE record_id = $1 AND kind IN ('created','stage')`, res.IDs[1]); k != 2 {
				t.Fatalf("row 4 history: %d events", k)
			}
			if k := e.count(`SELECT count(*) FROM records WHERE id = $1 AND stage_path = ARRAY['proposal']`, res.IDs[1]); k != 1 {
				t.Fatal("row 4 has no stage path")
			}
		})
	}
}

// TestImportAgainstExistingRecords: dedupe hits merge into (or are rejected by) live records,
// unique values taken by a live record or an earlier row are the unique error, and unknown
// users are not_found; set-based checks answer what Create would.
func TestImportAgainstExistingRecords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(spec.KindEntity, "acct", `{"slug":"acct","fields":[{"key":"name","type":"text","required":true},
		{"key":"code","type":"text","unique":true},{"key":"rep","type":"user"},{"key":"email","type":"email"}],
		"dedupe":{"keys":[["email"]],"on_duplicate":"reject"}}`)
	old, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "Old", "email": "old@example.com"}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Create(ctx, e.app, "acct", map[string]any{"name": "Taken", "code": "X1", "email": "taken@example.com"}, e.w()); err != nil {
		t.Fatal(err)
	}

	got := rowCodes{}
	res, err := e.store.Import(ctx, e.app, "lead", importRows([]map[string]any{
		{"name": "New", "email": "OLD@example.com", "amount": 7},
		{"name": "Other"},
	}), records.ImportOptions{Write: e.w(), Partial: true, RowError: got.collect})
	if err != nil {
		t.Fatal(err)
	}
	if res.Merged != 1 || res.Created != 1 || len(got) != 0 || res.IDs[0] != old.ID {
		t.Fatalf("merge into a live record: %+v %v", res, got)
	}

	got = rowCodes{}
	res, err = e.store.Import(ctx, e.app, "acct", importRows([]map[string]any{
		{"name": "a", "code": "X1"},
		{"name": "b", "code": "X2"},
		{"name": "c", "code": "X2"},
		{"name": "d", "email": "taken@example.com"},
		{"name": "e", "rep": e.admin.UserID.String()},
		{"name": "f", "rep": "00000000-0000-0000-0000-000000000001"},
	}), records.ImportOptions{Write: e.w(), Partial: true, RowError: got.collect})
	if err != nil {
		t.Fatal(err)
	}
	want := rowCodes{0: {"code/unique"}, 2: {"code/unique"}, 3: {"duplicate"}, 5: {"rep/not_found"}}
	if fmt.Sprint(got) != fmt.Sprint(want) || res.Created != 2 {
		t.Fatalf("got %v %+v, want %v", got, res, want)
	}
}

// TestImportHooks: the created records of a batch reach a batch hook at once, and a plain hook
// once per change; a stage other than the first is a stage change; merges go through Create's
// hooks.
func TestImportHooks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var batches, batched, plain []string
	e.store.OnChanges(func(_ context.Context, _ pgx.Tx, c events.Change) error {
		plain = append(plain, "one:"+c.Kind)
		return nil
	}, func(_ context.Context, _ pgx.Tx, cs []events.Change) error {
		batches = append(batches, fmt.Sprint(len(cs)))
		for _, c := range cs {
			batched = append(batched, c.Kind+":"+fmt.Sprint(c.Record["name"]))
		}
		return nil
	}, nil)
	e.store.OnChange(func(_ context.Context, _ pgx.Tx, c events.Change) error {
		plain = append(plain, c.Kind)
		return nil
	})
	res, err := e.store.Import(ctx, e.app, "lead", importRows([]map[string]any{
		{"name": "a"}, {"name": "b", "stage": "proposal"}, {"name": "c", "email": "c@example.com"}, {"name": "d", "email": "c@example.com"},
	}), records.ImportOptions{Write: e.w(), Partial: true, BatchSize: 10})
	if err != nil || res.Created != 3 || res.Merged != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if strings.Join(batches, ",") != "4" || strings.Join(batched, ",") != "created:a,created:b,stage:b,created:c" {
		t.Fatalf("batch hook: %v %v", batches, batched)
	}
	// the plain hook sees the batch change by change, then the merge of row d through Create
	// (which tells the batch-capable hook through its one-change form); nothing new: no update
	if strings.Join(plain, ",") != "created,created,stage,created,one:merged,merged" {
		t.Fatalf("plain hooks: %v", plain)
	}
}

// TestImportStreamsInBatches: a 50,000-row import is read from its source one batch at a time
// (at most one batch ahead of the batch being written, which is read and validated while the
// one before is written), one staging COPY per batch.
func TestImportStreamsInBatches(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const total, size = 50_000, 1_000
	e.provision("lead")
	pulled := 0
	src := func() (map[string]any, error) {
		if pulled == total {
			return nil, io.EOF
		}
		pulled++
		return map[string]any{"name": fmt.Sprintf("lead %d", pulled), "email": fmt.Sprintf("l%d@example.com", pulled)}, nil
	}
	calls, ahead := 0, 0
	var mu sync.Mutex // the source is read by the import's reader, beside the writes
	res, err := e.store.Import(ctx, e.app, "lead", func() (map[string]any, error) {
		mu.Lock()
		defer mu.Unlock()
		return src()
	}, records.ImportOptions{Write: e.w(), BatchSize: size,
		Progress: func(rows int, r *records.ImportResult) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			// when batch k is written, k batches were handed over and at most one more read:
			// never the whole source
			if rows != min(calls*size, total) || pulled < rows || pulled > rows+size || r.Created != rows {
				t.Errorf("progress %d: %d rows read, %d pulled, %d created", calls, rows, pulled, r.Created)
			}
			if pulled > rows {
				ahead++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	// the next batch was read while one was written (of 50 chances, this needs one)
	if ahead == 0 {
		t.Fatal("the source was never read ahead of the writes")
	}
	if res.Created != total || res.Batches != total/size || res.Slow != 0 || len(res.IDs) != min(total, records.MaxImportIDs) {
		t.Fatalf("%+v", res)
	}
	if n := e.count(`SELECT count(*) FROM records WHERE app_id = $1`, e.app.ID); n != total {
		t.Fatalf("%d records", n)
	}
	if n := e.count(`SELECT count(*) FROM record_events WHERE app_id = $1 AND kind = 'created'`, e.app.ID); n != total {
		t.Fatalf("%d created events", n)
	}
}

// TestImportSourceEnds: whatever ends an import early (its source fails or panics, an
// all-or-nothing import meets its error limit), Import answers once its reader has stopped:
// the source is never read after Import returns, and nothing is committed but what a
// finished partial import writes.
func TestImportSourceEnds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	boom := errors.New("the file is truncated")
	cases := []struct {
		name    string
		row     func(i int) (map[string]any, error) // i from 0; the source ends at 5,000 rows
		opts    records.ImportOptions
		wantErr string
		failed  int // with no error: the result's failed rows
	}{
		{"source fails in the third batch", func(i int) (map[string]any, error) {
			if i == 2500 {
				return nil, boom
			}
			return map[string]any{"name": fmt.Sprint("s", i)}, nil
		}, records.ImportOptions{Partial: true}, boom.Error(), 0},
		{"source panics", func(i int) (map[string]any, error) {
			if i == 1500 {
				panic("bad row reader")
			}
			return map[string]any{"name": fmt.Sprint("p", i)}, nil
		}, records.ImportOptions{Partial: true}, "bad row reader", 0},
		{"error limit of an all-or-nothing import", func(i int) (map[string]any, error) {
			return map[string]any{"name": ""}, nil // every row lacks its required name
		}, records.ImportOptions{MaxErrors: 10}, "", 1000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			i, returned := 0, false
			src := func() (map[string]any, error) {
				mu.Lock()
				defer mu.Unlock()
				if returned {
					t.Error("the source was read after Import returned")
				}
				if i == 5000 {
					return nil, io.EOF
				}
				i++
				return c.row(i - 1)
			}
			before := e.count(`SELECT count(*) FROM records WHERE app_id = $1`, e.app.ID)
			o := c.opts
			o.Write, o.BatchSize = e.w(), 1000
			res, err := e.store.Import(ctx, e.app, "lead", src, o)
			mu.Lock()
			returned = true
			mu.Unlock()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
			} else if err != nil || res.Failed != c.failed || res.Committed {
				t.Fatalf("%+v, %v", res, err)
			}
			if n := e.count(`SELECT count(*) FROM records WHERE app_id = $1`, e.app.ID); n != before {
				t.Fatalf("%d records written", n-before)
			}
		})
	}
}

// TestReimportHoldsNoKeyLocks: re-importing existing records (every row a dedupe hit, merged
// one by one through Create) holds no advisory lock per row until the commit: such locks ran
// PostgreSQL out of lock space ("out of shared memory") past some 10,000 rows.
func TestReimportHoldsNoKeyLocks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(spec.KindEntity, "contact", `{"slug":"contact","fields":[{"key":"name","type":"text","required":true},
		{"key":"email","type":"email"}],"dedupe":{"keys":[["email"]],"on_duplicate":"merge"}}`)
	const n = 1500
	rows := func(prefix string) records.RowSource {
		i := 0
		return func() (map[string]any, error) {
			if i == n {
				return nil, io.EOF
			}
			i++
			return map[string]any{"name": fmt.Sprint(prefix, i), "email": fmt.Sprintf("c%d@example.com", i)}, nil
		}
	}
	if res, err := e.store.Import(ctx, e.app, "contact", rows("first "), records.ImportOptions{Write: e.w(), BatchSize: 500}); err != nil || res.Created != n {
		t.Fatalf("%+v %v", res, err)
	}
	most := 0
	res, err := e.store.Import(ctx, e.app, "contact", rows("again "), records.ImportOptions{Write: e.w(), BatchSize: 500,
		Progress: func(int, *records.ImportResult) {
			if held := e.count(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); held > most {
				most = held
			}
		}})
	if err != nil || res.Merged != n || res.Slow != n {
		t.Fatalf("%+v %v", res, err)
	}
	if most > 10 {
		t.Fatalf("%d advisory locks held during the import (one per merged row)", most)
	}
	if got := e.count(`SELECT count(*) FROM records WHERE app_id = $1 AND entity = 'contact'`, e.app.ID); got != n {
		t.Fatalf("%d records after the re-import, want %d (merged, none added)", got, n)
	}
}

// TestImportKeepsThePlannersEstimate: an import into a new entity refreshes the statistics
// inside its transaction once it has written more than the planner believes the entity holds,
// so the later batches look their keys up in the dedupe index instead of hashing every record
// of the entity once per batch (the plan made for an empty entity); an import into an entity
// whose statistics already know its size analyzes nothing.
func TestImportKeepsThePlannersEstimate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(spec.KindEntity, "prospect", `{"slug":"prospect","fields":[{"key":"name","type":"text","required":true},
		{"key":"email","type":"email"}],"dedupe":{"keys":[["email"]],"on_duplicate":"merge"}}`)
	e.provision("prospect")
	rows := func(prefix string, n int) records.RowSource {
		i := 0
		return func() (map[string]any, error) {
			if i == n {
				return nil, io.EOF
			}
			i++
			return map[string]any{"name": fmt.Sprint(prefix, i), "email": fmt.Sprintf("%s%d@example.com", prefix, i)}, nil
		}
	}
	// index scans of the entity's dedupe index (its predicate names the app and the entity)
	probes := func() int {
		return e.count(`SELECT coalesce(sum(s.idx_scan), 0)::int FROM pg_stat_user_indexes s JOIN pg_indexes i ON i.indexname = s.indexrelname
			WHERE i.tablename = 'records' AND i.indexdef LIKE '%' || $1::text || '%' AND i.indexdef LIKE '%prospect%' AND i.indexdef LIKE '%email%'`, e.app.ID)
	}
	before := probes()
	const n, size = 30_000, 1_000
	res, err := e.store.Import(ctx, e.app, "prospect", rows("p", n), records.ImportOptions{Write: e.w(), BatchSize: size})
	if err != nil || res.Created != n || res.Slow != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	if res.Analyzed == 0 {
		t.Fatal("the import never refreshed the entity's statistics")
	}
	// the probes of the batches after the refresh (index statistics reach pg_stat_user_indexes
	// when the import's connection reports them, within a second or two of its commit)
	const want = 5 * size
	got := 0
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if got = probes() - before; got >= want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got < want {
		t.Fatalf("%d look-ups in the dedupe index during the import, want at least %d: the later batches hashed the whole entity", got, want)
	}
	// the statistics committed with the import: another 12,000 rows need no refresh
	res, err = e.store.Import(ctx, e.app, "prospect", rows("q", 12_000), records.ImportOptions{Write: e.w(), BatchSize: size})
	if err != nil || res.Created != 12_000 || res.Analyzed != 0 {
		t.Fatalf("%+v %v", res, err)
	}
}
