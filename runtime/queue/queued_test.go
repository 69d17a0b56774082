package queue

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// TestQueuedTimeCountsAgainstDeadline: a working's deadline runs from when its job became ready,
// not from when a worker fetched it, with a floor for jobs that waited very long.
func TestQueuedTimeCountsAgainstDeadline(t *testing.T) {
	now := time.Now()
	const timeout = 2 * time.Minute
	cases := []struct {
		name      string
		job       rivertype.JobRow
		args      RunArgs
		wantReady time.Time
		wantLeft  time.Duration // deadline - now
	}{
		{"fresh job", rivertype.JobRow{CreatedAt: now}, RunArgs{}, now, timeout},
		{"queued 90s", rivertype.JobRow{CreatedAt: now.Add(-90 * time.Second)}, RunArgs{}, now.Add(-90 * time.Second), 30 * time.Second},
		{"queued 10 min gets the floor", rivertype.JobRow{CreatedAt: now.Add(-10 * time.Minute)}, RunArgs{}, now.Add(-10 * time.Minute), timeout / 4},
		{"woken 60s late", rivertype.JobRow{CreatedAt: now.Add(-time.Hour)}, RunArgs{At: now.Add(-time.Minute).UnixMilli()}, time.UnixMilli(now.Add(-time.Minute).UnixMilli()), time.Minute},
		{"retried after an error", rivertype.JobRow{CreatedAt: now.Add(-time.Hour), ScheduledAt: now.Add(-20 * time.Second),
			Errors: []rivertype.AttemptError{{Error: "boom"}}}, RunArgs{}, now.Add(-20 * time.Second), 100 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row := c.job
			job := &river.Job[RunArgs]{JobRow: &row, Args: c.args}
			ctx, cancel := workContext(context.Background(), job, timeout)
			defer cancel()
			ready, ok := ReadyAt(ctx)
			if !ok || !ready.Equal(c.wantReady) {
				t.Fatalf("ready %v, want %v", ready, c.wantReady)
			}
			d, _ := ctx.Deadline()
			if left := d.Sub(now); left < c.wantLeft-time.Second || left > c.wantLeft+time.Second {
				t.Fatalf("deadline in %s, want %s", left, c.wantLeft)
			}
		})
	}
}
