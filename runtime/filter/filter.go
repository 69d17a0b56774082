// Package filter compiles the record-list filter and sort languages into parameterised SQL over
// records.data. Identifiers only ever come from the validated entity definition; every value
// travels as a $n argument.
//
// Filter language (JSON):
//
//	{"stage":{"eq":"new"},"amount":{"gte":1000}}      all conditions (AND)
//	{"or":[{...},{...}]}, {"and":[...]}, {"not":{...}} combinators
//	{"stage":"new"}                                    shorthand for eq
//
// Operators: eq, ne, lt, lte, gt, gte, in, contains, is_empty (true/false), between ([a,b]),
// period (a relative period of a date or date-time column, see PeriodRange).
// Besides entity fields, the system columns id, created_at, updated_at, owner_id and team_id
// can be filtered and sorted.
package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/nyaruka/phonenumbers"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/dynjson"
)

// Limits that keep a hostile filter cheap.
const (
	MaxDepth      = 8
	MaxConditions = 64
	MaxInValues   = 500
	MaxSortKeys   = 3
	MaxFilterSize = 32 << 10
)

// Kind is how a column compares in SQL.
type Kind string

// Column kinds.
const (
	KindText      Kind = "text"
	KindNumeric   Kind = "numeric"
	KindDate      Kind = "date"
	KindTimestamp Kind = "timestamptz"
	KindBool      Kind = "boolean"
	KindUUID      Kind = "uuid"
	KindArray     Kind = "array"      // multiselect and multiple user/team/relation: jsonb array of strings
	KindFiles     Kind = "attachment" // jsonb array of file objects
)

// Column is a filterable/sortable expression.
type Column struct {
	Name string // field key or system column name
	Expr string // SQL expression (typed, see Kind)
	Raw  string // the jsonb value expression (fields only), for is_empty
	// Doc and Path, for a field of the record's data, are the jsonb document and the field's
	// jsonpath in it ($."key"): numeric comparisons are first tested there (see prefilter).
	Doc, Path string
	Kind      Kind
	// Field is the entity field (nil for system columns); comparison values are normalised
	// like stored values (phone to E.164, email lowercased).
	Field *spec.Field
}

// systemColumns are the records table columns that can be filtered and sorted.
var systemColumns = map[string]Kind{
	"id":         KindUUID,
	"created_at": KindTimestamp,
	"updated_at": KindTimestamp,
	"owner_id":   KindUUID,
	"team_id":    KindUUID,
}

// FieldKind returns the comparison kind of a field type.
func FieldKind(f *spec.Field) Kind {
	switch f.Type {
	case spec.TypeNumber, spec.TypeMoney, spec.TypePercent:
		return KindNumeric
	case spec.TypeDate:
		return KindDate
	case spec.TypeDatetime:
		return KindTimestamp
	case spec.TypeBoolean:
		return KindBool
	case spec.TypeMultiselect:
		return KindArray
	case spec.TypeAttachment:
		return KindFiles
	case spec.TypeUser, spec.TypeTeam, spec.TypeRelation:
		if f.Multiple {
			return KindArray
		}
		return KindText
	case spec.TypeFormula:
		// Formulas store whatever their expression yields; numbers compare numerically when the
		// value is a JSON number, everything else as text.
		return KindText
	default:
		return KindText
	}
}

// FieldExpr returns the typed SQL expression for field f of the records row aliased alias
// ("" for none). The same expressions are used by the expression indexes created at publish.
func FieldExpr(alias string, f *spec.Field) (expr string, kind Kind) {
	raw := col(alias, "data") + "->" + quoteLit(f.Key)
	kind = FieldKind(f)
	switch kind {
	case KindNumeric:
		return "tessera_num(" + raw + ")", kind
	case KindDate:
		return "tessera_date(" + raw + ")", kind
	case KindTimestamp:
		return "tessera_ts(" + raw + ")", kind
	case KindBool:
		return "(" + raw + ")", kind
	case KindArray, KindFiles:
		return "(" + raw + ")", kind
	default:
		return "(" + col(alias, "data") + "->>" + quoteLit(f.Key) + ")", kind
	}
}

// Resolve finds a filterable column by name. Hidden fields resolve exactly like unknown ones.
func Resolve(name string, ent *spec.Entity, hidden map[string]bool, alias string) (*Column, bool) {
	if k, ok := systemColumns[name]; ok {
		return &Column{Name: name, Expr: col(alias, name), Kind: k}, true
	}
	if ent == nil || hidden[name] {
		return nil, false
	}
	f := ent.Field(name)
	if f == nil || !validKey(f.Key) {
		return nil, false
	}
	expr, kind := FieldExpr(alias, f)
	return &Column{Name: name, Expr: expr, Raw: col(alias, "data") + "->" + quoteLit(f.Key), Kind: kind, Field: f,
		Doc: col(alias, "data"), Path: `$."` + f.Key + `"`}, true
}

// prefilter puts a numeric comparison cond (of the column against the jsonpath filter test,
// "@ > 900" say) behind the same test as a jsonpath on the record's data: data @? 'strict
// $."amount" ? (@ > 900)'. A row that passes cond passes the test (a JSON number compared
// exactly, a non-number never), so the result is the same; an unindexed filter reads each row
// about twice as fast, since jsonb_typeof, the extraction and the numeric cast of
// tessera_num run only for the rows the test lets through. cond keeps its expression, so an
// expression index on it is used as before. vals are the comparison values; one that is not
// a plain JSON number leaves cond alone.
//
// The test is false where cond is NULL (a value that is not a number): the same in a WHERE,
// not under a NOT, where NOT false would let the row in. Under "not" cond is left alone.
func (c *compiler) prefilter(colm *Column, cond, test string, vals ...string) string {
	if colm.Kind != KindNumeric || colm.Doc == "" || c.negated > 0 {
		return cond
	}
	for _, v := range vals {
		if !dynjson.ValidNumber(v) { // then also a jsonpath numeric literal of the same exact value
			return cond
		}
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	path := "strict " + colm.Path + " ? (" + fmt.Sprintf(test, args...) + ")"
	return fmt.Sprintf("(%s @? %s::jsonpath AND %s)", colm.Doc, c.arg(path), cond)
}

// LineColumn resolves "<lines field>.<sub-field>" to the sub-field's column over the rows of
// the lines field, read from the row alias elem, and the FROM item that yields those rows
// (a set-returning jsonb_array_elements over the record aliased alias; records whose value is
// not a list yield none). Hidden lines fields resolve like unknown ones.
func LineColumn(name string, ent *spec.Entity, hidden map[string]bool, alias, elem string) (*Column, string, bool) {
	parent, key, ok := strings.Cut(name, ".")
	if !ok || ent == nil || hidden[parent] {
		return nil, "", false
	}
	f := ent.Field(parent)
	if f == nil || f.Type != spec.TypeLines || !validKey(f.Key) {
		return nil, "", false
	}
	sf := f.SubField(key)
	if sf == nil || !validKey(sf.Key) || !validKey(elem) {
		return nil, "", false
	}
	raw := col(alias, "data") + "->" + quoteLit(f.Key)
	from := "jsonb_array_elements(CASE WHEN jsonb_typeof(" + raw + ") = 'array' THEN " + raw + " ELSE '[]'::jsonb END) AS " + elem + "(data)"
	expr, kind := FieldExpr(elem, sf)
	return &Column{Name: name, Expr: expr, Raw: elem + ".data->" + quoteLit(sf.Key), Kind: kind, Field: sf}, from, true
}

func col(alias, c string) string {
	if alias == "" {
		return c
	}
	return alias + "." + c
}

// validKey reports whether a field key is a safe identifier (letters, digits, underscore).
// Keys are quoted as SQL literals anyway; this is defence in depth.
func validKey(k string) bool {
	if k == "" || len(k) > 63 {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// quoteLit quotes s as an SQL string literal (only used for validated field keys).
func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// compiler holds the state of one Compile call.
type compiler struct {
	ent    *spec.Entity
	hidden map[string]bool
	alias  string
	args   *[]any
	errs   spec.Errors
	conds  int
	// negated counts the "not" nodes around the node being compiled (see prefilter)
	negated int
}

// Compile compiles the filter JSON raw into an SQL predicate over the records row aliased alias,
// appending arguments to args ($n numbering continues after the existing args). It returns ""
// for an empty filter. Errors are spec.Errors (unknown or hidden field, bad operator or value).
func Compile(raw json.RawMessage, ent *spec.Entity, hidden map[string]bool, alias string, args *[]any) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return "", nil
	}
	if len(raw) > MaxFilterSize {
		return "", spec.Errors{{Field: "filter", Code: "too_large", Message: fmt.Sprintf("the filter is larger than %d bytes (筛选条件过大)", MaxFilterSize)}}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", spec.Errors{{Field: "filter", Code: "invalid_json", Message: "the filter is not valid JSON (筛选条件不是有效的 JSON): " + err.Error()}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", spec.Errors{{Field: "filter", Code: "invalid_json", Message: "unexpected data after the filter JSON (筛选条件后有多余内容)"}}
	}
	if ent == nil {
		return "", spec.Errors{{Field: "filter", Code: "invalid", Message: "no entity to filter"}}
	}
	start := len(*args)
	c := &compiler{ent: ent, hidden: hidden, alias: alias, args: args}
	sql := c.node("filter", v, 0)
	if len(c.errs) > 0 {
		*args = (*args)[:start]
		return "", c.errs
	}
	return sql, nil
}

// node compiles an object of conditions (AND of its keys).
func (c *compiler) node(path string, v any, depth int) string {
	if depth > MaxDepth {
		c.errs.Add(path, "too_deep", "the filter is nested deeper than %d levels (筛选条件嵌套过深)", MaxDepth)
		return "false"
	}
	obj, ok := v.(map[string]any)
	if !ok {
		c.errs.Add(path, "invalid_type", "expected an object of field conditions (应为字段条件对象)")
		return "false"
	}
	keys := sortedKeys(obj)
	var parts []string
	for _, k := range keys {
		p := path + "." + k
		switch k {
		case "and", "or":
			list, ok := obj[k].([]any)
			if !ok {
				c.errs.Add(p, "invalid_type", "%q takes an array of conditions (应为条件数组)", k)
				continue
			}
			var sub []string
			for i, item := range list {
				if s := c.node(fmt.Sprintf("%s[%d]", p, i), item, depth+1); s != "" {
					sub = append(sub, s)
				}
			}
			switch {
			case len(sub) == 0 && k == "or":
				parts = append(parts, "false")
			case len(sub) == 0:
			default:
				parts = append(parts, "("+strings.Join(sub, " "+strings.ToUpper(k)+" ")+")")
			}
		case "not":
			c.negated++
			s := c.node(p, obj[k], depth+1)
			c.negated--
			if s != "" {
				parts = append(parts, "NOT ("+s+")")
			}
		default:
			if sub, from, ok := LineColumn(k, c.ent, c.hidden, c.alias, "li"); ok {
				// a condition on a sub-field of a lines field holds when some row matches
				if conds := c.field(p, sub, obj[k]); len(conds) > 0 {
					parts = append(parts, "EXISTS (SELECT 1 FROM "+from+" WHERE "+strings.Join(conds, " AND ")+")")
				}
				continue
			}
			colm, ok := Resolve(k, c.ent, c.hidden, c.alias)
			if !ok {
				c.errs.Add(p, "unknown_field", "unknown field %q (未知字段)", k)
				continue
			}
			parts = append(parts, c.field(p, colm, obj[k])...)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

// field compiles the operator object (or shorthand value) of one column.
func (c *compiler) field(path string, colm *Column, v any) []string {
	ops, ok := v.(map[string]any)
	if !ok {
		ops = map[string]any{"eq": v}
	}
	if len(ops) == 0 {
		c.errs.Add(path, "invalid", "no operator given (缺少运算符)")
		return nil
	}
	var out []string
	for _, op := range sortedKeys(ops) {
		c.conds++
		if c.conds > MaxConditions {
			c.errs.Add(path, "too_many", "the filter has more than %d conditions (条件过多)", MaxConditions)
			return nil
		}
		if s := c.op(path+"."+op, colm, op, ops[op]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (c *compiler) arg(v any) string {
	*c.args = append(*c.args, v)
	return fmt.Sprintf("$%d", len(*c.args))
}

// emptyExpr is the SQL that is true when the column has no value.
func emptyExpr(colm *Column) string {
	if colm.Raw == "" {
		return colm.Expr + " IS NULL"
	}
	return "COALESCE(" + colm.Raw + `, 'null'::jsonb) IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb)`
}

func (c *compiler) op(path string, colm *Column, op string, v any) string {
	if colm.Field != nil && colm.Field.Type == spec.TypeLines && op != "is_empty" {
		c.errs.Add(path, "unsupported_operator", "a lines field takes is_empty; filter on its columns as \"%[1]s.<column>\" (明细字段仅支持 is_empty，请按 \"%[1]s.<列>\" 筛选)", colm.Name)
		return ""
	}
	switch op {
	case "is_empty":
		b, ok := v.(bool)
		if !ok {
			c.errs.Add(path, "invalid_value", "is_empty takes true or false (is_empty 应为 true 或 false)")
			return ""
		}
		if b {
			return emptyExpr(colm)
		}
		return "NOT (" + emptyExpr(colm) + ")"
	case "eq", "ne":
		if v == nil {
			if op == "eq" {
				return emptyExpr(colm)
			}
			return "NOT (" + emptyExpr(colm) + ")"
		}
		if colm.Kind == KindArray || colm.Kind == KindFiles {
			// equality with a list: same members (order-insensitive).
			list, ok := c.stringList(path, v)
			if !ok {
				return ""
			}
			b, _ := json.Marshal(list)
			p := c.arg(string(b))
			s := fmt.Sprintf("(%s @> %s::jsonb AND %s <@ %s::jsonb)", colm.Expr, p, colm.Expr, p)
			if op == "ne" {
				return "NOT COALESCE(" + s + ", false)"
			}
			return s
		}
		val, ok := c.value(path, colm, v)
		if !ok {
			return ""
		}
		if op == "eq" {
			return c.prefilter(colm, fmt.Sprintf("%s = %s", colm.Expr, c.typed(colm, val)), "@ == %s", val)
		}
		return fmt.Sprintf("%s IS DISTINCT FROM %s", colm.Expr, c.typed(colm, val))
	case "lt", "lte", "gt", "gte":
		if colm.Kind == KindBool || colm.Kind == KindArray || colm.Kind == KindFiles || colm.Kind == KindUUID {
			c.errs.Add(path, "invalid_operator", "operator %q does not apply to this field (该运算符不适用于此字段)", op)
			return ""
		}
		val, ok := c.value(path, colm, v)
		if !ok {
			return ""
		}
		sym := map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
		return c.prefilter(colm, fmt.Sprintf("%s %s %s", colm.Expr, sym, c.typed(colm, val)), "@ "+sym+" %s", val)
	case "between":
		if colm.Kind == KindBool || colm.Kind == KindArray || colm.Kind == KindFiles || colm.Kind == KindUUID {
			c.errs.Add(path, "invalid_operator", "operator %q does not apply to this field (该运算符不适用于此字段)", op)
			return ""
		}
		list, ok := v.([]any)
		if !ok || len(list) != 2 {
			c.errs.Add(path, "invalid_value", "between takes an array of two values [from, to] (between 需要两个值)")
			return ""
		}
		lo, ok1 := c.value(path+"[0]", colm, list[0])
		hi, ok2 := c.value(path+"[1]", colm, list[1])
		if !ok1 || !ok2 {
			return ""
		}
		if colm.Kind == KindTimestamp {
			// a date-only upper bound means the whole day: [from, to + 1 day)
			if s, _ := list[1].(string); len(strings.TrimSpace(s)) == len("2006-01-02") {
				if t, err := time.Parse("2006-01-02", strings.TrimSpace(s)); err == nil {
					next := t.AddDate(0, 0, 1).UTC().Format(time.RFC3339Nano)
					return fmt.Sprintf("(%s >= %s AND %s < %s)", colm.Expr, c.typed(colm, lo), colm.Expr, c.typed(colm, next))
				}
			}
		}
		return c.prefilter(colm, fmt.Sprintf("%s BETWEEN %s AND %s", colm.Expr, c.typed(colm, lo), c.typed(colm, hi)), "@ >= %s && @ <= %s", lo, hi)
	case "in":
		list, ok := v.([]any)
		if !ok {
			c.errs.Add(path, "invalid_value", "in takes an array of values (in 需要数组)")
			return ""
		}
		if len(list) > MaxInValues {
			c.errs.Add(path, "too_many", "in takes at most %d values (值过多)", MaxInValues)
			return ""
		}
		if len(list) == 0 {
			return "false"
		}
		if colm.Kind == KindArray {
			// any member in the list
			strs, ok := c.stringList(path, v)
			if !ok {
				return ""
			}
			return fmt.Sprintf("(jsonb_typeof(%s) = 'array' AND %s ?| %s::text[])", colm.Expr, colm.Expr, c.arg(strs))
		}
		if colm.Kind == KindFiles || colm.Kind == KindBool {
			c.errs.Add(path, "invalid_operator", "operator %q does not apply to this field (该运算符不适用于此字段)", op)
			return ""
		}
		vals := make([]string, 0, len(list))
		for i, item := range list {
			val, ok := c.value(fmt.Sprintf("%s[%d]", path, i), colm, item)
			if !ok {
				return ""
			}
			vals = append(vals, val)
		}
		return fmt.Sprintf("%s = ANY(%s::%s[])", colm.Expr, c.arg(vals), sqlType(colm.Kind))
	case "period":
		if colm.Kind != KindDate && colm.Kind != KindTimestamp {
			c.errs.Add(path, "invalid_operator", "operator %q does not apply to this field (该运算符不适用于此字段)", op)
			return ""
		}
		name, _ := v.(string)
		from, to, ok := PeriodRange(name, Now().In(Location))
		if !ok {
			c.errs.Add(path, "invalid_value", "unknown period %q (use today, yesterday, this_week, last_week, this_month, last_month, this_quarter, last_quarter, this_year, last_year, last_N_days, next_N_days, last_N_hours) (未知时间段)", name)
			return ""
		}
		if colm.Kind == KindDate {
			return fmt.Sprintf("(%s >= %s::date AND %s < %s::date)", colm.Expr, c.arg(from.Format("2006-01-02")), colm.Expr, c.arg(to.Format("2006-01-02")))
		}
		return fmt.Sprintf("(%s >= %s::timestamptz AND %s < %s::timestamptz)", colm.Expr, c.arg(from.UTC().Format(time.RFC3339Nano)), colm.Expr, c.arg(to.UTC().Format(time.RFC3339Nano)))
	case "contains":
		switch colm.Kind {
		case KindArray:
			strs, ok := c.stringList(path, v)
			if !ok {
				return ""
			}
			b, _ := json.Marshal(strs)
			return fmt.Sprintf("%s @> %s::jsonb", colm.Expr, c.arg(string(b)))
		case KindFiles:
			s, ok := v.(string)
			if !ok {
				c.errs.Add(path, "invalid_value", "contains on an attachment field takes a text to find in file names (应为要查找的文件名文本)")
				return ""
			}
			return fmt.Sprintf("EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(%s) = 'array' THEN %s ELSE '[]'::jsonb END) f WHERE f->>'name' ILIKE %s)",
				colm.Expr, colm.Expr, c.arg(LikePattern(s)))
		case KindText:
			s, ok := scalarText(v)
			if !ok {
				c.errs.Add(path, "invalid_value", "contains takes a text (contains 需要文本)")
				return ""
			}
			return fmt.Sprintf("%s ILIKE %s", colm.Expr, c.arg(LikePattern(s)))
		default:
			c.errs.Add(path, "invalid_operator", "operator %q does not apply to this field (该运算符不适用于此字段)", op)
			return ""
		}
	default:
		c.errs.Add(path, "invalid_operator", "unknown operator %q (use eq, ne, lt, lte, gt, gte, in, contains, is_empty, between, period) (未知运算符)", op)
		return ""
	}
}

// typed places a validated value as an argument cast to the column's type.
func (c *compiler) typed(colm *Column, val string) string {
	if colm.Kind == KindBool {
		return c.arg(val) + "::jsonb"
	}
	return c.arg(val) + "::" + sqlType(colm.Kind)
}

func sqlType(k Kind) string {
	switch k {
	case KindNumeric, KindDate, KindTimestamp, KindUUID:
		return string(k)
	case KindBool:
		return "jsonb"
	default:
		return "text"
	}
}

// value validates one comparison value for the column and returns its text form.
func (c *compiler) value(path string, colm *Column, v any) (string, bool) {
	switch colm.Kind {
	case KindNumeric:
		var s string
		switch x := v.(type) {
		case json.Number:
			s = x.String()
		case string:
			s = strings.TrimSpace(x)
		default:
			c.errs.Add(path, "invalid_value", "expected a number (应为数字)")
			return "", false
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || len(s) > 64 {
			c.errs.Add(path, "invalid_value", "expected a number (应为数字)")
			return "", false
		}
		return s, true
	case KindDate:
		s, ok := v.(string)
		if t, err := ParseTime(s); ok && err == nil {
			return t.Format("2006-01-02"), true
		}
		c.errs.Add(path, "invalid_value", "expected a date (YYYY-MM-DD) (应为日期)")
		return "", false
	case KindTimestamp:
		s, ok := v.(string)
		if t, err := ParseTime(s); ok && err == nil {
			return t.UTC().Format(time.RFC3339Nano), true
		}
		c.errs.Add(path, "invalid_value", "expected a date or date-time (ISO 8601) (应为日期或时间)")
		return "", false
	case KindBool:
		if b, ok := boolOf(v); ok {
			if b {
				return "true", true
			}
			return "false", true
		}
		c.errs.Add(path, "invalid_value", "expected true or false (应为是或否)")
		return "", false
	case KindUUID:
		s, ok := v.(string)
		if id, err := uuid.Parse(s); ok && err == nil {
			return id.String(), true
		}
		c.errs.Add(path, "invalid_value", "expected an id (UUID) (应为 ID)")
		return "", false
	default:
		s, ok := scalarText(v)
		if !ok {
			c.errs.Add(path, "invalid_value", "expected a text (应为文本)")
			return "", false
		}
		return normalText(colm.Field, s), true
	}
}

// normalText brings a comparison value into the stored form of field f, so a filter matches
// what was written: phone numbers as E.164 (region of the field, CN by default), emails
// lowercased. A value that does not parse is compared as written (and matches nothing).
func normalText(f *spec.Field, s string) string {
	if f == nil {
		return s
	}
	switch f.Type {
	case spec.TypePhone:
		region := strings.ToUpper(f.Region)
		if region == "" {
			region = "CN"
		}
		if n, err := phonenumbers.Parse(strings.TrimSpace(s), region); err == nil && phonenumbers.IsValidNumber(n) {
			return phonenumbers.Format(n, phonenumbers.E164)
		}
	case spec.TypeEmail:
		return strings.ToLower(strings.TrimSpace(s))
	}
	return s
}

// boolOf reads a boolean comparison value written the ways a boolean field accepts.
func boolOf(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case json.Number:
		switch x.String() {
		case "1":
			return true, true
		case "0":
			return false, true
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "1", "on", "是":
			return true, true
		case "false", "no", "0", "off", "否":
			return false, true
		}
	}
	return false, false
}

func (c *compiler) stringList(path string, v any) ([]string, bool) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	default:
		items = []any{x}
	}
	if len(items) > MaxInValues {
		c.errs.Add(path, "too_many", "at most %d values (值过多)", MaxInValues)
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := scalarText(it)
		if !ok {
			c.errs.Add(path, "invalid_value", "expected a text or a list of texts (应为文本或文本列表)")
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		if strings.ContainsRune(x, 0) || !utf8.ValidString(x) {
			return "", false // PostgreSQL text cannot hold NUL
		}
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	default:
		return "", false
	}
}

// LikePattern returns a case-insensitive substring pattern for ILIKE with the LIKE
// metacharacters of s escaped (the default escape character, backslash).
func LikePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// ParseTime parses the date and date-time forms the platform accepts: RFC 3339 (with or
// without fractional seconds), "2006-01-02T15:04:05" / "2006-01-02 15:04[:05]" (UTC) and
// "2006-01-02".
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1 || t.Year() > 9999 {
				break
			}
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an ISO 8601 date or date-time")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SortKey is one key of a sort specification.
type SortKey struct {
	Column
	Desc bool
}

// SortKeys parses a sort specification such as "-created_at,amount" ("-" = descending) into
// columns of the row aliased alias. Unknown and hidden fields are errors (field "sort").
func SortKeys(sortSpec string, ent *spec.Entity, hidden map[string]bool, alias string) ([]SortKey, error) {
	var keys []SortKey
	var errs spec.Errors
	seen := map[string]bool{}
	for _, part := range strings.Split(sortSpec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		desc := false
		if strings.HasPrefix(part, "-") {
			desc, part = true, strings.TrimSpace(part[1:])
		} else if strings.HasPrefix(part, "+") {
			part = strings.TrimSpace(part[1:])
		}
		colm, ok := Resolve(part, ent, hidden, alias)
		if !ok {
			errs.Add("sort", "unknown_field", "cannot sort by unknown field %q (无法按未知字段排序)", part)
			continue
		}
		if colm.Kind == KindArray || colm.Kind == KindFiles {
			errs.Add("sort", "invalid", "cannot sort by list field %q (无法按列表字段排序)", part)
			continue
		}
		if seen[part] {
			continue
		}
		seen[part] = true
		keys = append(keys, SortKey{Column: *colm, Desc: desc})
	}
	if len(keys) > MaxSortKeys {
		errs.Add("sort", "too_many", "sort by at most %d fields (排序字段过多)", MaxSortKeys)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return keys, nil
}

// OrderBy renders sort keys as an ORDER BY list, always ending with the id tie-breaker so the
// order is total. NULLs sort as PostgreSQL does by default (last ascending, first descending),
// so one btree expression index serves both directions.
func OrderBy(keys []SortKey, alias string) string {
	var parts []string
	for _, k := range keys {
		if k.Name == "id" {
			continue
		}
		dir := "ASC NULLS LAST"
		if k.Desc {
			dir = "DESC NULLS FIRST"
		}
		parts = append(parts, k.Expr+" "+dir)
	}
	idDir := "ASC"
	if IDDesc(keys) {
		idDir = "DESC"
	}
	parts = append(parts, col(alias, "id")+" "+idDir)
	return strings.Join(parts, ", ")
}

// IDDesc tells the direction of the id tie-breaker: an explicit id key decides; otherwise it
// follows the last key, so that a sort whose keys share one direction ("-created_at" is
// "created_at DESC, id DESC") is served by one btree index and its keyset cursor is a single
// row comparison, i.e. an index bound whose cost does not grow with the page's depth.
func IDDesc(keys []SortKey) bool {
	for _, k := range keys {
		if k.Name == "id" {
			return k.Desc
		}
	}
	if len(keys) == 0 {
		return false
	}
	return keys[len(keys)-1].Desc
}

// NotNull tells whether the key's expression can never be NULL (the records table's own
// timestamp and id columns), which a row-comparison keyset bound needs.
func (k SortKey) NotNull() bool {
	if k.Field != nil {
		return false
	}
	switch k.Name {
	case "id", "created_at", "updated_at":
		return true
	}
	return false
}

// Sort compiles a sort specification ("-created_at,amount") into an ORDER BY list over the
// unaliased records columns, ending with the id tie-breaker (see OrderBy). An empty spec sorts by
// created_at descending.
func Sort(sortSpec string, ent *spec.Entity, hidden map[string]bool) (string, error) {
	if strings.TrimSpace(sortSpec) == "" {
		sortSpec = "-created_at"
	}
	keys, err := SortKeys(sortSpec, ent, hidden, "")
	if err != nil {
		return "", err
	}
	return OrderBy(keys, ""), nil
}
