package records

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lazyTx is a transaction that begins at its first statement. A write whose checks needed no
// look-up and whose hooks have nothing to do sends its one statement outside it (Create: the
// record and its history events are one statement), which saves the begin and commit round
// trips; every other write begins at its first statement, BEGIN and that statement in one
// round trip (first).
type lazyTx struct {
	pool *pgxpool.Pool
	tx   pgx.Tx
}

// begun reports whether a statement went through the transaction.
func (l *lazyTx) begun() bool { return l.tx != nil }

func (l *lazyTx) get(ctx context.Context) (pgx.Tx, error) {
	if l.tx == nil {
		tx, err := l.pool.Begin(ctx)
		if err != nil {
			return nil, err
		}
		l.tx = tx
	}
	return l.tx, nil
}

func (l *lazyTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Begin(ctx)
}

func (l *lazyTx) Commit(ctx context.Context) error {
	if l.tx == nil {
		return nil
	}
	return l.tx.Commit(ctx)
}

func (l *lazyTx) Rollback(ctx context.Context) error {
	if l.tx == nil {
		return nil
	}
	return l.tx.Rollback(ctx)
}

func (l *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	tx, err := l.get(ctx)
	if err != nil {
		return 0, err
	}
	return tx.CopyFrom(ctx, table, cols, src)
}

func (l *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	tx, err := l.get(ctx)
	if err != nil {
		return errBatch{err}
	}
	return tx.SendBatch(ctx, b)
}

// LargeObjects and Conn take no context: they begin with the background one.
func (l *lazyTx) LargeObjects() pgx.LargeObjects {
	tx, err := l.get(context.Background())
	if err != nil {
		panic("records: beginning a transaction for large objects: " + err.Error())
	}
	return tx.LargeObjects()
}

func (l *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	tx, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Prepare(ctx, name, sql)
}

// first begins the transaction with its first statement in one round trip (#18: a write that
// is not solo saves the round trip of its BEGIN); the results are the statement's. ok is false
// when the statement carries pgx query options (they would be sent as arguments in a batch):
// it then goes the usual way.
func (l *lazyTx) first(ctx context.Context, sql string, args []any) (br pgx.BatchResults, ok bool) {
	if len(args) > 0 {
		switch args[0].(type) {
		case pgx.QueryExecMode, pgx.QueryResultFormats, pgx.QueryResultFormatsByOID, pgx.QueryRewriter:
			return nil, false
		}
	}
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue(sql, args...)
	br = l.pool.SendBatch(ctx, b)
	l.tx = br.Tx() // (its Rollback releases the connection, whatever happened below)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return errBatch{fmt.Errorf("beginning transaction: %w", err)}, true
	}
	return br, true
}

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

func (l *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if l.tx == nil {
		if br, ok := l.first(ctx, sql, args); ok {
			tag, err := br.Exec()
			if cerr := br.Close(); err == nil {
				err = cerr
			}
			return tag, err
		}
	}
	tx, err := l.get(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	return tx.Exec(ctx, sql, args...)
}

func (l *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	tx, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Query(ctx, sql, args...)
}

func (l *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if l.tx == nil {
		if br, ok := l.first(ctx, sql, args); ok {
			return &batchRow{br: br, row: br.QueryRow()}
		}
	}
	tx, err := l.get(ctx)
	if err != nil {
		return errRow{err}
	}
	return tx.QueryRow(ctx, sql, args...)
}

func (l *lazyTx) Conn() *pgx.Conn {
	tx, err := l.get(context.Background())
	if err != nil {
		return nil
	}
	return tx.Conn()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
