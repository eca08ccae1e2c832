package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
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

	stats writerStats // counters of WriterStats

	blind       chan *blindOp  // blind writes for the blind writers (blind.go)
	blindWG     sync.WaitGroup // the blind writer goroutines
	blindExited chan struct{}  // closed when they and the flusher have returned
	flushes     chan flushed   // committed blind groups waiting for the flusher (blind.go)
	noBlind     bool           // every write goes through the writer (tests of the writer)
	beforeFlush func() error   // runs before each flush of blind groups (tests)
}

// WriterStats counts the work of a DB's writer since Open, for tests and
// benchmarks: Writes/Commits is the size of the groups committed, and
// RoundTrips/Writes the round trips to the server per write.
type WriterStats struct {
	Writes     int64 // writes run, committed or failed
	Commits    int64 // transactions that committed
	Chained    int64 // transactions begun in the commit's round trip of the one before
	RoundTrips int64 // round trips to the server of group transactions
	Merged     int64 // statements sent merged with others (see merger, readMerger)
	Flushes    int64 // transactions that made committed blind groups durable (see flusher)
}

type writerStats struct {
	writes, commits, chained, roundTrips, merged, flushes atomic.Int64
}

var (
	_ store.Store          = (*DB)(nil)
	_ store.SQLer          = (*DB)(nil)
	_ store.ModelDeleterIf = (*DB)(nil)
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
	// One writer connection, held by the writer goroutine while writes
	// wait (writes are serialised by the clock row anyway: see the package
	// documentation), one for the rest (ANALYZE after an import) and one
	// for AckRecords, which runs outside the writer (outbox.go). The
	// blind writers (blind.go) have a connection each, their flusher one,
	// and PendingRecords's flush one.
	wcfg.MaxConns = 5 + blindWriters
	wcfg.MinConns = 0
	wcfg.AfterConnect = prepareControl

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
	db.blind = make(chan *blindOp, 4*maxGroup)
	db.blindExited = make(chan struct{})
	db.flushes = make(chan flushed, 4*maxGroup)
	db.blindWG.Add(blindWriters)
	for range blindWriters {
		go db.blindWriter()
	}
	go func() {
		db.blindWG.Wait()
		close(db.flushes)
	}()
	go db.flusher()
	return db, nil
}

// Schema returns the name of the schema the DB uses.
func (db *DB) Schema() string { return db.schema }

// Close stops the writer and closes the connections. Writes still queued
// fail.
func (db *DB) Close() error {
	db.closer.Do(func() { close(db.stop) })
	<-db.exited
	<-db.blindExited
	err := db.rdb.Close()
	db.r.Close()
	db.w.Close()
	return err
}

// WriterStats returns the writer's counters.
func (db *DB) WriterStats() WriterStats {
	return WriterStats{
		Writes:     db.stats.writes.Load(),
		Commits:    db.stats.commits.Load(),
		Chained:    db.stats.chained.Load(),
		RoundTrips: db.stats.roundTrips.Load(),
		Merged:     db.stats.merged.Load(),
		Flushes:    db.stats.flushes.Load(),
	}
}

// writeFunc is one write: it runs in tx with transaction time now (Unix
// nanoseconds). tx is valid during the call only; a statement whose result
// the write does not need may be queued on it with execLater.
type writeFunc func(ctx context.Context, tx pgx.Tx, now int64) error

// writeOp is a write queued for the writer goroutine.
type writeOp struct {
	ctx  context.Context
	fn   writeFunc
	read *firstRead // the write's first read, or nil (see writeRead)
	solo bool       // run in a transaction of its own (imports)
	done chan error // receives the result once the commit returned

	ahead *readRow // read's row, when the writer ran it ahead
}

// firstRead is the statement a write starts with, a read of the state it
// checks (an ETag, whether a model exists), and the keys of the entities
// the write reads or writes. The writer may run it ahead of the write,
// with the first reads of the other writes of its group, in one round
// trip; it does so only where no write before it in the group has a key
// in common with it, or names no keys at all (and so may change anything).
// A firstRead with keys and no sql only names what the write touches, so
// that the reads of the writes after it may still run ahead.
type firstRead struct {
	keys  []string
	sql   string
	args  []any
	merge *readMerger // runs it ahead with reads of its kind, or nil
}

// A readMerger runs the first reads of one kind of several writes ahead
// as one statement: sql takes the arrays that arrays makes of their args
// and returns, for each read in order, the row the read would return. The
// read must return exactly one row.
type readMerger struct {
	sql    string
	arrays func(args [][]any) []any
}

// readRow is the row of a firstRead that the writer ran ahead; the write's
// first QueryRow of the same statement and arguments gets it.
type readRow struct {
	read   *firstRead
	typ    *pgtype.Map
	fields []pgconn.FieldDescription
	values [][]byte // nil when the statement returned no row
}

// Scan implements pgx.Row.
func (r *readRow) Scan(dest ...any) error {
	if r.values == nil {
		return pgx.ErrNoRows
	}
	return pgx.ScanRow(r.typ, r.fields, r.values, dest...)
}

// maxGroup caps the writes committed together. Each write of a group runs
// in a subtransaction (its savepoint); PostgreSQL caches 64 of them per
// transaction, and readers of a transaction with more take a slower path.
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

// writeRead is write for a write whose first statement is the read r:
// the writer may run r ahead (see firstRead), and fn's first QueryRow of
// r.sql with r.args then gets its row without a round trip of its own
// (fn must still run that QueryRow, and first). fn must touch no entity
// outside r.keys.
func (db *DB) writeRead(ctx context.Context, r firstRead, fn writeFunc) error {
	return db.run(ctx, &writeOp{ctx: ctx, fn: fn, read: &r})
}

func (db *DB) submit(ctx context.Context, fn writeFunc, solo bool) error {
	return db.run(ctx, &writeOp{ctx: ctx, fn: fn, solo: solo})
}

func (db *DB) run(ctx context.Context, op *writeOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op.done = make(chan error, 1)
	return submit(ctx, db.stop, db.ops, op, op.done, db.exited)
}

// submit hands op to a writer goroutine through queue and waits for its
// answer on done; exited is closed when the writers have returned (after
// answering every op they took), stop when the store is closing.
func submit[T any](ctx context.Context, stop <-chan struct{}, queue chan<- T, op T, done <-chan error, exited <-chan struct{}) error {
	select {
	case queue <- op:
	case <-stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-exited:
		select {
		case err := <-done:
			return err
		default:
			return errClosed
		}
	}
}

// writer is the goroutine that runs every write transaction of this DB.
// It runs until Close closes db.stop, answering every op it took.
//
// A group's transaction holds the clock while its round trips, its
// statements and its commit's sync run one after the other, and every
// other write waits, so the writer saves round trips where it can: a
// write's savepoint goes with its first statement; statements queued with
// execLater or queryRowLater go with the next one; when writes are waiting
// as a group commits, the next transaction begins (and reserves its times)
// in the commit's round trip, so that it starts the moment the commit is
// durable; and the first reads of writes submitted with writeRead run
// ahead, all in the round trip that begins their group.
func (db *DB) writer() {
	defer close(db.exited)
	var (
		group []*writeOp // the next group
		gt    *groupTx   // begun for group by the last commit, or nil
		solo  *writeOp   // a solo op met while draining: it runs after group
	)
	for {
		if len(group) == 0 {
			op := solo
			solo = nil
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
			if op.solo {
				op.done <- db.runOne(op)
				continue
			}
			group = append(group, op)
			// Let the writers woken by the last commit queue their next
			// writes before the group is closed.
			runtime.Gosched()
		}
		// A group begun by the last commit takes the writes queued since,
		// unless the first reads of its writes ran ahead: then a write
		// added now would read on its own, a round trip, and it waits
		// for the next group instead.
		switch {
		case solo != nil:
		case gt == nil:
			group, solo = db.drain(group, maxGroup)
		case !slices.ContainsFunc(group, func(op *writeOp) bool { return op.ahead != nil }):
			group, solo = db.drain(group, gt.reserved)
		}
		group, gt, solo = db.runGroup(group, gt, solo == nil)
	}
}

// drain adds the queued ops to group, up to limit ops, without waiting. It
// stops at a solo op, which it returns.
func (db *DB) drain(group []*writeOp, limit int) ([]*writeOp, *writeOp) {
	for len(group) < limit {
		select {
		case op := <-db.ops:
			if op.solo {
				return group, op
			}
			group = append(group, op)
		default:
			return group, nil
		}
	}
	return group, nil
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
// transaction times. Solo writes (imports) run in it.
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

// prepareControl prepares the statements that delimit transactions and
// writes on a writer connection, under their own text as name. pgx's
// statement cache forgets the statements of a batch that failed, and the
// server parses nothing but a rollback while a transaction is aborted, so
// the rollback that follows a failure must not need parsing.
func prepareControl(ctx context.Context, c *pgx.Conn) error {
	for _, q := range []string{`BEGIN`, `COMMIT`, `SAVEPOINT w`, rollbackToW.sql, `SAVEPOINT ahead`, `ROLLBACK TO SAVEPOINT ahead`} {
		if _, err := c.Prepare(ctx, q, q); err != nil {
			return fmt.Errorf("prepare %s: %w", q, err)
		}
	}
	return nil
}

// beginGroup starts the transaction of ops and runs their first reads
// ahead where it can, in one round trip.
func (db *DB) beginGroup(ctx context.Context, ops []*writeOp) (*groupTx, error) {
	conn, err := db.w.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	gt := &groupTx{conn: conn, c: conn.Conn(), stats: &db.stats, reserved: len(ops), saved: -1}
	ahead := readsAhead(ops)
	tail := append([]stmt{{sql: `BEGIN`, op: ctl}, {sql: qTick, args: []any{int64(len(ops))}, op: ctl}}, aheadStmts(ahead)...)
	br, err := gt.send(ctx, tail)
	if err == nil {
		if _, err = br.Exec(); err == nil {
			err = br.QueryRow().Scan(&gt.now)
		}
		if err == nil {
			err = gt.readAhead(ctx, br, ahead)
		} else {
			br.Close()
		}
	}
	if err != nil {
		gt.rollback(ctx)
		gt.release()
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
	return gt, nil
}

// readsAhead returns the writes of ops whose first reads may run before
// any write of the group: those that come before the first write that
// names no keys, and have no key in common with an earlier write.
func readsAhead(ops []*writeOp) []*writeOp {
	var ahead []*writeOp
	var seen map[string]bool
	for _, op := range ops {
		op.ahead = nil
		if op.read == nil || len(op.read.keys) == 0 {
			break
		}
		clash := false
		for _, k := range op.read.keys {
			clash = clash || seen[k]
		}
		if !clash && op.read.sql != "" {
			ahead = append(ahead, op)
		}
		if seen == nil {
			seen = make(map[string]bool)
		}
		for _, k := range op.read.keys {
			seen[k] = true
		}
	}
	return ahead
}

// aheadStmts returns the statements that run the first reads of ops ahead:
// in a savepoint of their own, so that one that fails (bad input) costs
// the reads ahead but not the transaction. The reads of each run (see
// aheadRuns) of more than one go as one statement.
func aheadStmts(ops []*writeOp) []stmt {
	if len(ops) == 0 {
		return nil
	}
	ss := make([]stmt, 0, len(ops)+1)
	ss = append(ss, stmt{sql: `SAVEPOINT ahead`, op: ctl})
	for _, run := range aheadRuns(ops) {
		r := run[0].read
		if len(run) == 1 {
			ss = append(ss, stmt{sql: r.sql, args: r.args, op: ctl})
			continue
		}
		args := make([][]any, len(run))
		for i, op := range run {
			args[i] = op.read.args
		}
		ss = append(ss, stmt{sql: r.merge.sql, args: r.merge.arrays(args), op: ctl})
	}
	return ss
}

// aheadRuns splits ops into runs whose first reads go to the server as
// one statement: consecutive reads of one readMerger (up to maxMerged), or
// a read alone.
func aheadRuns(ops []*writeOp) [][]*writeOp {
	runs := make([][]*writeOp, 0, len(ops))
	for i := 0; i < len(ops); {
		j := i + 1
		if m := ops[i].read.merge; m != nil {
			for j < len(ops) && j-i < maxMerged && ops[j].read.merge == m {
				j++
			}
		}
		runs = append(runs, ops[i:j])
		i = j
	}
	return runs
}

// readAhead reads the results of aheadStmts(ops), the last statements of
// br, into the ops and closes br. If one failed, it rolls back to the
// savepoint and the writes read for themselves.
func (t *groupTx) readAhead(ctx context.Context, br pgx.BatchResults, ops []*writeOp) error {
	if len(ops) == 0 {
		return br.Close()
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return err
	}
	typ := t.c.TypeMap()
	for _, run := range aheadRuns(ops) {
		rows, err := br.Query()
		if err != nil {
			return t.dropAhead(ctx, br, ops)
		}
		// A read alone gets its first row or none; a merged read returns
		// one row per read, in order.
		run[0].ahead = &readRow{read: run[0].read, typ: typ}
		n := 0
		for rows.Next() {
			if n < len(run) {
				run[n].ahead = copyRow(run[n].read, typ, rows)
			}
			n++
		}
		rows.Close()
		if rows.Err() != nil || (len(run) > 1 && n != len(run)) {
			return t.dropAhead(ctx, br, ops)
		}
		if len(run) > 1 {
			t.stats.merged.Add(int64(len(run)))
		}
	}
	return br.Close()
}

// copyRow copies the current row of rows, whose buffers the connection
// reuses for the next result.
func copyRow(read *firstRead, typ *pgtype.Map, rows pgx.Rows) *readRow {
	row := &readRow{read: read, typ: typ, fields: slices.Clone(rows.FieldDescriptions())}
	raw := rows.RawValues()
	row.values = make([][]byte, len(raw))
	for i, v := range raw {
		if v != nil {
			row.values[i] = append(make([]byte, 0, len(v)), v...)
		}
	}
	return row
}

// dropAhead forgets the reads ahead of ops after one failed: it closes br
// and rolls back to the savepoint before them.
func (t *groupTx) dropAhead(ctx context.Context, br pgx.BatchResults, ops []*writeOp) error {
	for _, op := range ops {
		op.ahead = nil
	}
	br.Close()
	t.stats.roundTrips.Add(1)
	_, err := t.c.Exec(ctx, `ROLLBACK TO SAVEPOINT ahead`)
	return err
}

// runGroup runs ops in one transaction, gt if it is not nil, and answers
// each. When chain is true and writes are queued by the time it commits, it
// takes them (up to maxGroup, or up to a solo op, which it returns) and
// begins their transaction in the commit's round trip: it returns them
// with that transaction, for the writer to add the writes queued
// meanwhile and run them next.
func (db *DB) runGroup(ops []*writeOp, gt *groupTx, chain bool) (next []*writeOp, nextTx *groupTx, solo *writeOp) {
	// Writes run to completion once started: cancelling a statement
	// midway would cost the connection. Callers that gave up before their
	// turn are skipped.
	bg := context.Background()
	if gt == nil {
		var err error
		if gt, err = db.beginGroup(bg, ops); err != nil {
			for _, op := range ops {
				op.done <- err
			}
			return nil, nil, nil
		}
	}
	gt.errs = make([]error, len(ops))
	for i, op := range ops {
		if err := op.ctx.Err(); err != nil {
			gt.errs[i] = err
			continue
		}
		gt.run(context.WithoutCancel(op.ctx), i, op, gt.now+int64(i))
	}
	if chain {
		next, solo = db.drain(nil, maxGroup)
	}
	reserve := 0
	if len(next) > 0 {
		reserve = maxGroup
	}
	db.stats.writes.Add(int64(len(ops)))
	nextNow, err := gt.commit(bg, reserve, next, func(err error) {
		if err == nil {
			db.stats.commits.Add(1)
		}
		for i, op := range ops {
			if gt.errs[i] != nil {
				op.done <- gt.errs[i]
			} else {
				op.done <- err
			}
		}
	})
	if err != nil || reserve == 0 {
		for _, op := range next {
			op.ahead = nil // read in a transaction that is gone
		}
		gt.release()
		return next, nil, solo
	}
	db.stats.chained.Add(1)
	return next, &groupTx{conn: gt.conn, c: gt.c, stats: gt.stats, now: nextNow, reserved: reserve, saved: -1}, solo
}

// runOne runs a solo op in its own transaction.
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
	db.stats.writes.Add(1)
	db.stats.commits.Add(1)
	return nil
}

// groupTx is the transaction of a group of writes, handed to each write
// as its pgx.Tx. It sends the statements the writer and the writes queue
// (savepoints, statements queued with execLater) together with the next
// statement a write runs, or with the commit, in one round trip (a pgx
// batch: one pipeline of extended-protocol messages and one Sync). When a
// queued statement of an earlier write fails, the transaction is rolled
// back to that write's savepoint and the statements after it are sent
// again; the earlier write fails and the others go on.
//
// Savepoints are all named w and not released: ROLLBACK TO SAVEPOINT w
// goes back to the latest one run, which is that of the write that failed
// (statements are queued and sent in the order of the writes).
//
// Begin, Commit and Rollback fail: the writer ends the transaction.
// LargeObjects is not supported.
type groupTx struct {
	conn     *pgxpool.Conn
	c        *pgx.Conn
	stats    *writerStats
	now      int64 // first reserved transaction time
	reserved int   // number of times reserved from now

	op      int      // the write running (index in errs), or ctl
	errs    []error  // failures of the group's writes
	pending []stmt   // statements queued, in order, not yet sent
	saved   int      // the last write whose savepoint the server ran, or -1
	lastErr error    // the last error a statement of the running write got
	ahead   *readRow // the running write's first read, run ahead, until used
	fatal   error    // the transaction can no longer be used
}

// stmt is a statement queued on a groupTx.
type stmt struct {
	sql  string
	args []any
	dest []any // where its row goes (queryRowLater), or nil
	op   int   // the write that queued it, or ctl
	save bool  // SAVEPOINT w of write op
	// merge, when not nil, lets the statement go to the server merged
	// with those of the same kind that other writes queued after it
	// (see queueMerged).
	merge *merger
}

// ctl marks statements of the writer itself (BEGIN, ROLLBACK TO
// SAVEPOINT, COMMIT) and the time when no write is running.
const ctl = -1

var (
	_ pgx.Tx = (*groupTx)(nil)

	errNested     = errors.New("postgres: a write cannot begin, commit or roll back its transaction")
	errAborted    = errors.New("postgres: a statement of the write failed")
	errRolledBack = errors.New("postgres: the transaction was rolled back")
	rollbackToW   = stmt{sql: `ROLLBACK TO SAVEPOINT w`, op: ctl}
)

// run runs op, write i of the group, with transaction time now.
func (t *groupTx) run(ctx context.Context, i int, op *writeOp, now int64) {
	t.op, t.lastErr, t.ahead = i, nil, op.ahead
	op.ahead = nil
	t.pending = append(t.pending, stmt{sql: `SAVEPOINT w`, op: i, save: true})
	err := callWrite(ctx, op.fn, t, now)
	t.ahead = nil
	if err == nil && t.fatal == nil && t.c.PgConn().TxStatus() == 'E' {
		// The write let a failed statement pass: it still failed.
		err = t.lastErr
		if err == nil {
			err = errAborted
		}
	}
	if err != nil && t.errs[i] == nil {
		t.errs[i] = mapErr(err)
	}
	if t.errs[i] != nil {
		// Drop what the write queued and undo what it ran.
		keep := t.pending[:0]
		for _, s := range t.pending {
			if s.op != i {
				keep = append(keep, s)
			}
		}
		t.pending = keep
		switch {
		case t.fatal != nil || t.saved != i:
		case t.c.PgConn().TxStatus() == 'E':
			t.rollbackTo(ctx)
		default:
			// Undo with the next round trip.
			t.pending = append(t.pending, rollbackToW)
		}
	}
	t.op = ctl
}

// commit commits the transaction in one round trip with the statements
// still queued, calls acked with the outcome as soon as it is known, and,
// when reserve > 0 and the commit succeeded, begins the next transaction
// in the same round trip and returns the first of its reserve transaction
// times.
func (t *groupTx) commit(ctx context.Context, reserve int, next []*writeOp, acked func(error)) (int64, error) {
	tail := []stmt{{sql: `COMMIT`, op: ctl}}
	var ahead []*writeOp
	if reserve > 0 {
		ahead = readsAhead(next)
		tail = append(tail, stmt{sql: `BEGIN`, op: ctl}, stmt{sql: qTick, args: []any{int64(reserve)}, op: ctl})
		tail = append(tail, aheadStmts(ahead)...)
	}
	br, err := t.send(ctx, tail)
	if err != nil {
		t.rollback(ctx)
		acked(fmt.Errorf("postgres: commit: %w", err))
		return 0, err
	}
	tag, err := br.Exec()
	if err == nil && tag.String() != "COMMIT" {
		// The server rolled back (a failed statement went unnoticed).
		err = errRolledBack
	}
	if err != nil {
		br.Close()
		t.rollback(ctx)
		acked(fmt.Errorf("postgres: commit: %w", err))
		return 0, err
	}
	acked(nil)
	if reserve == 0 {
		return 0, br.Close()
	}
	var now int64
	if _, err = br.Exec(); err == nil {
		err = br.QueryRow().Scan(&now)
	}
	if err == nil {
		err = t.readAhead(ctx, br, ahead)
	} else {
		br.Close()
	}
	if err != nil {
		t.rollback(ctx)
		return 0, fmt.Errorf("postgres: begin: %w", err)
	}
	return now, nil
}

// rollback ends a transaction that cannot commit; a connection it leaves
// in a transaction is closed by release.
func (t *groupTx) rollback(ctx context.Context) {
	if t.c.PgConn().TxStatus() != 'I' {
		_, _ = t.c.Exec(ctx, `ROLLBACK`)
	}
}

// release hands the connection back to the pool.
func (t *groupTx) release() {
	t.conn.Release()
}

// send sends the queued statements and then tail in one round trip and
// reads the results of the queued ones; the caller reads tail's results
// and closes the batch. A queued statement of an earlier write that fails
// fails that write: send rolls back to its savepoint and sends the rest
// again. One of the running write that fails is returned, and tail is not
// run. With no tail, send returns a nil batch once the queue has run.
func (t *groupTx) send(ctx context.Context, tail []stmt) (pgx.BatchResults, error) {
	// A read run ahead is the write's first statement or not at all.
	t.ahead = nil
	merge := true
	for {
		if t.fatal != nil {
			return nil, t.fatal
		}
		n := len(t.pending)
		if n == 0 && len(tail) == 0 {
			return nil, nil
		}
		spans := t.plan(merge)
		b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(spans)+1+len(tail))}
		for _, sp := range spans {
			s := t.pending[sp.from]
			b.Queue(s.sql, s.args...)
			if sp.merged {
				m := t.pending[sp.from+1].merge
				b.Queue(m.sql, m.arrays(t.mergedArgs(sp))...)
			}
		}
		for _, s := range tail {
			b.Queue(s.sql, s.args...)
		}
		br := t.c.SendBatch(ctx, b)
		t.stats.roundTrips.Add(1)
		failed, merged, err := -1, false, error(nil)
		for _, sp := range spans {
			s := t.pending[sp.from]
			switch {
			case s.dest != nil:
				err = br.QueryRow().Scan(s.dest...)
			default:
				_, err = br.Exec()
			}
			if err == nil && s.save {
				t.saved = s.op
			}
			if err == nil && sp.merged {
				err = t.readMerged(br, sp)
				merged = err != nil
				if err == nil {
					t.stats.merged.Add(int64(sp.to-sp.from) / 2)
				}
			}
			if err != nil {
				failed = sp.from
				break
			}
		}
		if failed < 0 {
			t.pending = t.pending[:0]
			if len(tail) == 0 {
				return nil, br.Close()
			}
			return br, nil
		}
		br.Close()
		s := t.pending[failed]
		switch {
		case merged && isServerErr(err):
			// A merged statement failed: undo it and send its writes'
			// statements one by one, which finds the write that fails.
			t.pending = t.pending[failed:]
			merge = false
			t.rollbackTo(ctx)
		case merged:
			t.fatal = fmt.Errorf("postgres: %s: %w", t.pending[failed+1].merge.sql, err)
		case s.op == ctl || s.save || !isServerErr(err):
			// The transaction cannot be repaired. (A row that fails to
			// scan, or is missing, was written all the same, and so may
			// be the rows of the statements after it.)
			t.fatal = fmt.Errorf("postgres: %s: %w", s.sql, err)
		case s.op == t.op:
			// A queued statement of the running write: the write fails
			// when it returns.
			t.lastErr = err
			t.pending = t.pending[:0]
			return nil, err
		default:
			// An earlier write fails; the statements after it run again.
			t.errs[s.op] = mapErr(err)
			rest := make([]stmt, 0, n-failed)
			for _, r := range t.pending[failed+1:] {
				if r.op != s.op {
					rest = append(rest, r)
				}
			}
			t.pending = rest
			t.rollbackTo(ctx)
		}
	}
}

// rollbackTo rolls back to the last savepoint run, in a round trip of its
// own: the server parses nothing but the end of a transaction or a
// rollback to a savepoint while the transaction is aborted, so the
// statement cannot go in a batch with others (which pgx may prepare first).
// Its failure is fatal.
func (t *groupTx) rollbackTo(ctx context.Context) {
	t.stats.roundTrips.Add(1)
	if _, err := t.c.Exec(ctx, rollbackToW.sql); err != nil {
		t.fatal = fmt.Errorf("postgres: %s: %w", rollbackToW.sql, err)
	}
}

// isServerErr reports whether err came from the server (the connection
// is still usable).
func isServerErr(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
}

// flush sends the queued statements.
func (t *groupTx) flush(ctx context.Context) error {
	_, err := t.send(ctx, nil)
	return err
}

// noted records the error a statement of the running write got.
func (t *groupTx) noted(err error) error {
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.lastErr = err
	}
	return err
}

// Exec implements pgx.Tx.
func (t *groupTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	br, err := t.send(ctx, []stmt{{sql: sql, args: args, op: t.op}})
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, t.noted(err)
}

// QueryRow implements pgx.Tx.
func (t *groupTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if r := t.ahead; r != nil {
		t.ahead = nil
		if sql == r.read.sql && reflect.DeepEqual(args, r.read.args) {
			return r
		}
	}
	br, err := t.send(ctx, []stmt{{sql: sql, args: args, op: t.op}})
	if err != nil {
		return errRow{err}
	}
	return groupRow{t: t, br: br, row: br.QueryRow()}
}

// Query implements pgx.Tx.
func (t *groupTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	t.stats.roundTrips.Add(1)
	return t.c.Query(ctx, sql, args...)
}

// CopyFrom implements pgx.Tx.
func (t *groupTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	t.stats.roundTrips.Add(1)
	n, err := t.c.CopyFrom(ctx, table, cols, src)
	return n, t.noted(err)
}

// SendBatch implements pgx.Tx.
func (t *groupTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := t.flush(ctx); err != nil {
		return errBatch{err}
	}
	t.stats.roundTrips.Add(1)
	return t.c.SendBatch(ctx, b)
}

// Prepare implements pgx.Tx.
func (t *groupTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.c.Prepare(ctx, name, sql)
}

// Conn implements pgx.Tx. Statements run on it directly are sent before
// those still queued.
func (t *groupTx) Conn() *pgx.Conn { return t.c }

// LargeObjects implements pgx.Tx; large objects are not supported (its
// methods panic, which fails the write).
func (t *groupTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

// Begin implements pgx.Tx; it fails.
func (t *groupTx) Begin(context.Context) (pgx.Tx, error) { return nil, errNested }

// Commit implements pgx.Tx; it fails.
func (t *groupTx) Commit(context.Context) error { return errNested }

// Rollback implements pgx.Tx; it fails.
func (t *groupTx) Rollback(context.Context) error { return errNested }

// execLater runs sql in tx as tx.Exec does, except that in a group (tx is
// the writer's) it only queues it: the statement goes to the server with
// the write's next statement, the next write's first statement or the
// commit, which saves a round trip per write. If it fails, the write fails
// as if fn had returned the error (its statements roll back; the rest of
// the group commits), after fn has returned. Use it for statements whose
// command tag the write does not need, typically its last one:
//
//	return execLater(ctx, tx, qTwinWrite, ...)
//
// args must not change until the statement is sent.
func execLater(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	if t, ok := tx.(*groupTx); ok && t.op != ctl {
		t.ahead = nil
		t.pending = append(t.pending, stmt{sql: sql, args: args, op: t.op})
		return nil
	}
	_, err := tx.Exec(ctx, sql, args...)
	return err
}

// queryRowLater is execLater for a statement that returns one row, such
// as INSERT … RETURNING: the row is scanned into dest when the result
// arrives, which is before the write is acknowledged but may be after fn
// returned, so fn must not read dest, and dest must stay valid until the
// write returns. A statement that returns no row or a row that does not
// scan into dest fails the whole group (the statements after it have run).
func queryRowLater(ctx context.Context, tx pgx.Tx, dest []any, sql string, args ...any) error {
	if t, ok := tx.(*groupTx); ok && t.op != ctl {
		t.ahead = nil
		t.pending = append(t.pending, stmt{sql: sql, args: args, dest: dest, op: t.op})
		return nil
	}
	return tx.QueryRow(ctx, sql, args...).Scan(dest...)
}

// groupRow is the row of a statement sent by a groupTx, whose batch it
// closes once scanned.
type groupRow struct {
	t   *groupTx
	br  pgx.BatchResults
	row pgx.Row
}

func (r groupRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return r.t.noted(err)
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
