package filter

import (
	"regexp"
	"strconv"
	"time"
)

// Now is the clock relative periods are counted from (tests replace it).
var Now = time.Now

// Location is the time zone calendar periods (today, this month, ...) are counted in.
var Location = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

var relativeN = regexp.MustCompile(`^(last|next)_([0-9]{1,4})_(days|hours)$`)

// PeriodRange returns the half-open range [from, to) of a relative period at now (in now's
// location): today, yesterday, this_week / last_week (weeks start on Monday), this_month,
// last_month, this_quarter, last_quarter, this_year, last_year, last_N_days (today and the
// N-1 days before), next_N_days (today and the N days after), last_N_hours (the N hours up to
// now).
func PeriodRange(name string, now time.Time) (from, to time.Time, ok bool) {
	y, m, d := now.Date()
	loc := now.Location()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	weekday := (int(day.Weekday()) + 6) % 7 // Monday = 0
	month := time.Date(y, m, 1, 0, 0, 0, 0, loc)
	quarter := time.Date(y, time.Month((int(m)-1)/3*3+1), 1, 0, 0, 0, 0, loc)
	year := time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	switch name {
	case "today":
		return day, day.AddDate(0, 0, 1), true
	case "yesterday":
		return day.AddDate(0, 0, -1), day, true
	case "this_week":
		start := day.AddDate(0, 0, -weekday)
		return start, start.AddDate(0, 0, 7), true
	case "last_week":
		start := day.AddDate(0, 0, -weekday-7)
		return start, start.AddDate(0, 0, 7), true
	case "this_month":
		return month, month.AddDate(0, 1, 0), true
	case "last_month":
		return month.AddDate(0, -1, 0), month, true
	case "this_quarter":
		return quarter, quarter.AddDate(0, 3, 0), true
	case "last_quarter":
		return quarter.AddDate(0, -3, 0), quarter, true
	case "this_year":
		return year, year.AddDate(1, 0, 0), true
	case "last_year":
		return year.AddDate(-1, 0, 0), year, true
	}
	if m := relativeN.FindStringSubmatch(name); m != nil {
		n, _ := strconv.Atoi(m[2])
		if n < 1 {
			return time.Time{}, time.Time{}, false
		}
		switch {
		case m[3] == "hours" && m[1] == "last":
			return now.Add(-time.Duration(n) * time.Hour), now.Add(time.Nanosecond), true
		case m[3] == "hours":
			return now, now.Add(time.Duration(n) * time.Hour), true
		case m[1] == "last":
			return day.AddDate(0, 0, -(n - 1)), day.AddDate(0, 0, 1), true
		default:
			return day, day.AddDate(0, 0, n+1), true
		}
	}
	return time.Time{}, time.Time{}, false
}
