package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/store/internal/rowcodec"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

// Blind twin writes.
//
// The writer's groups hold the clock row's lock from their tick to their
// commit, and in between the writes' functions run here, in this process:
// a round trip and a wake-up of the writer goroutine per group, under the
// lock, during which no other write on the schema can run. The commonest
// twin writes need no decision of this process between their read and
// their write: a create (PutTwin with If-None-Match, or a put without
// conditions) and a PatchTwinFrom. Their row is encoded before they are
// queued, with a sentinel time where the transaction time goes, and a
// group of them runs as one batch (BEGIN, synchronous_commit off for the
// transaction, the clock's tick, one statement that checks each write's
// conditions against the state under the lock, writes those that pass
// with the sentinel replaced by their time, and returns every write's
// state, and COMMIT), so that the lock is held only while the server runs
// that batch and not while its commit is flushed; the flusher answers
// the group's writers once it is (see flusher). Several blind
// writers, each with a connection of its own, have their batches queued on
// the lock one behind the other: the server goes from one group's commit
// to the next group's tick without waiting for this process. The
// transaction-time order stays strict: a group takes its times from the
// clock after the lock is granted, as every write does.
//
// Each write's outcome is decided again from the returned state by the
// same checks as the writer's functions (sqlcore.CheckModels, checkCond,
// the model's existence), with the same errors. A group whose statement
// fails (bad data: jsonb refusing a "\u0000") rolls back whole and its
// writes run again through the writer, which isolates the failing one; so
// do writes whose data holds the sentinel.

// blindWriters is the number of blind writer goroutines and connections.
const blindWriters = 1

// maxGather caps the time a blind writer waits for the writers it
// answered (see blindWriter), whatever the last group's run: one that
// waited for the clock behind an import says nothing of the writers.
const maxGather = 6 * time.Millisecond

// stampSentinel is the time a blind write's row holds where its
// transaction time goes; the statement replaces its JSON string by the
// transaction time's. No transaction time can be this (year 1).
var stampSentinel = time.Date(1, 2, 3, 4, 5, 6, 789012345, time.UTC)

// sentinelJSON is stampSentinel as twin's JSON writes it.
var sentinelJSON = []byte(`"` + stampSentinel.Format(time.RFC3339Nano) + `"`)

// errBlindFallback tells a blind write to run through the writer instead.
var errBlindFallback = errors.New("postgres: blind write falls back to the writer")

// blindWrite is one blind twin write: its row (the columns of qTwinWrite)
// and its conditions, then, once run, the state the statement found and
// what it wrote.
type blindWrite struct {
	id, model, etag string
	props, meta     []byte  // with sentinelJSON for the transaction time
	patch           *string // a patch's JSON (the record's data), or nil for a put
	ifNone          bool    // a put: fail if the twin exists
	base            *string // a patch: the twin's etag must be this
	needModel       bool    // the model must exist
	models          int64   // Condition.Models (0: unchecked)

	curETag   *string // the stored etag before the write, nil if none
	modelOK   bool
	curModels int64
	written   bool
	seq, now  int64
}

// blindOp is a blind write queued for a blind writer.
type blindOp struct {
	ctx  context.Context
	w    *blindWrite
	done chan error
}

// qBlindWrite is qTwinWriteMerged with the checks: $1–$11 are the arrays
// of the blind writes' fields, $12 their number (the times reserved by
// the tick just before). It returns one row per write, in order: the
// stored etag, whether the model exists, the model-set version, and the
// seq of the record written (NULL when the write's conditions failed)
// and its transaction time.
var qBlindWrite = `WITH v AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::text[], $9::bool[], $10::bigint[])
		WITH ORDINALITY AS v(id, model, etag, props, meta, patch, ifnone, base, needmodel, models, n)),
s AS (
	SELECT v.*, t.etag AS cur_etag, EXISTS(SELECT 1 FROM models m WHERE m.id = v.model COLLATE "C") AS model_ok,
		` + qModels + ` AS cur_models, (SELECT last FROM clock) - $11::bigint + v.n AS ts
	FROM v LEFT JOIN twins t ON t.id = v.id COLLATE "C"),
ok AS (
	SELECT s.*, CASE WHEN s.patch IS NOT NULL THEN 'patch' WHEN s.cur_etag IS NULL THEN 'create' ELSE 'replace' END AS op,
		'"' || to_char(to_timestamp(s.ts / 1000000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
			|| CASE WHEN s.ts % 1000000000 = 0 THEN '' ELSE '.' || rtrim(lpad((s.ts % 1000000000)::text, 9, '0'), '0') END
			|| 'Z"' AS tstr
	FROM s
	WHERE (s.models = 0 OR s.models = s.cur_models) AND (s.model_ok OR NOT s.needmodel)
		AND CASE WHEN s.patch IS NULL THEN NOT (s.ifnone AND s.cur_etag IS NOT NULL)
			ELSE s.cur_etag = s.base END),
old AS (
	INSERT INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
	SELECT t.id, t.valid_from, ok.ts, t.model, t.etag, t.props, t.meta, t.op, t.patch
		FROM ok JOIN twins t ON t.id = ok.id COLLATE "C"),
cur AS (
	INSERT INTO twins(id, model, etag, props, meta, valid_from, op, patch)
	SELECT id, model, etag, replace(props, $12, tstr)::jsonb, replace(meta, $12, tstr)::jsonb, ts, op, patch FROM ok
	ON CONFLICT (id) DO UPDATE SET model = excluded.model, etag = excluded.etag, props = excluded.props,
		meta = excluded.meta, valid_from = excluded.valid_from, op = excluded.op, patch = excluded.patch),
rec AS (
	INSERT INTO outbox(` + sqlcore.RecordCols + `)
	SELECT 'twin', op, id, etag, model, ts, coalesce(patch, '') FROM ok ORDER BY ts
	RETURNING seq, subject)
SELECT s.cur_etag, s.model_ok, s.cur_models, rec.seq, s.ts FROM s LEFT JOIN rec ON rec.subject = s.id ORDER BY s.n`

// blindArgs returns the arguments of qBlindWrite for ws.
func blindArgs(ws []*blindWrite) []any {
	n := len(ws)
	ids, models, etags := make([]string, n), make([]string, n), make([]string, n)
	props, meta, patches := make([]string, n), make([]string, n), make([]*string, n)
	ifNone, bases, need, conds := make([]bool, n), make([]*string, n), make([]bool, n), make([]int64, n)
	for i, w := range ws {
		ids[i], models[i], etags[i] = w.id, w.model, w.etag
		props[i], meta[i], patches[i] = string(w.props), string(w.meta), w.patch
		ifNone[i], bases[i], need[i], conds[i] = w.ifNone, w.base, w.needModel, w.models
	}
	return []any{ids, models, etags, props, meta, patches, ifNone, bases, need, conds, int64(n), string(sentinelJSON)}
}

// writeBlind runs w through a blind writer and returns once its group has
// committed or failed; errBlindFallback asks the caller to write through
// the writer.
func (db *DB) writeBlind(ctx context.Context, w *blindWrite) error {
	if db.noBlind {
		return errBlindFallback
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &blindOp{ctx: ctx, w: w, done: make(chan error, 1)}
	return submit(ctx, db.stop, db.blind, op, op.done, db.blindExited)
}

// blindWriter takes the queued blind writes in groups (up to maxMerged,
// each twin at most once) and runs each group, until Close.
//
// A group's writers are answered together, and most write again at once:
// while the next group runs, they queue behind it, and the writers fall
// into two cohorts that alternate, each group half of them. Each group
// costs the server about as much again as its writes (its commit's sync,
// the statement's start), so the writer waits for the writers it just
// answered: it takes the next group once as many writes are queued as it
// answered plus those that were queued then, or once twice the last
// group's run has passed (6 ms at most), or when no write came for a
// quarter of that wait (gather). Writers behind an HTTP request come back
// after their response and their next request, longer than the group's
// run: with half the run as the limit (before 2026-12-07) the two cohorts
// never met, and groups through the API stayed at about 7 writes of 16
// clients; with twice the run they hold 12-14, and the database's CPU per
// write falls by a fifth to a third (BenchmarkWritePair, docs/benchmarks.md).
// A lone writer never waits: it is the one answered, and its next write is
// all that is expected.
func (db *DB) blindWriter() {
	defer db.blindWG.Done()
	var (
		carry *blindOp      // an op that named a twin of the group before
		want  int           // the writes expected for the next group
		last  time.Duration // the run of the last group
	)
	for {
		op := carry
		carry = nil
		if op == nil {
			select {
			case op = <-db.blind:
			case <-db.stop:
				for {
					select {
					case op := <-db.blind:
						op.done <- errClosed
					default:
						return
					}
				}
			}
		}
		group := []*blindOp{op}
		ids := map[string]bool{op.w.id: true}
		wait := min(2*last, maxGather)
		group, carry = db.gather(group, ids, min(want, maxMerged), wait, wait/4)
		start := time.Now()
		db.runBlind(group)
		last = time.Since(start)
		want = len(group) + len(db.blind)
	}
}

// gather adds the queued blind writes to group, up to maxMerged, and
// while it has fewer than want waits for more: up to wait in all, and up
// to gap for each (writers that come back late are left for the next
// group). It returns the group and an op it took that names a twin of the
// group, if any (the group ends there).
func (db *DB) gather(group []*blindOp, ids map[string]bool, want int, wait, gap time.Duration) ([]*blindOp, *blindOp) {
	var (
		timer    *time.Timer
		deadline time.Time
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for len(group) < maxMerged {
		var op *blindOp
		select {
		case op = <-db.blind:
		default:
			if len(group) >= want || wait <= 0 {
				return group, nil
			}
			d := gap
			if timer == nil {
				deadline = time.Now().Add(wait)
				timer = time.NewTimer(min(d, wait))
			} else {
				if left := time.Until(deadline); left < d {
					d = left
				}
				if d <= 0 {
					return group, nil
				}
				timer.Reset(d)
			}
			select {
			case op = <-db.blind:
				timer.Stop()
			case <-timer.C:
				return group, nil
			case <-db.stop:
				return group, nil
			}
		}
		if ids[op.w.id] {
			return group, op
		}
		ids[op.w.id] = true
		group = append(group, op)
	}
	return group, nil
}

// runBlind runs a group of blind writes in one transaction and answers
// each.
func (db *DB) runBlind(group []*blindOp) {
	ws := make([]*blindWrite, 0, len(group))
	live := group[:0:0]
	for _, op := range group {
		if err := op.ctx.Err(); err != nil {
			op.done <- err
			continue
		}
		ws = append(ws, op.w)
		live = append(live, op)
	}
	if len(ws) == 0 {
		return
	}
	err := db.execBlind(ws)
	if err == nil {
		db.stats.commits.Add(1)
		if len(ws) > 1 {
			db.stats.merged.Add(int64(len(ws)))
		}
	}
	db.stats.writes.Add(int64(len(ws)))
	if err == nil {
		// Committed, not yet on disk: the flusher answers.
		db.flushes <- flushed{ops: live}
		return
	}
	for _, op := range live {
		op.done <- err
	}
}

// flushed is a blind group whose transaction committed without waiting
// for its WAL to reach the disk: its writers are answered once a commit
// begun after it has (see flusher).
type flushed struct{ ops []*blindOp }

// flusher answers the blind groups handed to it once their commits are
// durable, until db.flushes is closed (after the blind writers returned);
// then it closes db.blindExited.
//
// A blind group commits with synchronous_commit off, so that the clock
// row's lock is released as soon as its commit record is in the WAL's
// buffers, not after the WAL is flushed (0.1-0.5 ms of fdatasync on the
// machines of docs/benchmarks.md): the next group's batch runs while this
// one's WAL goes to disk. The group's writers are answered only after
// flushWAL, a transaction begun after the group committed, has committed
// with the connection's own synchronous_commit: the WAL is one sequence,
// so flushing it up to that transaction's commit record flushes every
// group's before it. An acknowledged write is as durable as before; what
// changes is that other connections may see a group's writes for the
// length of one flush before they are durable (PostgreSQL's
// asynchronous commit, bounded by the flusher rather than by
// wal_writer_delay), and that a crash of the database server or the
// machine in that window loses writes that were not acknowledged. A write
// that read such a state commits after it in the same WAL, so it is
// never durable without it.
func (db *DB) flusher() {
	defer close(db.blindExited)
	for f := range db.flushes {
		batch := []flushed{f}
	drain:
		for {
			select {
			case g, ok := <-db.flushes:
				if !ok {
					break drain
				}
				batch = append(batch, g)
			default:
				break drain
			}
		}
		err := db.flushWAL(context.Background())
		for _, g := range batch {
			for _, op := range g.ops {
				op.done <- err
			}
		}
	}
}

// flushWAL commits a transaction that has an id and nothing else, with the
// connection's synchronous_commit: PostgreSQL flushes the WAL up to its
// commit record, which is past the commit record of every blind group
// handed over before it began.
//
// PendingRecords flushes too, after its read, so that the relay never
// publishes the event of a change that is not yet durable.
func (db *DB) flushWAL(ctx context.Context) error {
	conn, err := db.w.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: flush: connect: %w", err)
	}
	defer conn.Release()
	if db.beforeFlush != nil {
		if err := db.beforeFlush(); err != nil {
			return fmt.Errorf("postgres: flush: %w", err)
		}
	}
	db.stats.flushes.Add(1)
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SELECT txid_current()`) // gives the transaction an id, so its commit is logged and flushed
	b.Queue(`COMMIT`)
	c := conn.Conn()
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		if !c.IsClosed() && c.PgConn().TxStatus() != 'I' {
			_, _ = c.Exec(context.WithoutCancel(ctx), `ROLLBACK`)
		}
		return fmt.Errorf("postgres: flush: %w", err)
	}
	return nil
}

// execBlind sends the batch of ws on a writer connection and reads its
// results into ws. A statement the server refused rolls the transaction
// back and gives errBlindFallback; a failure of the connection is
// returned as it is (the commit may or may not have happened).
func (db *DB) execBlind(ws []*blindWrite) error {
	ctx := context.Background()
	conn, err := db.w.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Release()
	c := conn.Conn()
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL synchronous_commit = off`) // the flusher waits for the disk (see flusher)
	b.Queue(qTick, int64(len(ws)))
	b.Queue(qBlindWrite, blindArgs(ws)...)
	b.Queue(`COMMIT`)
	db.stats.roundTrips.Add(1)
	br := c.SendBatch(ctx, b)
	err = readBlind(br, ws)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		return nil
	}
	if c.PgConn().TxStatus() != 'I' {
		_, _ = c.Exec(ctx, `ROLLBACK`)
	}
	if isServerErr(err) {
		return errBlindFallback
	}
	return fmt.Errorf("postgres: blind write: %w", err)
}

// readBlind reads the results of a blind batch into ws.
func readBlind(br pgx.BatchResults, ws []*blindWrite) error {
	if _, err := br.Exec(); err != nil {
		return err
	}
	if _, err := br.Exec(); err != nil { // SET LOCAL
		return err
	}
	var first int64
	if err := br.QueryRow().Scan(&first); err != nil {
		return err
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	i := 0
	for rows.Next() {
		if i >= len(ws) {
			rows.Close()
			return errors.New("postgres: blind write returned more rows than writes")
		}
		w := ws[i]
		var seq *int64
		if err := rows.Scan(&w.curETag, &w.modelOK, &w.curModels, &seq, &w.now); err != nil {
			rows.Close()
			return err
		}
		w.written = seq != nil
		if seq != nil {
			w.seq = *seq
		}
		i++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if i != len(ws) {
		return errors.New("postgres: blind write returned fewer rows than writes")
	}
	tag, err := br.Exec()
	if err == nil && tag.String() != "COMMIT" {
		err = errRolledBack
	}
	return err
}

// putBlind is PutTwin as a blind write. It returns errBlindFallback when
// the put must go through the writer: an If-Match condition, data that
// holds the sentinel, an encoding error (reported by the writer's path).
func (db *DB) putBlind(ctx context.Context, t twin.Twin, cond store.Condition) (twin.Twin, error) {
	if cond.IfMatch != "" {
		return twin.Twin{}, errBlindFallback
	}
	if sentinelIn(&t.Metadata) {
		return twin.Twin{}, errBlindFallback
	}
	out := rowcodec.StampTwin(t.Clone(), stampSentinel)
	props, meta, err := rowcodec.EncodeTwin(&out)
	if err != nil || bytes.Contains(props, sentinelJSON) {
		return twin.Twin{}, errBlindFallback
	}
	w := &blindWrite{id: string(out.ID), model: out.Metadata.Model, etag: string(out.ETag), props: props, meta: meta,
		ifNone: cond.IfNoneMatch, needModel: true, models: cond.Models}
	if err := db.writeBlind(ctx, w); err != nil {
		return twin.Twin{}, err
	}
	if err := sqlcore.CheckModels(cond, w.curModels); err != nil {
		return twin.Twin{}, err
	}
	exists := w.curETag != nil
	var cur twin.ETag
	if exists {
		cur = twin.ETag(*w.curETag)
	}
	if err := checkCond(cond, exists, cur); err != nil {
		return twin.Twin{}, err
	}
	if !w.modelOK {
		return twin.Twin{}, fmt.Errorf("model %q does not exist: %w", t.Metadata.Model, store.ErrInvalid)
	}
	if !w.written {
		return twin.Twin{}, errors.New("postgres: blind put: the statement did not write a write that passed its checks")
	}
	now := nsTime(w.now)
	unSentinel(&out, now)
	op := store.OpCreate
	if exists {
		op = store.OpReplace
	}
	var data []byte
	if store.RecorderFrom(ctx) != nil {
		if data, err = rowcodec.TwinDoc(&out, props); err != nil {
			return twin.Twin{}, err
		}
	}
	rec := sqlcore.TwinRecord(op, out.ID, out.ETag, out.Metadata.Model, w.now, data)
	rec.Org = out.Metadata.Org
	rec.Seq = w.seq
	sqlcore.Deliver(ctx, rec)
	return out, nil
}

// patchBlind is PatchTwinFrom as a blind write; errBlindFallback as for
// putBlind (and for a patch that does not apply or touches a component,
// whose metadata lives in the props column).
func (db *DB) patchBlind(ctx context.Context, base twin.Twin, p twin.Patch, pj []byte, cond store.Condition) (twin.Twin, error) {
	if bytes.Contains(pj, sentinelJSON[1:len(sentinelJSON)-1]) {
		return twin.Twin{}, errBlindFallback
	}
	if sentinelIn(&base.Metadata) {
		return twin.Twin{}, errBlindFallback
	}
	next, err := base.ApplyPatch(p, stampSentinel)
	if err != nil {
		return twin.Twin{}, errBlindFallback
	}
	next.ETag = twin.NewETag()
	props, meta, err := rowcodec.EncodeTwin(&next)
	if err != nil || bytes.Contains(props, sentinelJSON) {
		return twin.Twin{}, errBlindFallback
	}
	baseETag, patch := string(base.ETag), string(pj)
	w := &blindWrite{id: string(base.ID), model: next.Metadata.Model, etag: string(next.ETag), props: props, meta: meta,
		patch: &patch, base: &baseETag, needModel: next.Metadata.Model != base.Metadata.Model, models: cond.Models}
	if err := db.writeBlind(ctx, w); err != nil {
		return twin.Twin{}, err
	}
	if err := sqlcore.CheckModels(cond, w.curModels); err != nil {
		return twin.Twin{}, err
	}
	if w.curETag == nil {
		return twin.Twin{}, store.ErrNotFound
	}
	if twin.ETag(*w.curETag) != base.ETag {
		return twin.Twin{}, fmt.Errorf("etag %s is not the base's %s: %w", *w.curETag, base.ETag, store.ErrPreconditionFailed)
	}
	if w.needModel && !w.modelOK {
		return twin.Twin{}, fmt.Errorf("model %q does not exist: %w", next.Metadata.Model, store.ErrInvalid)
	}
	if !w.written {
		return twin.Twin{}, errors.New("postgres: blind patch: the statement did not write a write that passed its checks")
	}
	unSentinel(&next, nsTime(w.now))
	rec := sqlcore.TwinRecord(store.OpPatch, next.ID, next.ETag, next.Metadata.Model, w.now, pj)
	rec.Org = next.Metadata.Org
	rec.Seq = w.seq
	sqlcore.Deliver(ctx, rec)
	return next, nil
}

// sentinelIn reports whether the sentinel is in md other than as a
// lastUpdateTime that a write stamps: in a source time, a time of a
// property, or a string.
func sentinelIn(md *twin.Metadata) bool {
	if md.LastUpdateTime.Equal(stampSentinel) {
		return true
	}
	s := string(sentinelJSON[1 : len(sentinelJSON)-1])
	for _, v := range []string{md.Model, md.Org, md.Writer, md.Signer} {
		if strings.Contains(v, s) {
			return true
		}
	}
	for _, pm := range md.Properties {
		if pm.SourceTime.Equal(stampSentinel) || pm.LastUpdateTime.Equal(stampSentinel) {
			return true
		}
	}
	return false
}

// unSentinel puts the transaction time now where t has the sentinel.
func unSentinel(t *twin.Twin, now time.Time) {
	if t.Metadata.LastUpdateTime.Equal(stampSentinel) {
		t.Metadata.LastUpdateTime = now
	}
	for k, pm := range t.Metadata.Properties {
		if pm.LastUpdateTime.Equal(stampSentinel) {
			pm.LastUpdateTime = now
			t.Metadata.Properties[k] = pm
		}
	}
}
