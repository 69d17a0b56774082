// Package pgtx has Lazy, a pgx transaction that begins with its first statement.
package pgtx

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Lazy is a transaction that begins with its first statement: BEGIN, the Prefix queries and
// that statement go to the server in one round trip (pgx.Batch.BeginTx), which saves the round
// trip of a BEGIN sent on its own (#18). A statement that carries pgx query options (a
// QueryExecMode, result formats, a rewriter) cannot go in a batch: BEGIN and the prefix are
// then sent on their own first. An error in a prefix query aborts the transaction, so nothing
// sent after it in the same round trip runs; it is kept in PrefixErr. A transaction that never
// began has nothing to commit or roll back.
type Lazy struct {
	// Send sends a batch: a pool's SendBatch (the transaction holds the connection it got until
	// it is committed or rolled back) or a connection's.
	Send func(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	// Prefix are queries sent right after BEGIN, such as a lock.
	Prefix []*pgx.QueuedQuery
	// PrefixErr is the error a prefix query answered (nil until then).
	PrefixErr error

	tx pgx.Tx
}

var _ pgx.Tx = (*Lazy)(nil)

// Begun reports whether the transaction began (a statement went through it).
func (l *Lazy) Begun() bool { return l.tx != nil }

// send begins the transaction with queries sent in the same round trip; the answered results
// are those of queries.
func (l *Lazy) send(ctx context.Context, queries ...*pgx.QueuedQuery) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.QueuedQueries = append(b.QueuedQueries, l.Prefix...)
	b.QueuedQueries = append(b.QueuedQueries, queries...)
	br := l.Send(ctx, b)
	l.tx = br.Tx() // (closed when nothing began; a pool's releases its connection on Rollback)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("beginning transaction: %w", err)
	}
	for range l.Prefix {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			l.PrefixErr = err
			return nil, err
		}
	}
	return br, nil
}

// batchable reports whether a statement with args may go in a batch (no pgx query option).
func batchable(args []any) bool {
	if len(args) > 0 {
		switch args[0].(type) {
		case pgx.QueryExecMode, pgx.QueryResultFormats, pgx.QueryResultFormatsByOID, pgx.QueryRewriter:
			return false
		}
	}
	return true
}

// get answers the transaction, beginning it on its own when no statement has yet.
func (l *Lazy) get(ctx context.Context) (pgx.Tx, error) {
	if l.tx != nil {
		return l.tx, nil
	}
	br, err := l.send(ctx)
	if err != nil {
		return nil, err
	}
	return l.tx, br.Close()
}

func (l *Lazy) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Begin(ctx)
}

func (l *Lazy) Commit(ctx context.Context) error {
	if l.tx == nil {
		return nil
	}
	return l.tx.Commit(ctx)
}

func (l *Lazy) Rollback(ctx context.Context) error {
	if l.tx == nil {
		return nil
	}
	return l.tx.Rollback(ctx)
}

func (l *Lazy) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	tx, err := l.get(ctx)
	if err != nil {
		return 0, err
	}
	return tx.CopyFrom(ctx, table, cols, src)
}

// SendBatch sends b, with BEGIN and the prefix when it is the first statement.
func (l *Lazy) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if l.tx != nil {
		return l.tx.SendBatch(ctx, b)
	}
	br, err := l.send(ctx, b.QueuedQueries...)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return br
}

// LargeObjects and Conn take no context: they begin with the background one.
func (l *Lazy) LargeObjects() pgx.LargeObjects {
	tx, err := l.get(context.Background())
	if err != nil {
		panic("pgtx: beginning a transaction for large objects: " + err.Error())
	}
	return tx.LargeObjects()
}

func (l *Lazy) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	tx, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Prepare(ctx, name, sql)
}

// Exec runs sql, with BEGIN and the prefix when it is the first statement.
func (l *Lazy) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if l.tx == nil && batchable(args) {
		br, err := l.send(ctx, &pgx.QueuedQuery{SQL: sql, Arguments: args})
		if err != nil {
			return pgconn.CommandTag{}, err
		}
		tag, err := br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return tag, err
	}
	tx, err := l.get(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	return tx.Exec(ctx, sql, args...)
}

func (l *Lazy) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	tx, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Query(ctx, sql, args...)
}

// QueryRow runs sql, with BEGIN and the prefix when it is the first statement: the row must be
// scanned (that ends the round trip's batch).
func (l *Lazy) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if l.tx == nil && batchable(args) {
		br, err := l.send(ctx, &pgx.QueuedQuery{SQL: sql, Arguments: args})
		if err != nil {
			return errRow{err}
		}
		return &batchRow{br: br, row: br.QueryRow()}
	}
	tx, err := l.get(ctx)
	if err != nil {
		return errRow{err}
	}
	return tx.QueryRow(ctx, sql, args...)
}

// Conn is the transaction's connection (nil when it cannot begin).
func (l *Lazy) Conn() *pgx.Conn {
	tx, err := l.get(context.Background())
	if err != nil {
		return nil
	}
	return tx.Conn()
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

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
