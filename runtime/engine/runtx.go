package engine

import (
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/runtime/pgtx"
)

// A one-transaction working's transaction begins with its first statement (pgtx.Lazy): BEGIN,
// the run's lock (migrations/00155_lock_run_function.sql) and that statement go in one round trip
// (#18; a working whose only statement is its last sends BEGIN, the lock, its steps and COMMIT
// at once). When another working holds the run's lock, or has worked the run meanwhile, the
// lock call fails, which aborts the transaction: the statements sent with it never run, and the
// working is busy.

const lockRunSQL = `SELECT tessera_lock_run($1, $2)`

// runTx is the lazy transaction of a working of run on conn.
func runTx(conn *pgxpool.Conn, run uuid.UUID) *pgtx.Lazy {
	return &pgtx.Lazy{Send: conn.SendBatch, Prefix: []*pgx.QueuedQuery{{SQL: lockRunSQL, Arguments: []any{lockKey(run), run}}}}
}

// busy reports a working whose run another working holds or has worked (runTx's lock failed).
func busy(tx pgx.Tx) bool {
	l, ok := tx.(*pgtx.Lazy)
	var pgErr *pgconn.PgError
	return ok && errors.As(l.PrefixErr, &pgErr) && pgErr.Code == "55P03"
}
