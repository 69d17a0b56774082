package report

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/filter"
)

// Query is a compiled report: SQL with $n placeholders, its arguments and its output columns.
type Query struct {
	SQL     string
	Args    []any
	Columns []Column
	kinds   []valKind // per SQL output column
	tz      *time.Location
	post    func(*Result) *Result // Go-side shaping (funnels)
}

// HasPost reports whether the query's rows are reshaped in Go after the SQL runs (funnels);
// such queries must be run with Engine.Run rather than streamed row by row.
func (q *Query) HasPost() bool { return q.post != nil }

// valKind says how a SQL output value is rendered in JSON.
type valKind int

const (
	vText valKind = iota
	vInt
	vNum
	vBool
	vDate
	vTime
	vDay
	vWeek
	vMonth
	vQuarter
	vYear
)

func (k valKind) colType() string {
	switch k {
	case vInt, vNum:
		return "number"
	case vBool:
		return "bool"
	case vDate, vDay, vWeek:
		return "date"
	case vMonth, vQuarter, vYear:
		return "period"
	case vTime:
		return "datetime"
	default:
		return "text"
	}
}

var bucketKinds = map[string]valKind{"day": vDay, "week": vWeek, "month": vMonth, "quarter": vQuarter, "year": vYear}

// periodInterval maps a comparison period to its interval.
var periodInterval = map[string]string{"day": "1 day", "week": "7 days", "month": "1 month", "quarter": "3 months", "year": "1 year"}

// kindParams are the kind-specific settings in Report.Params.
type kindParams struct {
	Field           string             `json:"field,omitempty"`            // stage field (default: the entity's stages.field)
	Stages          []string           `json:"stages,omitempty"`           // funnel/stagnation: stages to use, in order
	Stage           string             `json:"stage,omitempty"`            // stagnation: the stage to inspect
	Days            float64            `json:"days,omitempty"`             // stagnation: no change for this many days (default 7)
	Basis           string             `json:"basis,omitempty"`            // stagnation: "stage" (time in stage, default) or "updated" (any change)
	FromStage       string             `json:"from_stage,omitempty"`       // penetration: A
	ToStage         string             `json:"to_stage,omitempty"`         // penetration: B
	Hours           float64            `json:"hours,omitempty"`            // penetration: within this many hours (default 72)
	IncludeOpen     bool               `json:"include_open,omitempty"`     // dwell: count current stays up to now
	Stuck           int                `json:"stuck,omitempty"`            // dwell: list the N longest current stays per cell (0-10)
	Amount          string             `json:"amount,omitempty"`           // forecast: amount field (default: first money field)
	Probability     map[string]float64 `json:"probability,omitempty"`      // forecast: overrides stages.probability
	IncludeTerminal bool               `json:"include_terminal,omitempty"` // forecast: include terminal stages
	DateField       string             `json:"date_field,omitempty"`       // field the from/to range applies to (default created_at)
	// Subtotals (pivot): answer a subtotal row after every group of the row dimensions and a
	// grand total (GROUPING SETS), marked in the _grouping column.
	Subtotals bool `json:"subtotals,omitempty"`
	// PivotColumn (pivot with subtotals): the dimension spread across the pivot table's
	// columns; subtotal rows then hold one value per column value plus the row total.
	PivotColumn string `json:"pivot_column,omitempty"`
	// Thresholds flag the rows whose ThresholdColumn exceeds a value (heatmap colours).
	Thresholds      []Threshold `json:"thresholds,omitempty"`
	ThresholdColumn string      `json:"threshold_column,omitempty"`
}

// Threshold flags a row whose value is over Over with Color.
type Threshold struct {
	Over  float64 `json:"over"`
	Color string  `json:"color"`
}

// builder accumulates SQL arguments and errors while compiling one report.
type builder struct {
	app *defs.App
	ent *spec.Entity
	rep *spec.Report
	p   Params
	g   access.Grant
	tz  *time.Location
	now time.Time
	kp  kindParams
	// inlineNames joins user/team names into the row query (tables); otherwise names are
	// joined after aggregation, on the few result rows (wrapNames).
	inlineNames bool
	args        []any
	errs        spec.Errors
	joins       []string
	locale      string
	// eventsOnly answers stage reports from record_events instead of the stage paths.
	eventsOnly bool
	// lineField and lineFrom: the lines field whose rows the report reads (a dimension or
	// measure names "<field>.<sub-field>") and the FROM item yielding them as li.
	lineField, lineFrom string
}

func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *builder) label(l spec.Label, en, zh string) string {
	if t := l.Text(b.locale, ""); t != "" {
		return t
	}
	if b.locale == "en" {
		return en
	}
	return zh
}

// Compile turns rep over ent into SQL for the caller with grant g. Problems with the definition
// or the parameters come back as spec.Errors (answer 422).
func Compile(app *defs.App, ent *spec.Entity, rep *spec.Report, p Params, g access.Grant) (*Query, error) {
	b := &builder{app: app, ent: ent, rep: rep, p: p, g: g, tz: Timezone(app), now: p.Now, locale: p.Locale, eventsOnly: p.FromEvents}
	if b.now.IsZero() {
		b.now = time.Now()
	}
	// Labels exist in English and Chinese: any English locale (en, en-US) answers English,
	// everything else (empty, zh, fr, ...) Chinese, so one answer never mixes the two.
	if strings.HasPrefix(strings.ToLower(b.locale), "en") {
		b.locale = "en"
	} else {
		b.locale = "zh-CN"
	}
	if rep.Entity != ent.Slug {
		b.errs.Add("entity", "mismatch", "report entity %[1]q is not %[2]q (报表的实体 %[1]q 与 %[2]q 不符)", rep.Entity, ent.Slug)
	}
	if len(rep.Params) > 0 && string(rep.Params) != "null" {
		if err := spec.DecodeInto(rep.Params, &b.kp); err != nil {
			var fe spec.Errors
			if errors.As(err, &fe) {
				for _, e := range fe {
					e.Field = "params." + strings.TrimPrefix(e.Field, "$")
					b.errs = append(b.errs, e)
				}
			}
		}
	}
	if rep.Limit < 0 || rep.Limit > MaxLimit {
		b.errs.Add("limit", "out_of_range", "limit must be from 0 to %[1]d (limit 须在 0 到 %[1]d 之间)", MaxLimit)
	}
	if len(rep.Dimensions) > MaxDimensions {
		b.errs.Add("dimensions", "too_many", "a report has at most %[1]d dimensions (报表最多 %[1]d 个维度)", MaxDimensions)
	}
	if len(rep.Measures) > MaxMeasures {
		b.errs.Add("measures", "too_many", "a report has at most %[1]d measures (报表最多 %[1]d 个指标)", MaxMeasures)
	}
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	var q *Query
	switch rep.Kind {
	case KindPivot, KindKPI:
		if rep.Compare != nil {
			q = b.compare()
		} else {
			q = b.pivot()
		}
	case KindCompare:
		if rep.Compare == nil {
			b.errs.Add("compare", "required", "a compare report needs compare.period (对比报表须设置 compare.period)")
			return nil, b.errs
		}
		q = b.compare()
	case KindTable:
		if len(rep.Measures) > 0 {
			q = b.pivot()
		} else {
			q = b.table()
		}
	case KindFunnel:
		q = b.funnel()
	case KindDwell:
		q = b.dwell()
	case KindStagnation:
		q = b.stagnation()
	case KindPenetration:
		q = b.penetration()
	case KindForecast:
		q = b.forecast()
	case KindCycle:
		q = b.cycle()
	default:
		b.errs.Add("kind", "unknown_kind", "unknown report kind %[1]q (one of %[2]s) (未知的报表类型 %[1]q，可选：%[2]s)", rep.Kind, strings.Join(Kinds, ", "))
	}
	if len(b.errs) == 0 {
		// Output columns are addressed by key (sort, charts, exports): each key once.
		seen := map[string]bool{}
		for _, c := range q.Columns {
			if seen[c.Key] {
				path := "measures"
				for i, d := range rep.Dimensions {
					_, bucketed := bucketKinds[strings.TrimPrefix(c.Key, d.Field+"_")]
					bucketed = bucketed && strings.HasPrefix(c.Key, d.Field+"_")
					if d.Field == c.Key || c.Key == d.Field+"_name" || bucketed {
						path = fmt.Sprintf("dimensions[%d]", i)
					}
				}
				b.errs.Add(path, "duplicate_column", "output column %[1]q appears twice (输出列 %[1]q 重复)", c.Key)
			}
			seen[c.Key] = true
		}
	}
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	b.thresholds(q)
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	q.Args = b.args
	q.tz = b.tz
	b.attachOptions(q.Columns)
	return q, nil
}

// lit quotes a field key that passed filter.Resolve (so it is a plain identifier) as a literal.
func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// dim is a compiled dimension.
type dim struct {
	key, label string
	field      string
	expr       string // grouping value
	name       string // inline name expression (tables), or ""
	nameTable  string // users or teams: the name is joined after aggregation
	uuid       bool   // expr is a uuid column (owner_id, team_id), else text
	kind       valKind
	bucket     string
	timeExpr   string // the un-bucketed time expression (compare)
}

// resolve finds a column the caller may use, or records an unknown_field error at path.
func (b *builder) resolve(name, path string) *filter.Column {
	if c, from, ok := filter.LineColumn(name, b.ent, b.g.Hidden, "r", "li"); ok {
		// A sub-field of a lines field: the report reads one row per line (CROSS JOIN LATERAL
		// over the record's rows), so sum/avg/count aggregate lines.
		parent, _, _ := strings.Cut(name, ".")
		switch {
		case b.rep.Kind != KindPivot && b.rep.Kind != KindKPI && b.rep.Kind != KindTable && b.rep.Kind != KindCompare:
			b.errs.Add(path, "unsupported", "only pivot, kpi, table and compare reports read the rows of a lines field (只有透视、指标、表格和对比报表可以使用明细列)")
			return nil
		case b.lineField != "" && b.lineField != parent:
			b.errs.Add(path, "unsupported", "a report reads the rows of one lines field only (一个报表只能使用一个明细字段的列)")
			return nil
		}
		b.lineField, b.lineFrom = parent, from
		return c
	}
	c, ok := filter.Resolve(name, b.ent, b.g.Hidden, "r")
	if !ok {
		b.errs.Add(path, "unknown_field", "unknown field %[1]q (未知字段 %[1]q)", name)
		return nil
	}
	return c
}

func (b *builder) fieldLabel(name string) string {
	if f := b.ent.Field(name); f != nil {
		return f.Label.Text(b.locale, name)
	}
	if parent, sub, ok := strings.Cut(name, "."); ok {
		if f := b.ent.Field(parent); f != nil && f.SubField(sub) != nil {
			return f.Label.Text(b.locale, parent) + " · " + f.SubField(sub).Label.Text(b.locale, sub)
		}
	}
	sys := map[string][2]string{
		"id": {"ID", "ID"}, "created_at": {"Created", "创建时间"}, "updated_at": {"Updated", "更新时间"},
		"owner_id": {"Owner", "负责人"}, "team_id": {"Team", "团队"},
	}
	if l, ok := sys[name]; ok {
		if b.locale == "en" {
			return l[0]
		}
		return l[1]
	}
	return name
}

// timeBucket truncates a time column to bucket in the app's time zone.
func (b *builder) timeBucket(c *filter.Column, bucket, tzArg string) string {
	if c.Kind == filter.KindDate {
		return fmt.Sprintf("date_trunc(%s, %s::timestamp)", lit(bucket), c.Expr)
	}
	return fmt.Sprintf("date_trunc(%s, %s AT TIME ZONE %s)", lit(bucket), c.Expr, tzArg)
}

func (b *builder) tzArg() string { return b.arg(b.tz.String()) }

// dims compiles the report's dimensions; name joins are added to b.joins.
func (b *builder) dims(allowBucket bool) []*dim {
	var out []*dim
	var tz string
	seen := map[string]bool{}
	for i, d := range b.rep.Dimensions {
		path := fmt.Sprintf("dimensions[%d]", i)
		c := b.resolve(d.Field, path+".field")
		if c == nil {
			continue
		}
		if k := d.Field + "/" + d.Bucket; seen[k] {
			b.errs.Add(path, "duplicate", "dimension %[1]q appears twice (维度 %[1]q 重复)", d.Field)
			continue
		} else {
			seen[k] = true
		}
		x := &dim{key: d.Field, field: d.Field, label: b.label(d.Label, b.fieldLabel(d.Field), b.fieldLabel(d.Field))}
		bucket := d.Bucket
		if bucket != "" && !allowBucket {
			b.errs.Add(path+".bucket", "unsupported", "this report kind does not bucket dimensions (此类报表的维度不能按时间粒度分组)")
			continue
		}
		switch c.Kind {
		case filter.KindArray, filter.KindFiles:
			if !allowBucket && bucket == "" { // table columns may show lists as they are
				x.expr, x.kind = c.Expr, vText
				break
			}
			b.errs.Add(path+".field", "unsupported", "field %[1]q holds a list and cannot be a dimension (字段 %[1]q 是多值列表，不能作为维度)", d.Field)
			continue
		case filter.KindDate, filter.KindTimestamp:
			if bucket == "" && c.Kind == filter.KindTimestamp && allowBucket {
				bucket = "day"
			}
			x.timeExpr = c.Expr
			if bucket == "" {
				x.expr, x.kind = c.Expr, vDate
				if c.Kind == filter.KindTimestamp {
					x.kind = vTime
				}
				break
			}
			k, ok := bucketKinds[bucket]
			if !ok {
				b.errs.Add(path+".bucket", "invalid", "bucket must be day, week, month, quarter or year (bucket 须为 day、week、month、quarter 或 year)")
				continue
			}
			if tz == "" && c.Kind == filter.KindTimestamp {
				tz = b.tzArg()
			}
			x.expr, x.kind, x.bucket = b.timeBucket(c, bucket, tz), k, bucket
			x.key = d.Field + "_" + bucket
		case filter.KindNumeric:
			if bucket != "" {
				b.errs.Add(path+".bucket", "invalid", "only date fields take a bucket (只有日期字段可以设置 bucket)")
				continue
			}
			x.expr, x.kind = c.Expr+"::float8", vNum
		case filter.KindBool:
			x.expr, x.kind = c.Expr+"::boolean", vBool
		default:
			if bucket != "" {
				b.errs.Add(path+".bucket", "invalid", "only date fields take a bucket (只有日期字段可以设置 bucket)")
				continue
			}
			x.expr, x.kind = c.Expr, vText // uuid columns stay uuid (cheaper to group); rendered as text
			x.uuid = c.Kind == filter.KindUUID
			switch {
			case d.Field == "owner_id":
				x.nameTable = "users"
			case d.Field == "team_id":
				x.nameTable = "teams"
			default:
				if f := b.ent.Field(d.Field); f != nil && (f.Type == spec.TypeUser || f.Type == spec.TypeTeam) {
					x.nameTable = "users"
					if f.Type == spec.TypeTeam {
						x.nameTable = "teams"
					}
				}
			}
			if x.nameTable != "" && b.inlineNames {
				alias := fmt.Sprintf("n%d", i)
				b.joins = append(b.joins, fmt.Sprintf("LEFT JOIN %s %s ON %s = %s", x.nameTable, alias, nameKey(alias, x.uuid), x.expr))
				x.name = alias + ".name"
			}
		}
		out = append(out, x)
	}
	return out
}

// measure is a compiled aggregate.
type measure struct {
	key, label string
	agg        string // aggregate call without FILTER, e.g. sum(x)
	cast       string // applied after the aggregate (and its FILTER)
	kind       valKind
	filter     string // the measure's own row condition, or ""
	rate       bool   // share of rows matching filter, in percent
}

// colType is the measure's column type: percent for a rate, else by its value kind.
func (m *measure) colType() string {
	if m.rate {
		return "percent"
	}
	return m.kind.colType()
}

// sql renders the aggregate restricted to rows matching the measure's filter and cond.
func (m *measure) sql(cond string) string {
	all := cond
	own := m.filter
	if own != "" && cond != "" {
		own = "(" + own + ") AND (" + cond + ")"
	}
	if m.rate {
		den := "count(*)"
		if all != "" {
			den += " FILTER (WHERE " + all + ")"
		}
		return fmt.Sprintf("round(100.0 * count(*) FILTER (WHERE %s) / nullif(%s, 0), 2)::float8", own, den)
	}
	if own == "" {
		own = cond
	}
	s := m.agg
	if own != "" {
		s += " FILTER (WHERE " + own + ")"
	}
	if m.cast != "" {
		s = "(" + s + ")" + m.cast
	}
	return s
}

var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

var aggLabels = map[string][2]string{
	"rate": {"Rate %", "占比%"}, "count": {"Count", "数量"}, "count_distinct": {"Distinct", "去重数"}, "sum": {"Sum", "合计"},
	"avg": {"Average", "平均"}, "min": {"Min", "最小"}, "max": {"Max", "最大"}, "median": {"Median", "中位数"},
}

// measures compiles the report's measures (count when none are given).
func (b *builder) measures() []*measure {
	ms := b.rep.Measures
	if len(ms) == 0 {
		ms = []spec.Measure{{Agg: "count"}}
	}
	var out []*measure
	seen := map[string]bool{}
	for i, m := range ms {
		path := fmt.Sprintf("measures[%d]", i)
		names, ok := aggLabels[m.Agg]
		if !ok {
			b.errs.Add(path+".agg", "invalid", "agg must be count, count_distinct, sum, avg, min, max, median or rate (agg 须为 count、count_distinct、sum、avg、min、max、median 或 rate)")
			continue
		}
		x := &measure{key: m.Agg}
		if len(m.Filter) > 0 && string(m.Filter) != "null" {
			cond, err := filter.Compile(m.Filter, b.ent, b.g.Hidden, "r", &b.args)
			if err != nil {
				b.filterErrors(err, path+".filter")
				continue
			}
			x.filter = cond
		}
		if m.Agg == "rate" {
			if x.filter == "" {
				b.errs.Add(path+".filter", "required", "rate needs a filter: the condition whose share is answered (rate 需要 filter：即要计算占比的条件)")
				continue
			}
			x.rate, x.kind = true, vNum
		}
		var c *filter.Column
		if m.Field != "" {
			if c = b.resolve(m.Field, path+".field"); c == nil {
				continue
			}
			x.key = m.Agg + "_" + strings.ReplaceAll(m.Field, ".", "_")
		} else if m.Agg != "count" && m.Agg != "rate" {
			b.errs.Add(path+".field", "required", "%[1]s needs a field (%[1]s 需要指定字段)", m.Agg)
			continue
		}
		lbl := names[1]
		if b.locale == "en" {
			lbl = names[0]
		}
		if m.Field != "" {
			if b.locale == "en" {
				lbl += " of " + b.fieldLabel(m.Field)
			} else {
				lbl = b.fieldLabel(m.Field) + lbl
			}
		}
		x.label = b.label(m.Label, lbl, lbl)
		if c != nil && c.Field != nil && c.Field.Type == spec.TypeFormula && c.Raw != "" && (m.Agg == "sum" || m.Agg == "avg" || m.Agg == "median") {
			// a formula stores what its expression yields: aggregate its numeric values
			num := *c
			num.Expr, num.Kind = "tessera_num("+c.Raw+")", filter.KindNumeric
			c = &num
		}
		numeric := c != nil && c.Kind == filter.KindNumeric
		switch m.Agg {
		case "rate":
		case "count":
			x.agg, x.kind = "count(*)", vInt
			if c != nil {
				x.agg = "count(" + c.Expr + ")"
			}
		case "count_distinct":
			if c.Kind == filter.KindArray || c.Kind == filter.KindFiles {
				b.errs.Add(path+".field", "unsupported", "count_distinct does not apply to list fields (count_distinct 不适用于列表字段)")
				continue
			}
			x.agg, x.kind = "count(DISTINCT "+c.Expr+")", vInt
		case "sum", "avg":
			if !numeric {
				b.errs.Add(path+".field", "not_numeric", "%[1]s needs a number, money or percent field (%[1]s 需要数字、金额或百分比字段)", m.Agg)
				continue
			}
			x.agg, x.cast, x.kind = m.Agg+"("+c.Expr+")", "::float8", vNum
		case "median":
			if !numeric {
				b.errs.Add(path+".field", "not_numeric", "median needs a number, money or percent field (median 需要数字、金额或百分比字段)")
				continue
			}
			x.agg, x.kind = "percentile_cont(0.5) WITHIN GROUP (ORDER BY "+c.Expr+"::float8)", vNum
		case "min", "max":
			switch c.Kind {
			case filter.KindNumeric:
				x.agg, x.cast, x.kind = m.Agg+"("+c.Expr+")", "::float8", vNum
			case filter.KindDate:
				x.agg, x.kind = m.Agg+"("+c.Expr+")", vDate
			case filter.KindTimestamp:
				x.agg, x.kind = m.Agg+"("+c.Expr+")", vTime
			case filter.KindText:
				x.agg, x.kind = m.Agg+"("+c.Expr+")", vText
			default:
				b.errs.Add(path+".field", "unsupported", "%[1]s does not apply to this field (%[1]s 不适用于此字段)", m.Agg)
				continue
			}
		}
		if m.Key != "" {
			if !keyPattern.MatchString(m.Key) {
				b.errs.Add(path+".key", "invalid", "key must be lower-case letters, digits and _ (key 只能包含小写字母、数字和 _)")
				continue
			}
			x.key = m.Key
		}
		if seen[x.key] {
			b.errs.Add(path, "duplicate", "measure %[1]q appears twice (指标 %[1]q 重复)", x.key)
			continue
		}
		seen[x.key] = true
		out = append(out, x)
	}
	return out
}

// dateColumn resolves the field the from/to range (and comparisons) apply to.
func (b *builder) dateColumn(name, path string) *filter.Column {
	if name == "" {
		name = "created_at"
	}
	c := b.resolve(name, path)
	if c == nil {
		return nil
	}
	if c.Kind != filter.KindDate && c.Kind != filter.KindTimestamp {
		b.errs.Add(path, "not_date", "field %[1]q is not a date (字段 %[1]q 不是日期)", name)
		return nil
	}
	return c
}

// timeArg renders t for comparison with column c (dates compare as local calendar dates).
func (b *builder) timeArg(c *filter.Column, t time.Time) string {
	if c.Kind == filter.KindDate {
		return b.arg(t.In(b.tz).Format("2006-01-02")) + "::date"
	}
	return b.arg(t) + "::timestamptz"
}

// where builds the row predicate: app and entity, not deleted, the caller's row scope, the
// report's filters, the runtime filter and (when withRange) the from/to range.
func (b *builder) where(withRange bool) string {
	parts := []string{"r.app_id = " + b.arg(b.app.ID), "r.entity = " + b.arg(b.ent.Slug), "r.deleted_at IS NULL"}
	if pred := b.g.RowPredicate("r", &b.args); pred != "" {
		parts = append(parts, pred)
	}
	add := func(raw []byte, prefix string) {
		s, err := filter.Compile(raw, b.ent, b.g.Hidden, "r", &b.args)
		if err != nil {
			b.filterErrors(err, prefix)
			return
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	add(b.rep.Filters, "filters")
	add(b.p.Filter, "filter")
	if withRange && (b.p.From != nil || b.p.To != nil) {
		if c := b.dateColumn(b.kp.DateField, "params.date_field"); c != nil {
			if b.p.From != nil {
				parts = append(parts, c.Expr+" >= "+b.timeArg(c, *b.p.From))
			}
			if b.p.To != nil {
				parts = append(parts, c.Expr+" < "+b.timeArg(c, *b.p.To))
			}
		}
	}
	return strings.Join(parts, "\n  AND ")
}

// filterErrors records a filter compile error under prefix (filter paths start with "filter").
func (b *builder) filterErrors(err error, prefix string) {
	var fe spec.Errors
	if errors.As(err, &fe) {
		for _, e := range fe {
			e.Field = prefix + strings.TrimPrefix(e.Field, "filter")
			b.errs = append(b.errs, e)
		}
		return
	}
	b.errs.Add(prefix, "invalid", "%v", err)
}

func (b *builder) joinSQL() string {
	joins := b.joins
	if b.lineFrom != "" {
		joins = append([]string{"CROSS JOIN LATERAL " + b.lineFrom}, joins...)
	}
	if len(joins) == 0 {
		return ""
	}
	return "\n" + strings.Join(joins, "\n")
}

func (b *builder) limit() int {
	switch {
	case b.p.Limit > 0:
		return b.p.Limit
	case b.rep.Limit > 0:
		return b.rep.Limit
	default:
		return DefaultLimit
	}
}

// dimSelect returns the select list of dims as aliases d<i> (plus d<i>_name for inline
// names), read from src (a subquery alias) or computed from r, and the output columns, which
// include a <key>_name column after every user/team dimension.
func dimSelect(dims []*dim, src string) (sel []string, cols []Column, kinds []valKind) {
	for i, d := range dims {
		e, n := d.expr, d.name
		if src != "" {
			e, n = fmt.Sprintf("%s.d%d", src, i), fmt.Sprintf("%s.d%d_name", src, i)
		}
		sel = append(sel, fmt.Sprintf("%s AS d%d", e, i))
		cols = append(cols, Column{Key: d.key, Label: d.label, Type: d.kind.colType()})
		kinds = append(kinds, d.kind)
		if d.name != "" {
			sel = append(sel, fmt.Sprintf("%s AS d%d_name", n, i))
		}
		if d.name != "" || d.nameTable != "" {
			// the id column says so, so exports never show two columns with the same header
			cols[len(cols)-1].Label = d.label + " ID"
			cols = append(cols, Column{Key: d.key + "_name", Label: d.label, Type: "text"})
			kinds = append(kinds, vText)
		}
	}
	return sel, cols, kinds
}

// wrapNames joins the user/team names onto the aggregated rows of inner, whose columns are
// d0..dn followed by rest. Without name dimensions it answers inner unchanged (unless force).
func wrapNames(inner string, dims []*dim, rest []string, force bool) string {
	var sel, joins []string
	for i, d := range dims {
		sel = append(sel, fmt.Sprintf("g.d%d", i))
		if d.nameTable != "" && d.name == "" {
			a := fmt.Sprintf("n%d", i)
			sel = append(sel, a+".name")
			joins = append(joins, fmt.Sprintf("LEFT JOIN %s %s ON %s = g.d%d", d.nameTable, a, nameKey(a, d.uuid), i))
		} else if d.name != "" {
			sel = append(sel, fmt.Sprintf("g.d%d_name", i))
		}
	}
	if len(joins) == 0 && !force {
		return inner
	}
	for _, r := range rest {
		sel = append(sel, "g."+r)
	}
	out := "SELECT " + strings.Join(sel, ", ") + "\nFROM (\n" + inner + "\n) g"
	if len(joins) > 0 {
		out += "\n" + strings.Join(joins, "\n")
	}
	return out
}

// nameKey is the users/teams id to join a dimension value on: the uuid itself, or its text
// form for user/team fields (stored as text in records.data).
func nameKey(alias string, isUUID bool) string {
	if isUUID {
		return alias + ".id"
	}
	return alias + ".id::text"
}

func aliases(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func ordinals(from, to int) string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, strconv.Itoa(i))
	}
	return strings.Join(s, ", ")
}

// orderBy maps the report's sort keys ("-count", "stage") to output ordinals; without sort
// keys it orders by the first n columns.
func (b *builder) orderBy(cols []Column, n int) string {
	var parts []string
	for i, s := range b.rep.Sort {
		desc := strings.HasPrefix(s, "-")
		key := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
		idx := -1
		for j, c := range cols {
			if c.Key == key {
				idx = j
				break
			}
		}
		if idx < 0 {
			b.errs.Add(fmt.Sprintf("sort[%d]", i), "unknown_column", "sort key %[1]q is not an output column (排序键 %[1]q 不是输出列)", key)
			continue
		}
		dir := " ASC NULLS LAST"
		if desc {
			dir = " DESC NULLS LAST"
		}
		parts = append(parts, strconv.Itoa(idx+1)+dir)
	}
	if len(parts) == 0 && n > 0 {
		return "\nORDER BY " + ordinals(1, n)
	}
	if len(parts) == 0 {
		return ""
	}
	return "\nORDER BY " + strings.Join(parts, ", ")
}

// pivot: one row per dimension tuple with the measures (kpi: no dimensions, one row).
func (b *builder) pivot() *Query {
	dims := b.dims(true)
	ms := b.measures()
	where := b.where(true)
	sel, cols, kinds := dimSelect(dims, "")
	nd, ndc := len(sel), len(cols)
	for i, m := range ms {
		sel = append(sel, fmt.Sprintf("%s AS m%d", m.sql(""), i))
		cols = append(cols, Column{Key: m.key, Label: m.label, Type: m.colType()})
		kinds = append(kinds, m.kind)
	}
	if b.kp.Subtotals || b.kp.PivotColumn != "" {
		return b.subtotals(dims, sel, cols, kinds, len(ms), where)
	}
	sql := "SELECT " + strings.Join(sel, ", ") + "\nFROM records r" + b.joinSQL() + "\nWHERE " + where
	if nd > 0 {
		sql += "\nGROUP BY " + ordinals(1, nd)
	}
	sql = wrapNames(sql, dims, aliases("m", len(ms)), false)
	sql += b.orderBy(cols, ndc)
	sql += "\nLIMIT " + b.arg(b.limit())
	return &Query{SQL: sql, Columns: cols, kinds: kinds}
}

// table: one row per record with the dimension fields as columns (or every visible field).
func (b *builder) table() *Query {
	if len(b.rep.Dimensions) == 0 {
		r := *b.rep // never modify the caller's (possibly cached) definition
		r.Dimensions = nil
		b.rep = &r
		for _, f := range b.ent.Fields {
			if !b.g.Hidden[f.Key] && f.Type != spec.TypeAttachment {
				b.rep.Dimensions = append(b.rep.Dimensions, spec.Dimension{Field: f.Key})
			}
		}
		for _, k := range []string{"owner_id", "created_at", "updated_at"} {
			b.rep.Dimensions = append(b.rep.Dimensions, spec.Dimension{Field: k})
		}
	}
	b.inlineNames = true
	dims := b.dims(false)
	where := b.where(true)
	sel, cols, kinds := dimSelect(dims, "")
	sel = append([]string{"r.id::text AS id"}, sel...)
	cols = append([]Column{{Key: "id", Label: "ID", Type: "text"}}, cols...)
	kinds = append([]valKind{vText}, kinds...)
	sql := "SELECT " + strings.Join(sel, ", ") + "\nFROM records r" + b.joinSQL() + "\nWHERE " + where
	order := b.orderBy(cols, 0)
	if order == "" {
		order = "\nORDER BY r.created_at DESC, r.id"
	}
	sql += order + "\nLIMIT " + b.arg(b.limit())
	return &Query{SQL: sql, Columns: cols, kinds: kinds}
}

// periodStart truncates t (in the app's zone) to the start of period.
func periodStart(t time.Time, period string, tz *time.Location) time.Time {
	t = t.In(tz)
	y, m, d := t.Date()
	switch period {
	case "day":
		return time.Date(y, m, d, 0, 0, 0, 0, tz)
	case "week":
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		return time.Date(y, m, d-wd, 0, 0, 0, 0, tz)
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, tz)
	case "quarter":
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, tz)
	default:
		return time.Date(y, 1, 1, 0, 0, 0, 0, tz)
	}
}

// shift moves t back by one period.
func shift(t time.Time, period string) time.Time {
	switch period {
	case "day":
		return t.AddDate(0, 0, -1)
	case "week":
		return t.AddDate(0, 0, -7)
	case "month":
		return t.AddDate(0, -1, 0)
	case "quarter":
		return t.AddDate(0, -3, 0)
	default:
		return t.AddDate(-1, 0, 0)
	}
}

// compare: every measure next to its value in the previous period, with the absolute and
// percentage change. With a bucketed dimension on the compare field each bucket is compared
// with the bucket one period earlier; otherwise the current period (from/to, or the period to
// date) is compared with the one before it.
func (b *builder) compare() *Query {
	cmp := b.rep.Compare
	iv, ok := periodInterval[cmp.Period]
	if !ok && cmp.Period != PeriodPrevious {
		b.errs.Add("compare.period", "invalid", "period must be day, week, month, quarter, year or previous (period 须为 day、week、month、quarter、year 或 previous)")
		return nil
	}
	cmpField := cmp.Field
	if cmpField == "" {
		cmpField = "created_at"
	}
	tc := b.dateColumn(cmp.Field, "compare.field")
	var spans [2][2]time.Time
	if cmp.Period == PeriodPrevious && tc != nil {
		// takes a relative period condition on the field out of the filters: both spans apply it
		if spans[0], spans[1], ok = b.previousSpans(cmpField); !ok {
			return nil
		}
	}
	dims := b.dims(true)
	ms := b.measures()
	where := b.where(false)
	if tc == nil || len(b.errs) > 0 {
		return nil
	}
	bucketIdx := -1
	for i, d := range dims {
		if d.field == cmpField && d.bucket != "" && cmp.Period != PeriodPrevious {
			bucketIdx = i
			break
		}
	}
	sel, cols, kinds := dimSelect(dims, "")
	nd, ndc := len(sel), len(cols)
	outDims, _, _ := dimSelect(dims, "c")
	var out []string
	addCols := func(m *measure) {
		cols = append(cols,
			Column{Key: m.key, Label: m.label, Type: m.colType()},
			Column{Key: m.key + "_prev", Label: m.label + b.label(nil, " (previous)", "（上期）"), Type: m.colType()},
			Column{Key: m.key + "_change", Label: m.label + b.label(nil, " change", "变化"), Type: "number"},
			Column{Key: m.key + "_change_pct", Label: m.label + b.label(nil, " change %", "变化率%"), Type: "percent"})
		kinds = append(kinds, m.kind, m.kind, vNum, vNum)
	}
	pct := func(cur, prev string) string {
		return fmt.Sprintf("round(((%s - %s)::numeric / nullif(%s, 0)::numeric) * 100, 2)::float8", cur, prev, prev)
	}
	var sql string
	if bucketIdx >= 0 {
		// Bucket against the bucket one period earlier.
		for i, m := range ms {
			sel = append(sel, fmt.Sprintf("%s AS m%d", m.sql(""), i))
			c, p := fmt.Sprintf("c.m%d", i), fmt.Sprintf("p.m%d", i)
			if m.kind == vInt {
				p = "coalesce(" + p + ", 0)" // no row a period earlier: nothing counted then
			}
			out = append(out, c+fmt.Sprintf(" AS v%d_0", i), p+fmt.Sprintf(" AS v%d_1", i), fmt.Sprintf("(%s - %s)::float8 AS v%d_2", c, p, i), pct(c, p)+fmt.Sprintf(" AS v%d_3", i))
			addCols(m)
		}
		rng := []string{where}
		if b.p.From != nil {
			rng = append(rng, tc.Expr+" >= "+b.timeArg(tc, shift(*b.p.From, cmp.Period)))
		}
		if b.p.To != nil {
			rng = append(rng, tc.Expr+" < "+b.timeArg(tc, *b.p.To))
		}
		var on []string
		for i, d := range dims {
			if i == bucketIdx {
				on = append(on, fmt.Sprintf("p.d%d = c.d%d - %s::interval", i, i, b.arg(iv)))
				continue
			}
			on = append(on, fmt.Sprintf("p.d%d IS NOT DISTINCT FROM c.d%d", i, i))
			_ = d
		}
		sql = "WITH agg AS (\nSELECT " + strings.Join(sel, ", ") + "\nFROM records r" + b.joinSQL() + "\nWHERE " + strings.Join(rng, "\n  AND ") +
			"\nGROUP BY " + ordinals(1, nd) + "\n)\nSELECT " + strings.Join(append(outDims, out...), ", ") +
			"\nFROM agg c LEFT JOIN agg p ON " + strings.Join(on, " AND ")
		if b.p.From != nil {
			d := dims[bucketIdx]
			from := b.timeArg(tc, *b.p.From)
			if tc.Kind == filter.KindTimestamp {
				from = "(" + from + " AT TIME ZONE " + b.tzArg() + ")"
			} else {
				from += "::timestamp"
			}
			sql += fmt.Sprintf("\nWHERE c.d%d >= date_trunc(%s, %s)", bucketIdx, lit(d.bucket), from)
		}
	} else {
		// Current period against the previous one.
		var curFrom, curTo time.Time
		if b.p.From != nil {
			curFrom = *b.p.From
		} else {
			curFrom = periodStart(b.now, cmp.Period, b.tz)
		}
		if b.p.To != nil {
			curTo = *b.p.To
		} else {
			curTo = b.now
		}
		prevFrom, prevTo := shift(curFrom, cmp.Period), shift(curTo, cmp.Period)
		if cmp.Period == PeriodPrevious {
			curFrom, curTo, prevFrom, prevTo = spans[0][0], spans[0][1], spans[1][0], spans[1][1]
		}
		isCur := fmt.Sprintf("(%s >= %s AND %s < %s)", tc.Expr, b.timeArg(tc, curFrom), tc.Expr, b.timeArg(tc, curTo))
		isPrev := fmt.Sprintf("(%s >= %s AND %s < %s)", tc.Expr, b.timeArg(tc, prevFrom), tc.Expr, b.timeArg(tc, prevTo))
		for i, m := range ms {
			sel = append(sel, fmt.Sprintf("%s AS c%d", m.sql(isCur), i), fmt.Sprintf("%s AS p%d", m.sql(isPrev), i))
			c, p := fmt.Sprintf("c.c%d", i), fmt.Sprintf("c.p%d", i)
			if m.kind == vInt {
				p = "coalesce(" + p + ", 0)"
			}
			out = append(out, c+fmt.Sprintf(" AS v%d_0", i), p+fmt.Sprintf(" AS v%d_1", i), fmt.Sprintf("(%s - %s)::float8 AS v%d_2", c, p, i), pct(c, p)+fmt.Sprintf(" AS v%d_3", i))
			addCols(m)
		}
		inner := "SELECT " + strings.Join(sel, ", ") + "\nFROM records r" + b.joinSQL() + "\nWHERE " + where + "\n  AND (" + isCur + " OR " + isPrev + ")"
		if nd > 0 {
			inner += "\nGROUP BY " + ordinals(1, nd)
		}
		sql = "SELECT " + strings.Join(append(outDims, out...), ", ") + "\nFROM (\n" + inner + "\n) c"
	}
	var rest []string
	for i := range ms {
		rest = append(rest, fmt.Sprintf("v%d_0", i), fmt.Sprintf("v%d_1", i), fmt.Sprintf("v%d_2", i), fmt.Sprintf("v%d_3", i))
	}
	sql = wrapNames(sql, dims, rest, false)
	sql += b.orderBy(cols, ndc)
	sql += "\nLIMIT " + b.arg(b.limit())
	return &Query{SQL: sql, Columns: cols, kinds: kinds}
}
