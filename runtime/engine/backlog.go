package engine

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/tessera/tessera/runtime/queue"
)

// Back-pressure. Intake (webhooks, manual runs) answers 429 with Retry-After instead of
// accepting runs it cannot finish soon: when the queued backlog exceeds BacklogSeconds of work.
// The backlog is the number of flow jobs ready and not yet worked (sampled every second); the
// rate is the runs this process finished per second (a moving average), at least
// minBacklogRate (a process that works no runs, role api, has no rate of its own).

const minBacklogRate = 50.0

var (
	metricBacklog = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "tessera_flow_backlog_runs", Help: "Flow runs ready to work and not yet worked (sampled every second).",
	})
	metricBacklogSeconds = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "tessera_flow_backlog_seconds", Help: "Estimated seconds of work in the flow backlog (backlog / completion rate).",
	})
	metricRunLatency = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "tessera_flow_run_seconds", Help: "Time from a run's acceptance to its end (finished or parked), by how it was worked.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"worked"})
)

type backlog struct {
	once    sync.Once
	stop    context.CancelFunc
	done    atomic.Int64 // runs finished since the last sample
	rate    atomic.Uint64
	pending atomic.Int64
}

func (b *backlog) finished() { b.done.Add(1) }

// OverloadedFor reports whether intake should refuse a run now and when to retry: the backlog
// exceeds limit seconds of work (limit 0: never).
func (e *Engine) OverloadedFor(limit time.Duration) (time.Duration, bool) {
	if limit <= 0 {
		return 0, false
	}
	e.WatchBacklog()
	secs := e.backlogSeconds()
	if secs <= limit.Seconds() {
		return 0, false
	}
	return time.Duration(math.Ceil(secs-limit.Seconds())) * time.Second, true
}

// WatchBacklog starts sampling the backlog every second (once; Close stops it), so that
// /metrics shows tessera_flow_backlog_runs and tessera_flow_backlog_seconds whether or not
// intake refuses work over a backlog.
func (e *Engine) WatchBacklog() {
	e.backlog.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		e.backlog.stop = cancel
		go e.sampleBacklog(ctx, time.Second)
	})
}

func (e *Engine) backlogSeconds() float64 {
	rate := math.Float64frombits(e.backlog.rate.Load())
	return float64(e.backlog.pending.Load()) / max(rate, minBacklogRate)
}

// sampleBacklog counts the ready flow jobs and updates the completion rate every interval.
func (e *Engine) sampleBacklog(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	last := time.Now()
	for {
		var n int64
		if err := e.Pool.QueryRow(ctx, `SELECT count(*) /* tessera:background */ FROM river_job
			WHERE queue = $1 AND state = 'available' AND scheduled_at <= now()`, queue.QueueName).Scan(&n); err == nil {
			e.backlog.pending.Store(n)
			metricBacklog.Set(float64(n))
		}
		now := time.Now()
		inst := float64(e.backlog.done.Swap(0)) / now.Sub(last).Seconds()
		last = now
		old := math.Float64frombits(e.backlog.rate.Load())
		e.backlog.rate.Store(math.Float64bits(0.5*old + 0.5*inst))
		metricBacklogSeconds.Set(e.backlogSeconds())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
