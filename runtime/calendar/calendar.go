// Package calendar computes business time: working days and hours, holidays and make-up working
// days in a time zone, so timers and SLAs can count working hours.
package calendar

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// DefaultTimezone is the zone of timers and crons that name none.
const DefaultTimezone = "Asia/Shanghai"

// Span is a working interval within a day, "09:00" to "18:00".
type Span struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Config is the JSON form of a calendar (app settings `{"calendar": {...}}`).
type Config struct {
	Timezone string `json:"timezone,omitempty"`
	// Workdays are the working weekdays, 0 = Sunday .. 6 = Saturday (default Monday to Friday).
	Workdays []int `json:"workdays,omitempty"`
	// Hours are the working spans of a working day (default 09:00-12:00 and 13:00-18:00).
	Hours []Span `json:"hours,omitempty"`
	// Holidays are dates ("2026-10-01") that are not worked.
	Holidays []string `json:"holidays,omitempty"`
	// Workdays on otherwise free days (make-up working days, 调休), "2026-10-11".
	ExtraWorkdays []string `json:"extra_workdays,omitempty"`
}

// Calendar is a compiled business calendar.
type Calendar struct {
	loc      *time.Location
	workdays [7]bool
	spans    [][2]int // minutes from midnight, sorted, non-overlapping
	holidays map[string]bool
	extra    map[string]bool
}

// Default is Monday to Friday, 09:00-12:00 and 13:00-18:00, Asia/Shanghai, no holidays.
func Default() *Calendar {
	c, _ := New(Config{})
	return c
}

// Parse reads a calendar from JSON; empty input gives Default.
func Parse(b []byte) (*Calendar, error) {
	if len(b) == 0 || string(b) == "null" {
		return Default(), nil
	}
	var cfg Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return New(cfg)
}

// FromAppSettings reads the "calendar" key of an app's settings JSON (Default when absent).
func FromAppSettings(settings []byte) (*Calendar, error) {
	var s struct {
		Calendar json.RawMessage `json:"calendar"`
	}
	if len(settings) > 0 {
		if err := json.Unmarshal(settings, &s); err != nil {
			return nil, fmt.Errorf("calendar: app settings: %w", err)
		}
	}
	return Parse(s.Calendar)
}

// New compiles cfg.
func New(cfg Config) (*Calendar, error) {
	tz := cfg.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("calendar: time zone %q: %w", tz, err)
	}
	c := &Calendar{loc: loc, holidays: map[string]bool{}, extra: map[string]bool{}}
	days := cfg.Workdays
	if len(days) == 0 {
		days = []int{1, 2, 3, 4, 5}
	}
	for _, d := range days {
		if d < 0 || d > 6 {
			return nil, fmt.Errorf("calendar: workday %d is not 0 (Sunday) to 6 (Saturday)", d)
		}
		c.workdays[d] = true
	}
	hours := cfg.Hours
	if len(hours) == 0 {
		hours = []Span{{"09:00", "12:00"}, {"13:00", "18:00"}}
	}
	for _, h := range hours {
		s, err1 := minutes(h.Start)
		e, err2 := minutes(h.End)
		if err1 != nil || err2 != nil || e <= s {
			return nil, fmt.Errorf("calendar: working hours %q-%q must be HH:MM with start before end", h.Start, h.End)
		}
		c.spans = append(c.spans, [2]int{s, e})
	}
	sort.Slice(c.spans, func(i, j int) bool { return c.spans[i][0] < c.spans[j][0] })
	for i := 1; i < len(c.spans); i++ {
		if c.spans[i][0] < c.spans[i-1][1] {
			return nil, fmt.Errorf("calendar: working hours overlap")
		}
	}
	for _, d := range cfg.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("calendar: holiday %q is not YYYY-MM-DD", d)
		}
		c.holidays[d] = true
	}
	for _, d := range cfg.ExtraWorkdays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("calendar: extra workday %q is not YYYY-MM-DD", d)
		}
		c.extra[d] = true
	}
	return c, nil
}

func minutes(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * 60, nil
		}
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsWorkday reports whether the day of t (in the calendar's zone) is worked.
func (c *Calendar) IsWorkday(t time.Time) bool {
	t = t.In(c.loc)
	key := t.Format(time.DateOnly)
	if c.extra[key] {
		return true
	}
	if c.holidays[key] {
		return false
	}
	return c.workdays[t.Weekday()]
}

// IsWorkingTime reports whether t falls inside working hours of a working day.
func (c *Calendar) IsWorkingTime(t time.Time) bool {
	t = t.In(c.loc)
	if !c.IsWorkday(t) {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	for _, s := range c.spans {
		if m >= s[0] && m < s[1] {
			return true
		}
	}
	return false
}

// AddWorkingDuration returns the instant when d of working time has passed after t: only time
// inside working hours of working days counts. d <= 0 returns t.
func (c *Calendar) AddWorkingDuration(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	cur := t.In(c.loc)
	for range 3700 { // at most ~10 years of days
		day := time.Date(cur.Year(), cur.Month(), cur.Day(), 0, 0, 0, 0, c.loc)
		if c.IsWorkday(day) {
			for _, s := range c.spans {
				start := day.Add(time.Duration(s[0]) * time.Minute)
				end := day.Add(time.Duration(s[1]) * time.Minute)
				if !end.After(cur) {
					continue
				}
				if start.Before(cur) {
					start = cur
				}
				if avail := end.Sub(start); avail >= d {
					return start.Add(d).In(t.Location())
				} else {
					d -= avail
				}
				cur = end
			}
		}
		cur = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, c.loc)
	}
	return cur.In(t.Location())
}

// WorkingDuration returns the working time between a and b (0 when b is before a).
func (c *Calendar) WorkingDuration(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var total time.Duration
	cur := a.In(c.loc)
	for !cur.After(b) {
		day := time.Date(cur.Year(), cur.Month(), cur.Day(), 0, 0, 0, 0, c.loc)
		if c.IsWorkday(day) {
			for _, s := range c.spans {
				start := day.Add(time.Duration(s[0]) * time.Minute)
				end := day.Add(time.Duration(s[1]) * time.Minute)
				if start.Before(a) {
					start = a
				}
				if end.After(b) {
					end = b
				}
				if end.After(start) {
					total += end.Sub(start)
				}
			}
		}
		cur = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, c.loc)
	}
	return total
}
