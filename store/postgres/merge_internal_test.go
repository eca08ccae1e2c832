package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/twin"
)

// TestMergedTwinWrites runs groups of twin writes whose statements the
// writer merges (twinWrites), with writes that fail in PostgreSQL (the
// merged statement fails and its writes are sent one by one), in Go, and
// that write a twin an earlier write of the group wrote (which must not
// merge with it): each failing write rolls back alone, the others commit,
// every superseded version is in the history, closed at the time of the
// write after it, and the outbox seqs follow the writes' times.
func TestMergedTwinWrites(t *testing.T) {
	db := openWriterTest(t)
	ctx := t.Context()
	type done struct {
		id  twin.ID
		now int64
		rec *store.Record
	}
	var (
		committed []done
		k         int
	)
	// write makes the op of one write: "a" creates a new twin, "same"
	// writes the twin of the group's first write again, "bad" has text
	// that jsonb refuses, "go" queues its write and fails in Go.
	write := func(kind, first string, recs *[]*done) (*writeOp, error) {
		k++
		id := twin.ID(fmt.Sprint("m-", k))
		if kind == "same" {
			id = twin.ID(first)
		}
		props := map[string]any{"n": float64(k)}
		var want error
		switch kind {
		case "bad":
			props["s"], want = "a\x00b", store.ErrInvalid
		case "go":
			want = errGo
		}
		d := &done{id: id, rec: new(store.Record)}
		if want == nil {
			*recs = append(*recs, d)
		}
		op := &writeOp{ctx: ctx, done: make(chan error, 1), fn: func(ctx context.Context, tx pgx.Tx, now int64) error {
			d.now = now
			tw := stampTwin(twin.Twin{ID: id, Metadata: twin.Metadata{Model: "dtmi:test:M;1"}, Properties: props}, now)
			if err := writeTwin(ctx, tx, d.rec, &tw, now, store.OpReplace, nil); err != nil {
				return err
			}
			if kind == "go" {
				return errGo
			}
			return nil
		}}
		return op, want
	}
	groups := [][]string{
		{"a", "a", "a"},
		{"a", "bad", "a", "a"},
		{"a", "same", "a", "same"},
		{"a", "go", "a", "bad", "a", "same"},
		{"bad", "bad"},
		{"a", "a", "bad"},
	}
	merged := db.stats.merged.Load()
	for _, g := range groups {
		var ops []*writeOp
		var wants []error
		var recs []*done
		for _, kind := range g {
			op, want := write(kind, fmt.Sprint("m-", k+1-len(ops)), &recs)
			ops, wants = append(ops, op), append(wants, want)
		}
		db.runGroup(ops, nil, false)
		for i, op := range ops {
			if err := <-op.done; !errors.Is(err, wants[i]) || (wants[i] == nil) != (err == nil) {
				t.Errorf("%v: write %d (%s) = %v, want %v", g, i, g[i], err, wants[i])
			}
		}
		for _, d := range recs {
			committed = append(committed, *d)
		}
	}
	if db.stats.merged.Load() == merged {
		t.Error("no statement was merged")
	}

	// The outbox: one record per committed write, seqs in the order of
	// the times, each the seq its write was given.
	rows, err := db.r.Query(ctx, `SELECT seq, subject, time_ns FROM outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	type outRow struct {
		seq  int64
		id   string
		time int64
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (outRow, error) {
		var o outRow
		return o, r.Scan(&o.seq, &o.id, &o.time)
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []outRow
	for _, d := range committed {
		want = append(want, outRow{d.rec.Seq, string(d.id), d.now})
	}
	if !slices.Equal(got, want) {
		t.Errorf("outbox = %v\nwant %v", got, want)
	}

	// The versions: each twin's last committed write is current, and the
	// ones before it are in the history, each closed by the next.
	versions := map[twin.ID][]int64{}
	for _, d := range committed {
		versions[d.id] = append(versions[d.id], d.now)
	}
	for id, times := range versions {
		var from int64
		if err := db.r.QueryRow(ctx, `SELECT valid_from FROM twins WHERE id = $1`, string(id)).Scan(&from); err != nil || from != times[len(times)-1] {
			t.Errorf("twin %s: current version from %d, %v; want %d", id, from, err, times[len(times)-1])
		}
		rows, err := db.r.Query(ctx, `SELECT valid_from, valid_to FROM twin_history WHERE id = $1 ORDER BY valid_from`, string(id))
		if err != nil {
			t.Fatal(err)
		}
		hist, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]int64, error) {
			var h [2]int64
			return h, r.Scan(&h[0], &h[1])
		})
		if err != nil {
			t.Fatal(err)
		}
		var wantHist [][2]int64
		for i := 1; i < len(times); i++ {
			wantHist = append(wantHist, [2]int64{times[i-1], times[i]})
		}
		if !slices.Equal(hist, wantHist) {
			t.Errorf("twin %s: history %v, want %v", id, hist, wantHist)
		}
	}
}

// TestMergedReadsAhead runs groups of puts and of PatchTwinFroms whose
// first reads run ahead merged (twinStates, patchFromStates), with every
// outcome of their checks: each write gets the state of its own twin.
func TestMergedReadsAhead(t *testing.T) {
	db := openWriterTest(t)
	db.stop, db.exited = make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(db.exited) })
	ctx := context.Background()
	const model = "dtmi:lodestone:test:MR;1"
	twinOf := func(id string) twin.Twin {
		return twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: model}, Properties: map[string]any{"x": 1.0}}
	}
	put := func(tw twin.Twin, cond store.Condition) func() error {
		return func() error { _, err := db.PutTwin(ctx, tw, cond); return err }
	}
	if errs := group(t, db, func() error {
		_, err := db.PutModels(ctx, []twin.Model{{ID: model, DTDL: json.RawMessage(`{"@id":"` + model + `"}`)}}, store.Condition{})
		return err
	}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	models, err := db.ModelsVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if errs := group(t, db, put(twinOf("a"), store.Condition{}), put(twinOf("b"), store.Condition{})); errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	a, err := db.GetTwin(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	noModel := twinOf("m")
	noModel.Metadata.Model = "dtmi:lodestone:test:None;1"
	merged := db.stats.merged.Load()
	errs := group(t, db,
		put(twinOf("c"), store.Condition{IfNoneMatch: true}),
		put(twinOf("a"), store.Condition{IfNoneMatch: true}),
		put(noModel, store.Condition{}),
		put(twinOf("b"), store.Condition{IfMatch: "W/\"other\""}),
		put(twinOf("d"), store.Condition{Models: models + 1}),
		put(twinOf("e"), store.Condition{Models: models, IfNoneMatch: true}),
	)
	for i, want := range []error{nil, store.ErrPreconditionFailed, store.ErrInvalid, store.ErrPreconditionFailed, store.ErrModelsChanged, nil} {
		if want == nil && errs[i] != nil || want != nil && !errors.Is(errs[i], want) {
			t.Errorf("put %d = %v, want %v", i, errs[i], want)
		}
	}
	patch := func(base twin.Twin, cond store.Condition) func() error {
		return func() error {
			_, err := db.PatchTwinFrom(ctx, base, twin.Patch{{Op: "replace", Path: "/x", Value: 2.0}}, cond)
			return err
		}
	}
	stale := a
	stale.ETag = "W/\"stale\""
	errs = group(t, db,
		patch(stale, store.Condition{}),
		patch(twinOf("zz"), store.Condition{}),
		patch(a, store.Condition{Models: models + 1}),
		patch(a, store.Condition{Models: models}),
	)
	for i, want := range []error{store.ErrPreconditionFailed, store.ErrNotFound, store.ErrModelsChanged, nil} {
		if want == nil && errs[i] != nil || want != nil && !errors.Is(errs[i], want) {
			t.Errorf("patch %d = %v, want %v", i, errs[i], want)
		}
	}
	// The first reads of the 6 puts, the writes of c and e, and the first
	// reads of the first two patches (the last two patch a again: they
	// read for themselves).
	if n := db.stats.merged.Load() - merged; n != 10 {
		t.Errorf("%d statements merged, want 10", n)
	}
	if got, err := db.GetTwin(ctx, "a"); err != nil || got.Properties["x"] != 2.0 {
		t.Errorf("twin a = %v, %v; want x patched to 2", got.Properties, err)
	}
}
