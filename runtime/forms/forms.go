// Package forms checks and completes a form submission against its form definition: which
// fields the form accepts, their defaults and read-only values, the visibility conditions of
// fields and sections (a field that is not shown keeps no value and is never required), the
// form rules, required fields and the form's own validation bounds.
//
// Visibility conditions are expr-lang expressions over the form values (record.<key>) with the
// helper functions of runtime/exprfn, the same expressions the condition builder writes.
package forms

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/exprfn"
	"github.com/tessera/tessera/runtime/exprguard"
	"github.com/tessera/tessera/runtime/records"
)

// Meta keys of a submission that are not fields.
const (
	HoneypotKey = "_hp"     // a field people never see; bots fill it
	ConsentKey  = "consent" // the PIPL consent checkbox
)

// UTMKeys are captured from the page's query string into fields of the same name.
var UTMKeys = []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// Item is a field item of a form layout with the visibility conditions that apply to it (its
// section's, then its own).
type Item struct {
	spec.FormItem
	Section *spec.FormItem // nil at the top level
	When    []string
}

// Items lists the field items of a layout in order, sections included.
func Items(layout []spec.FormItem) []Item {
	var out []Item
	var walk func(items []spec.FormItem, sec *spec.FormItem, when []string)
	walk = func(items []spec.FormItem, sec *spec.FormItem, when []string) {
		for i := range items {
			it := items[i]
			w := when
			if it.Visible != "" {
				w = append(append([]string{}, when...), it.Visible)
			}
			if it.Field != "" {
				out = append(out, Item{FormItem: it, Section: sec, When: w})
				continue
			}
			walk(it.Items, &items[i], w)
		}
	}
	walk(layout, nil, nil)
	return out
}

// compile compiles a visibility condition (bounded like every expression of the platform).
func compile(src string) (*vm.Program, error) {
	env := map[string]any{"record": map[string]any{}, "values": map[string]any{}}
	return expr.Compile(src, append(append(exprguard.Options(), expr.Env(env), expr.AsBool()), exprfn.Options()...)...)
}

// holds evaluates a condition over the normalised values; a condition that does not evaluate
// counts as false (the item stays hidden).
func holds(src string, norm map[string]any) bool {
	p, err := compile(src)
	if err != nil {
		return false
	}
	res, err := expr.Run(p, map[string]any{"record": norm, "values": norm})
	b, _ := res.(bool)
	return err == nil && b
}

// normalize returns the values as the record will hold them (numbers as numbers, phones in
// E.164); values that do not normalise are left out.
func normalize(ent *spec.Entity, values map[string]any) map[string]any {
	norm := map[string]any{}
	for k, v := range values {
		if fd := ent.Field(k); fd != nil {
			var nerrs spec.Errors
			if nv := records.Normalize(fd, v, k, &nerrs); len(nerrs) == 0 && nv != nil {
				norm[k] = nv
			}
		}
	}
	return norm
}

// Hidden lists the layout fields that are not shown for the given values (their own or their
// section's condition does not hold, or a hide/show rule hides them), sorted.
func Hidden(f *spec.Form, ent *spec.Entity, values map[string]any) []string {
	norm := normalize(ent, values)
	hidden := map[string]bool{}
	for _, it := range Items(f.Layout) {
		for _, w := range it.When {
			if !holds(w, norm) {
				hidden[it.Field] = true
				break
			}
		}
	}
	for _, r := range f.Rules {
		if r.Field == "" || r.When == "" {
			continue
		}
		h := holds(r.When, norm)
		if (r.Then == "hide" && h) || (r.Then == "show" && !h) {
			hidden[r.Field] = true
		}
	}
	out := make([]string, 0, len(hidden))
	for k := range hidden {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// blank reports whether v leaves field k empty: missing, null, blank text or an empty list,
// also once normalised (spaces only, "" in a list), or false for a boolean field (a required
// checkbox, such as a PIPL consent field, must be ticked; the page sends false when it is not).
// A value that does not normalise is not blank: the record validation reports it.
func blank(ent *spec.Entity, k string, v any) bool {
	if exprfn.IsEmpty(v) {
		return true
	}
	fd := ent.Field(k)
	if fd == nil {
		return false
	}
	var nerrs spec.Errors
	nv := records.Normalize(fd, v, k, &nerrs)
	if len(nerrs) > 0 {
		return false
	}
	switch x := nv.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case bool:
		return !x
	}
	return false
}

// Values checks and completes the submitted values in of form f over entity ent: only layout
// fields, defaults and hidden/UTM fields are accepted; read-only fields take their default;
// defaults fill what is missing; fields that are not shown are dropped and not required; form
// rules, per-item required and validation bounds apply. Meta keys (honeypot, consent) are
// removed first. Messages are in locale ("en" or "zh-CN").
func Values(f *spec.Form, ent *spec.Entity, in map[string]any, locale string) (map[string]any, error) {
	var errs spec.Errors
	consent, _ := in[ConsentKey].(bool)
	if _, isField := in[ConsentKey]; isField && ent.Field(ConsentKey) == nil {
		delete(in, ConsentKey)
	}
	delete(in, HoneypotKey)
	items := Items(f.Layout)
	inLayout := map[string]*Item{}
	required := map[string]bool{}
	for i := range items {
		inLayout[items[i].Field] = &items[i]
		if items[i].Required {
			required[items[i].Field] = true
		}
	}
	hiddenParam := map[string]bool{}
	for _, k := range append(append([]string{}, f.Hidden...), UTMKeys...) {
		hiddenParam[k] = true
	}
	out := map[string]any{}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		it := inLayout[k]
		switch {
		case it != nil && it.ReadOnly:
			// read-only: the value is the form's, never the submitter's
			continue
		case it != nil:
			out[k] = in[k]
		case f.Defaults[k] != nil:
			// a default outside the layout is set by the server (source, campaign): the
			// submitter cannot override it
			continue
		case hiddenParam[k]:
			if ent.Field(k) != nil { // hidden parameters without a field are dropped
				out[k] = in[k]
			}
		default:
			errs.Add(k, "unknown_field", "%s", msg(locale, fmt.Sprintf("unknown field %q", k), fmt.Sprintf("未知字段 %q", k)))
		}
	}
	for _, it := range items {
		if len(it.Default) == 0 || ent.Field(it.Field) == nil {
			continue
		}
		if cur, ok := out[it.Field]; !ok || exprfn.IsEmpty(cur) {
			var v any
			if json.Unmarshal(it.Default, &v) == nil && v != nil {
				out[it.Field] = v
			}
		}
	}
	for k, v := range f.Defaults {
		if cur, ok := out[k]; (!ok || cur == nil || cur == "") && ent.Field(k) != nil {
			out[k] = v
		}
	}
	// visibility and rules see the values as the record will hold them
	hidden := Hidden(f, ent, out)
	for _, k := range hidden {
		delete(out, k)
		delete(required, k)
	}
	norm := normalize(ent, out)
	for _, r := range f.Rules {
		if r.Then == "require" && r.Field != "" && r.When != "" && !slices.Contains(hidden, r.Field) && holds(r.When, norm) {
			required[r.Field] = true
		}
	}
	for k := range required {
		if blank(ent, k, out[k]) {
			label := k
			if fd := ent.Field(k); fd != nil {
				label = fd.Label.Text(locale, k)
			}
			if it := inLayout[k]; it != nil && len(it.Label) > 0 {
				label = it.Label.Text(locale, label)
			}
			errs.Add(k, "required", "%s", msg(locale, label+" is required", label+"为必填项"))
		}
	}
	for _, it := range items {
		if v, ok := out[it.Field]; ok && it.Validation != nil {
			bounds(ent, it, v, locale, &errs)
		}
	}
	if f.Consent != nil && !consent {
		errs.Add(ConsentKey, "required", "%s", msg(locale, "please accept the privacy notice", "请同意隐私声明"))
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, errs
	}
	return out, nil
}

// msg picks the English or Chinese text.
func msg(locale, en, zh string) string {
	if strings.HasPrefix(locale, "en") {
		return en
	}
	return zh
}

// bounds checks a field's form validation: min/max on numbers, lengths and a pattern on text.
func bounds(ent *spec.Entity, it Item, v any, locale string, errs *spec.Errors) {
	fd := ent.Field(it.Field)
	if fd == nil || exprfn.IsEmpty(v) {
		return
	}
	var nerrs spec.Errors
	nv := records.Normalize(fd, v, it.Field, &nerrs)
	if len(nerrs) > 0 {
		return // the record validation reports it
	}
	b := it.Validation
	fail := func(code, en, zh string) {
		text := msg(locale, en, zh)
		if len(b.Message) > 0 {
			text = b.Message.Text(locale, text)
		}
		errs.Add(it.Field, code, "%s", text)
	}
	switch x := nv.(type) {
	case float64:
		if b.Min != nil && x < *b.Min {
			fail("out_of_range", fmt.Sprintf("must be at least %g", *b.Min), fmt.Sprintf("不能小于 %g", *b.Min))
		} else if b.Max != nil && x > *b.Max {
			fail("out_of_range", fmt.Sprintf("must be at most %g", *b.Max), fmt.Sprintf("不能大于 %g", *b.Max))
		}
	case string:
		// lengths and patterns apply to what the submitter typed (trimmed), not to the
		// normalised form (a phone in E.164)
		s := strings.TrimSpace(fmt.Sprint(v))
		n := utf8.RuneCountInString(s)
		switch {
		case b.MinLength > 0 && n < b.MinLength:
			fail("too_short", fmt.Sprintf("needs at least %d characters", b.MinLength), fmt.Sprintf("至少 %d 个字符", b.MinLength))
		case b.MaxLength > 0 && n > b.MaxLength:
			fail("too_long", fmt.Sprintf("at most %d characters", b.MaxLength), fmt.Sprintf("最多 %d 个字符", b.MaxLength))
		case b.Pattern != "":
			re, err := regexp.Compile(`^(?:` + b.Pattern + `)$`)
			if err == nil && !re.MatchString(s) {
				fail("pattern", "does not have the expected format", "格式不正确")
			}
		}
	}
}
