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
				s.take(app, queuedRun, 100, 100, nil)
			}
			asked := false
			got, err := s.take(app, queuedRun, 2, 4, func() (bool, error) { asked = true; return c.others, c.err })
			if got != c.want || !errors.Is(err, c.wantErr) || asked != c.wantAsked || s.total(app) != c.wantUsedTo {
				t.Fatalf("take = %v, %v (asked %v, used %d); want %v, %v (asked %v, used %d)", got, err, asked, s.total(app), c.want, c.wantErr, c.wantAsked, c.wantUsedTo)
			}
		})
	}
}

// TestAppSlotsCeilingPerKind: the cap counts both kinds of run; each kind has its own ceiling,
// so an app at its queued ceiling may still take an inline slot when nobody else waits, and a
// release gives back the slot of its own kind.
func TestAppSlotsCeilingPerKind(t *testing.T) {
	app := uuid.New()
	alone := func() (bool, error) { return false, nil }
	var s appSlots
	for i := range 3 {
		if ok, _ := s.take(app, queuedRun, 2, 3, alone); !ok {
			t.Fatalf("queued take %d refused under the ceiling of 3", i+1)
		}
	}
	if ok, _ := s.take(app, queuedRun, 2, 3, alone); ok {
		t.Fatal("a 4th queued run past the ceiling of 3")
	}
	if ok, _ := s.take(app, inlineRun, 2, 3, alone); !ok {
		t.Fatal("an inline run refused although no inline slot of the app is taken")
	}
	if ok, _ := s.take(app, inlineRun, 2, 3, func() (bool, error) { return true, nil }); ok {
		t.Fatal("an inline run past the cap while another app waits")
	}
	s.release(app, queuedRun)
	if s.total(app) != 3 || s.of(app, queuedRun) != 2 || s.of(app, inlineRun) != 1 {
		t.Fatalf("after a release: used %d, queued %d, inline %d; want 3, 2, 1", s.total(app), s.of(app, queuedRun), s.of(app, inlineRun))
	}
}
