package db

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// StallAfter is how long every pool connection may stay taken with no acquire finishing before
// WatchPool reports the pool as stalled.
var StallAfter = 30 * time.Second

// WatchPool samples the pool every `every` until ctx ends and logs an error with the pool's
// figures when it stalls: every connection taken and no acquire finished for StallAfter. A stall means connections are held without being used (a transaction kept open
// while waiting for a second connection, a leaked rows object); the log line is the starting
// point for finding the holder. It answers how many stalls it reported (tests).
func WatchPool(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, every time.Duration) int {
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var lastAcquires int64
	var since time.Time
	reported := 0
	for {
		select {
		case <-ctx.Done():
			return reported
		case <-t.C:
		}
		st := pool.Stat()
		full := st.AcquiredConns() >= st.MaxConns() && st.MaxConns() > 0
		if !full || st.AcquireCount() != lastAcquires {
			lastAcquires, since = st.AcquireCount(), time.Time{}
			continue
		}
		if since.IsZero() {
			since = time.Now()
			continue
		}
		if time.Since(since) >= StallAfter {
			reported++
			log.Error("db: connection pool stalled: every connection is taken and no acquire finished",
				"for", time.Since(since).Round(time.Second), "max_conns", st.MaxConns(), "acquired", st.AcquiredConns(),
				"idle", st.IdleConns(), "constructing", st.ConstructingConns(), "acquire_total", st.AcquireCount(),
				"empty_acquire_total", st.EmptyAcquireCount(), "canceled_acquire_total", st.CanceledAcquireCount())
			since = time.Now()
		}
	}
}
