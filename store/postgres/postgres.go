package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"lodestone/store"
)

func init() {
	store.Register("postgres", func(ctx context.Context, dsn string) (store.Store, error) {
		return Open(ctx, dsn, nil)
	})
}

// Options tunes a DB. The zero value is the default.
type Options struct {
	// Schema is the PostgreSQL schema that holds the tables; it is created
	// if missing. Empty means the DSN's "schema" parameter, or "public".
	Schema string
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// DB is a store.Store on one PostgreSQL schema. It is safe for concurrent
// use, and several DBs (in one process or in several) may share a schema.
type DB struct {
	schema string
	r      *pgxpool.Pool // read-only connections
	rdb    *sql.DB       // r through database/sql, for store.SQLer
	w      *pgxpool.Pool // the writer connection
	logger *slog.Logger

	ops    chan *writeOp // writes for the writer goroutine
	stop   chan struct{} // closed by Close
	exited chan struct{} // closed when the writer goroutine returns
	closer sync.Once
}

var (
	_ store.Store = (*DB)(nil)
	_ store.SQLer = (*DB)(nil)
)

// ParseDSN splits a "postgres://…" DSN into the connection string pgx
// reads and the schema named by its "schema" parameter ("" when absent).
// Every other parameter is pgx's (sslmode, pool_max_conns, …).
func ParseDSN(dsn string) (conn, schema string, err error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", fmt.Errorf("postgres: DSN: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", "", fmt.Errorf("postgres: DSN %q: scheme is not postgres://", u.Redacted())
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", "", fmt.Errorf("postgres: DSN %q: %w", u.Redacted(), err)
	}
	schema = q.Get("schema")
	if q.Has("schema") && schema == "" {
		return "", "", fmt.Errorf("postgres: DSN %q: empty schema", u.Redacted())
	}
	q.Del("schema")
	u.RawQuery = q.Encode()
	return u.String(), schema, nil
}

// Open connects to the database named by dsn ("postgres://user@host:port/db
// ?sslmode=disable&schema=name"), creates the schema if needed and migrates
// it. opts may be nil; a non-empty opts.Schema overrides the DSN's.
func Open(ctx context.Context, dsn string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	connStr, schema, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if opts.Schema != "" {
		schema = opts.Schema
	}
	if schema == "" {
		schema = "public"
	}
	db := &DB{schema: schema, logger: opts.Logger}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}
	db.logger = db.logger.With("component", "store", "backend", "postgres", "schema", schema)
	searchPath := pgx.Identifier{schema}.Sanitize()

	rcfg, err := pgxpool.ParseConfig(connStr)
	if err != nil {
		return nil, fmt.Errorf("postgres: DSN: %w", err)
	}
	wcfg := rcfg.Copy()
	rcfg.ConnConfig.RuntimeParams["search_path"] = searchPath
	// The read pool cannot write, so neither can queries run through
	// ReadDB.
	rcfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	wcfg.ConnConfig.RuntimeParams["search_path"] = searchPath
	// One writer connection: writes are serialised by the clock row
	// anyway (see the package documentation), so more would only wait.
	wcfg.MaxConns = 1
	wcfg.MinConns = 0

	if err := migrate(ctx, wcfg.ConnConfig, schema, db.logger); err != nil {
		return nil, err
	}
	if db.w, err = pgxpool.NewWithConfig(ctx, wcfg); err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if db.r, err = pgxpool.NewWithConfig(ctx, rcfg); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db.rdb = stdlib.OpenDBFromPool(db.r)
	db.ops = make(chan *writeOp, 4*maxGroup)
	db.stop = make(chan struct{})
	db.exited = make(chan struct{})
	go db.writer()
	return db, nil
}

// Schema returns the name of the schema the DB uses.
func (db *DB) Schema() string { return db.schema }

// Close stops the writer and closes the connections. Writes still queued
// fail.
func (db *DB) Close() error {
	db.closer.Do(func() { close(db.stop) })
	<-db.exited
	err := db.rdb.Close()
	db.r.Close()
	db.w.Close()
	return err
}

// writeFunc is one write: it runs in tx with transaction time now (Unix
// nanoseconds).
type writeFunc func(ctx context.Context, tx pgx.Tx, now int64) error

// writeOp is a write queued for the writer goroutine.
type writeOp struct {
	ctx  context.Context
	fn   writeFunc
	solo bool       // run in a transaction of its own (imports)
	done chan error // receives the result once the commit returned
}

// maxGroup caps the writes committed together.
const maxGroup = 64

var errClosed = errors.New("postgres: database is closed")

// write runs fn in a write transaction with a fresh transaction time and
// returns once the transaction has committed or failed.
//
// Writes are group-committed as in store/sqlite: the writer goroutine
// takes the writes queued while it was busy and runs them in one
// transaction, each inside a savepoint so that a failed write rolls back
// alone. Each write gets its own transaction time from the clock row.
func (db *DB) write(ctx context.Context, fn writeFunc) error {
	return db.submit(ctx, fn, false)
}

func (db *DB) submit(ctx context.Context, fn writeFunc, solo bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &writeOp{ctx: ctx, fn: fn, solo: solo, done: make(chan error, 1)}
	select {
	case db.ops <- op:
	case <-db.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-op.done:
		return err
	case <-db.exited:
		select {
		case err := <-op.done:
			return err
		default:
			return errClosed
		}
	}
}

// writer is the goroutine that runs every write transaction of this DB.
// It runs until Close closes db.stop, answering every op it took.
func (db *DB) writer() {
	defer close(db.exited)
	var next *writeOp
	for {
		op := next
		next = nil
		if op == nil {
			select {
			case op = <-db.ops:
			case <-db.stop:
				for {
					select {
					case op := <-db.ops:
						op.done <- errClosed
					default:
						return
					}
				}
			}
		}
		group := []*writeOp{op}
		if !op.solo {
			// Let the writers woken by the last commit queue their next
			// writes before the group is closed.
			runtime.Gosched()
		drain:
			for len(group) < maxGroup {
				select {
				case o := <-db.ops:
					if o.solo {
						next = o
						break drain
					}
					group = append(group, o)
				default:
					break drain
				}
			}
		}
		db.runGroup(group)
	}
}

// qTick reserves $1 consecutive transaction times and returns the first.
// The clock row's lock is held until the transaction ends, which orders
// all write transactions on the schema, from every server: a transaction's
// times are greater than those of every transaction that committed before
// it took the lock, and it sees all their writes. The time is the database
// server's clock in microseconds (as nanoseconds), or one nanosecond past
// the last time handed out if that clock has not moved on or went back.
const qTick = `UPDATE clock SET last = GREATEST(last + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000) + $1 - 1
	RETURNING last - $1 + 1`

// begin starts a write transaction on a writer connection and reserves n
// transaction times.
func (db *DB) begin(ctx context.Context, n int) (*pgxpool.Conn, pgx.Tx, int64, error) {
	conn, err := db.w.Acquire(ctx)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("postgres: connect: %w", err)
	}
	// BEGIN and the clock go in one round trip.
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue(qTick, int64(n))
	br := conn.SendBatch(ctx, b)
	tx := br.Tx()
	var now int64
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&now)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if tx != nil {
			_ = tx.Rollback(ctx)
		}
		conn.Release()
		return nil, nil, 0, fmt.Errorf("postgres: begin: %w", err)
	}
	return conn, tx, now, nil
}

// runGroup runs ops in one transaction and answers each.
func (db *DB) runGroup(ops []*writeOp) {
	// Writes run to completion once started: cancelling a statement
	// midway would cost the connection. Callers that gave up before their
	// turn are skipped.
	bg := context.Background()
	if len(ops) == 1 {
		ops[0].done <- db.runOne(ops[0])
		return
	}
	fail := func(err error) {
		for _, op := range ops {
			op.done <- err
		}
	}
	conn, tx, now, err := db.begin(bg, len(ops))
	if err != nil {
		fail(err)
		return
	}
	defer conn.Release()
	errs := make([]error, len(ops))
	for i, op := range ops {
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		// Each write runs after a savepoint of its own, sent with its
		// first statement; a failed write rolls back to it. Savepoints
		// are not released: they only stack up to the group's size.
		stx := &savepointTx{Tx: tx, pending: true}
		if err := callWrite(context.WithoutCancel(op.ctx), op.fn, stx, now+int64(i)); err != nil {
			errs[i] = mapErr(err)
			if stx.pending {
				continue // nothing was sent
			}
			if _, rerr := tx.Exec(bg, `ROLLBACK TO SAVEPOINT w`); rerr != nil {
				_ = tx.Rollback(bg)
				fail(fmt.Errorf("postgres: rollback to savepoint: %w", rerr))
				return
			}
		}
	}
	if err := tx.Commit(bg); err != nil {
		fail(fmt.Errorf("postgres: commit: %w", err))
		return
	}
	for i, op := range ops {
		op.done <- errs[i]
	}
}

// runOne runs a single op in its own transaction.
func (db *DB) runOne(op *writeOp) error {
	if err := op.ctx.Err(); err != nil {
		return err
	}
	bg := context.Background()
	conn, tx, now, err := db.begin(bg, 1)
	if err != nil {
		return err
	}
	defer conn.Release()
	if err := callWrite(context.WithoutCancel(op.ctx), op.fn, tx, now); err != nil {
		_ = tx.Rollback(bg)
		return mapErr(err)
	}
	if err := tx.Commit(bg); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// savepointTx is a write transaction that sends "SAVEPOINT w" in one
// round trip with the first statement run through it.
type savepointTx struct {
	pgx.Tx
	pending bool // the savepoint is still to be sent
}

// batch sends the savepoint and the statement together.
func (t *savepointTx) batch(ctx context.Context, sql string, args []any) pgx.BatchResults {
	t.pending = false
	b := &pgx.Batch{}
	b.Queue(`SAVEPOINT w`)
	b.Queue(sql, args...)
	br := t.Tx.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return errBatch{err}
	}
	return br
}

// Exec implements pgx.Tx.
func (t *savepointTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if !t.pending {
		return t.Tx.Exec(ctx, sql, args...)
	}
	br := t.batch(ctx, sql, args)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// QueryRow implements pgx.Tx.
func (t *savepointTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if !t.pending {
		return t.Tx.QueryRow(ctx, sql, args...)
	}
	br := t.batch(ctx, sql, args)
	return batchRow{br: br, row: br.QueryRow()}
}

// Query implements pgx.Tx.
func (t *savepointTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.Tx.Query(ctx, sql, args...)
}

// CopyFrom implements pgx.Tx.
func (t *savepointTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	return t.Tx.CopyFrom(ctx, table, cols, src)
}

// SendBatch implements pgx.Tx.
func (t *savepointTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := t.flush(ctx); err != nil {
		return errBatch{err}
	}
	return t.Tx.SendBatch(ctx, b)
}

func (t *savepointTx) flush(ctx context.Context) error {
	if !t.pending {
		return nil
	}
	t.pending = false
	_, err := t.Tx.Exec(ctx, `SAVEPOINT w`)
	return err
}

// batchRow is the row of a batch, which it closes once scanned.
type batchRow struct {
	br  pgx.BatchResults
	row pgx.Row
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// errBatch is a pgx.BatchResults that failed before its first result.
type errBatch struct{ err error }

func (e errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, e.err }
func (e errBatch) Query() (pgx.Rows, error)         { return nil, e.err }
func (e errBatch) QueryRow() pgx.Row                { return errRow{e.err} }
func (e errBatch) Close() error                     { return e.err }
func (e errBatch) Tx() pgx.Tx                       { return nil }

type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }

// callWrite runs fn, turning a panic into an error so that a bug in one
// write fails that write (rolled back) instead of the writer goroutine.
func callWrite(ctx context.Context, fn writeFunc, tx pgx.Tx, now int64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("postgres: write panicked: %v", r)
		}
	}()
	return fn(ctx, tx, now)
}

// mapErr adds the store sentinel that a PostgreSQL error stands for: bad
// data (SQLSTATE class 22, such as a "\u0000" that jsonb refuses) is
// ErrInvalid and a unique violation ErrConflict.
func mapErr(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case pe.Code == "23505":
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case len(pe.Code) == 5 && pe.Code[:2] == "22":
		return fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	return err
}

func nsTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func timeNS(t time.Time) int64 { return t.UnixNano() }
