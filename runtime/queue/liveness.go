package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Liveness of worker processes.
//
// River rescues the jobs of a crashed worker only after RescueStuckJobsAfter (minutes, since it
// must exceed the job timeout). Instead every working process holds a session advisory lock
// (livenessNS, key) on a dedicated connection for its whole life, and its River client ID ends
// in ".live<key>", so River records the key in each job's attempted_by. A reaper on every
// working process looks, every LivenessInterval, for running jobs whose last worker's lock is
// free (the process died or lost its database session) and makes them available at once. A run
// is still worked by one process at a time (the engine's per-run advisory lock) and resumes
// after its last persisted step.

// livenessNS is the first key of the liveness advisory locks ("tswl").
const livenessNS int32 = 0x7473776c

// DefaultLivenessInterval is how often a working process looks for jobs of dead workers.
const DefaultLivenessInterval = time.Second

var liveSuffix = regexp.MustCompile(`\.live[0-9]+$`)

type liveness struct {
	pool     *pgxpool.Pool
	key      int32
	id       string
	interval time.Duration
	log      *slog.Logger

	mu     sync.Mutex
	conn   *pgx.Conn
	cancel context.CancelFunc
	done   chan struct{}
}

func newLiveness(pool *pgxpool.Pool, base string, interval time.Duration, log *slog.Logger) *liveness {
	if base == "" {
		base, _ = os.Hostname()
		if base == "" {
			base = "tessera"
		}
	}
	base = liveSuffix.ReplaceAllString(base, "")
	if interval <= 0 {
		interval = DefaultLivenessInterval
	}
	key := rand.Int32N(1<<31-1) + 1
	return &liveness{pool: pool, key: key, id: fmt.Sprintf("%s.live%d", base, key), interval: interval, log: log}
}

// lock (re)opens the dedicated session and takes the process's liveness lock on it.
func (l *liveness) lock(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		if err := l.conn.Ping(ctx); err == nil {
			return nil
		}
		_ = l.conn.Close(context.Background())
		l.conn = nil
	}
	conn, err := pgx.ConnectConfig(ctx, l.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("queue: opening the liveness session: %w", err)
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2) /* tessera:background */`, livenessNS, l.key).Scan(&got); err != nil {
		_ = conn.Close(context.Background())
		return fmt.Errorf("queue: taking the liveness lock: %w", err)
	}
	if !got {
		_ = conn.Close(context.Background())
		return errors.New("queue: the liveness lock is held by another session")
	}
	l.conn = conn
	return nil
}

// reapSQL makes running jobs of dead workers available: the last attempt's worker ID names a
// liveness lock nobody holds in this database.
const reapSQL = `/* tessera:background */
UPDATE river_job j SET state = 'available', scheduled_at = now(),
  errors = array_append(coalesce(j.errors, '{}'), jsonb_build_object('at', now(), 'attempt', j.attempt,
    'error', 'worker ' || j.attempted_by[cardinality(j.attempted_by)] || ' is gone; job resumed by a live worker', 'trace', ''))
WHERE j.state = 'running' AND j.queue = $2
  AND j.attempted_by[cardinality(j.attempted_by)] ~ '\.live[0-9]+$'
  AND NOT EXISTS (
    SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = $1::bigint::oid
      AND l.objid = substring(j.attempted_by[cardinality(j.attempted_by)] from '\.live([0-9]+)$')::bigint::oid)
RETURNING j.id`

// reap makes the jobs of dead workers available and returns how many.
func (l *liveness) reap(ctx context.Context) (int, error) {
	rows, err := l.pool.Query(ctx, reapSQL, int64(livenessNS), QueueName)
	if err != nil {
		return 0, fmt.Errorf("queue: rescuing jobs of dead workers: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// start takes the lock (before River fetches a job under this ID), rescues at once and keeps
// doing both every interval.
func (l *liveness) start(ctx context.Context) error {
	if err := l.lock(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel, l.done = cancel, make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(l.interval)
		defer t.Stop()
		for {
			if err := l.lock(ctx); err != nil && ctx.Err() == nil {
				l.log.Warn("worker liveness", "error", err)
			}
			if n, err := l.reap(ctx); err != nil && ctx.Err() == nil {
				l.log.Warn("worker liveness", "error", err)
			} else if n > 0 {
				l.log.Info("resumed the jobs of dead workers", "jobs", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// stop ends the reaper and releases the lock (by closing its session).
func (l *liveness) stop() {
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		_ = l.conn.Close(context.Background())
		l.conn = nil
	}
}

// WorkerID is this process's River client ID (it names its liveness lock).
func (q *Queue) WorkerID() string {
	if q.live == nil {
		return ""
	}
	return q.live.id
}
