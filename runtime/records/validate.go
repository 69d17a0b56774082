package records

import (
	"encoding/json"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/nyaruka/phonenumbers"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/filter"
)

// Default length limits for text values.
const (
	MaxTextLength     = 1000
	MaxTextareaLength = 100000
	MaxListLength     = 200
)

// Normalize validates and normalises one field value as it arrives in a write, without
// database look-ups (relations, users, teams and attachments are checked later in the write
// transaction). It returns nil for an empty value. Errors are reported on path.
//
// Normalised forms: text trimmed; number/money/percent JSON numbers (money rounded to the
// field's precision, 2 by default); email trimmed and lowercased; phone E.164 (default region
// CN); url with scheme; date "YYYY-MM-DD"; datetime RFC 3339 in UTC; select an option value;
// multiselect a list of option values in option order; boolean true/false; user/team/relation
// a UUID string (a list when multiple); attachment a list of {"id"} to be filled from files.
func Normalize(f *spec.Field, v any, path string, errs *spec.Errors) any {
	if isEmpty(v) {
		return nil
	}
	bad := func(code, format string, args ...any) any {
		errs.Add(path, code, format, args...)
		return nil
	}
	switch f.Type {
	case spec.TypeText, spec.TypeTextarea:
		s, ok := textOf(v)
		if !ok {
			return bad("invalid_type", "expected a text (应为文本)")
		}
		if f.Type == spec.TypeText {
			s = strings.TrimSpace(s)
		}
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return bad("invalid_value", "the text is not valid UTF-8 or contains NUL (文本编码无效)")
		}
		max := f.MaxLength
		if max <= 0 {
			max = MaxTextLength
			if f.Type == spec.TypeTextarea {
				max = MaxTextareaLength
			}
		}
		if n := utf8.RuneCountInString(s); n > max {
			return bad("too_long", "at most %d characters (最多 %d 个字符)", max, max)
		}
		if f.Pattern != "" {
			if re := pattern(f.Pattern); re != nil && !re.MatchString(s) {
				return bad("pattern", "does not match the required format (格式不正确)")
			}
		}
		if s == "" {
			return nil
		}
		return s
	case spec.TypeNumber, spec.TypeMoney, spec.TypePercent:
		n, ok := numberOf(v)
		if !ok {
			return bad("invalid_type", "expected a number (应为数字)")
		}
		prec := -1
		if f.Precision != nil {
			prec = *f.Precision
		} else if f.Type == spec.TypeMoney {
			prec = 2
		}
		if prec >= 0 && prec <= 10 {
			p := math.Pow(10, float64(prec))
			n = math.Round(n*p) / p
		}
		if f.Min != nil && n < *f.Min {
			return bad("too_small", "must be at least %v (不能小于 %v)", *f.Min, *f.Min)
		}
		if f.Max != nil && n > *f.Max {
			return bad("too_large", "must be at most %v (不能大于 %v)", *f.Max, *f.Max)
		}
		return n
	case spec.TypeEmail:
		s, ok := v.(string)
		if !ok {
			return bad("invalid_type", "expected an email address (应为邮箱地址)")
		}
		s = strings.ToLower(strings.TrimSpace(s))
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") || len(s) > 254 {
			return bad("invalid_email", "not a valid email address (邮箱地址无效)")
		}
		return s
	case spec.TypePhone:
		s, ok := textOf(v)
		if !ok {
			return bad("invalid_type", "expected a phone number (应为电话号码)")
		}
		e, ok := NormalizePhone(s, f.Region)
		if !ok {
			return bad("invalid_phone", "not a valid phone number (电话号码无效)")
		}
		return e
	case spec.TypeURL:
		s, ok := v.(string)
		if !ok {
			return bad("invalid_type", "expected a URL (应为网址)")
		}
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "://") {
			s = "https://" + s
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(s, " \t\r\n") || len(s) > 2048 {
			return bad("invalid_url", "not a valid http(s) URL (网址无效)")
		}
		if u.User != nil {
			// https://bank.example@evil.example reads like a link to the bank
			return bad("invalid_url", "a link must not contain a user name or password (网址不能包含用户名或密码)")
		}
		out := u.String()
		if !isASCII(u.Host) {
			// keep an internationalised host readable (url.URL.String percent-encodes it)
			v := *u
			v.Host = "h.invalid"
			out = strings.Replace(v.String(), "://h.invalid", "://"+u.Host, 1)
		}
		return out
	case spec.TypeDate, spec.TypeDatetime:
		var t time.Time
		switch x := v.(type) {
		case string:
			var err error
			if t, err = filter.ParseTime(x); err != nil {
				if f.Type == spec.TypeDatetime {
					return bad("invalid_date", "expected an ISO 8601 date-time such as 2026-01-31T09:00:00+08:00 (时间格式应为 2026-01-31T09:00:00+08:00)")
				}
				return bad("invalid_date", "expected an ISO 8601 date such as 2026-01-31 (日期格式应为 2026-01-31)")
			}
		case time.Time:
			t = x
		default:
			return bad("invalid_type", "expected a date (应为日期)")
		}
		// RFC 3339 has four-digit years: an offset must not push a time out of 0001..9999 UTC
		// (9999-12-31T23:00:00-05:00 would be stored as a five-digit year nothing can parse back).
		if u := t.UTC(); u.Year() < 1 || u.Year() > 9999 {
			return bad("invalid_date", "the date must be between the years 1 and 9999 (日期须在公元 1 年至 9999 年之间)")
		}
		if f.Type == spec.TypeDate {
			return t.Format("2006-01-02")
		}
		return t.UTC().Format(time.RFC3339Nano)
	case spec.TypeSelect:
		s, ok := textOf(v)
		if !ok {
			return bad("invalid_type", "expected one of the options (应为选项之一)")
		}
		if o := option(f, s); o != "" {
			return o
		}
		return bad("invalid_option", "%q is not one of the options (不是有效选项)", truncate(s))
	case spec.TypeMultiselect:
		items, ok := listOf(v)
		if !ok {
			return bad("invalid_type", "expected a list of options (应为选项列表)")
		}
		chosen := map[string]bool{}
		for _, it := range items {
			s, ok := textOf(it)
			o := option(f, s)
			if !ok || o == "" {
				return bad("invalid_option", "%q is not one of the options (不是有效选项)", truncate(s))
			}
			chosen[o] = true
		}
		out := []any{}
		for _, o := range f.Options {
			if chosen[o.Value] {
				out = append(out, o.Value)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case spec.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "yes", "1", "on", "是":
				return true
			case "false", "no", "0", "off", "否":
				return false
			}
		case json.Number:
			if x == "1" || x == "0" {
				return x == "1"
			}
		case float64:
			if x == 1 || x == 0 {
				return x == 1
			}
		}
		return bad("invalid_type", "expected true or false (应为是或否)")
	case spec.TypeUser, spec.TypeTeam, spec.TypeRelation:
		if f.Multiple {
			items, ok := listOf(v)
			if !ok {
				return bad("invalid_type", "expected a list of ids (应为 ID 列表)")
			}
			out := []any{}
			seen := map[string]bool{}
			for _, it := range items {
				id, ok := idOf(it)
				if !ok {
					return bad("invalid_id", "expected an id (应为 ID)")
				}
				if !seen[id] {
					seen[id] = true
					out = append(out, id)
				}
			}
			if len(out) == 0 {
				return nil
			}
			return out
		}
		id, ok := idOf(v)
		if !ok {
			return bad("invalid_id", "expected an id (应为 ID)")
		}
		return id
	case spec.TypeAttachment:
		items, ok := listOf(v)
		if !ok {
			return bad("invalid_type", `expected a list of files [{"id": "..."}] (应为文件列表)`)
		}
		out := []any{}
		seen := map[string]bool{}
		for _, it := range items {
			var id string
			switch x := it.(type) {
			case map[string]any:
				id, ok = idOf(x["id"])
			default:
				id, ok = idOf(x)
			}
			if !ok {
				return bad("invalid_id", `each file needs an "id" from POST /api/v1/files (文件缺少 id)`)
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, map[string]any{"id": id})
			}
		}
		if !f.Multiple && len(out) > 1 {
			return bad("too_many", "only one file is allowed (只能上传一个文件)")
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case spec.TypeLines:
		return normalizeLines(f, v, path, errs)
	case spec.TypeAutonumber, spec.TypeFormula:
		return bad("read_only", "the value is computed and cannot be set (该字段由系统计算)")
	default:
		return bad("invalid_type", "unsupported field type %q", f.Type)
	}
}

// NormalizePhone parses s as a phone number (default region CN, or region) and returns its
// E.164 form.
func NormalizePhone(s, region string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 40 {
		return "", false
	}
	if region == "" {
		region = "CN"
	}
	n, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// isEmpty reports whether v counts as no value (nil, "", [], {}).
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// thousands matches a number written with comma thousands separators.
var thousands = regexp.MustCompile(`^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$`)

func numberOf(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = strconv.ParseFloat(x.String(), 64); err != nil {
			return 0, false
		}
	case string:
		s := strings.TrimSuffix(strings.TrimSpace(x), "%")
		if strings.Contains(s, ",") {
			// Commas only as thousands separators: "1,000" and "1,234.5", not "1,,0" or "1,2".
			if !thousands.MatchString(s) {
				return 0, false
			}
			s = strings.ReplaceAll(s, ",", "")
		}
		var err error
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return 0, false
	}
	return f, true
}

func listOf(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		if len(x) > MaxListLength {
			return nil, false
		}
		return x, true
	case string, map[string]any, json.Number:
		return []any{x}, true
	}
	return nil, false
}

func idOf(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	id, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", false
	}
	return id.String(), true
}

func option(f *spec.Field, s string) string {
	for _, o := range f.Options {
		if o.Value == s {
			return o.Value
		}
	}
	for _, o := range f.Options {
		for _, l := range o.Label {
			if l != "" && l == s {
				return o.Value
			}
		}
	}
	return ""
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

var patterns sync.Map // pattern -> *regexp.Regexp (nil when invalid)

func pattern(p string) *regexp.Regexp {
	if v, ok := patterns.Load(p); ok {
		re, _ := v.(*regexp.Regexp)
		return re
	}
	re, err := regexp.Compile(p)
	if err != nil {
		re = nil
	}
	patterns.Store(p, re)
	return re
}

// ValidateValues normalises the values of a write against ent without database look-ups.
// partial is true for updates (missing fields are left alone). hidden fields are treated as
// unknown; it returns the normalised values (nil for cleared fields) and field errors.
func ValidateValues(ent *spec.Entity, values map[string]any, hidden map[string]bool) (map[string]any, spec.Errors) {
	var errs spec.Errors
	out := make(map[string]any, len(values))
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := ent.Field(k)
		if f == nil || hidden[k] {
			errs.Add(k, "unknown_field", "unknown field %q (未知字段)", truncate(k))
			continue
		}
		out[k] = Normalize(f, values[k], k, &errs)
	}
	return out, errs
}

// fieldLabel names a field for messages.
func fieldLabel(f *spec.Field) string {
	return f.Label.Text("en", f.Key)
}

// requiredError reports a missing required field, unless the field already has an error (a
// value that failed validation is not also reported as missing).
func requiredError(errs *spec.Errors, f *spec.Field) {
	for _, e := range *errs {
		if e.Field == f.Key {
			return
		}
	}
	errs.Add(f.Key, "required", "%s is required (%s 为必填项)", fieldLabel(f), f.Label.Text("zh-CN", f.Key))
}
