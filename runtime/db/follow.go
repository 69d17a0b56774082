package db

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Follow keeps a cache in step with a NOTIFY channel until ctx ends: on a dedicated connection
// (not one of the pool's) it LISTENs on channel and calls drop for every notification. live is
// true only while the listener is up; a cache must not keep values while it is false, since
// nobody would tell it of a change. When the connection fails, Follow drops the cache, logs
// what (a short name for the log, e.g. "auth: identity change listener") and reconnects with a
// backoff from 100 ms to 5 s. channel must be a constant identifier, never user text.
func Follow(ctx context.Context, pool *pgxpool.Pool, channel, what string, drop func(), live *atomic.Bool, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := followOnce(ctx, pool, channel, drop, live)
		live.Store(false)
		drop()
		if ctx.Err() != nil {
			return
		}
		log.Warn(what+" dropped; not caching until it is back", "channel", channel, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func followOnce(ctx context.Context, pool *pgxpool.Pool, channel string, drop func(), live *atomic.Bool) error {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()+" /* tessera:background */"); err != nil {
		return fmt.Errorf("listening on %s: %w", channel, err)
	}
	drop() // changes made while nobody listened
	live.Store(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		drop()
	}
}
