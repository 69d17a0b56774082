// Package report compiles report definitions (pivots, funnels, dwell times, comparisons,
// forecasts) into parameterised SQL over records and their history, and runs them with the
// caller's row scope and field rules.
//
// No user text ever becomes SQL: identifiers come only from the validated entity definition
// (field keys are checked against the entity and a strict identifier pattern before they are
// quoted as literals), and every value travels as a $n argument.
package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
)

// Report kinds.
const (
	KindTable       = "table"
	KindPivot       = "pivot"
	KindKPI         = "kpi"
	KindFunnel      = "funnel"
	KindDwell       = "dwell"
	KindStagnation  = "stagnation"
	KindPenetration = "penetration"
	KindForecast    = "forecast"
	KindCompare     = "compare"
	KindCycle       = "cycle"
)

// Kinds lists every report kind.
var Kinds = []string{KindTable, KindPivot, KindKPI, KindFunnel, KindDwell, KindStagnation, KindPenetration, KindForecast, KindCompare, KindCycle}

// DefaultTimezone is the time zone of date buckets when the app sets none.
const DefaultTimezone = "Asia/Shanghai"

// Limits.
const (
	DefaultLimit = 1000   // rows answered when the report sets no limit
	MaxLimit     = 10000  // rows a report may ask for
	MaxExport    = 500000 // rows an export streams at most
	// MaxDimensions and MaxMeasures bound a definition (PostgreSQL answers at most 1664 columns).
	MaxDimensions = 64
	MaxMeasures   = 64
)

// Column describes one output column.
type Column struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Type  string `json:"type,omitempty"` // text, number, date, datetime, bool, percent
	// Options are the display labels (in the answer's language) of the values of a column that
	// holds a select field's options or stages; rows keep the stored values.
	Options map[string]string `json:"options,omitempty"`
}

// Result is a report's answer: one row per dimension tuple (or per record for table-like kinds).
type Result struct {
	Columns []Column `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// Params are the runtime parameters of one run.
type Params struct {
	From   *time.Time      // inclusive lower bound on the report's date field (created_at by default)
	To     *time.Time      // exclusive upper bound
	Filter json.RawMessage // extra filter (dashboard shared filters), AND-ed with the report's
	Locale string          // labels: "zh-CN" (default) or "en"
	Now    time.Time       // the clock (zero: time.Now())
	Limit  int             // overrides the report's limit when > 0 (exports)
	// FromEvents answers stage reports (funnel, dwell, stagnation, penetration, cycle) from
	// the stage events in record_events instead of the stage paths on the records. Both give
	// the same answer; the events are slower and serve as the reference in checks.
	FromEvents bool
	// stays are the stage stay sets built for the entity, by field (set by Engine.Prepare for
	// dwell reports).
	stays map[string]int32
}

// Engine runs reports.
type Engine struct {
	pool *pgxpool.Pool
	defs *defs.Loader
	// StatementTimeout bounds every report query.
	StatementTimeout time.Duration
}

// New returns an engine reading records from pool and published entities from d.
func New(pool *pgxpool.Pool, d *defs.Loader) *Engine {
	return &Engine{pool: pool, defs: d, StatementTimeout: 60 * time.Second}
}

// ErrNotFound is returned when the report's entity is not published.
var ErrNotFound = errors.New("report: not found (报表不存在)")

// Run answers rep for app with the caller's grant g. Definition problems (unknown or hidden
// fields, bad parameters) come back as spec.Errors.
func (e *Engine) Run(ctx context.Context, app *defs.App, rep *spec.Report, params Params, g access.Grant) (*Result, error) {
	q, err := e.Prepare(ctx, app, rep, params, g)
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: q.Columns, Rows: [][]any{}}
	err = e.Stream(ctx, q, func(row []any) error {
		res.Rows = append(res.Rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if q.post != nil {
		res = q.post(res)
	}
	return res, nil
}

// Prepare loads the report's entity and compiles rep into a query without running it.
func (e *Engine) Prepare(ctx context.Context, app *defs.App, rep *spec.Report, params Params, g access.Grant) (*Query, error) {
	ent, _, err := e.defs.Entity(ctx, app.ID, rep.Entity)
	if errors.Is(err, defs.ErrNotFound) {
		return nil, spec.Errors{{Field: "entity", Code: "unknown_entity", Message: fmt.Sprintf("entity %[1]q is not published (实体 %[1]q 尚未发布)", rep.Entity)}}
	}
	if err != nil {
		return nil, fmt.Errorf("loading entity %q: %w", rep.Entity, err)
	}
	if rep.Kind == KindDwell && !params.FromEvents {
		if params.stays, err = builtStays(ctx, e.pool, app.ID, ent); err != nil {
			return nil, err
		}
	}
	return Compile(app, ent, rep, params, g)
}

// Stream runs a compiled query and calls fn with every normalised row (before any Go-side
// post-processing, which only funnels use). It runs in a read-only transaction with a
// statement timeout and JIT off (JIT compilation costs more than it saves on these queries).
func (e *Engine) Stream(ctx context.Context, q *Query, fn func(row []any) error) error {
	tx, err := e.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("running report: beginning transaction: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	timeout := e.StatementTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d; SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL plan_cache_mode = force_custom_plan", timeout.Milliseconds())); err != nil {
		return fmt.Errorf("running report: session settings: %w", err)
	}
	rows, err := tx.Query(ctx, q.SQL, q.Args...)
	if err != nil {
		return queryError(err)
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return fmt.Errorf("reading report row: %w", err)
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			k := vText
			if i < len(q.kinds) {
				k = q.kinds[i]
			}
			out[i] = normalize(v, k, q.tz)
		}
		if err := fn(out); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return queryError(err)
	}
	return nil
}

// ErrTimeout is returned when a report query runs longer than the statement timeout.
var ErrTimeout = errors.New("report: the query took too long (报表查询超时)")

func queryError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "57014" { // query_canceled: statement_timeout
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	}
	return fmt.Errorf("running report query: %w", err)
}

// Validate checks rep against ent for publishing (no field rules apply: hidden fields depend on
// the caller and are checked at run time).
func (e *Engine) Validate(rep *spec.Report, ent *spec.Entity) spec.Errors {
	return Validate(rep, ent)
}

// Validate checks rep against ent: kind, fields, buckets, aggregations, sort keys, filters and
// kind parameters. It answers nil when the report compiles.
func Validate(rep *spec.Report, ent *spec.Entity) spec.Errors {
	if ent == nil {
		return spec.Errors{{Field: "entity", Code: "unknown_entity", Message: fmt.Sprintf("entity %[1]q does not exist (实体 %[1]q 不存在)", rep.Entity)}}
	}
	app := &defs.App{}
	_, err := Compile(app, ent, rep, Params{}, access.All())
	if err == nil {
		return nil
	}
	var fe spec.Errors
	if errors.As(err, &fe) {
		return fe
	}
	return spec.Errors{{Field: "$", Code: "invalid", Message: err.Error()}}
}

// Timezone returns the app's report time zone (settings {"timezone": ...}), Asia/Shanghai
// when unset or unknown.
func Timezone(app *defs.App) *time.Location {
	var s struct {
		Timezone string `json:"timezone"`
	}
	if app != nil && len(app.Settings) > 0 {
		_ = json.Unmarshal(app.Settings, &s)
	}
	if s.Timezone != "" {
		if loc, err := time.LoadLocation(s.Timezone); err == nil {
			return loc
		}
	}
	loc, err := time.LoadLocation(DefaultTimezone)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}
