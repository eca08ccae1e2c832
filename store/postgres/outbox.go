package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
)

// core is the SQL this backend shares with store/sqlite: the outbox,
// documents and the model-set version. The twin and relationship writes
// fold their record's insert into their own statement (qTwinWrite and
// others) so that it costs no round trip.
var core = sqlcore.New(sqlcore.Postgres)

// qModels is the model-set version as a scalar subquery, for the first
// statement of a write that checks Condition.Models. The write's
// transaction holds the clock row's lock, so the value is the one current
// in commit order.
var qModels = core.Dialect().ModelsVersionExpr()

// txConn runs sqlcore's statements in a write transaction.
type txConn struct{ tx pgx.Tx }

func (c txConn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := c.tx.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (c txConn) QueryRow(ctx context.Context, q string, args ...any) sqlcore.Row {
	return c.tx.QueryRow(ctx, q, args...)
}

func (c txConn) Query(ctx context.Context, q string, args ...any) (sqlcore.Rows, error) {
	rows, err := c.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rows}, nil
}

// poolConn runs sqlcore's reads on the read pool.
type poolConn struct{ p *pgxpool.Pool }

func (c poolConn) Exec(context.Context, string, ...any) (int64, error) {
	return 0, errors.New("postgres: write on the read pool")
}

func (c poolConn) QueryRow(ctx context.Context, q string, args ...any) sqlcore.Row {
	return c.p.QueryRow(ctx, q, args...)
}

func (c poolConn) Query(ctx context.Context, q string, args ...any) (sqlcore.Rows, error) {
	rows, err := c.p.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rows}, nil
}

// pgRows gives pgx rows database/sql's Close.
type pgRows struct{ pgx.Rows }

func (r pgRows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}

// PendingRecords implements store.Outbox. A blind group's records are
// visible from its commit, before the flusher has made them durable (see
// flusher), so when it found any it flushes the WAL before it returns
// them: a transaction begun after the read commits with the server's
// synchronous_commit, which puts every commit the read saw on disk. The
// relay then never publishes the event of a change that a crash of the
// database could still undo.
func (db *DB) PendingRecords(ctx context.Context, after int64, limit int) ([]store.Record, error) {
	recs, err := core.PendingRecords(ctx, poolConn{db.r}, after, limit, sqlcore.DecodedTwinDoc)
	if err != nil {
		return nil, fmt.Errorf("postgres: pending records: %w", err)
	}
	if len(recs) > 0 {
		if err := db.flushWAL(ctx); err != nil {
			return nil, fmt.Errorf("postgres: pending records: %w", err)
		}
	}
	return recs, nil
}

// qAck deletes the acknowledged records: an index scan of the outbox's
// key per seq, whatever the table's size and its dead rows.
const qAck = `DELETE FROM outbox WHERE seq = ANY($1::bigint[])`

// AckRecords implements store.Outbox. It does not run as a write: it
// takes no transaction time and needs no order with the writes, since it
// deletes records that are committed (an acknowledged record was read
// from the outbox, or returned by a committed write) and no write reads
// the outbox. So it runs on a writer connection of its own, outside the
// clock row's lock, and the writes do not wait for it. Its commit is not
// waited for on disk (synchronous_commit off): an acknowledgement lost in
// a crash only has the relay publish the records again, which it must
// allow anyway (a crash between the publication and the acknowledgement).
// The deletion is visible at once to every reader.
func (db *DB) AckRecords(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	conn, err := db.w.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: ack records: connect: %w", err)
	}
	defer conn.Release()
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL synchronous_commit = off`)
	b.Queue(qAck, seqs)
	b.Queue(`COMMIT`)
	if err = conn.SendBatch(ctx, b).Close(); err != nil {
		if conn.Conn().PgConn().TxStatus() != 'I' {
			_, _ = conn.Exec(context.Background(), `ROLLBACK`)
		}
		return fmt.Errorf("postgres: ack records: %w", err)
	}
	return nil
}

// ModelsVersion implements store.Store.
func (db *DB) ModelsVersion(ctx context.Context) (int64, error) {
	v, err := core.ModelsVersion(ctx, poolConn{db.r})
	if err != nil {
		return 0, fmt.Errorf("postgres: model-set version: %w", err)
	}
	return v, nil
}

// PutDoc implements store.Documents.
func (db *DB) PutDoc(ctx context.Context, d store.Doc, cond store.Condition) (store.Doc, error) {
	if err := sqlcore.CheckDoc(&d); err != nil {
		return store.Doc{}, fmt.Errorf("postgres: put doc %q of %q: %w", d.ID, d.Kind, err)
	}
	var out store.Doc
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		var err error
		out, err = core.PutDoc(ctx, txConn{tx}, d, cond, now)
		return err
	})
	if err != nil {
		return store.Doc{}, fmt.Errorf("postgres: put doc %q of %q: %w", d.ID, d.Kind, err)
	}
	return out, nil
}

// GetDoc implements store.Documents.
func (db *DB) GetDoc(ctx context.Context, kind, id string) (store.Doc, error) {
	d, err := core.GetDoc(ctx, poolConn{db.r}, kind, id)
	if err != nil {
		return store.Doc{}, fmt.Errorf("postgres: get doc %q of %q: %w", id, kind, err)
	}
	return d, nil
}

// ListDocs implements store.Documents.
func (db *DB) ListDocs(ctx context.Context, kind string) ([]store.Doc, error) {
	ds, err := core.ListDocs(ctx, poolConn{db.r}, kind)
	if err != nil {
		return nil, fmt.Errorf("postgres: list docs of %q: %w", kind, err)
	}
	return ds, nil
}

// DeleteDoc implements store.Documents.
func (db *DB) DeleteDoc(ctx context.Context, kind, id string, cond store.Condition) error {
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, _ int64) error {
		return core.DeleteDoc(ctx, txConn{tx}, kind, id, cond)
	})
	if err != nil {
		return fmt.Errorf("postgres: delete doc %q of %q: %w", id, kind, err)
	}
	return nil
}
