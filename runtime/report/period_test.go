package report

import (
	"testing"
	"time"
)

func TestPeriodRange(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	// Sunday 2026-11-22 20:30 UTC is Monday 2026-11-23 04:30 in Shanghai.
	now := time.Date(2026, 11, 22, 20, 30, 0, 0, time.UTC)
	cases := []struct{ name, from, to string }{
		{"today", "2026-11-23", "2026-11-24"},
		{"yesterday", "2026-11-22", "2026-11-23"},
		{"this_week", "2026-11-23", "2026-11-30"},
		{"last_week", "2026-11-16", "2026-11-23"},
		{"this_month", "2026-11-01", "2026-12-01"},
		{"last_month", "2026-10-01", "2026-11-01"},
		{"this_quarter", "2026-10-01", "2027-01-01"},
		{"last_quarter", "2026-07-01", "2026-10-01"},
		{"this_year", "2026-01-01", "2027-01-01"},
		{"last_year", "2025-01-01", "2026-01-01"},
		{"last_7_days", "2026-11-17", "2026-11-24"},
		{"last_30_days", "2026-10-25", "2026-11-24"},
	}
	for _, c := range cases {
		from, to, err := PeriodRange(c.name, now, sh)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := from.Format("2006-01-02") + ".." + to.Format("2006-01-02"); got != c.from+".."+c.to {
			t.Errorf("%s: %s, want %s..%s", c.name, got, c.from, c.to)
		}
		if from.Location() != sh || from.Hour() != 0 || to.Hour() != 0 {
			t.Errorf("%s: bounds not at midnight in the app's zone: %v %v", c.name, from, to)
		}
	}
	if _, _, err := PeriodRange("fortnight", now, sh); err == nil {
		t.Error("unknown period accepted")
	}
}
