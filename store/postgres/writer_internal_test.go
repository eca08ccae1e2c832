package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"lodestone/store"
)

// openWriterTest opens a DB on a schema of its own with a table scratch(k
// primary key, v, t) holding the row k = 0, and stops its writer
// goroutine, so that the test can run groups itself with runGroup.
func openWriterTest(t *testing.T) *DB {
	t.Helper()
	base := os.Getenv("LODESTONE_TEST_POSTGRES")
	if base == "" {
		t.Skip("LODESTONE_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); skipping the PostgreSQL tests")
	}
	schema := fmt.Sprintf("lodestone_writer_%d_%d", os.Getpid(), time.Now().UnixNano())
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	db, err := Open(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.w.Exec(ctx, `CREATE TABLE scratch (k int PRIMARY KEY, v text, t bigint); INSERT INTO scratch VALUES (0, 'seed', 0)`); err != nil {
		t.Fatal(err)
	}
	db.closer.Do(func() { close(db.stop) })
	<-db.exited
	<-db.blindExited
	db.noBlind = true // the tests run the writer's groups themselves
	return db
}

// scratchWrite is a write of the group tests, by what it does.
type scratchWrite struct {
	fn  func(k int) writeFunc
	op  func(k int) *writeOp // instead of fn, for a write with a first read
	err error                // wanted, checked with errors.Is; nil: k is stored
}

func insertLater(k int, v string) writeFunc {
	return func(ctx context.Context, tx pgx.Tx, now int64) error {
		return execLater(ctx, tx, `INSERT INTO scratch VALUES ($1, $2, $3)`, k, v, now)
	}
}

var (
	errGo         = errors.New("fails in Go")
	scratchWrites = map[string]scratchWrite{
		// ok queues its insert.
		"ok": {fn: func(k int) writeFunc { return insertLater(k, "ok") }},
		// read reads, then queues its insert.
		"read": {fn: func(k int) writeFunc {
			return func(ctx context.Context, tx pgx.Tx, now int64) error {
				var n int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM scratch WHERE k = 0`).Scan(&n); err != nil || n != 1 {
					return fmt.Errorf("count = %d, %v", n, err)
				}
				return insertLater(k, "read")(ctx, tx, now)
			}
		}},
		// exec inserts at once.
		"exec": {fn: func(k int) writeFunc {
			return func(ctx context.Context, tx pgx.Tx, now int64) error {
				_, err := tx.Exec(ctx, `INSERT INTO scratch VALUES ($1, 'exec', $2)`, k, now)
				return err
			}
		}},
		// dup queues an insert that fails on the server.
		"dup": {fn: func(int) writeFunc { return insertLater(0, "dup") }, err: store.ErrConflict},
		// nul queues text PostgreSQL refuses.
		"nul": {fn: func(k int) writeFunc { return insertLater(k, "a\x00b") }, err: store.ErrInvalid},
		// twice queues a good insert, then one that fails: neither stays.
		"twice": {fn: func(k int) writeFunc {
			return func(ctx context.Context, tx pgx.Tx, now int64) error {
				if err := insertLater(k, "twice")(ctx, tx, now); err != nil {
					return err
				}
				return insertLater(0, "twice")(ctx, tx, now)
			}
		}, err: store.ErrConflict},
		// goerr queues an insert, then fails in Go.
		"goerr": {fn: func(k int) writeFunc {
			return func(ctx context.Context, tx pgx.Tx, now int64) error {
				if err := insertLater(k, "goerr")(ctx, tx, now); err != nil {
					return err
				}
				return errGo
			}
		}, err: errGo},
		// flush queues a failing insert, then runs a statement, which
		// gets the failure.
		"flush": {fn: func(k int) writeFunc {
			return func(ctx context.Context, tx pgx.Tx, now int64) error {
				if err := insertLater(0, "flush")(ctx, tx, now); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `SELECT 1`); err == nil {
					return errors.New("the statement after a failed queued one succeeded")
				} else {
					return err
				}
			}
		}, err: store.ErrConflict},
		// swallow runs a failing insert and returns nil: it still fails.
		"swallow": {fn: func(k int) writeFunc {
			return func(ctx context.Context, tx pgx.Tx, now int64) error {
				_, _ = tx.Exec(ctx, `INSERT INTO scratch VALUES (0, 'swallow', $1)`, now)
				return nil
			}
		}, err: store.ErrConflict},
		// ret queues an insert that returns its key and time, which are
		// in place once the write is acknowledged.
		"ret": {fn: func(k int) writeFunc {
			return func(ctx context.Context, tx pgx.Tx, now int64) error {
				r := &returned{want: k}
				returns = append(returns, r)
				return queryRowLater(ctx, tx, []any{&r.k}, `INSERT INTO scratch VALUES ($1, 'ret', $2) RETURNING k`, k, now)
			}
		}},
		// retdup is ret with a key that is taken.
		"retdup": {fn: func(k int) writeFunc {
			return func(ctx context.Context, tx pgx.Tx, now int64) error {
				var k int
				return queryRowLater(ctx, tx, []any{&k}, `INSERT INTO scratch VALUES (0, 'ret', $1) RETURNING k`, now)
			}
		}, err: store.ErrConflict},
		// rk reads whether its key is free, in a first read that may run
		// ahead, then queues its insert.
		"rk": {op: func(k int) *writeOp {
			r := firstRead{keys: []string{fmt.Sprint("k", k)}, sql: `SELECT count(*) FROM scratch WHERE k = $1`, args: []any{k}}
			return &writeOp{read: &r, fn: func(ctx context.Context, tx pgx.Tx, now int64) error {
				var n int
				if err := tx.QueryRow(ctx, r.sql, r.args...).Scan(&n); err != nil || n != 0 {
					return fmt.Errorf("count = %d, %v", n, err)
				}
				return insertLater(k, "rk")(ctx, tx, now)
			}}
		}},
		// r0 reads row 0 in a first read and appends to it: a read run
		// ahead of an earlier r0 of its group would miss its append.
		"r0": {op: func(k int) *writeOp {
			r := firstRead{keys: []string{"k0"}, sql: `SELECT v FROM scratch WHERE k = $1`, args: []any{0}}
			return &writeOp{read: &r, fn: func(ctx context.Context, tx pgx.Tx, now int64) error {
				var v string
				if err := tx.QueryRow(ctx, r.sql, r.args...).Scan(&v); err != nil {
					return err
				}
				if want := "seed" + strings.Repeat("+", appends); v != want {
					return fmt.Errorf("row 0 = %q, want %q", v, want)
				}
				appends++
				if err := execLater(ctx, tx, `UPDATE scratch SET v = v || '+' WHERE k = 0`); err != nil {
					return err
				}
				return insertLater(k, "r0")(ctx, tx, now)
			}}
		}},
		// kx names its key only and queues its insert: the reads of the
		// writes after it still run ahead.
		"kx": {op: func(k int) *writeOp {
			return &writeOp{read: &firstRead{keys: []string{fmt.Sprint("k", k)}}, fn: insertLater(k, "kx")}
		}},
		// rbad's first read fails in PostgreSQL.
		"rbad": {op: func(k int) *writeOp {
			r := firstRead{keys: []string{fmt.Sprint("k", k)}, sql: `SELECT count(*) FROM scratch WHERE k = $1::text::int`, args: []any{"x"}}
			return &writeOp{read: &r, fn: func(ctx context.Context, tx pgx.Tx, now int64) error {
				var n int
				return tx.QueryRow(ctx, r.sql, r.args...).Scan(&n)
			}}
		}, err: store.ErrInvalid},
		// panic queues an insert and panics.
		"panic": {fn: func(k int) writeFunc {
			return func(ctx context.Context, tx pgx.Tx, now int64) error {
				_ = insertLater(k, "panic")(ctx, tx, now)
				panic("boom")
			}
		}, err: errAny},
	}
	errAny = errors.New("any error")
	// returns collects the rows of the "ret" writes.
	returns []*returned
	// appends counts the "r0" writes.
	appends int
)

type returned struct{ k, want int }

// TestGroupWrites runs groups of writes that queue statements with
// execLater and fail in every way at every position (in Go, in PostgreSQL
// when the statement is sent with the next write's or with the commit),
// each group once with a transaction of its own and once begun by the
// commit of the group before: each failing write rolls back alone, every
// other write commits, and transaction times follow the order of the
// writes.
func TestGroupWrites(t *testing.T) {
	groups := [][]string{
		{"ok"},
		{"dup"},
		{"ok", "dup", "ok"},
		{"dup", "dup", "read"},
		{"ok", "ok", "dup"},
		{"read", "nul", "exec", "twice"},
		{"ok", "goerr", "ok", "flush", "read"},
		{"swallow", "ok", "panic", "ok"},
		{"exec", "dup", "goerr", "nul", "twice", "flush", "swallow", "read"},
		{"twice"},
		{"ret", "retdup", "ret"},
		{"retdup", "read", "ret", "dup"},
		{"r0", "r0", "rk", "r0"},
		{"rk", "rbad", "rk", "r0"},
		{"ok", "rk", "r0"},
		{"r0", "ok", "r0", "rk"},
		{"rk", "dup", "r0", "rk", "goerr", "r0"},
		{"kx", "r0", "kx", "rk"},
	}
	db := openWriterTest(t)
	ctx := t.Context()
	k := 0
	var want []int
	// makeOps makes the ops of a group and a check of their results.
	makeOps := func(names []string) ([]*writeOp, func(t *testing.T)) {
		ops := make([]*writeOp, len(names))
		wants := make([]error, len(names))
		for i, name := range names {
			k++
			w := scratchWrites[name]
			if w.op != nil {
				ops[i] = w.op(k)
			} else {
				ops[i] = &writeOp{fn: w.fn(k)}
			}
			ops[i].ctx, ops[i].done = ctx, make(chan error, 1)
			wants[i] = w.err
			if w.err == nil {
				want = append(want, k)
			}
		}
		return ops, func(t *testing.T) {
			t.Helper()
			for i, op := range ops {
				err := <-op.done
				switch {
				case wants[i] == nil && err != nil:
					t.Errorf("%v: write %d (%s) = %v, want success", names, i, names[i], err)
				case wants[i] == errAny && err == nil, wants[i] != nil && wants[i] != errAny && !errors.Is(err, wants[i]):
					t.Errorf("%v: write %d (%s) = %v, want %v", names, i, names[i], err, wants[i])
				}
			}
		}
	}
	for _, g := range groups {
		ops, check := makeOps(g)
		next, gt, solo := db.runGroup(ops, nil, false)
		if next != nil || gt != nil || solo != nil {
			t.Fatalf("runGroup without chain = %v, %v, %v", next, gt, solo)
		}
		check(t)
	}
	// A group of writes whose first reads run ahead takes two round
	// trips: the reads with BEGIN, the writes with COMMIT.
	rk := []string{"rk", "rk", "kx", "rk", "rk", "rk"}
	ops, check := makeOps(rk)
	trips := db.stats.roundTrips.Load()
	db.runGroup(ops, nil, false)
	check(t)
	if n := db.stats.roundTrips.Load() - trips; n != 2 {
		t.Errorf("%v took %d round trips, want 2", rk, n)
	}

	// Chained: each group is queued while the one before runs, and
	// begins in its commit's round trip.
	var gt *groupTx
	ops, check = makeOps(groups[0])
	for _, g := range groups[1:] {
		nextOps, nextCheck := makeOps(g)
		for _, op := range nextOps {
			db.ops <- op
		}
		next, nextTx, solo := db.runGroup(ops, gt, true)
		if solo != nil || nextTx == nil || len(next) != len(nextOps) {
			t.Fatalf("runGroup with %d writes queued = %d writes, %v, %v", len(nextOps), len(next), nextTx, solo)
		}
		check(t)
		ops, check, gt = next, nextCheck, nextTx
	}
	if next, nextTx, _ := db.runGroup(ops, gt, true); next != nil || nextTx != nil {
		t.Fatalf("runGroup with nothing queued = %v, %v", next, nextTx)
	}
	check(t)

	rows, err := db.r.Query(ctx, `SELECT k, t FROM scratch WHERE k > 0 ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	var times []int64
	for rows.Next() {
		var k int
		var tm int64
		if err := rows.Scan(&k, &tm); err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
		times = append(times, tm)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored writes (-want +got):\n%s", diff)
	}
	if !slices.IsSorted(times) || len(slices.Compact(slices.Clone(times))) != len(times) {
		t.Errorf("transaction times do not increase with the writes: %v", times)
	}
	for _, r := range returns {
		if r.k != r.want {
			t.Errorf("row returned to a queued insert of %d = %d", r.want, r.k)
		}
	}
	var seed string
	if err := db.r.QueryRow(ctx, `SELECT v FROM scratch WHERE k = 0`).Scan(&seed); err != nil || seed != "seed"+strings.Repeat("+", appends) {
		t.Errorf("row 0 = %q, %v; want the seed and %d appends", seed, err, appends)
	}
}
