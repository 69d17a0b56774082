package report

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/filter"
)

// PeriodPrevious compares the report's date range with the span of the same length just
// before it (compare.period "previous"; KPI cards).
const PeriodPrevious = "previous"

// DefaultPreviousPeriod is the current span of a "previous" comparison without a date range
// or a relative period filter on the compare field.
const DefaultPreviousPeriod = "last_30_days"

// ThresholdColors are the colours a threshold may flag a row with.
var ThresholdColors = []string{"red", "orange", "yellow", "green", "blue", "gray"}

// MaxThresholds bounds params.thresholds.
const MaxThresholds = 10

// GroupingColumn is the output column of pivots with subtotals: a bit mask of the rolled-up
// dimensions (the last dimension is bit 0), 0 for detail rows.
const GroupingColumn = "_grouping"

// FlagColumn is the output column of reports with thresholds: the colour of the highest
// threshold the row's value is over, or null.
const FlagColumn = "_flag"

// subtotals answers a pivot with a subtotal row after every group of the row dimensions and a
// grand total, through GROUPING SETS: for every prefix of the row dimensions (all of them down
// to none), grouped with and without the pivot column. sel, cols and kinds are the compiled
// dimensions followed by nm measures m0..m<nm-1>.
func (b *builder) subtotals(dims []*dim, sel []string, cols []Column, kinds []valKind, nm int, where string) *Query {
	if len(dims) == 0 {
		b.errs.Add("params.subtotals", "needs_dimension", "subtotals need at least one dimension (小计至少需要一个维度)")
		return nil
	}
	if len(b.rep.Sort) > 0 {
		b.errs.Add("sort", "unsupported", "a pivot with subtotals is ordered by its dimensions; remove sort (带小计的透视表按维度排序，请去掉排序)")
	}
	col := -1
	if b.kp.PivotColumn != "" {
		for i, d := range dims {
			if d.field == b.kp.PivotColumn {
				col = i
			}
		}
		if col < 0 {
			b.errs.Add("params.pivot_column", "unknown_field", "the pivot column %[1]q must be one of the report's dimensions (透视列 %[1]q 须为报表的维度之一)", b.kp.PivotColumn)
		}
	}
	if len(b.errs) > 0 {
		return nil
	}
	var rows []int
	for i := range dims {
		if i != col {
			rows = append(rows, i)
		}
	}
	var sets []string
	seen := map[string]bool{}
	addSet := func(idx []int) {
		var s []string
		for _, i := range idx {
			s = append(s, fmt.Sprint(i+1))
		}
		k := "(" + strings.Join(s, ", ") + ")"
		if !seen[k] {
			seen[k] = true
			sets = append(sets, k)
		}
	}
	for k := len(rows); k >= 0; k-- {
		prefix := append([]int{}, rows[:k]...)
		if col >= 0 {
			addSet(append(prefix, col))
		}
		addSet(prefix)
	}
	var exprs []string
	for _, d := range dims {
		exprs = append(exprs, d.expr)
	}
	inner := "SELECT " + strings.Join(sel, ", ") + ", GROUPING(" + strings.Join(exprs, ", ") + ") AS gm" +
		"\nFROM records r" + b.joinSQL() + "\nWHERE " + where + "\nGROUP BY GROUPING SETS (" + strings.Join(sets, ", ") + ")"
	sql := wrapNames(inner, dims, append(aliases("m", nm), "gm"), true)
	// Row dimensions in order, each group's detail rows before its subtotal; the pivot column last.
	var order []string
	for _, i := range append(rows, col) {
		if i < 0 {
			continue
		}
		order = append(order, fmt.Sprintf("(g.gm >> %d) & 1", len(dims)-1-i), fmt.Sprintf("g.d%d ASC NULLS LAST", i))
	}
	sql += "\nORDER BY " + strings.Join(order, ", ") + "\nLIMIT " + b.arg(b.limit())
	cols = append(cols, Column{Key: GroupingColumn, Label: b.label(nil, "Subtotal", "小计"), Type: "grouping"})
	kinds = append(kinds, vInt)
	return &Query{SQL: sql, Columns: cols, kinds: kinds}
}

// thresholds adds the _flag column to q when the report sets params.thresholds: the colour of
// the highest threshold the row's threshold column (params.threshold_column; by default the
// average hours of a dwell report, else the first number column) is over.
func (b *builder) thresholds(q *Query) {
	ts := b.kp.Thresholds
	if len(ts) == 0 {
		return
	}
	if len(ts) > MaxThresholds {
		b.errs.Add("params.thresholds", "too_many", "at most %[1]d thresholds (最多 %[1]d 个阈值)", MaxThresholds)
		return
	}
	for i, t := range ts {
		if !slices.Contains(ThresholdColors, t.Color) {
			b.errs.Add(fmt.Sprintf("params.thresholds[%d].color", i), "invalid", "color must be one of %[1]s (颜色须为 %[1]s 之一)", strings.Join(ThresholdColors, ", "))
		}
		if math.IsNaN(t.Over) || math.IsInf(t.Over, 0) {
			b.errs.Add(fmt.Sprintf("params.thresholds[%d].over", i), "invalid", "over must be a number (over 须为数字)")
		}
	}
	dimKeys := map[string]bool{}
	for _, d := range b.rep.Dimensions {
		dimKeys[d.Field] = true
	}
	key := b.kp.ThresholdColumn
	if key == "" {
		for _, c := range q.Columns {
			if c.Key == "avg_hours" {
				key = c.Key
			}
		}
	}
	if key == "" {
		for _, c := range q.Columns {
			if (c.Type == "number" || c.Type == "percent") && !dimKeys[c.Key] && c.Key != "stage_index" {
				key = c.Key
				break
			}
		}
	}
	idx := slices.IndexFunc(q.Columns, func(c Column) bool { return c.Key == key })
	if idx < 0 || (q.Columns[idx].Type != "number" && q.Columns[idx].Type != "percent") {
		b.errs.Add("params.threshold_column", "invalid", "thresholds need a number column of the report (阈值须作用于报表的数字列)")
		return
	}
	if len(b.errs) > 0 {
		return
	}
	sorted := append([]Threshold{}, ts...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Over > sorted[j].Over })
	base := append([]Column{}, q.Columns...)
	flag := Column{Key: FlagColumn, Label: b.label(nil, "Flag", "标记"), Type: "flag"}
	q.Columns = append(q.Columns, flag)
	prev := q.post
	q.post = func(res *Result) *Result {
		if prev != nil {
			res = prev(res)
		}
		res.Columns = append(base, flag)
		for i, row := range res.Rows {
			res.Rows[i] = append(row, FlagOf(row[idx], sorted))
		}
		return res
	}
}

// FlagOf answers the colour of the highest threshold (sorted by Over, descending) that v is
// over, or nil.
func FlagOf(v any, sorted []Threshold) any {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int64:
		f = float64(x)
	default:
		return nil
	}
	for _, t := range sorted {
		if f > t.Over {
			return t.Color
		}
	}
	return nil
}

// previousSpans answers the current span of a "previous" comparison and the span of the same
// length just before it. The current span is the from/to parameters, or else a relative
// period condition on the compare field in the report's filters ({"created_at":
// {"period": "this_month"}}), which is then taken out of the filters: the comparison applies
// it to both spans (this month and last month). Without either it is the last 30 days.
func (b *builder) previousSpans(field string) (cur, prev [2]time.Time, ok bool) {
	switch {
	case b.p.From != nil:
		cur[0], cur[1] = *b.p.From, b.now
		if b.p.To != nil {
			cur[1] = *b.p.To
		}
	default:
		name, rest, found := takePeriod(b.rep.Filters, field)
		if !found {
			name, rest = DefaultPreviousPeriod, b.rep.Filters
		}
		from, to, valid := filter.PeriodRange(name, b.now.In(b.tz))
		if !valid {
			b.errs.Add("filters."+field+".period", "invalid_value", "unknown period %[1]q (未知时间段 %[1]q)", name)
			return cur, prev, false
		}
		r := *b.rep // never modify the caller's (possibly cached) definition
		r.Filters = rest
		b.rep = &r
		cur = [2]time.Time{from, to}
	}
	return cur, shiftBack(cur, b.tz), true
}

// shiftBack answers the span of the same length just before span: whole calendar months
// (this month, this quarter, this year) move by months, whole days by days, anything else by
// its duration.
func shiftBack(span [2]time.Time, tz *time.Location) [2]time.Time {
	from, to := span[0].In(tz), span[1].In(tz)
	midnight := func(t time.Time) bool {
		return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	}
	if midnight(from) && midnight(to) {
		if from.Day() == 1 && to.Day() == 1 {
			m := (to.Year()-from.Year())*12 + int(to.Month()) - int(from.Month())
			if m > 0 && from.AddDate(0, m, 0).Equal(to) {
				return [2]time.Time{from.AddDate(0, -m, 0), from}
			}
		}
		days := int(math.Round(to.Sub(from).Hours() / 24))
		return [2]time.Time{from.AddDate(0, 0, -days), from}
	}
	d := to.Sub(from)
	return [2]time.Time{from.Add(-d), from}
}

// takePeriod finds a relative period condition on field at the top level of a filter (or as
// one part of its top-level "and") and answers the period's name and the filter without it.
func takePeriod(raw json.RawMessage, field string) (name string, rest json.RawMessage, ok bool) {
	var top map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &top) != nil || top == nil {
		return "", raw, false
	}
	periodOf := func(v json.RawMessage) (string, bool) {
		var ops map[string]json.RawMessage
		if json.Unmarshal(v, &ops) != nil || len(ops) != 1 {
			return "", false
		}
		var s string
		if p, has := ops["period"]; has && json.Unmarshal(p, &s) == nil && s != "" {
			return s, true
		}
		return "", false
	}
	if v, has := top[field]; has {
		if name, ok = periodOf(v); ok {
			delete(top, field)
		}
	} else if and, has := top["and"]; has {
		var parts []json.RawMessage
		if json.Unmarshal(and, &parts) == nil {
			for i, part := range parts {
				var one map[string]json.RawMessage
				if json.Unmarshal(part, &one) == nil && len(one) == 1 && one[field] != nil {
					if name, ok = periodOf(one[field]); ok {
						parts = append(parts[:i], parts[i+1:]...)
						top["and"], _ = json.Marshal(parts)
						break
					}
				}
			}
		}
	}
	if !ok {
		return "", raw, false
	}
	if len(top) == 0 {
		return name, nil, true
	}
	rest, _ = json.Marshal(top)
	return name, rest, true
}

// systemFilterFields are the record columns every entity has (filterable everywhere).
var systemFilterFields = map[string]bool{"id": true, "created_at": true, "updated_at": true, "owner_id": true, "team_id": true}

// NarrowFilter narrows a dashboard's global filter to one widget's entity: top-level
// conditions on fields the entity does not have are left out (a dashboard may mix entities;
// an "office" filter applies to the widgets over deals, not to those over leads) and named in
// ignored. Conditions on the entity's fields stay, even when hidden from the caller (they
// answer 422 like everywhere else), as do or/not groups; and-groups are narrowed part by part.
// A filter that is not an object stays as is.
func NarrowFilter(raw json.RawMessage, ent *spec.Entity) (json.RawMessage, []string) {
	var conds map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &conds) != nil || conds == nil {
		return raw, nil
	}
	var ignored []string
	for k, v := range conds {
		switch {
		case k == "and" || k == "or" || k == "not" || systemFilterFields[k] || ent.Field(k) != nil:
			if k == "and" {
				var parts []json.RawMessage
				if json.Unmarshal(v, &parts) == nil {
					kept := make([]json.RawMessage, 0, len(parts))
					for _, part := range parts {
						f, ign := NarrowFilter(part, ent)
						ignored = append(ignored, ign...)
						kept = append(kept, f)
					}
					conds[k], _ = json.Marshal(kept)
				}
			}
		default:
			delete(conds, k)
			ignored = append(ignored, k)
		}
	}
	if len(ignored) == 0 {
		return raw, nil
	}
	sort.Strings(ignored)
	out, _ := json.Marshal(conds)
	return out, ignored
}

// AndFilters combines two filter objects with AND (either may be empty).
func AndFilters(a, b json.RawMessage) json.RawMessage {
	empty := func(r json.RawMessage) bool {
		s := strings.TrimSpace(string(r))
		return s == "" || s == "null" || s == "{}"
	}
	switch {
	case empty(a):
		return b
	case empty(b):
		return a
	}
	out, _ := json.Marshal(map[string]any{"and": []json.RawMessage{a, b}})
	return out
}
