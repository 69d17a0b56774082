// Package validate checks definitions semantically: names, field types, references between
// definitions, and flow nodes against the node/connector catalog. Every error names its JSON path.
package validate

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/parser"
	"github.com/google/uuid"
	"github.com/robfig/cron/v3"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/exprfn"
)

var (
	slugRe     = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	fieldKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	hookKeyRe  = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
)

// reservedFields are record columns that a field may not shadow.
var reservedFields = []string{"id", "data", "version", "owner_id", "team_id", "created_at", "updated_at", "deleted_at", "merged"}

// Lookup resolves other definitions of the same app while validating references. A nil
// Lookup skips cross-definition checks (used when saving drafts).
type Lookup interface {
	// Entity returns the entity with slug (the published one, or the one being published).
	Entity(slug string) *spec.Entity
	// Report reports whether a report with slug exists.
	Report(slug string) bool
	// Flow reports whether a flow with slug exists.
	Flow(slug string) bool
	// Defined reports whether the app has a definition of kind with slug, published or a
	// draft (a bundle saves every draft before publishing them in order).
	Defined(kind, slug string) bool
}

// Catalog answers which node types exist (flows are checked against it). A nil Catalog accepts
// every node type.
type Catalog interface {
	HasNode(nodeType string) bool
}

// Slug checks an identifier used in URLs.
func Slug(path, s string, errs *spec.Errors) {
	if !slugRe.MatchString(s) {
		errs.Add(path, "invalid_slug", "must start with a lowercase letter and contain only a-z, 0-9, '-' and '_' (at most 63 characters)")
	}
}

// Definition validates a decoded definition of any kind.
func Definition(def any, lk Lookup, cat Catalog) spec.Errors {
	switch d := def.(type) {
	case *spec.Entity:
		return Entity(d)
	case *spec.Form:
		return Form(d, lk)
	case *spec.Flow:
		return Flow(d, lk, cat)
	case *spec.Report:
		return Report(d, lk)
	case *spec.Dashboard:
		return Dashboard(d, lk)
	}
	return spec.Errors{{Field: "$", Code: "unknown_kind", Message: fmt.Sprintf("unknown definition type %T", def)}}
}

// Entity validates an entity on its own.
func Entity(e *spec.Entity) spec.Errors {
	var errs spec.Errors
	Slug("slug", e.Slug, &errs)
	if len(e.Fields) == 0 {
		errs.Add("fields", "required", "an entity needs at least one field")
	}
	if len(e.Fields) > 500 {
		errs.Add("fields", "too_many", "an entity may have at most 500 fields")
	}
	seen := map[string]bool{}
	for i, f := range e.Fields {
		p := fmt.Sprintf("fields[%d]", i)
		if !fieldKeyRe.MatchString(f.Key) {
			errs.Add(p+".key", "invalid_key", "field keys start with a lowercase letter and contain only a-z, 0-9 and '_' (at most 63 characters)")
		} else if slices.Contains(reservedFields, f.Key) {
			errs.Add(p+".key", "reserved", "%q is a reserved name", f.Key)
		} else if seen[f.Key] {
			errs.Add(p+".key", "duplicate", "field %q is defined twice", f.Key)
		}
		seen[f.Key] = true
		if !slices.Contains(spec.FieldTypes, f.Type) {
			errs.Add(p+".type", "invalid_type", "unknown field type %q; use one of %s", f.Type, strings.Join(spec.FieldTypes, ", "))
			continue
		}
		switch f.Type {
		case spec.TypeSelect, spec.TypeMultiselect:
			if len(f.Options) == 0 {
				errs.Add(p+".options", "required", "a %s field needs options", f.Type)
			}
			opts := map[string]bool{}
			for j, o := range f.Options {
				if o.Value == "" {
					errs.Add(fmt.Sprintf("%s.options[%d]", p, j), "required", "option values must not be empty")
				} else if opts[o.Value] {
					errs.Add(fmt.Sprintf("%s.options[%d]", p, j), "duplicate", "option %q is listed twice", o.Value)
				}
				opts[o.Value] = true
			}
		case spec.TypeRelation:
			if f.Target == "" {
				errs.Add(p+".target", "required", "a relation field needs the target entity slug")
			}
		case spec.TypeFormula:
			if f.Formula == "" {
				errs.Add(p+".formula", "required", "a formula field needs a formula")
			} else if _, err := expr.Compile(f.Formula, expr.Env(map[string]any{"record": map[string]any{}, "now": time.Time{}})); err != nil {
				errs.Add(p+".formula", "invalid_expression", "%v", err)
			}
		case spec.TypeLines:
			lineFields(p, &f, &errs)
		}
		if f.Type != spec.TypeLines && (len(f.Fields) > 0 || f.MaxRows != 0) {
			errs.Add(p+".fields", "unsupported", "only a lines field has sub-fields (只有明细字段可以有子字段)")
		}
		if len(f.Fill) > 0 || f.ReadOnly {
			errs.Add(p+".fill", "unsupported", "fill and readonly apply to sub-fields of a lines field (fill 与 readonly 仅用于明细子字段)")
		}
		if (f.Unique || f.Indexed) && f.Type == spec.TypeLines {
			errs.Add(p+".unique", "unsupported", "a lines field cannot be unique or indexed; filter and report on its sub-fields (明细字段不能设为唯一或索引)")
		}
		if f.Unique && (f.Type == spec.TypeAttachment || f.Type == spec.TypeMultiselect || f.Type == spec.TypeFormula) {
			errs.Add(p+".unique", "unsupported", "a %s field cannot be unique", f.Type)
		}
		if len(f.Default) > 0 && string(f.Default) != "null" {
			if msg := checkDefault(&f); msg != "" {
				errs.Add(p+".default", "invalid_default", "%s", msg)
			}
		}
		if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
			errs.Add(p+".min", "invalid_range", "min must not exceed max")
		}
		if f.Pattern != "" {
			if _, err := regexp.Compile(f.Pattern); err != nil {
				errs.Add(p+".pattern", "invalid_pattern", "%v", err)
			}
		}
	}
	if e.Stages != nil {
		st := e.Stages
		f := e.Field(st.Field)
		switch {
		case st.Field == "":
			errs.Add("stages.field", "required", "name the stage field")
		case f == nil:
			errs.Add("stages.field", "unknown_field", "stage field %q is not a field of this entity", st.Field)
		case f.Type != spec.TypeSelect:
			errs.Add("stages.field", "invalid_type", "the stage field must be a select field")
		}
		if len(st.Order) == 0 {
			errs.Add("stages.order", "required", "list the stages in order")
		}
		for i, s := range st.Order {
			if f != nil && f.Type == spec.TypeSelect && !hasOption(f, s) {
				errs.Add(fmt.Sprintf("stages.order[%d]", i), "unknown_option", "stage %q is not an option of field %q", s, st.Field)
			}
		}
		for i, t := range st.Transitions {
			p := fmt.Sprintf("stages.transitions[%d]", i)
			for _, end := range []struct{ key, v string }{{"from", t.From}, {"to", t.To}} {
				if end.v != "*" && !slices.Contains(st.Order, end.v) {
					errs.Add(p+"."+end.key, "unknown_stage", "%q is not a stage (use one of the order, or *)", end.v)
				}
			}
			if t.Require != "" {
				if _, err := parser.Parse(t.Require); err != nil {
					errs.Add(p+".require", "invalid_expression", "%v", err)
				}
			}
		}
		for k, v := range st.Probability {
			if !slices.Contains(st.Order, k) {
				errs.Add("stages.probability."+k, "unknown_stage", "%q is not a stage", k)
			}
			if v < 0 || v > 1 {
				errs.Add("stages.probability."+k, "out_of_range", "probability must be from 0 to 1")
			}
		}
	}
	if e.Dedupe != nil {
		if len(e.Dedupe.Keys) == 0 {
			errs.Add("dedupe.keys", "required", "list at least one dedupe key")
		}
		for i, key := range e.Dedupe.Keys {
			if len(key) == 0 {
				errs.Add(fmt.Sprintf("dedupe.keys[%d]", i), "required", "a dedupe key lists one or more fields")
			}
			for j, k := range key {
				if e.Field(k) == nil {
					errs.Add(fmt.Sprintf("dedupe.keys[%d][%d]", i, j), "unknown_field", "%q is not a field of this entity", k)
				}
			}
		}
		if o := e.Dedupe.OnDuplicate; o != "" && o != "merge" && o != "reject" {
			errs.Add("dedupe.on_duplicate", "invalid_value", "on_duplicate must be merge or reject")
		}
	}
	if e.TitleField != "" && e.Field(e.TitleField) == nil {
		errs.Add("title_field", "unknown_field", "%q is not a field of this entity", e.TitleField)
	}
	for i, k := range e.ReportIndex {
		if e.Field(k) == nil {
			errs.Add(fmt.Sprintf("report_index[%d]", i), "unknown_field", "%q is not a field of this entity", k)
		}
	}
	return errs
}

// EntityRefs checks an entity's references to other entities (relation targets, also of
// lines sub-fields, and the target fields their fill mappings copy).
func EntityRefs(e *spec.Entity, lk Lookup) spec.Errors {
	var errs spec.Errors
	if lk == nil {
		return nil
	}
	for i, f := range e.Fields {
		if f.Type == spec.TypeRelation && f.Target != "" && f.Target != e.Slug && lk.Entity(f.Target) == nil {
			errs.Add(fmt.Sprintf("fields[%d].target", i), "unknown_entity", "entity %q does not exist or is not published", f.Target)
		}
		if f.Type != spec.TypeLines {
			continue
		}
		for j, sf := range f.Fields {
			if sf.Type != spec.TypeRelation || sf.Target == "" {
				continue
			}
			p := fmt.Sprintf("fields[%d].fields[%d]", i, j)
			target := lk.Entity(sf.Target)
			if sf.Target == e.Slug {
				target = e
			}
			if target == nil {
				errs.Add(p+".target", "unknown_entity", "entity %[1]q does not exist or is not published (实体 %[1]q 不存在或未发布)", sf.Target)
				continue
			}
			for _, col := range sortedKeys(sf.Fill) {
				if target.Field(sf.Fill[col]) == nil {
					errs.Add(p+".fill."+col, "unknown_field", "%[1]q is not a field of entity %[2]q (%[1]q 不是实体 %[2]q 的字段)", sf.Fill[col], sf.Target)
				}
			}
		}
	}
	return errs
}

// maxLineFields bounds the sub-fields of one lines field.
const maxLineFields = 50

// lineFields checks the sub-fields of lines field f (at path p).
func lineFields(p string, f *spec.Field, errs *spec.Errors) {
	if len(f.Fields) == 0 {
		errs.Add(p+".fields", "required", "a lines field needs at least one sub-field (明细字段至少需要一个子字段)")
	}
	if len(f.Fields) > maxLineFields {
		errs.Add(p+".fields", "too_many", "a lines field has at most %[1]d sub-fields (明细字段最多 %[1]d 个子字段)", maxLineFields)
	}
	if f.MaxRows < 0 || f.MaxRows > 1000 {
		errs.Add(p+".max_rows", "out_of_range", "max_rows must be from 1 to 1000 (max_rows 须在 1 到 1000 之间)")
	}
	if len(f.Default) > 0 && string(f.Default) != "null" {
		errs.Add(p+".default", "invalid_default", "a lines field cannot have a default (明细字段不能有默认值)")
	}
	seen := map[string]bool{}
	for j := range f.Fields {
		sf := &f.Fields[j]
		sp := fmt.Sprintf("%s.fields[%d]", p, j)
		switch {
		case !fieldKeyRe.MatchString(sf.Key):
			errs.Add(sp+".key", "invalid_key", "field keys start with a lowercase letter and contain only a-z, 0-9 and '_' (at most 63 characters)")
		case sf.Key == spec.LineID:
			errs.Add(sp+".key", "reserved", "%q is a reserved name (%q 是保留名称)", sf.Key, sf.Key)
		case seen[sf.Key]:
			errs.Add(sp+".key", "duplicate", "field %q is defined twice", sf.Key)
		}
		seen[sf.Key] = true
		if !slices.Contains(spec.LineFieldTypes, sf.Type) {
			errs.Add(sp+".type", "invalid_type", "a sub-field of a lines field is one of %[1]s (明细子字段类型须为 %[1]s 之一)", strings.Join(spec.LineFieldTypes, ", "))
			continue
		}
		if sf.Unique || sf.Indexed || sf.Multiple || len(sf.Fields) > 0 {
			errs.Add(sp, "unsupported", "sub-fields cannot be unique, indexed, multiple or have sub-fields (子字段不支持唯一、索引、多值或嵌套)")
		}
		switch sf.Type {
		case spec.TypeSelect:
			if len(sf.Options) == 0 {
				errs.Add(sp+".options", "required", "a select field needs options")
			}
		case spec.TypeRelation:
			if sf.Target == "" {
				errs.Add(sp+".target", "required", "a relation field needs the target entity slug")
			}
		case spec.TypeFormula:
			env := expr.Env(map[string]any{"line": map[string]any{}, "record": map[string]any{}, "now": time.Time{}})
			if sf.Formula == "" {
				errs.Add(sp+".formula", "required", "a formula field needs a formula")
			} else if _, err := expr.Compile(sf.Formula, env); err != nil {
				errs.Add(sp+".formula", "invalid_expression", "%v", err)
			}
		}
		if len(sf.Default) > 0 && string(sf.Default) != "null" {
			if msg := checkDefault(sf); msg != "" {
				errs.Add(sp+".default", "invalid_default", "%s", msg)
			}
		}
		if sf.Min != nil && sf.Max != nil && *sf.Min > *sf.Max {
			errs.Add(sp+".min", "invalid_range", "min must not exceed max")
		}
		if sf.Pattern != "" {
			if _, err := regexp.Compile(sf.Pattern); err != nil {
				errs.Add(sp+".pattern", "invalid_pattern", "%v", err)
			}
		}
		if len(sf.Fill) > 0 && sf.Type != spec.TypeRelation {
			errs.Add(sp+".fill", "unsupported", "only a relation sub-field fills other columns (只有关联子字段可以带出其他列)")
		}
	}
	for j := range f.Fields {
		sf := &f.Fields[j]
		for _, col := range sortedKeys(sf.Fill) {
			to := f.SubField(col)
			switch {
			case to == nil:
				errs.Add(fmt.Sprintf("%s.fields[%d].fill.%s", p, j, col), "unknown_field", "%[1]q is not a sub-field of this lines field (%[1]q 不是该明细的子字段)", col)
			case to.Type == spec.TypeFormula || to.Key == sf.Key:
				errs.Add(fmt.Sprintf("%s.fields[%d].fill.%s", p, j, col), "unsupported", "a fill copies into a plain column, not a formula or the relation itself (带出目标须为普通列)")
			case sf.Fill[col] == "":
				errs.Add(fmt.Sprintf("%s.fields[%d].fill.%s", p, j, col), "required", "name the field of the chosen record to copy (请指定要带出的字段)")
			}
		}
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkDefault reports why a field's default does not fit its type ("" when it does).
func checkDefault(f *spec.Field) string {
	var v any
	if err := json.Unmarshal(f.Default, &v); err != nil {
		return "default is not valid JSON"
	}
	switch f.Type {
	case spec.TypeNumber, spec.TypeMoney, spec.TypePercent:
		if _, ok := v.(float64); !ok {
			return "the default of a " + f.Type + " field must be a number"
		}
	case spec.TypeBoolean:
		if _, ok := v.(bool); !ok {
			return "the default of a boolean field must be true or false"
		}
	case spec.TypeSelect:
		s, ok := v.(string)
		if !ok || !hasOption(f, s) {
			return fmt.Sprintf("the default %v is not one of the options", v)
		}
	case spec.TypeMultiselect:
		list, ok := v.([]any)
		if !ok {
			return "the default of a multiselect field must be a list of options"
		}
		for _, item := range list {
			if s, ok := item.(string); !ok || !hasOption(f, s) {
				return fmt.Sprintf("the default %v is not one of the options", item)
			}
		}
	case spec.TypeText, spec.TypeTextarea, spec.TypeEmail, spec.TypePhone, spec.TypeURL, spec.TypeDate, spec.TypeDatetime:
		if _, ok := v.(string); !ok {
			return "the default of a " + f.Type + " field must be a string"
		}
	case spec.TypeAutonumber, spec.TypeFormula, spec.TypeAttachment, spec.TypeLines:
		return "a " + f.Type + " field cannot have a default"
	}
	return ""
}

func hasOption(f *spec.Field, v string) bool {
	for _, o := range f.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

// Form validates a form; with a Lookup it checks the entity and the layout's fields.
func Form(f *spec.Form, lk Lookup) spec.Errors {
	var errs spec.Errors
	Slug("slug", f.Slug, &errs)
	if f.Entity == "" {
		errs.Add("entity", "required", "name the entity the form writes")
	}
	var ent *spec.Entity
	if lk != nil && f.Entity != "" {
		if ent = lk.Entity(f.Entity); ent == nil {
			errs.Add("entity", "unknown_entity", "entity %q does not exist or is not published", f.Entity)
		}
	}
	seen := map[string]bool{}
	for i, it := range f.Layout {
		p := fmt.Sprintf("layout[%d]", i)
		switch {
		case it.Field != "" && len(it.Items) > 0:
			errs.Add(p, "invalid_item", "an item is either a field or a section with items")
		case it.Field != "":
			formField(p, it, f, ent, lk, seen, &errs)
		default:
			formSection(p, it, f, ent, lk, seen, &errs)
		}
	}
	if len(seen) == 0 {
		errs.Add("layout", "required", "a form needs at least one field in its layout")
	}
	for i, r := range f.Rules {
		p := fmt.Sprintf("rules[%d]", i)
		if !seen[r.Field] {
			errs.Add(p+".field", "unknown_field", "%q is not in the form's layout", r.Field)
		}
		if r.Then != "show" && r.Then != "hide" && r.Then != "require" {
			errs.Add(p+".then", "invalid_value", "then must be show, hide or require")
		}
		if _, err := parser.Parse(r.When); err != nil || r.When == "" {
			errs.Add(p+".when", "invalid_expression", "when must be an expression over the form values")
		}
	}
	if ent != nil {
		// Defaults that are not fields of the entity are accepted and ignored when a submission is
		// saved (a form may be published before its entity grows the field, as in DESIGN 6a).
		for i, k := range f.Hidden {
			if ent.Field(k) == nil {
				errs.Add(fmt.Sprintf("hidden[%d]", i), "unknown_field", "%q is not a field of entity %q", k, f.Entity)
			}
		}
	}
	if f.Success != nil && f.Success.Redirect != "" && !strings.HasPrefix(f.Success.Redirect, "https://") && !strings.HasPrefix(f.Success.Redirect, "http://") && !strings.HasPrefix(f.Success.Redirect, "/") {
		errs.Add("success.redirect", "invalid_url", "redirect must be an http(s) URL or a path")
	}
	return errs
}

// formSection checks a section item: a title or fields, columns 1..3, a display kind, a
// visibility expression, and field items only (sections do not nest).
func formSection(p string, it spec.FormItem, f *spec.Form, ent *spec.Entity, lk Lookup, seen map[string]bool, errs *spec.Errors) {
	if len(it.Section) == 0 && len(it.Items) == 0 {
		errs.Add(p, "invalid_item", "an item needs a field, or a section title and items")
	}
	if it.Columns < 0 || it.Columns > 3 {
		errs.Add(p+".columns", "out_of_range", "a section has 1, 2 or 3 columns")
	}
	if it.Display != "" && it.Display != "tab" {
		errs.Add(p+".display", "invalid_value", "display is empty (a panel) or tab")
	}
	if it.Width != 0 || it.Required || it.ReadOnly || len(it.Default) > 0 || it.Validation != nil {
		errs.Add(p, "invalid_item", "width, required, read_only, default and validation belong to field items, not sections")
	}
	formVisible(p, it.Visible, errs)
	for j, sub := range it.Items {
		sp := fmt.Sprintf("%s.items[%d]", p, j)
		if sub.Field == "" {
			errs.Add(sp, "invalid_item", "a section holds fields only (sections do not nest)")
			continue
		}
		if sub.Columns != 0 || sub.Collapsible || sub.Collapsed || sub.Display != "" || len(sub.Section) > 0 || len(sub.Items) > 0 {
			errs.Add(sp, "invalid_item", "columns, collapsible, display and section belong to sections, not fields")
		}
		formField(sp, sub, f, ent, lk, seen, errs)
	}
}

// formField checks a field item: known and placed once, width, visibility, default and
// validation bounds.
func formField(p string, it spec.FormItem, f *spec.Form, ent *spec.Entity, lk Lookup, seen map[string]bool, errs *spec.Errors) {
	if seen[it.Field] {
		errs.Add(p+".field", "duplicate", "field %q appears twice", it.Field)
	}
	seen[it.Field] = true
	var fd *spec.Field
	if ent != nil {
		if fd = ent.Field(it.Field); fd == nil {
			errs.Add(p+".field", "unknown_field", "%q is not a field of entity %q", it.Field, f.Entity)
		}
	}
	if it.Width < 0 || it.Width > 24 {
		errs.Add(p+".width", "out_of_range", "width is a grid span from 1 to 24")
	}
	formVisible(p, it.Visible, errs)
	if len(it.Default) > 0 && fd != nil {
		probe := *fd
		probe.Default = it.Default
		if msg := checkDefault(&probe); msg != "" {
			errs.Add(p+".default", "invalid_default", "%s", msg)
		}
	}
	if it.ReadOnly && it.Required && len(it.Default) == 0 {
		errs.Add(p+".read_only", "invalid_value", "a required read-only field needs a default")
	}
	publicField(p, it, f, fd, lk, errs)
	v := it.Validation
	if v == nil {
		return
	}
	if v.Min != nil && v.Max != nil && *v.Min > *v.Max {
		errs.Add(p+".validation.max", "out_of_range", "max must not be less than min")
	}
	if v.MinLength < 0 {
		errs.Add(p+".validation.min_length", "out_of_range", "min_length must not be negative")
	}
	if v.MaxLength < 0 || v.MaxLength > 0 && v.MaxLength < v.MinLength {
		errs.Add(p+".validation.max_length", "out_of_range", "max_length must be at least min_length")
	}
	if v.Pattern != "" {
		if len(v.Pattern) > 500 {
			errs.Add(p+".validation.pattern", "too_long", "a pattern has at most 500 characters")
		} else if _, err := regexp.Compile(v.Pattern); err != nil {
			errs.Add(p+".validation.pattern", "invalid_pattern", "%v", err)
		}
	}
	if fd != nil {
		numeric := fd.Type == spec.TypeNumber || fd.Type == spec.TypeMoney || fd.Type == spec.TypePercent
		if (v.Min != nil || v.Max != nil) && !numeric {
			errs.Add(p+".validation.min", "invalid_value", "min and max apply to number fields; use min_length and max_length for text")
		}
		if (v.MinLength != 0 || v.MaxLength != 0 || v.Pattern != "") && !textLike(fd.Type) {
			errs.Add(p+".validation.pattern", "invalid_value", "lengths and patterns apply to text fields")
		}
	}
}

// publicField checks a field item of a public form: every field a visitor is shown must be one
// the public page can render. A relation needs the linked entity's fields the owner exposes
// (lookup: existing plain fields); people, teams, line tables and computed fields cannot be
// filled anonymously and are refused rather than silently left out (hidden items are fine).
func publicField(p string, it spec.FormItem, f *spec.Form, fd *spec.Field, lk Lookup, errs *spec.Errors) {
	if len(it.Lookup) > 0 && fd != nil && fd.Type != spec.TypeRelation {
		errs.Add(p+".lookup", "invalid_value", "lookup applies to relation fields only (仅关联字段可设置公开查找)")
	}
	if !f.Public || fd == nil || it.Hidden {
		return
	}
	switch fd.Type {
	case spec.TypeRelation:
		if len(it.Lookup) == 0 {
			errs.Add(p+".lookup", "not_exposed", "the relation field %q cannot be shown on a public form until you choose which fields of the linked records visitors may see and search (公开表单上的关联字段需先选择访客可见、可搜索的关联记录字段)", fd.Key)
			return
		}
		if lk == nil {
			return
		}
		ts := fd.Target
		if ts == "" {
			ts = f.Entity
		}
		target := lk.Entity(ts)
		if target == nil {
			return
		}
		for i, k := range it.Lookup {
			tf := target.Field(k)
			if tf == nil || !lookupType(tf.Type) {
				errs.Add(fmt.Sprintf("%s.lookup[%d]", p, i), "unknown_field", "%q is not a text, number, date or option field of %q (不是关联实体的可公开字段)", k, ts)
			}
		}
	case spec.TypeUser, spec.TypeTeam, spec.TypeLines, spec.TypeAutonumber, spec.TypeFormula:
		errs.Add(p+".field", "not_public", "a %s field cannot be filled on a public form: hide it or remove it from the layout (该类型字段不能在公开表单上填写，请隐藏或移除)", fd.Type)
	}
}

// lookupType reports whether a public lookup may show fields of type t.
func lookupType(t string) bool {
	switch t {
	case spec.TypeText, spec.TypeNumber, spec.TypeDate, spec.TypeSelect, spec.TypeAutonumber:
		return true
	}
	return false
}

// textLike reports whether a field holds one string a pattern can match.
func textLike(t string) bool {
	switch t {
	case spec.TypeText, spec.TypeTextarea, spec.TypeEmail, spec.TypePhone, spec.TypeURL:
		return true
	}
	return false
}

// formVisible checks a visibility expression: it compiles with the helper functions.
func formVisible(p, src string, errs *spec.Errors) {
	if src == "" {
		return
	}
	if len(src) > 4000 {
		errs.Add(p+".visible", "too_long", "a condition has at most 4000 characters")
		return
	}
	env := map[string]any{"record": map[string]any{}, "values": map[string]any{}}
	if _, err := expr.Compile(src, append([]expr.Option{expr.Env(env)}, exprfn.Options()...)...); err != nil {
		errs.Add(p+".visible", "invalid_expression", "%v", err)
	}
}

// Trigger types.
var triggerTypes = []string{"record.created", "record.updated", "record.deleted", "stage.changed", "record.activity", "form.submitted", "webhook", "cron", "manual", "poll"}

// Flow validates a flow's trigger and graph; node params are checked by the engine's compiler.
func Flow(f *spec.Flow, lk Lookup, cat Catalog) spec.Errors {
	var errs spec.Errors
	Slug("slug", f.Slug, &errs)
	TestSample(f.TestSample, &errs)
	t := f.Trigger
	if !slices.Contains(triggerTypes, t.Type) {
		errs.Add("trigger.type", "invalid_value", "trigger type must be one of %s", strings.Join(triggerTypes, ", "))
	}
	switch t.Type {
	case "record.created", "record.updated", "record.deleted", "stage.changed", "record.activity":
		if t.Entity == "" {
			errs.Add("trigger.entity", "required", "a %s trigger names its entity", t.Type)
		} else if lk != nil && lk.Entity(t.Entity) == nil {
			errs.Add("trigger.entity", "unknown_entity", "entity %q does not exist or is not published", t.Entity)
		} else if lk != nil && t.Type == "stage.changed" && lk.Entity(t.Entity).Stages == nil {
			errs.Add("trigger.entity", "no_stages", "entity %q has no stages", t.Entity)
		}
		if lk != nil && t.Entity != "" {
			if ent := lk.Entity(t.Entity); ent != nil {
				for i, k := range t.Fields {
					if ent.Field(k) == nil {
						errs.Add(fmt.Sprintf("trigger.fields[%d]", i), "unknown_field", "%q is not a field of entity %q", k, t.Entity)
					}
				}
			}
		}
	case "form.submitted":
		if t.Form == "" {
			errs.Add("trigger.form", "required", "a form.submitted trigger names its form")
		}
	case "webhook":
		if !hookKeyRe.MatchString(t.Key) {
			errs.Add("trigger.key", "invalid_key", "a webhook key has 1-100 characters of A-Z, a-z, 0-9, '.', '_' and '-'")
		}
		if t.Mode != "" && t.Mode != "sync" && t.Mode != "async" {
			errs.Add("trigger.mode", "invalid_value", "mode must be sync or async")
		}
	case "cron":
		if _, err := cronParser.Parse(t.Schedule); err != nil || t.Schedule == "" {
			errs.Add("trigger.schedule", "invalid_schedule", "schedule must be a cron expression such as \"0 9 * * 1-5\" (5 fields, or 6 with seconds first) / 定时表达式无效，例如 \"0 9 * * 1-5\"（5 个字段，或以秒开头的 6 个字段）")
		}
		if t.Missed != "" && t.Missed != "skip" && t.Missed != "once" {
			errs.Add("trigger.missed", "invalid_value", "missed must be skip or once")
		}
	case "poll":
		pollTrigger(t, &errs)
	}
	if t.Timezone != "" {
		if _, err := time.LoadLocation(t.Timezone); err != nil {
			errs.Add("trigger.timezone", "invalid_timezone", "unknown time zone %q", t.Timezone)
		}
	}
	if t.Condition != "" {
		if _, err := parser.Parse(t.Condition); err != nil {
			errs.Add("trigger.condition", "invalid_expression", "%v", err)
		}
	}
	if len(f.Nodes) == 0 {
		errs.Add("nodes", "required", "a flow needs at least one node")
	}
	ids := map[string]bool{}
	for i, n := range f.Nodes {
		p := fmt.Sprintf("nodes[%d]", i)
		if !fieldKeyRe.MatchString(strings.ReplaceAll(n.ID, "-", "_")) {
			errs.Add(p+".id", "invalid_id", "node ids start with a letter and contain only letters, digits, '-' and '_'")
		} else if ids[n.ID] {
			errs.Add(p+".id", "duplicate", "node id %q is used twice", n.ID)
		}
		ids[n.ID] = true
		if n.Type == "" {
			errs.Add(p+".type", "required", "a node needs a type")
		} else if cat != nil && !cat.HasNode(n.Type) {
			errs.Add(p+".type", "unknown_node_type", "unknown node type %q", n.Type)
		}
		if lk != nil {
			nodeRefs(p+".params", n.Params, lk, &errs)
		}
	}
	adj := map[string][]string{}
	for i, e := range f.Edges {
		p := fmt.Sprintf("edges[%d]", i)
		if !ids[e.From] {
			errs.Add(p+".from", "unknown_node", "no node %q", e.From)
		}
		if !ids[e.To] {
			errs.Add(p+".to", "unknown_node", "no node %q", e.To)
		}
		adj[e.From] = append(adj[e.From], e.To)
	}
	if cyc := findCycle(f.Nodes, adj); cyc != "" {
		errs.Add("edges", "cycle", "the edges form a cycle through node %q; use a foreach node for loops", cyc)
	}
	if f.RunAs != "" && f.RunAs != "service" && f.RunAs != "trigger_user" {
		errs.Add("run_as", "invalid_value", "run_as must be service or trigger_user")
	}
	return errs
}

// nodeRefs checks the definitions a node's params name literally: the entity of record and
// wait nodes, the report of a report node, the flow of a subflow (templated names are checked
// when the node runs).
func nodeRefs(path string, params json.RawMessage, lk Lookup, errs *spec.Errors) {
	var p struct {
		Entity any `json:"entity"`
		Report any `json:"report"`
		Flow   any `json:"flow"`
	}
	if len(params) == 0 || json.Unmarshal(params, &p) != nil {
		return
	}
	literal := func(v any) string {
		s, _ := v.(string)
		if strings.Contains(s, "{{") {
			return ""
		}
		return strings.TrimSpace(s)
	}
	if e := literal(p.Entity); e != "" && lk.Entity(e) == nil && !lk.Defined(spec.KindEntity, e) {
		errs.Add(path+".entity", "unknown_entity", "entity %[1]q does not exist in this app (应用中没有实体 %[1]q)", e)
	}
	if r := literal(p.Report); r != "" && !lk.Report(r) && !lk.Defined(spec.KindReport, r) {
		errs.Add(path+".report", "unknown_report", "report %[1]q does not exist in this app (应用中没有报表 %[1]q)", r)
	}
	if f := literal(p.Flow); f != "" && !lk.Flow(f) && !lk.Defined(spec.KindFlow, f) {
		errs.Add(path+".flow", "unknown_flow", "flow %[1]q does not exist in this app (应用中没有流程 %[1]q)", f)
	}
}

// pollTrigger checks the shape of a poll trigger; the connector, its trigger id, the params
// and the credential are checked against the connector registry when the flow is published.
// cronParser accepts what the scheduler (runtime/engine.CronParser) runs: 5 fields, an optional
// leading seconds field ("*/10 * * * * *") and descriptors (@daily, @every 1h).
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func pollTrigger(t spec.Trigger, errs *spec.Errors) {
	if t.Connector == "" {
		errs.Add("trigger.connector", "required", "a poll trigger names its connector")
	}
	if t.PollTrigger == "" {
		errs.Add("trigger.trigger", "required", "a poll trigger names the connector's trigger")
	}
	if len(t.Params) > 0 && string(t.Params) != "null" {
		var m map[string]any
		if err := json.Unmarshal(t.Params, &m); err != nil {
			errs.Add("trigger.params", "type", "params must be an object")
		}
	}
	d, err := t.PollInterval()
	switch {
	case err != nil:
		errs.Add("trigger.interval", "invalid_duration", "interval must be a duration such as \"5m\" or \"1h\"")
	case d < spec.MinPollInterval || d > spec.MaxPollInterval:
		errs.Add("trigger.interval", "out_of_range", "interval must be from 1m to 24h")
	}
}

func findCycle(nodes []spec.Node, adj map[string][]string) string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var visit func(string) string
	visit = func(n string) string {
		color[n] = grey
		for _, m := range adj[n] {
			switch color[m] {
			case grey:
				return m
			case white:
				if c := visit(m); c != "" {
					return c
				}
			}
		}
		color[n] = black
		return ""
	}
	for _, n := range nodes {
		if color[n.ID] == white {
			if c := visit(n.ID); c != "" {
				return c
			}
		}
	}
	return ""
}

// Report kinds and aggregations.
var (
	reportKinds    = []string{"table", "pivot", "funnel", "dwell", "kpi", "stagnation", "penetration", "forecast", "compare", "cycle"}
	comparePeriods = []string{"day", "week", "month", "quarter", "year", "previous"}
	aggs           = []string{"count", "count_distinct", "sum", "avg", "min", "max", "median", "rate"}
	buckets        = []string{"", "day", "week", "month", "quarter", "year"}
	sysFields      = []string{"id", "created_at", "updated_at", "owner_id", "team_id"}
)

// Report validates a report; with a Lookup it checks fields against the entity.
func Report(r *spec.Report, lk Lookup) spec.Errors {
	var errs spec.Errors
	Slug("slug", r.Slug, &errs)
	if !slices.Contains(reportKinds, r.Kind) {
		errs.Add("kind", "invalid_value", "kind must be one of %s", strings.Join(reportKinds, ", "))
	}
	var ent *spec.Entity
	if r.Entity == "" {
		errs.Add("entity", "required", "name the entity the report reads")
	} else if lk != nil {
		if ent = lk.Entity(r.Entity); ent == nil {
			errs.Add("entity", "unknown_entity", "entity %q does not exist or is not published", r.Entity)
		}
	}
	known := func(k string) bool {
		if parent, sub, ok := strings.Cut(k, "."); ok && ent != nil {
			f := ent.Field(parent)
			return f != nil && f.Type == spec.TypeLines && f.SubField(sub) != nil
		}
		return slices.Contains(sysFields, k) || ent == nil || ent.Field(k) != nil
	}
	for i, d := range r.Dimensions {
		p := fmt.Sprintf("dimensions[%d]", i)
		if d.Field == "" || !known(d.Field) {
			errs.Add(p+".field", "unknown_field", "%q is not a field of entity %q", d.Field, r.Entity)
		}
		if !slices.Contains(buckets, d.Bucket) {
			errs.Add(p+".bucket", "invalid_value", "bucket must be day, week, month, quarter or year")
		}
	}
	for i, m := range r.Measures {
		p := fmt.Sprintf("measures[%d]", i)
		if !slices.Contains(aggs, m.Agg) {
			errs.Add(p+".agg", "invalid_value", "agg must be one of %s", strings.Join(aggs, ", "))
		}
		if m.Agg != "count" && m.Agg != "rate" && m.Field == "" {
			errs.Add(p+".field", "required", "%s needs a field", m.Agg)
		}
		if m.Field != "" && !known(m.Field) {
			errs.Add(p+".field", "unknown_field", "%q is not a field of entity %q", m.Field, r.Entity)
		}
	}
	if r.Limit < 0 || r.Limit > 100000 {
		errs.Add("limit", "out_of_range", "limit must be from 0 to 100000")
	}
	if r.Compare != nil && !slices.Contains(comparePeriods, r.Compare.Period) {
		errs.Add("compare.period", "invalid_value", "period must be one of %s", strings.Join(comparePeriods, ", "))
	}
	// A stage report over an entity without stages names the select field holding the stages.
	var kp struct {
		Field string `json:"field"`
	}
	if len(r.Params) > 0 {
		_ = json.Unmarshal(r.Params, &kp)
	}
	if (r.Kind == "funnel" || r.Kind == "dwell" || r.Kind == "stagnation" || r.Kind == "penetration" || r.Kind == "forecast" || r.Kind == "cycle") && ent != nil && ent.Stages == nil && kp.Field == "" {
		errs.Add("params.field", "required", "the entity has no stages: choose the select field that holds the stages (该实体没有阶段：请选择作为阶段的单选字段)")
	}
	return errs
}

// Dashboard validates a dashboard; with a Lookup it checks that its reports exist.
func Dashboard(d *spec.Dashboard, lk Lookup) spec.Errors {
	var errs spec.Errors
	Slug("slug", d.Slug, &errs)
	ids := map[string]bool{}
	for i, w := range d.Widgets {
		p := fmt.Sprintf("widgets[%d]", i)
		if w.Report == "" {
			errs.Add(p+".report", "required", "a widget shows a report")
		} else if lk != nil && !lk.Report(w.Report) {
			errs.Add(p+".report", "unknown_report", "report %q does not exist or is not published", w.Report)
		}
		if w.ID != "" && ids[w.ID] {
			errs.Add(p+".id", "duplicate", "widget id %q is used twice", w.ID)
		}
		ids[w.ID] = true
		if w.W < 0 || w.W > 24 || w.X < 0 || w.X > 23 || w.H < 0 || w.Y < 0 {
			errs.Add(p, "out_of_range", "widgets sit on a 24-column grid: 0 <= x < 24, 1 <= w <= 24")
		}
	}
	return errs
}

// TestSample checks a flow's pinned test-run sample: a record id (a UUID), a label of at most
// 200 characters, a body of at most 64 KB.
func TestSample(ts *spec.TestSample, errs *spec.Errors) {
	if ts == nil {
		return
	}
	if ts.Record != "" {
		if _, err := uuid.Parse(ts.Record); err != nil {
			errs.Add("test_sample.record", "invalid", "record must be a record id / record 须为记录 ID")
		}
	}
	if len([]rune(ts.Label)) > 200 {
		errs.Add("test_sample.label", "too_long", "label is at most 200 characters / 名称最多 200 个字符")
	}
	if len(ts.Body) > 64<<10 {
		errs.Add("test_sample.body", "too_large", "the sample body is at most 64 KB / 样本内容最多 64 KB")
	}
}
