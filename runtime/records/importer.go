package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/dynjson"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/filter"
)

// ImportBatch is how many rows an import validates, checks and writes at once: the memory an
// import holds is bounded by it, whatever the size of the file.
const ImportBatch = 5000

// MaxImportIDs bounds the ids an import answers (the ids of larger imports are left out).
const MaxImportIDs = 50000

// RowSource yields the rows of an import one by one (field values as a caller would send
// them); it answers io.EOF after the last row. It is read as the import goes, so a file is
// never held whole.
type RowSource func() (map[string]any, error)

// ImportOptions say who imports and how.
type ImportOptions struct {
	Write WriteOptions
	// Partial writes the good rows and reports the others; otherwise one bad row writes
	// nothing.
	Partial bool
	// DryRun checks every row as an import would and writes nothing.
	DryRun bool
	// BatchSize overrides ImportBatch (tests; a followed import of a known row count, in
	// steps one can see).
	BatchSize int
	// RowError gets the error of row i (0-based, in source order), as Create would have
	// answered it; an error it returns stops the import (a server fault). nil: errors are
	// only counted.
	RowError func(i int, err error) error
	// Progress is called after every batch with the rows read so far and the result so far.
	Progress func(rows int, res *ImportResult)
	// MaxErrors stops an all-or-nothing import after this many bad rows (0: no limit).
	MaxErrors int
	// Interrupt, when set, is called when the import ends before its source did (an error,
	// MaxErrors), before Import waits for the source's reader, which may be blocked in a read
	// (a request body still arriving): it should make that read fail at once. An HTTP handler
	// sets a past read deadline on the request's connection, so the answer does not wait for
	// the client's next bytes or the server's read timeout.
	Interrupt func()
}

// ImportResult counts what an import did.
type ImportResult struct {
	Rows    int `json:"rows"`
	Created int `json:"created"`
	Merged  int `json:"merged"`
	// Pending: rows that matched a record the importer may not read or update (left as a
	// pending submission on it).
	Pending int         `json:"pending"`
	Failed  int         `json:"failed"`
	IDs     []uuid.UUID `json:"-"`
	// Batches is how many batches the import wrote (one staging COPY each).
	Batches int `json:"-"`
	// Slow counts the rows that went through the one-row write path (dedupe hits, rows
	// repeating a key of an earlier row, attachments and line items).
	Slow int `json:"-"`
	// Analyzed counts the times the import refreshed the entity's statistics in its
	// transaction (see refreshStats).
	Analyzed int `json:"-"`
	// Committed is set when the import's transaction committed.
	Committed bool `json:"-"`
}

// importRow is one row of a batch on its way in.
type importRow struct {
	n      int            // row number in the source
	values map[string]any // as given
	data   map[string]any // normalised
	slow   bool           // goes through Create
	failed bool
	id     uuid.UUID
	stage  string
	// invalid is what validation found (read ahead, reported in the batch's turn)
	invalid error
}

// readBatch is a batch of rows read and validated ahead of the writes.
type readBatch struct {
	rows []*importRow
	now  time.Time // the batch's time: its defaults and its writes
	err  error     // reading the source failed (the rows are dropped)
	eof  bool      // the source is done: no batch follows
}

// Import writes the rows of src as new records of entity, like Create would one by one
// (validation and normalisation, defaults, references, dedupe, unique fields, stage gates,
// history and record hooks) but set-based: rows are validated in batches, each batch is copied
// into a staging table and checked against the live records with one statement, the new
// records and their events go in with COPY and the hooks see the batch at once. Rows that
// match an existing record (or an earlier row of the file) on a dedupe key or unique field go
// through Create inside the import's transaction, so merges, rejects and pending submissions
// answer exactly as one by one. The import is one transaction: committed at the end (partial
// mode or no failure), rolled back otherwise.
func (s *Store) Import(ctx context.Context, app *defs.App, entity string, src RowSource, o ImportOptions) (*ImportResult, error) {
	ent, ver, err := s.entityFor(ctx, app, entity, o.Write)
	if err != nil {
		return nil, err
	}
	w := o.Write
	w.Entity, w.EntityVersion = ent, ver
	g := grantOf(w)
	if !g.Allowed() {
		return nil, ErrForbidden
	}
	size := o.BatchSize
	if size <= 0 {
		size = ImportBatch
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("importing: %w", err)
	}
	defer tx.Rollback(context.Background())
	im := &importer{s: s, app: app, ent: ent, prog: s.progs.get(app.ID, ent, ver), w: w, o: o, tx: tx, res: &ImportResult{}}
	im.checks = importChecks(ent)
	if len(im.checks) > 0 {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS tessera_import_stage (n int, data jsonb) ON COMMIT DROP`); err != nil {
			return nil, fmt.Errorf("creating import staging table: %w", err)
		}
	}
	// One batch is read and validated (Go's work) while the one before is checked and written
	// (PostgreSQL's): on two cores an import runs at the pace of the slower of the two, not of
	// their sum. The channel is unbuffered, so the source is read at most one batch ahead of
	// the batch being written. The reader stops, and is waited for, before Import returns: the
	// source may be a request's body.
	batches := make(chan readBatch)
	stop, readerDone := make(chan struct{}), make(chan struct{})
	go im.readAhead(src, size, batches, stop, readerDone)
	sourceDone := false // the reader stopped by itself: the source ended or failed
	defer func() {
		close(stop)
		if !sourceDone && o.Interrupt != nil {
			select {
			case <-readerDone:
			default:
				o.Interrupt()
			}
		}
		<-readerDone
	}()
	for b := range batches {
		sourceDone = b.eof || b.err != nil
		if b.err != nil {
			return nil, b.err
		}
		im.res.Rows += len(b.rows)
		if len(b.rows) > 0 {
			if err := im.batch(ctx, b.rows, b.now); err != nil {
				return nil, err
			}
		}
		if o.Progress != nil {
			o.Progress(im.res.Rows, im.res)
		}
		if !o.Partial && o.MaxErrors > 0 && im.res.Failed >= o.MaxErrors {
			break
		}
	}
	if o.DryRun || (!o.Partial && im.res.Failed > 0) {
		return im.res, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("committing import: %w", err)
	}
	im.res.Committed = true
	return im.res, nil
}

// importer is the state of one import.
type importer struct {
	s      *Store
	app    *defs.App
	ent    *spec.Entity
	prog   *compiled
	w      WriteOptions
	o      ImportOptions
	tx     pgx.Tx
	res    *ImportResult
	checks []importCheck
	// statsAt is the number of records this import must have written before refreshStats
	// looks at the planner's estimate again.
	statsAt int
}

// importCheck is a key a new row must not share with a live record: a dedupe key (a hit goes
// through Create, which merges, rejects or leaves a pending submission) or a unique field
// (a hit is the unique error).
type importCheck struct {
	fields []*spec.Field
	dedupe bool
}

func importChecks(ent *spec.Entity) []importCheck {
	var out []importCheck
	single := map[string]bool{}
	for _, k := range dedupeKeys(ent, false) {
		var fs []*spec.Field
		for _, key := range k {
			if f := ent.Field(key); f != nil {
				fs = append(fs, f)
			}
		}
		if len(fs) == len(k) && len(fs) > 0 {
			out = append(out, importCheck{fields: fs, dedupe: true})
			if len(fs) == 1 {
				single[fs[0].Key] = true
			}
		}
	}
	for i := range ent.Fields {
		if f := &ent.Fields[i]; f.Unique && !single[f.Key] {
			out = append(out, importCheck{fields: []*spec.Field{f}})
		}
	}
	return out
}

func (im *importer) fail(r *importRow, err error) error {
	r.failed = true
	im.res.Failed++
	if im.o.RowError != nil {
		return im.o.RowError(r.n, err)
	}
	return nil
}

// readAhead reads the source in batches of size rows, validates each (validate) and sends it
// on out, until the source ends or fails or stop is closed; it closes out, then done.
func (im *importer) readAhead(src RowSource, size int, out chan<- readBatch, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	defer close(out)
	defer func() {
		if p := recover(); p != nil { // a source or a validation that panics fails the import, not the process
			select {
			case out <- readBatch{err: fmt.Errorf("importing: reading rows: %v", p)}:
			case <-stop:
			}
		}
	}()
	n := 0
	for {
		b := readBatch{rows: make([]*importRow, 0, size)}
		for len(b.rows) < size {
			select {
			case <-stop:
				return
			default:
			}
			values, err := src()
			if errors.Is(err, io.EOF) {
				b.eof = true
				break
			}
			if err != nil {
				b.err = err
				break
			}
			b.rows = append(b.rows, &importRow{n: n, values: values})
			n++
		}
		select {
		case <-stop: // the import ended while this batch was read: no need to validate it
			return
		default:
		}
		if b.err == nil {
			b.now = im.s.now()
			im.validate(b.rows, b.now)
		}
		select {
		case out <- b:
		case <-stop:
			return
		}
		if b.eof || b.err != nil {
			return
		}
	}
}

// validate is a batch's validation and normalisation, in process and without the database
// (it runs ahead, beside the writes): a row gets its data, or the error it fails with.
func (im *importer) validate(rows []*importRow, now time.Time) {
	ent, w := im.ent, im.w
	g := grantOf(w)
	intake := w.Actor.Anonymous()
	for _, r := range rows {
		given := make(map[string]any, len(r.values))
		for k, v := range r.values {
			if !isEmpty(v) {
				given[k] = v
			}
		}
		if err := checkReadOnly(given, g); err != nil {
			r.invalid = err
			continue
		}
		data, errs := ValidateValues(ent, r.values, g.Hidden)
		im.s.applyDefaults(ent, data, r.values, w, now, &errs)
		for k, v := range data {
			if v == nil {
				delete(data, k)
			}
		}
		for i := range ent.Fields {
			f := &ent.Fields[i]
			if f.Required && f.Type != spec.TypeAutonumber && f.Type != spec.TypeFormula && isEmpty(data[f.Key]) {
				requiredError(&errs, f)
			}
			if v, ok := data[f.Key]; ok && (f.Type == spec.TypeAttachment || f.Type == spec.TypeLines) && !isEmpty(v) {
				r.slow = true
			}
		}
		if len(errs) > 0 {
			r.invalid = errs
			continue
		}
		r.data = data
		r.slow = r.slow || intake
	}
}

// batch checks and writes one batch of rows, validated by validate.
func (im *importer) batch(ctx context.Context, rows []*importRow, now time.Time) error {
	ent, w := im.ent, im.w
	// 1. the rows validation refused, in source order
	for _, r := range rows {
		if r.invalid != nil {
			if err := im.fail(r, r.invalid); err != nil {
				return err
			}
		}
	}
	// 2. references: one look-up per field for the whole batch
	if err := im.checkRefs(ctx, rows); err != nil {
		return err
	}
	// 3. keys repeated inside the batch: the later row goes through Create after the earlier
	// one is written (it merges into it, or fails as a duplicate)
	seen := map[string]bool{}
	for _, r := range rows {
		if r.failed {
			continue
		}
		for ci, c := range im.checks {
			k, ok := checkKey(c, r.data)
			if !ok {
				continue
			}
			k = strconv.Itoa(ci) + "\x00" + k
			if seen[k] {
				r.slow = true
			}
			seen[k] = true
		}
	}
	// 4. keys shared with live records: the batch is copied into the staging table and checked
	// with one statement
	if err := im.refreshStats(ctx); err != nil {
		return err
	}
	if err := im.checkStaged(ctx, rows); err != nil {
		return err
	}
	// 5. numbers, formulas, gates
	var fast []*importRow
	for _, r := range rows {
		if !r.failed && !r.slow {
			fast = append(fast, r)
		}
	}
	sp, err := im.tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("importing: %w", err)
	}
	defer sp.Rollback(context.Background())
	next, err := reserveAutonumbers(ctx, sp, im.app, ent, len(fast))
	if err != nil {
		return err
	}
	initial := ""
	if ent.Stages != nil && len(ent.Stages.Order) > 0 {
		initial = ent.Stages.Order[0]
	}
	counter := im.s.counter(ctx, sp, im.app)
	var good []*importRow
	for i, r := range fast {
		for _, f := range next {
			r.data[f.key] = fmt.Sprintf("%s%0*d", f.prefix, f.width, f.first+int64(i))
		}
		computeFormulas(ent, im.prog, r.data, map[string]any{}, now)
		r.stage = stageOf(ent, r.data)
		if r.stage != "" && r.stage != initial {
			if err := checkGates(ent, im.prog, "", r.stage, gateRecord(r.data, nil), map[string]any{}, now, counter); err != nil {
				if err := im.fail(r, err); err != nil {
					return err
				}
				continue
			}
		}
		good = append(good, r)
	}
	// 6. the records, their events and the hooks, set-based; a write the checks did not
	// foresee (a concurrent writer took a unique value) sends the batch through Create
	if err := im.write(ctx, sp, good, now, initial); err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || (pe.Code != "23505" && !strings.HasPrefix(pe.Code, "22")) {
			return err
		}
		if err := sp.Rollback(ctx); err != nil {
			return fmt.Errorf("importing: %w", err)
		}
		for _, r := range good {
			r.slow = true
		}
	} else {
		if err := sp.Commit(ctx); err != nil {
			return fmt.Errorf("importing: %w", err)
		}
		im.res.Created += len(good)
	}
	im.res.Batches++
	// 7. the rest, one by one in file order, inside the import's transaction
	for _, r := range rows {
		if r.failed || !r.slow {
			continue
		}
		im.res.Slow++
		sw := w
		sw.Tx = im.tx
		sw.noKeyLock = true // see WriteOptions.noKeyLock
		rec, err := im.s.Create(ctx, im.app, ent.Slug, r.values, sw)
		if err != nil {
			if err := im.fail(r, err); err != nil {
				return err
			}
			continue
		}
		switch {
		case rec.Receipt != nil:
			im.res.Pending++
		case rec.Merged:
			im.res.Merged++
			r.id = rec.ID
		default:
			im.res.Created++
			r.id = rec.ID
		}
	}
	for _, r := range rows {
		if r.id != uuid.Nil && len(im.res.IDs) < MaxImportIDs {
			im.res.IDs = append(im.res.IDs, r.id)
		}
	}
	return nil
}

// statsFirstCheck is how many records an import writes before refreshStats first compares
// the planner's estimate of the entity with what the import has written.
const statsFirstCheck = 10_000

// refreshStats keeps the planner's idea of the entity's size in step with the import. The
// statistics PostgreSQL plans with are those of the last ANALYZE, which cannot have seen the
// rows of a transaction still running: an import into a new (or small) entity plans its later
// batches as if the entity were as small as before the import. The staged key check then
// hashes every record of the entity, once per batch (quadratic in the import's size: 411 ms a
// batch at 500,000 records), and the look-ups of the one-by-one rows scan the entity per row.
// Each time the records written double (from statsFirstCheck on), the planner's estimate of
// the entity's live records is read; under half of what this import has written, the
// entity's columns are analyzed inside the import's transaction, which sees its own rows.
// SKIP_LOCKED: when another transaction analyzes records, or another import holds the
// statistics lock to its end, this import goes on with the statistics it has. The lock lasts
// to the import's commit (docs/records.md says what waits for it); a streamed import's body is
// bounded in time (server/api, maxImportDuration), so is the lock.
func (im *importer) refreshStats(ctx context.Context) error {
	written := im.res.Created
	if len(im.checks) == 0 || written < max(im.statsAt, statsFirstCheck) {
		return nil // without a key check, nothing the import plans scans the entity
	}
	im.statsAt = 2 * written
	var args []any
	var plan []byte
	if err := im.tx.QueryRow(ctx, `EXPLAIN (FORMAT JSON) SELECT 1 FROM records WHERE `+liveSQL(im.app, im.ent, &args), args...).Scan(&plan); err != nil {
		return fmt.Errorf("estimating the entity's size: %w", err)
	}
	var explained []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &explained); err != nil {
		return fmt.Errorf("estimating the entity's size: %w", err)
	}
	if len(explained) == 0 {
		return errors.New("estimating the entity's size: EXPLAIN answered no plan")
	}
	if explained[0].Plan.Rows*2 >= float64(written) {
		return nil
	}
	// the columns the entity's estimate needs, and those the reports' statistics objects
	// combine with expressions (without them, each such object is skipped with a warning)
	if _, err := im.tx.Exec(ctx, `ANALYZE (SKIP_LOCKED) records (app_id, entity, deleted_at, owner_id, team_id, stage_path, created_at)`); err != nil {
		return fmt.Errorf("refreshing the entity's statistics: %w", err)
	}
	im.res.Analyzed++
	return nil
}

// checkKey is the text of a check's key in a row's values (false: a key field is empty).
func checkKey(c importCheck, data map[string]any) (string, bool) {
	var b strings.Builder
	for _, f := range c.fields {
		v, ok := data[f.Key]
		if !ok || isEmpty(v) {
			return "", false
		}
		_, kind := filter.FieldExpr("", f)
		switch kind {
		case filter.KindNumeric:
			if n, ok := numberOf(v); ok {
				b.WriteString(strconv.FormatFloat(n, 'g', -1, 64))
				b.WriteByte(0)
				continue
			}
		case filter.KindText, filter.KindDate, filter.KindTimestamp:
			if s, ok := textOf(v); ok {
				b.WriteString(s)
				b.WriteByte(0)
				continue
			}
		}
		raw, _ := json.Marshal(normJSON(v))
		b.Write(raw)
		b.WriteByte(0)
	}
	return b.String(), true
}

// checkRefs checks the users, teams and related records the batch names, one query per field.
func (im *importer) checkRefs(ctx context.Context, rows []*importRow) error {
	for i := range im.ent.Fields {
		f := &im.ent.Fields[i]
		if f.Type != spec.TypeUser && f.Type != spec.TypeTeam && f.Type != spec.TypeRelation {
			continue
		}
		var ids []string
		for _, r := range rows {
			if !r.failed && r.data[f.Key] != nil {
				ids = append(ids, idsOf(r.data[f.Key])...)
			}
		}
		if len(ids) == 0 {
			continue
		}
		var sql string
		args := []any{ids}
		var msg string
		switch f.Type {
		case spec.TypeUser:
			sql, msg = `SELECT id::text FROM users WHERE id = ANY($1::uuid[])`, "unknown user (不存在)"
		case spec.TypeTeam:
			sql, msg = `SELECT id::text FROM teams WHERE id = ANY($1::uuid[])`, "unknown team (不存在)"
		default:
			target := f.Target
			if target == "" {
				target = im.ent.Slug
			}
			msg = fmt.Sprintf("the linked %s record does not exist (关联记录不存在)", target)
			args = append(args, im.app.ID, target)
			sql = `SELECT r.id::text FROM records r WHERE r.id = ANY($1::uuid[]) AND r.app_id = $2 AND r.entity = $3 AND r.deleted_at IS NULL`
			if im.w.LinkGrant != nil {
				lg, err := im.w.LinkGrant(ctx, target)
				if err != nil {
					return fmt.Errorf("checking %s: %w", f.Key, err)
				}
				if !lg.Allowed() {
					sql += " AND false"
				} else if pred := lg.RowPredicate("r", &args); pred != "" {
					sql += " AND " + pred
				}
			}
		}
		qr, err := im.tx.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("checking %s: %w", f.Key, err)
		}
		found, err := pgx.CollectRows(qr, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("checking %s: %w", f.Key, err)
		}
		have := make(map[string]bool, len(found))
		for _, id := range found {
			have[id] = true
		}
		for _, r := range rows {
			if r.failed || r.data[f.Key] == nil {
				continue
			}
			for _, id := range idsOf(r.data[f.Key]) {
				if !have[strings.ToLower(id)] {
					if err := im.fail(r, spec.Errors{{Field: f.Key, Code: "not_found", Message: msg}}); err != nil {
						return err
					}
					break
				}
			}
		}
	}
	return nil
}

// checkStaged copies the batch's candidate rows into the staging table and finds, in one
// statement, the rows that share a dedupe key or a unique value with a live record (records
// written by earlier batches of this import included). Dedupe hits go through Create; unique
// hits are the unique error.
func (im *importer) checkStaged(ctx context.Context, rows []*importRow) error {
	if len(im.checks) == 0 {
		return nil
	}
	var staged [][]any
	for i, r := range rows {
		if r.failed || r.slow {
			continue
		}
		raw, err := dynjson.Marshal(r.data)
		if err != nil {
			return fmt.Errorf("encoding record: %w", err)
		}
		staged = append(staged, []any{i, raw})
	}
	if len(staged) == 0 {
		return nil
	}
	if _, err := im.tx.Exec(ctx, `TRUNCATE tessera_import_stage`); err != nil {
		return fmt.Errorf("staging import: %w", err)
	}
	if _, err := im.tx.CopyFrom(ctx, pgx.Identifier{"tessera_import_stage"}, []string{"n", "data"}, pgx.CopyFromRows(staged)); err != nil {
		return fmt.Errorf("staging import: %w", err)
	}
	var args []any
	live := liveSQL(im.app, im.ent, &args)
	var hits []string
	for _, c := range im.checks {
		var present, match []string
		for _, f := range c.fields {
			es, _ := filter.FieldExpr("s", f)
			er, _ := filter.FieldExpr("r", f)
			present = append(present, "s.data ? "+quoteLit(f.Key))
			match = append(match, er+" = "+es)
		}
		hits = append(hits, "("+strings.Join(present, " AND ")+" AND EXISTS (SELECT 1 FROM records r WHERE "+
			strings.ReplaceAll(live, "deleted_at", "r.deleted_at")+" AND "+strings.Join(match, " AND ")+"))")
	}
	// Planned afresh for every batch (an unnamed statement, not the cached one): a plan made
	// for the first batch, when the entity was still empty, scans records once per staged
	// row, and every later batch of the import would reuse it (quadratic in the import size).
	qr, err := im.tx.Query(ctx, `SELECT n, hit FROM (SELECT s.n, ARRAY[`+strings.Join(hits, ", ")+`] AS hit FROM tessera_import_stage s) x
		WHERE true = ANY(hit)`, append([]any{pgx.QueryExecModeDescribeExec}, args...)...)
	if err != nil {
		return fmt.Errorf("checking import keys: %w", err)
	}
	type hit struct {
		n   int
		hit []bool
	}
	var found []hit
	for qr.Next() {
		var h hit
		if err := qr.Scan(&h.n, &h.hit); err != nil {
			qr.Close()
			return fmt.Errorf("checking import keys: %w", err)
		}
		found = append(found, h)
	}
	qr.Close()
	if err := qr.Err(); err != nil {
		return fmt.Errorf("checking import keys: %w", err)
	}
	for _, h := range found {
		r := rows[h.n]
		var errs spec.Errors
		for ci, c := range im.checks {
			if ci >= len(h.hit) || !h.hit[ci] {
				continue
			}
			if c.dedupe {
				r.slow = true
				continue
			}
			errs.Add(c.fields[0].Key, "unique", "%s must be unique: another record has this value (该值已存在)", fieldLabel(c.fields[0]))
		}
		if !r.slow && len(errs) > 0 {
			if err := im.fail(r, errs); err != nil {
				return err
			}
		}
	}
	return nil
}

// write copies the rows and their created (and stage) events in, then tells the hooks.
func (im *importer) write(ctx context.Context, tx pgx.Tx, rows []*importRow, now time.Time, initial string) error {
	if len(rows) == 0 {
		return nil
	}
	ent, app, w := im.ent, im.app, im.w
	var owner *uuid.UUID
	if w.Actor.UserID != uuid.Nil {
		id := w.Actor.UserID
		owner = &id
	}
	recRows := make([][]any, 0, len(rows))
	evRows := make([][]any, 0, len(rows)*2)
	for _, r := range rows {
		r.id = newID()
		// the data and its "created" changes ({key: [null, value]}), each value encoded once
		raw, cj, err := dynjson.Created(r.data)
		if err != nil {
			return fmt.Errorf("encoding record: %w", err)
		}
		var path []string
		var pathIn []time.Time
		if r.stage != "" {
			path, pathIn = []string{r.stage}, []time.Time{now}
		}
		recRows = append(recRows, []any{r.id, app.ID, ent.Slug, raw, owner, w.Actor.TeamID, nilIfNoPath(path), nilIfNoTimes(pathIn), now, now})
		evRows = append(evRows, []any{r.id, app.ID, ent.Slug, now, owner, events.Created, cj})
		if r.stage != "" {
			sj, _ := json.Marshal(map[string]any{ent.Stages.Field: []any{nil, r.stage}})
			evRows = append(evRows, []any{r.id, app.ID, ent.Slug, now, owner, events.Stage, sj})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"records"},
		[]string{"id", "app_id", "entity", "data", "owner_id", "team_id", "stage_path", "stage_in", "created_at", "updated_at"},
		pgx.CopyFromRows(recRows)); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"record_events"},
		[]string{"record_id", "app_id", "entity", "at", "actor", "kind", "changes"},
		pgx.CopyFromRows(evRows)); err != nil {
		return fmt.Errorf("writing record events: %w", err)
	}
	if len(im.s.hooks) == 0 {
		return nil
	}
	cs := make([]events.Change, 0, len(rows))
	for _, r := range rows {
		rec := &Record{ID: r.id, Entity: ent.Slug, Data: r.data, Version: 1, OwnerID: owner, TeamID: w.Actor.TeamID, CreatedAt: now, UpdatedAt: now}
		c := im.s.change(events.Created, app, ent.Slug, rec, nil, w, now)
		c.New = true
		cs = append(cs, c)
		if r.stage != "" && r.stage != initial {
			sc := c
			sc.Kind, sc.ToStage = events.Stage, r.stage
			cs = append(cs, sc)
		}
	}
	return im.s.fireBatch(ctx, tx, cs)
}
