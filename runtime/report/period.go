package report

import (
	"fmt"
	"strings"
	"time"
)

// PeriodRange answers the date range [from, to) a named period covers at now in tz: today,
// yesterday, this_week, last_week (weeks start on Monday), this_month, last_month,
// this_quarter, last_quarter, this_year, last_year, last_7_days and last_30_days (both end
// with today).
func PeriodRange(name string, now time.Time, tz *time.Location) (from, to time.Time, err error) {
	n := now.In(tz)
	day := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, tz)
	week := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	month := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, tz)
	quarter := time.Date(n.Year(), time.Month((int(n.Month())-1)/3*3+1), 1, 0, 0, 0, 0, tz)
	year := time.Date(n.Year(), 1, 1, 0, 0, 0, 0, tz)
	switch name {
	case "today":
		return day, day.AddDate(0, 0, 1), nil
	case "yesterday":
		return day.AddDate(0, 0, -1), day, nil
	case "this_week":
		return week, week.AddDate(0, 0, 7), nil
	case "last_week":
		return week.AddDate(0, 0, -7), week, nil
	case "this_month":
		return month, month.AddDate(0, 1, 0), nil
	case "last_month":
		return month.AddDate(0, -1, 0), month, nil
	case "this_quarter":
		return quarter, quarter.AddDate(0, 3, 0), nil
	case "last_quarter":
		return quarter.AddDate(0, -3, 0), quarter, nil
	case "this_year":
		return year, year.AddDate(1, 0, 0), nil
	case "last_year":
		return year.AddDate(-1, 0, 0), year, nil
	case "last_7_days":
		return day.AddDate(0, 0, -6), day.AddDate(0, 0, 1), nil
	case "last_30_days":
		return day.AddDate(0, 0, -29), day.AddDate(0, 0, 1), nil
	}
	return time.Time{}, time.Time{}, fmt.Errorf("unknown period %[1]q (未知的时间段 %[1]q)", name)
}

// ParseTime reads a date parameter: RFC 3339, or YYYY-MM-DD at midnight in tz (with endOfDay,
// the midnight after it, so a date-only "to" includes that day). ok is false for anything else.
func ParseTime(raw string, tz *time.Location, endOfDay bool) (t time.Time, ok bool) {
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02", raw, tz); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, true
	}
	return time.Time{}, false
}

// CSVSafe keeps spreadsheet apps from running text as a formula (CSV injection): text that
// starts with = + - @ or a tab/carriage return gets a leading apostrophe, which Excel and WPS
// show as plain text. Callers pass text cells only; numbers are written unchanged.
func CSVSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
