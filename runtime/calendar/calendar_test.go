package calendar

import (
	"testing"
	"time"
)

func TestAddWorkingDuration(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cal, err := New(Config{Holidays: []string{"2026-10-01", "2026-10-02"}, ExtraWorkdays: []string{"2026-10-10"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		start string
		d     time.Duration
		want  string
	}{
		{"inside morning", "2026-09-28 09:30", time.Hour, "2026-09-28 10:30"},
		{"skips lunch", "2026-09-28 11:30", time.Hour, "2026-09-28 13:30"},
		{"before opening", "2026-09-28 07:00", 2 * time.Hour, "2026-09-28 11:00"},
		{"overnight", "2026-09-28 17:00", 2 * time.Hour, "2026-09-29 10:00"},
		{"friday to monday", "2026-09-25 17:30", time.Hour, "2026-09-28 09:30"},
		{"holidays skipped", "2026-09-30 17:00", 2 * time.Hour, "2026-10-05 10:00"},
		{"make-up saturday", "2026-10-09 17:00", 2 * time.Hour, "2026-10-10 10:00"},
		{"full day", "2026-09-28 09:00", 8 * time.Hour, "2026-09-28 18:00"},
		{"zero", "2026-09-27 03:00", 0, "2026-09-27 03:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := cal.AddWorkingDuration(at(tc.start), tc.d)
			if !got.Equal(at(tc.want)) {
				t.Fatalf("got %s want %s", got.In(sh), tc.want)
			}
			if tc.d > 0 {
				if w := cal.WorkingDuration(at(tc.start), got); w != tc.d {
					t.Fatalf("WorkingDuration = %s, want %s", w, tc.d)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, raw := range []string{`{"timezone":"Mars/Base"}`, `{"workdays":[7]}`, `{"hours":[{"start":"18:00","end":"09:00"}]}`, `{"holidays":["10/01"]}`} {
		if _, err := Parse([]byte(raw)); err == nil {
			t.Errorf("%s: expected an error", raw)
		}
	}
	c, err := FromAppSettings([]byte(`{"calendar":{"timezone":"UTC","workdays":[0,1,2,3,4,5,6],"hours":[{"start":"00:00","end":"24:00"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC)
	if got := c.AddWorkingDuration(start, 30*time.Hour); !got.Equal(start.Add(30 * time.Hour)) {
		t.Fatalf("24x7 calendar: got %s", got)
	}
}
