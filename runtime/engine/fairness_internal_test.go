package engine

import (
	"errors"
	"testing"

	"github.com/google/uuid"
)

// TestAppSlotsYieldToIdleCapacity: under the cap a slot is always taken (without asking who
// waits); at the cap it is taken only when no other app waits, never at the ceiling; the
// question's error is the answer's error.
func TestAppSlotsYieldToIdleCapacity(t *testing.T) {
	app := uuid.New()
	boom := errors.New("boom")
	cases := []struct {
		name       string
		used       int
		others     bool
		err        error
		want       bool
		wantErr    error
		wantAsked  bool
		wantUsedTo int
	}{
		{name: "under the cap", used: 1, want: true, wantUsedTo: 2},
		{name: "under the cap, others waiting", used: 1, others: true, want: true, wantUsedTo: 2},
		{name: "at the cap, alone", used: 2, want: true, wantAsked: true, wantUsedTo: 3},
		{name: "at the cap, others waiting", used: 2, others: true, wantAsked: true, wantUsedTo: 2},
		{name: "at the ceiling, alone", used: 4, wantUsedTo: 4},
		{name: "the question fails", used: 3, err: boom, wantErr: boom, wantAsked: true, wantUsedTo: 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s appSlots
			for range c.used {
				s.take(app, 100, 100, nil)
			}
			asked := false
			got, err := s.take(app, 2, 4, func() (bool, error) { asked = true; return c.others, c.err })
			if got != c.want || !errors.Is(err, c.wantErr) || asked != c.wantAsked || s.used[app] != c.wantUsedTo {
				t.Fatalf("take = %v, %v (asked %v, used %d); want %v, %v (asked %v, used %d)", got, err, asked, s.used[app], c.want, c.wantErr, c.wantAsked, c.wantUsedTo)
			}
		})
	}
}
