package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"lodestone/store"
	"lodestone/twin"
)

const blindModel = "dtmi:lodestone:test:Blind;1"

func blindTwin(id string, x float64) twin.Twin {
	return twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: blindModel}, Properties: map[string]any{"x": x, "name": id}}
}

// openBlindTest is openWriterTest with the model blindModel, whose blind
// writes the test runs in groups of its own (blindGroup).
func openBlindTest(t *testing.T) *DB {
	t.Helper()
	db := openWriterTest(t)
	db.stop, db.exited = make(chan struct{}), make(chan struct{})
	go db.writer()
	if _, err := db.PutModels(context.Background(), []twin.Model{{ID: blindModel, DTDL: json.RawMessage(`{"@id":"` + blindModel + `"}`)}}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	db.noBlind = false
	db.blindExited = make(chan struct{})
	db.flushes = make(chan flushed, 4*maxGroup)
	go db.flusher()
	t.Cleanup(func() {
		close(db.stop)
		<-db.exited
		db.blindWG.Wait()
		close(db.flushes)
		<-db.blindExited
	})
	return db
}

// blindGroup runs calls, blind writes each, as one group of the blind
// writer and returns their errors.
func blindGroup(t *testing.T, db *DB, calls ...func() error) []error {
	t.Helper()
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	ops := make([]*blindOp, len(calls))
	for i, call := range calls {
		wg.Go(func() { errs[i] = call() })
		select {
		case ops[i] = <-db.blind:
		case <-time.After(10 * time.Second):
			t.Fatalf("write %d was not submitted as a blind write", i)
		}
	}
	db.runBlind(ops)
	wg.Wait()
	return errs
}

// TestBlindGroupOutcomes runs one group of blind puts and patches with
// every outcome of their checks, and checks each write's error, what is
// stored, and that the twin returned, the twin read back and the record
// agree on the transaction time (the statement writes it into the JSON
// columns: the times of a group differ in their nanoseconds).
func TestBlindGroupOutcomes(t *testing.T) {
	db := openBlindTest(t)
	ctx := context.Background()
	models, err := db.ModelsVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var setup []func() error
	for _, id := range []string{"a", "b", "c", "f", "h"} {
		setup = append(setup, func() error { _, err := db.PutTwin(ctx, blindTwin(id, 1), store.Condition{}); return err })
	}
	for _, err := range blindGroup(t, db, setup...) {
		if err != nil {
			t.Fatal(err)
		}
	}
	a, _ := db.GetTwin(ctx, "a")
	b, _ := db.GetTwin(ctx, "b")
	c, _ := db.GetTwin(ctx, "c")
	h, _ := db.GetTwin(ctx, "h")
	gone := blindTwin("gone", 1)
	gone.ETag = "W/\"gone\""
	noModel := blindTwin("m", 1)
	noModel.Metadata.Model = "dtmi:lodestone:test:None;1"
	staleC := c
	staleC.ETag = "W/\"stale\""
	setX := twin.Patch{{Op: twin.OpReplace, Path: "/x", Value: 2.0}}
	moveModel := twin.Patch{{Op: twin.OpReplace, Path: "/$metadata/$model", Value: "dtmi:lodestone:test:None;1"}}

	type result struct {
		tw  twin.Twin
		rec *store.Recorder
	}
	results := make([]result, 10)
	put := func(i int, tw twin.Twin, cond store.Condition) func() error {
		return func() error {
			results[i].rec = &store.Recorder{}
			var err error
			results[i].tw, err = db.PutTwin(store.WithRecorder(ctx, results[i].rec), tw, cond)
			return err
		}
	}
	patch := func(i int, base twin.Twin, p twin.Patch, cond store.Condition) func() error {
		return func() error {
			results[i].rec = &store.Recorder{}
			var err error
			results[i].tw, err = db.PatchTwinFrom(store.WithRecorder(ctx, results[i].rec), base, p, cond)
			return err
		}
	}
	want := []error{nil, store.ErrPreconditionFailed, store.ErrInvalid, store.ErrModelsChanged, nil,
		nil, store.ErrPreconditionFailed, store.ErrNotFound, store.ErrInvalid, nil}
	errs := blindGroup(t, db,
		put(0, blindTwin("new", 3), store.Condition{IfNoneMatch: true, Models: models}),
		put(1, blindTwin("f", 3), store.Condition{IfNoneMatch: true}),
		put(2, noModel, store.Condition{}),
		put(3, blindTwin("d", 3), store.Condition{Models: models + 1}),
		put(4, blindTwin("a", 4), store.Condition{Models: models}),
		patch(5, b, setX, store.Condition{Models: models}),
		patch(6, staleC, setX, store.Condition{}),
		patch(7, gone, setX, store.Condition{}),
		patch(8, h, moveModel, store.Condition{}),
		put(9, blindTwin("e", 3), store.Condition{}),
	)
	for i, err := range errs {
		if want[i] == nil && err != nil || want[i] != nil && !errors.Is(err, want[i]) {
			t.Errorf("write %d: err %v, want %v", i, err, want[i])
		}
	}
	ops := map[int]store.ChangeOp{0: store.OpCreate, 4: store.OpReplace, 5: store.OpPatch, 9: store.OpCreate}
	var last time.Time
	for _, i := range []int{0, 4, 5, 9} {
		r := results[i]
		got, err := db.GetTwin(ctx, r.tw.ID)
		if err != nil {
			t.Fatal(err)
		}
		gj, _ := json.Marshal(got)
		rj, _ := json.Marshal(r.tw)
		if string(gj) != string(rj) {
			t.Errorf("write %d: stored %s, returned %s", i, gj, rj)
		}
		recs := r.rec.Records()
		if len(recs) != 1 || recs[0].Op != ops[i] || recs[0].Seq == 0 || !recs[0].Time.Equal(got.Metadata.LastUpdateTime) || recs[0].Key != string(got.ETag) {
			t.Errorf("write %d: records %+v for %s", i, recs, gj)
		}
		if !got.Metadata.LastUpdateTime.After(last) {
			t.Errorf("write %d: time %v not after %v", i, got.Metadata.LastUpdateTime, last)
		}
		last = got.Metadata.LastUpdateTime
		var stored string
		if err := db.r.QueryRow(ctx, `SELECT meta->>'$lastUpdateTime' FROM twins WHERE id = $1`, string(got.ID)).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if want := got.Metadata.LastUpdateTime.Format(time.RFC3339Nano); stored != want {
			t.Errorf("write %d: stored $lastUpdateTime %q, want %q", i, stored, want)
		}
		if i == 0 || i == 9 {
			if doc := recs[0].Data; string(doc) != string(gj) {
				t.Errorf("write %d: record data %s, want %s", i, doc, gj)
			}
		}
	}
	if got, _ := db.GetTwin(ctx, "b"); got.Properties["x"] != 2.0 || got.Metadata.Properties["x"].LastUpdateTime.Equal(b.Metadata.Properties["x"].LastUpdateTime) {
		t.Errorf("patched b: %+v", got)
	}
	for _, id := range []twin.ID{"d", "m"} {
		if _, err := db.GetTwin(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("twin %s of a failed write: %v", id, err)
		}
	}
	for _, was := range []twin.Twin{c, h} {
		if got, _ := db.GetTwin(ctx, was.ID); got.ETag != was.ETag {
			t.Errorf("twin %s changed by a failed write: %+v", was.ID, got)
		}
	}
	if got, _ := db.GetTwin(ctx, "f"); got.Properties["x"] != 1.0 {
		t.Errorf("twin f changed by a failed create: %+v", got)
	}
	// a's replace moved its first version to the history.
	if old, err := db.TwinAsOf(ctx, "a", a.Metadata.LastUpdateTime); err != nil || old.ETag != a.ETag {
		t.Errorf("a as of its first version: %+v, %v", old, err)
	}
}

// TestBlindFallback checks the writes the blind path hands to the writer:
// a group whose statement fails (a "\u0000" that jsonb refuses) commits
// nothing, and through PutTwin its good writes then succeed and the bad
// one fails alone; data holding the sentinel time is stored as given.
func TestBlindFallback(t *testing.T) {
	db := openBlindTest(t)
	ctx := context.Background()
	bad := blindTwin("bad", 1)
	bad.Properties["name"] = "nul\u0000"
	var ws []*blindWrite
	for _, tw := range []twin.Twin{blindTwin("g1", 1), bad, blindTwin("g2", 1)} {
		props, meta, err := encodeTwin(&tw)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, &blindWrite{id: string(tw.ID), model: blindModel, etag: "W/\"x\"", props: props, meta: meta, needModel: true})
	}
	ops := make([]*blindOp, len(ws))
	for i, w := range ws {
		ops[i] = &blindOp{ctx: ctx, w: w, done: make(chan error, 1)}
	}
	db.runBlind(ops)
	for i, op := range ops {
		if err := <-op.done; !errors.Is(err, errBlindFallback) {
			t.Errorf("write %d of a failed group: %v, want errBlindFallback", i, err)
		}
	}
	for _, id := range []twin.ID{"g1", "g2"} {
		if _, err := db.GetTwin(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("twin %s of a failed group: %v", id, err)
		}
	}

	// Through PutTwin, with the blind writer running: every write ends
	// as if it had run alone.
	db.blindWG.Add(1)
	go db.blindWriter()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		tw := blindTwin(fmt.Sprintf("p%d", i), float64(i))
		if i == 3 {
			tw = bad
		}
		wg.Go(func() { _, errs[i] = db.PutTwin(ctx, tw, store.Condition{IfNoneMatch: true}) })
	}
	wg.Wait()
	for i, err := range errs {
		if i == 3 && !errors.Is(err, store.ErrInvalid) || i != 3 && err != nil {
			t.Errorf("put %d: %v", i, err)
		}
	}
	sentinel := string(sentinelJSON[1 : len(sentinelJSON)-1])
	odd := blindTwin("odd", 1)
	odd.Properties["name"] = sentinel
	odd.Metadata.Properties = map[string]twin.PropertyMetadata{"x": {SourceTime: stampSentinel}}
	if _, err := db.PutTwin(ctx, odd, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetTwin(ctx, "odd")
	if err != nil {
		t.Fatal(err)
	}
	if got.Properties["name"] != sentinel || !got.Metadata.Properties["x"].SourceTime.Equal(stampSentinel) || got.Metadata.LastUpdateTime.Equal(stampSentinel) {
		t.Errorf("twin holding the sentinel: %+v", got)
	}
	p := twin.Patch{{Op: twin.OpReplace, Path: "/x", Value: 5.0}}
	if _, err := db.PatchTwinFrom(ctx, got, p, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.GetTwin(ctx, "odd"); got.Properties["name"] != sentinel || got.Properties["x"] != 5.0 {
		t.Errorf("patched twin holding the sentinel: %+v", got)
	}
	close(db.stop)
	<-db.exited
	db.blindWG.Wait()
	db.stop = make(chan struct{}) // for the cleanup
}

// TestBlindAckWaitsForFlush checks that a blind write is acknowledged
// only after the flusher's transaction, not when its own group commits
// (with synchronous_commit off): while the flush is held, the twin is
// already visible to readers and PutTwin has not returned; a flush that
// fails fails the writes it would have made durable.
func TestBlindAckWaitsForFlush(t *testing.T) {
	db := openBlindTest(t)
	ctx := context.Background()
	entered := make(chan struct{})
	release := make(chan error)
	db.beforeFlush = func() error {
		entered <- struct{}{}
		return <-release
	}
	db.blindWG.Add(1)
	go db.blindWriter()

	put := func(id string) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := db.PutTwin(ctx, blindTwin(id, 1), store.Condition{IfNoneMatch: true})
			done <- err
		}()
		return done
	}
	flushes := db.WriterStats().Flushes
	done := put("held")
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("PutTwin returned before any flush: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no flush began")
	}
	if _, err := db.GetTwin(ctx, "held"); err != nil {
		t.Fatalf("the group committed before its flush, so readers see it: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("PutTwin returned while its flush was held: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	release <- nil
	if err := <-done; err != nil {
		t.Fatalf("PutTwin after the flush: %v", err)
	}
	if got := db.WriterStats().Flushes - flushes; got != 1 {
		t.Errorf("flushes: %d, want 1", got)
	}

	lost := errors.New("connection lost during the flush")
	done = put("unflushed")
	<-entered
	release <- lost
	if err := <-done; !errors.Is(err, lost) {
		t.Errorf("PutTwin whose flush failed: %v, want %v", err, lost)
	}
}

// TestPendingRecordsFlushes checks that PendingRecords flushes the WAL
// after it has read records (a blind group's are visible before its
// flush), and that a failed flush fails it rather than hand the relay a
// record whose change a crash could undo.
func TestPendingRecordsFlushes(t *testing.T) {
	db := openBlindTest(t)
	ctx := context.Background()
	db.blindWG.Add(1)
	go db.blindWriter()
	if _, err := db.PutTwin(ctx, blindTwin("pending", 1), store.Condition{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	var flushes int
	db.beforeFlush = func() error { flushes++; return nil }
	recs, err := db.PendingRecords(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || flushes != 1 {
		t.Fatalf("PendingRecords: %d records, %d flushes; want some records and 1 flush", len(recs), flushes)
	}
	lost := errors.New("connection lost during the flush")
	db.beforeFlush = func() error { return lost }
	if _, err := db.PendingRecords(ctx, 0, 0); !errors.Is(err, lost) {
		t.Errorf("PendingRecords whose flush failed: %v, want %v", err, lost)
	}
	db.beforeFlush = nil
	before := db.WriterStats().Flushes
	none, err := db.PendingRecords(ctx, recs[len(recs)-1].Seq, 0)
	if err != nil || len(none) != 0 || db.WriterStats().Flushes != before {
		t.Errorf("PendingRecords past the last record: %d records, %v, %d flushes; want none", len(none), err, db.WriterStats().Flushes-before)
	}
}
