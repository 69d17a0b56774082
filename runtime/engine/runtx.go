package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// runTx is an inline working's transaction, begun with its first statement: BEGIN and the run's
// lock (migrations/00155_lock_run_function.sql) go in the round trip of that statement (#18:
// one round trip fewer per working; a working whose only statement is its last sends BEGIN, the
// lock, its steps and COMMIT at once). When another working holds the run's lock, or has worked
// the run meanwhile, the lock call fails, which aborts the transaction: the statements sent with
// it never run, and busy is set.
type runTx struct {
	conn *pgxpool.Conn
	run  uuid.UUID
	tx   pgx.Tx // nil until the first statement
	busy bool   // the run's lock is held by another working
}

var _ pgx.Tx = (*runTx)(nil)

const lockRunSQL = `SELECT tessera_lock_run($1, $2)`

// send begins the transaction and takes the run's lock, with queries sent in the same round trip;
// the answered results are those of queries.
func (t *runTx) send(ctx context.Context, queries ...*pgx.QueuedQuery) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue(lockRunSQL, lockKey(t.run), t.run)
	b.QueuedQueries = append(b.QueuedQueries, queries...)
	br := t.conn.SendBatch(ctx, b)
	t.tx = br.Tx()
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("beginning run: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55P03" {
			t.busy = true
		}
		return nil, fmt.Errorf("locking run: %w", err)
	}
	return br, nil
}

// begun answers the transaction, beginning it on its own when no statement has yet.
func (t *runTx) begun(ctx context.Context) (pgx.Tx, error) {
	if t.tx != nil {
		return t.tx, nil
	}
	br, err := t.send(ctx)
	if err != nil {
		return nil, err
	}
	return t.tx, br.Close()
}

func (t *runTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Begin(ctx)
}

func (t *runTx) Commit(ctx context.Context) error {
	if t.tx == nil {
		return nil
	}
	return t.tx.Commit(ctx)
}

func (t *runTx) Rollback(ctx context.Context) error {
	if t.tx == nil {
		return nil
	}
	return t.tx.Rollback(ctx)
}

func (t *runTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return 0, err
	}
	return tx.CopyFrom(ctx, table, cols, src)
}

// SendBatch sends b, after BEGIN and the lock when it is the first statement.
func (t *runTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.tx != nil {
		return t.tx.SendBatch(ctx, b)
	}
	br, err := t.send(ctx, b.QueuedQueries...)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return br
}

func (t *runTx) LargeObjects() pgx.LargeObjects {
	tx, err := t.begun(context.Background())
	if err != nil {
		return pgx.LargeObjects{}
	}
	return tx.LargeObjects()
}

func (t *runTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Prepare(ctx, name, sql)
}

func (t *runTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.tx != nil {
		return t.tx.Exec(ctx, sql, args...)
	}
	br, err := t.send(ctx, &pgx.QueuedQuery{SQL: sql, Arguments: args})
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (t *runTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Query(ctx, sql, args...)
}

// QueryRow sends the query with BEGIN and the lock when it is the first statement.
func (t *runTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.tx != nil {
		return t.tx.QueryRow(ctx, sql, args...)
	}
	br, err := t.send(ctx, &pgx.QueuedQuery{SQL: sql, Arguments: args})
	if err != nil {
		return errRow{err}
	}
	return &batchRow{br: br, row: br.QueryRow()}
}

func (t *runTx) Conn() *pgx.Conn { return t.conn.Conn() }

// batchRow is the row of a batch's last query: scanning it closes the batch.
type batchRow struct {
	br  pgx.BatchResults
	row pgx.Row
}

func (r *batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// errRow is a row whose query failed before it was read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
