package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

func init() {
	store.Register("sqlite", func(ctx context.Context, dsn string) (store.Store, error) {
		path, opts, err := ParseDSN(dsn)
		if err != nil {
			return nil, err
		}
		return Open(ctx, path, opts)
	})
}

// Options tunes a DB. The zero value is the default.
type Options struct {
	// Synchronous is the SQLite synchronous mode with WAL: "normal"
	// (default; acknowledged writes survive a process crash) or "full"
	// (they also survive power loss). See the package documentation.
	Synchronous string
	// ReadConns is the size of the reader pool; 0 means 4.
	ReadConns int
	// CacheMiB is the page cache of each reader connection in MiB; 0
	// means 64. The writer's is at most maxWriterCacheMiB.
	CacheMiB int
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Now, when not nil, is the clock that gives transaction times (and
	// model upload times) instead of time.Now, so that tests can load
	// data at chosen times. The store still makes transaction times
	// strictly increasing: a write at a time not after the last one gets
	// one nanosecond after it.
	Now func() time.Time
	// DocCacheMiB, when > 0, keeps up to that many MiB of twin documents
	// in memory for GetTwinJSON (see docCache). Only the database's only
	// writer may turn it on: a write by another process is not seen.
	DocCacheMiB int
}

// ParseDSN splits a "sqlite:PATH[?synchronous=full]" DSN into a path and
// options. "sqlite::memory:" gives the path ":memory:".
func ParseDSN(dsn string) (string, *Options, error) {
	rest, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok {
		return "", nil, fmt.Errorf("sqlite: DSN %q does not start with sqlite:", dsn)
	}
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return "", nil, fmt.Errorf("sqlite: DSN %q has no path", dsn)
	}
	opts := &Options{}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", nil, fmt.Errorf("sqlite: DSN %q: %w", dsn, err)
	}
	for k, v := range q {
		switch k {
		case "synchronous":
			opts.Synchronous = v[0]
		case "doccache":
			n, err := strconv.Atoi(v[0])
			if err != nil || n < 0 {
				return "", nil, fmt.Errorf("sqlite: DSN %q: doccache: want a whole number of MiB, got %q", dsn, v[0])
			}
			opts.DocCacheMiB = n
		default:
			return "", nil, fmt.Errorf("sqlite: DSN %q: unknown parameter %q", dsn, k)
		}
	}
	return path, opts, nil
}

// memSeq numbers in-memory databases so that each Open gets its own.
var memSeq atomic.Int64

// DB is a store.Store on one SQLite database. It is safe for concurrent use.
type DB struct {
	w      *sql.DB // the single writer connection
	r      *sql.DB // reader pool; == w for in-memory databases
	logger *slog.Logger
	now    func() time.Time // the clock of transaction times

	// wmu serialises write transactions and guards last and models. Lock
	// order: wmu is taken before the writer connection is used and held
	// until commit.
	wmu  sync.Mutex
	last int64 // last transaction time handed out, Unix ns
	// models is the model-set version as the write transaction sees it:
	// loaded at open, set by the writes that bump it, and put back when
	// such a write rolls back (alone in its savepoint, or with its group).
	// Writes compare Condition.Models with it without a query.
	models int64
	// seq is the last outbox seq handed out. A write that rolls back
	// leaves a gap, never a seq handed out twice; AckRecords saves it in
	// state.seq, so that it survives the deletion of the newest records.
	seq int64
	// records holds the outbox rows (recordCols values each) the writes
	// of the running transaction wrote, inserted just before it commits
	// (flushRecords); a write that rolls back drops its own.
	records []any
	// recs are the records of the rows in records, in the same order,
	// for the commit hook.
	recs []store.Record
	// hook is the commit hook (SetCommitHook), run by the writer; nil
	// when none is installed. Guarded by wmu.
	hook store.CommitHook

	wstmts, rstmts stmtCache

	ops    chan *writeOp // writes for the writer goroutine
	stop   chan struct{} // closed by Close
	exited chan struct{} // closed when the writer goroutine returns
	closer sync.Once

	ck       *sql.DB       // checkpoint connection (file databases only)
	ckExited chan struct{} // closed when the checkpointer returns

	// docs caches GetTwinJSON's documents (Options.DocCacheMiB); nil when
	// off. touched and touchedAll are the twins the running write
	// transaction wrote (see docCache), guarded by wmu.
	docs       *docCache
	touched    []twin.ID
	touchedAll bool
}

var (
	_ store.Store          = (*DB)(nil)
	_ store.SQLer          = (*DB)(nil)
	_ store.TwinPatcher    = (*DB)(nil)
	_ store.ModelDeleterIf = (*DB)(nil)
)

// Open opens (creating if needed) the database at path, or a private
// in-memory database for ":memory:", and migrates its schema. opts may be
// nil.
func Open(ctx context.Context, path string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	sync := strings.ToUpper(opts.Synchronous)
	switch sync {
	case "":
		sync = "NORMAL"
	case "NORMAL", "FULL":
	default:
		return nil, fmt.Errorf("sqlite: synchronous %q: want normal or full", opts.Synchronous)
	}
	readConns := opts.ReadConns
	if readConns <= 0 {
		readConns = 4
	}
	cache := opts.CacheMiB
	if cache <= 0 {
		cache = 64
	}
	db := &DB{logger: opts.Logger, now: opts.Now}
	if opts.DocCacheMiB > 0 {
		db.docs = newDocCache(opts.DocCacheMiB << 20)
	}
	if db.now == nil {
		db.now = time.Now
	}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}
	db.logger = db.logger.With("component", "store", "backend", "sqlite")

	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(0)"
	rCache := fmt.Sprintf("&_pragma=cache_size(-%d)", cache*1024)
	wCache := fmt.Sprintf("&_pragma=cache_size(-%d)", min(cache, maxWriterCacheMiB)*1024)
	var err error
	var wURI, rURI, ckURI string
	if path == ":memory:" {
		// The memdb VFS gives an in-memory database that several
		// connections share (without shared-cache table locks), so that
		// readers may nest queries as they do on a file. It has no WAL:
		// a reader holding a read lock delays a commit, within the busy
		// timeout.
		name := fmt.Sprintf("/lodestone-%d-%d", os.Getpid(), memSeq.Add(1))
		wURI = "file:" + name + "?vfs=memdb&" + common + wCache + "&_txlock=immediate"
		rURI = "file:" + name + "?vfs=memdb&" + common + rCache + "&_pragma=query_only(1)"
	} else {
		u := "file:" + (&url.URL{Path: path}).EscapedPath()
		// journal_size_limit truncates the WAL after a checkpoint, which
		// a large import would otherwise leave as big as the data.
		// wal_autocheckpoint(0): commits never run a checkpoint inline;
		// the checkpointer goroutine does, on its own connection.
		wURI = u + "?" + common + wCache + "&_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync + ")&_pragma=journal_size_limit(67108864)&_pragma=wal_autocheckpoint(0)&_txlock=immediate"
		rURI = u + "?" + common + rCache + "&_pragma=query_only(1)"
		ckURI = u + "?_pragma=busy_timeout(10000)&_pragma=synchronous(" + sync + ")"
	}
	db.w, err = sql.Open("sqlite", wURI)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer connection, kept open for the life of the DB (an
	// in-memory database lives as long as a connection to it).
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	// The writer must create the database (and switch a file to WAL)
	// before readers open it.
	if err := db.w.PingContext(ctx); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.r, err = sql.Open("sqlite", rURI)
	if err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.r.SetMaxOpenConns(readConns)
	db.r.SetMaxIdleConns(readConns)
	if ckURI != "" {
		if db.ck, err = sql.Open("sqlite", ckURI); err != nil {
			db.w.Close()
			db.r.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		db.ck.SetMaxOpenConns(1)
	}
	db.wstmts.db, db.rstmts.db = db.w, db.r
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.w.QueryRowContext(ctx, `SELECT models, max(seq, (SELECT coalesce(max(seq), 0) FROM outbox)) FROM state`).Scan(&db.models, &db.seq); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: read state: %w", err)
	}
	if err := db.initClock(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.prepareWriter(ctx); err != nil {
		db.Close()
		return nil, err
	}
	db.ops = make(chan *writeOp, 4*maxGroup)
	db.stop = make(chan struct{})
	db.exited = make(chan struct{})
	go db.writer()
	db.ckExited = make(chan struct{})
	if db.ck != nil {
		go db.checkpointer()
	} else {
		close(db.ckExited)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	if db.stop != nil {
		db.closer.Do(func() { close(db.stop) })
		<-db.exited
		<-db.ckExited
	}
	db.optimize(context.Background())
	if db.ck != nil {
		// Leave a small file behind: copy the WAL into the database and
		// truncate it.
		if _, err := db.w.ExecContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			db.logger.Warn("checkpoint", "err", err)
		}
		db.ck.Close()
	}
	db.rstmts.close()
	db.wstmts.close()
	return errors.Join(db.r.Close(), db.w.Close())
}

// optimize lets SQLite refresh the planner statistics it finds stale
// (PRAGMA optimize, sampling at most a few hundred rows per index). Errors
// are only logged: the statistics are a hint.
func (db *DB) optimize(ctx context.Context) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if _, err := db.w.ExecContext(ctx, `PRAGMA analysis_limit = 400`); err != nil {
		db.logger.Warn("optimize", "err", err)
		return
	}
	if _, err := db.w.ExecContext(ctx, `PRAGMA optimize`); err != nil {
		db.logger.Warn("optimize", "err", err)
	}
}

// initClock makes transaction times keep increasing across restarts even if
// the wall clock went back.
func (db *DB) initClock(ctx context.Context) error {
	var last sql.NullInt64
	err := db.w.QueryRowContext(ctx, `SELECT max(t) FROM (
		SELECT max(valid_from) AS t FROM twins
		UNION ALL SELECT max(valid_to) FROM twin_history
		UNION ALL SELECT max(valid_from) FROM relationships
		UNION ALL SELECT max(valid_to) FROM relationship_history
		UNION ALL SELECT max(upload_ns) FROM models)`).Scan(&last)
	if err != nil {
		return fmt.Errorf("sqlite: read clock: %w", err)
	}
	db.last = last.Int64
	return nil
}

// tick returns the next transaction time: the clock (Options.Now), or one
// nanosecond after the last one if the clock has not moved on. Callers hold
// wmu.
func (db *DB) tick() int64 {
	now := db.now().UnixNano()
	if now <= db.last {
		now = db.last + 1
	}
	db.last = now
	return now
}

// writeFunc is one write: it runs in tx with transaction time now.
type writeFunc func(ctx context.Context, tx *sql.Tx, now int64) error

// writeOp is a write queued for the writer goroutine.
type writeOp struct {
	ctx  context.Context
	fn   writeFunc
	solo bool       // run in a transaction of its own (imports)
	hook bool       // run the commit hook even without records (RunCommitHook)
	done chan error // receives the result once the commit is durable
}

// maxGroup caps the writes committed together.
const maxGroup = 64

var errClosed = errors.New("sqlite: database is closed")

// write runs fn in a write transaction with a fresh transaction time and
// returns once the transaction has committed (durably, per
// Options.Synchronous) or failed.
//
// Writes are group-committed: the writer goroutine takes the writes queued
// while it was busy and runs them in one transaction, each inside a
// savepoint so that a failed write rolls back alone and the others still
// commit. One commit (one WAL append) then serves many writes, which is
// where most of a small write's cost lies. Each write still gets its own
// transaction time, and the writes of a group are applied in queue order.
func (db *DB) write(ctx context.Context, fn writeFunc) error {
	return db.submit(ctx, fn, false)
}

func (db *DB) submit(ctx context.Context, fn writeFunc, solo bool) error {
	return db.submitOp(ctx, &writeOp{fn: fn, solo: solo})
}

// submitOp queues op (its fn and flags set) and waits for its result.
func (db *DB) submitOp(ctx context.Context, op *writeOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op.ctx, op.done = ctx, make(chan error, 1)
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
		// The writer may have answered just before exiting.
		select {
		case err := <-op.done:
			return err
		default:
			return errClosed
		}
	}
}

// writer is the goroutine that owns the writer connection. It runs until
// Close closes db.stop, answering every op it took.
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
			// writes before the group is closed; without this the writer
			// often commits a group of one while they are still runnable.
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

// runGroup runs ops in one transaction and answers each.
func (db *DB) runGroup(ops []*writeOp) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if len(ops) == 1 {
		op := ops[0]
		op.done <- db.runOne(op)
		return
	}
	bg := context.Background()
	tx, err := db.w.BeginTx(bg, nil)
	if err != nil {
		for _, op := range ops {
			op.done <- fmt.Errorf("sqlite: begin: %w", err)
		}
		return
	}
	// A group that fails as a whole leaves the version as it found it.
	models := db.models
	defer func() {
		if tx != nil {
			db.models = models
		}
		db.dropRecords(0)
	}()
	errs := make([]error, len(ops))
	hooked := false
	for i, op := range ops {
		hooked = hooked || op.hook
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := db.txExec(bg, tx, qSavepoint); err != nil {
			errs[i] = fmt.Errorf("sqlite: savepoint: %w", err)
			continue
		}
		// A write in a group must not be interrupted: SQLite answers an
		// interrupt inside a transaction by rolling all of it back.
		ctx := context.WithoutCancel(op.ctx)
		prev, prevModels, prevRecords := db.last, db.models, len(db.records)
		if err := callWrite(ctx, op.fn, tx, db.tick()); err != nil {
			errs[i] = err
			db.last, db.models = prev, prevModels
			db.dropRecords(prevRecords)
			if _, rerr := db.txExec(bg, tx, qRollbackTo); rerr != nil {
				// The transaction is unusable; fail the whole group.
				_ = tx.Rollback()
				for _, op := range ops {
					op.done <- fmt.Errorf("sqlite: rollback to savepoint: %w", rerr)
				}
				return
			}
		}
		if _, err := db.txExec(bg, tx, qRelease); err != nil {
			_ = tx.Rollback()
			for _, op := range ops {
				op.done <- fmt.Errorf("sqlite: release savepoint: %w", err)
			}
			return
		}
	}
	hookErr, err := db.commit(bg, tx, hooked)
	db.endTouch()
	if err != nil {
		for _, op := range ops {
			op.done <- err
		}
		return
	}
	tx = nil // committed: keep the version
	for i, op := range ops {
		if errs[i] == nil && op.hook {
			errs[i] = hookErr
		}
		op.done <- errs[i]
	}
}

// runOne runs a single op in its own transaction, under its own context.
func (db *DB) runOne(op *writeOp) error {
	if err := op.ctx.Err(); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(op.ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	prev, prevModels := db.last, db.models
	defer db.dropRecords(0)
	if err := callWrite(op.ctx, op.fn, tx, db.tick()); err != nil {
		db.last, db.models = prev, prevModels
		_ = tx.Rollback()
		return err
	}
	hookErr, err := db.commit(op.ctx, tx, op.hook)
	db.endTouch()
	if err != nil {
		db.last, db.models = prev, prevModels
		return err
	}
	if op.hook {
		return hookErr
	}
	return nil
}

// maxWriterCacheMiB caps the writer connection's page cache. A commit
// that follows a B-tree balance scans the writer's whole page-cache hash
// table: balance_nonroot gives a page the lock-byte page's number (262,145
// with 4 KiB pages) while it swaps two pages, and pcache1Truncate, run by
// the commit, then finds a key beyond the end of the database. The table
// grows with the pages the cache holds, so with 64 MiB that scan took
// 12.8 % of the CPU of patches to a database of 100,000 twins just
// imported, and 3.8 % with 8 MiB, for 2 % more reads from the OS page
// cache (BenchmarkTwinPatchAfterImport; docs/benchmarks.md). The writer
// reads little: the interior pages of the B-trees it writes and the
// leaves it changes.
const maxWriterCacheMiB = 8

// checkpointInterval is how often the checkpointer copies committed WAL
// frames into the database file.
const checkpointInterval = 250 * time.Millisecond

// checkpointer runs passive checkpoints in the background, so that no
// commit waits for one (SQLite's default runs them inline in the commit
// that crosses 1000 WAL pages). A passive checkpoint never blocks the
// writer or readers; once it has caught up, the next write transaction
// starts the WAL from the beginning again.
func (db *DB) checkpointer() {
	defer close(db.ckExited)
	tick := time.NewTicker(checkpointInterval)
	defer tick.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-tick.C:
			var busy, logFrames, done int
			err := db.ck.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done)
			if err != nil {
				db.logger.Warn("checkpoint", "err", err)
			}
		}
	}
}

// callWrite runs fn, turning a panic into an error so that a bug in one
// write fails that write (rolled back) instead of the writer goroutine and
// with it the process.
func callWrite(ctx context.Context, fn writeFunc, tx *sql.Tx, now int64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlite: write panicked: %v", r)
		}
	}()
	return fn(ctx, tx, now)
}

const (
	qSavepoint  = `SAVEPOINT w`
	qRollbackTo = `ROLLBACK TO w`
	qRelease    = `RELEASE w`
)

func init() { writerQueries = append(writerQueries, qSavepoint, qRollbackTo, qRelease) }

func nsTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func timeNS(t time.Time) int64 { return t.UnixNano() }

// core is the SQL this backend shares with store/postgres: the outbox,
// documents and the model-set version.
var core = sqlcore.New(sqlcore.SQLite)

func init() { writerQueries = append(writerQueries, core.WriteQueries()...) }

// txConn runs sqlcore's statements in a write transaction, through the
// writer's prepared statements. It writes outbox rows itself
// (sqlcore.RecordWriter).
type txConn struct {
	db *DB
	tx *sql.Tx
}

// WriteRecord implements sqlcore.RecordWriter: it numbers r and queues its
// row for flushRecords. Only write functions call it (they hold wmu).
func (c txConn) WriteRecord(r *store.Record) error {
	c.db.seq++
	r.Seq = c.db.seq
	c.db.records = append(append(c.db.records, r.Seq), sqlcore.RecordArgs(r)...)
	c.db.recs = append(c.db.recs, *r)
	return nil
}

func (c txConn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := c.db.txExec(ctx, c.tx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c txConn) QueryRow(ctx context.Context, q string, args ...any) sqlcore.Row {
	return c.db.txQueryRow(ctx, c.tx, q, args...)
}

func (c txConn) Query(ctx context.Context, q string, args ...any) (sqlcore.Rows, error) {
	s, err := c.db.txStmt(ctx, c.tx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// readConn runs sqlcore's reads on the reader pool.
type readConn struct{ db *DB }

func (c readConn) Exec(context.Context, string, ...any) (int64, error) {
	return 0, errors.New("sqlite: write on the reader pool")
}

func (c readConn) QueryRow(ctx context.Context, q string, args ...any) sqlcore.Row {
	return c.db.readRow(ctx, q, args...)
}

func (c readConn) Query(ctx context.Context, q string, args ...any) (sqlcore.Rows, error) {
	return c.db.readRows(ctx, q, args...)
}

// checkModels checks cond.Models against the version the write
// transaction sees. Only write functions call it (they hold wmu).
func (db *DB) checkModels(cond store.Condition) error { return sqlcore.CheckModels(cond, db.models) }

// bumpModels increases the model-set version in tx. Only write functions
// call it; the writer puts db.models back if the write rolls back.
func (db *DB) bumpModels(ctx context.Context, tx *sql.Tx) error {
	v, err := core.BumpModels(ctx, txConn{db, tx})
	if err != nil {
		return err
	}
	db.models = v
	return nil
}

// record writes r to the outbox in tx and sets its Seq.
func (db *DB) record(ctx context.Context, tx *sql.Tx, r *store.Record) error {
	return core.InsertRecord(ctx, txConn{db, tx}, r)
}
