// Package exprfn holds the helper functions every expr-lang expression of the platform can call
// (stage gates, formulas, flow conditions and parameters, trigger and wait conditions), so an
// expression written by the condition builder evaluates the same wherever it is used.
//
//	hoursBetween(a, b)  absolute hours between two times (time values or ISO strings);
//	                    +Inf when either is missing, so "<= 72" is false
//	daysBetween(a, b)   the same in days
//	toTime(s)           parses an ISO date or date-time (nil when empty or invalid)
//	isEmpty(v)          true for nil, "" (or blanks), [] and {}
//	before(a, b)        a is earlier than b (both times or ISO strings); false when either is missing
//	after(a, b)         a is later than b; false when either is missing
package exprfn

import (
	"errors"
	"math"
	"strings"
	"time"

	"github.com/expr-lang/expr"
)

// Layouts are the date and date-time forms the helpers parse (RFC 3339 with or without
// fractional seconds, ISO without zone = UTC, date only).
var layouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

// ToTime reads a time value or an ISO date/date-time string.
func ToTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, !x.IsZero()
	case *time.Time:
		if x != nil {
			return *x, !x.IsZero()
		}
	case string:
		s := strings.TrimSpace(x)
		for _, layout := range layouts {
			if t, err := time.Parse(layout, s); err == nil && t.Year() >= 1 && t.Year() <= 9999 {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// IsEmpty reports whether v counts as no value (nil, "" or blanks, [], {}).
func IsEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func between(unit time.Duration) func(params ...any) (any, error) {
	return func(params ...any) (any, error) {
		if len(params) != 2 {
			return nil, errors.New("expects two times")
		}
		a, ok1 := ToTime(params[0])
		b, ok2 := ToTime(params[1])
		if !ok1 || !ok2 {
			return math.Inf(1), nil
		}
		return math.Abs(float64(a.Sub(b)) / float64(unit)), nil
	}
}

func order(less bool) func(params ...any) (any, error) {
	return func(params ...any) (any, error) {
		if len(params) != 2 {
			return nil, errors.New("expects two times")
		}
		a, ok1 := ToTime(params[0])
		b, ok2 := ToTime(params[1])
		if !ok1 || !ok2 {
			return false, nil
		}
		if less {
			return a.Before(b), nil
		}
		return a.After(b), nil
	}
}

// Options returns the expr options declaring the helper functions.
func Options() []expr.Option {
	return []expr.Option{
		expr.Function("hoursBetween", between(time.Hour), new(func(any, any) float64)),
		expr.Function("daysBetween", between(24*time.Hour), new(func(any, any) float64)),
		expr.Function("toTime", func(params ...any) (any, error) {
			if t, ok := ToTime(params[0]); ok {
				return t, nil
			}
			return nil, nil
		}, new(func(any) any)),
		expr.Function("isEmpty", func(params ...any) (any, error) { return IsEmpty(params[0]), nil }, new(func(any) bool)),
		expr.Function("before", order(true), new(func(any, any) bool)),
		expr.Function("after", order(false), new(func(any, any) bool)),
	}
}
