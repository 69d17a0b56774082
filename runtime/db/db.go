// Package db opens the shared PostgreSQL connection pool used by GORM, River and raw pgx code.
package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DB bundles one pgx pool with the database/sql and GORM handles built on it.
type DB struct {
	Pool *pgxpool.Pool
	SQL  *sql.DB
	Gorm *gorm.DB
	DSN  string
}

// DefaultPoolSize is the connections a process opens when DATABASE_URL does not say
// (pool_max_conns=N): chosen from the record-create measurement at 1/8/32 client connections
// (`go run ./scripts/bench -only=pool`, docs/performance.md).
const DefaultPoolSize = 20

// Open connects to dsn and verifies the connection.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenTraced(ctx, dsn, nil)
}

// OpenTraced is Open with a query tracer on every connection (tests count statements with it).
func OpenTraced(ctx context.Context, dsn string, tracer pgx.QueryTracer) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("db: parsing DATABASE_URL: %w", err)
	}
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = DefaultPoolSize
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerUUID(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: connecting: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: ping: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	g, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Default.LogMode(logger.Silent),
		SkipDefaultTransaction: true,
		TranslateError:         true,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: opening gorm: %w", err)
	}
	return &DB{Pool: pool, SQL: sqlDB, Gorm: g, DSN: dsn}, nil
}

// Close releases every connection.
func (d *DB) Close() {
	if d == nil {
		return
	}
	_ = d.SQL.Close()
	d.Pool.Close()
}
