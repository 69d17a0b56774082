package report

import (
	"fmt"
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
