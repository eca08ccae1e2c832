package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"lodestone/store"
	"lodestone/twin"
)

// group runs calls, each a store call, in one group of the writer of db
// (stopped by openWriterTest), in order, and returns their errors.
func group(t *testing.T, db *DB, calls ...func() error) []error {
	t.Helper()
	errs := make([]error, len(calls))
	done := make(chan int, len(calls))
	ops := make([]*writeOp, len(calls))
	for i, call := range calls {
		go func() {
			errs[i] = call()
			done <- i
		}()
		ops[i] = <-db.ops
	}
	db.runGroup(ops, nil, false)
	for range calls {
		<-done
	}
	return errs
}

// TestReadAheadGroups runs twin and relationship writes in groups where
// a write's first read depends on an earlier write of the group, and
// checks that each saw the state the earlier ones left, and that the
// records of committed writes carry their seq.
func TestReadAheadGroups(t *testing.T) {
	db := openWriterTest(t)
	// Writes are submitted as to a running writer, and group runs them.
	db.stop, db.exited = make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(db.exited) })
	ctx := context.Background()
	const model = "dtmi:lodestone:test:RA;1"
	twinOf := func(id string) twin.Twin {
		return twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: model}, Properties: map[string]any{"x": 1.0}}
	}
	errs := group(t, db, func() error {
		_, err := db.PutModels(ctx, []twin.Model{{ID: model, DTDL: json.RawMessage(`{"@id":"` + model + `"}`)}}, store.Condition{})
		return err
	})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}

	// Creates and a patch of the same twin, a relationship to twins
	// created in the same group, a duplicate create.
	var rec store.Recorder
	rctx := store.WithRecorder(ctx, &rec)
	errs = group(t, db,
		func() error { _, err := db.PutTwin(rctx, twinOf("a"), store.Condition{IfNoneMatch: true}); return err },
		func() error { _, err := db.PutTwin(rctx, twinOf("b"), store.Condition{IfNoneMatch: true}); return err },
		func() error { _, err := db.PutTwin(rctx, twinOf("c"), store.Condition{IfNoneMatch: true}); return err },
		func() error {
			_, err := db.PatchTwin(rctx, "a", twin.Patch{{Op: "replace", Path: "/x", Value: 2.0}}, store.Condition{})
			return err
		},
		func() error {
			_, err := db.PutRelationship(rctx, twin.Relationship{ID: "r", SourceID: "a", TargetID: "b", Name: "to"}, store.Condition{IfNoneMatch: true})
			return err
		},
		func() error { _, err := db.PutTwin(rctx, twinOf("a"), store.Condition{IfNoneMatch: true}); return err },
	)
	for i, err := range errs {
		if want := i == 5; want != (err != nil) {
			t.Errorf("write %d of the first group: %v", i, err)
		}
	}
	if !errors.Is(errs[5], store.ErrPreconditionFailed) {
		t.Errorf("duplicate create = %v, want ErrPreconditionFailed", errs[5])
	}
	recs := rec.Records()
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5: %+v", len(recs), recs)
	}
	// The writes deliver their records in any order once acknowledged.
	seqs := make(map[int64]bool)
	for _, r := range recs {
		if r.Seq == 0 || seqs[r.Seq] {
			t.Errorf("record %+v: seq 0 or seen before", r)
		}
		seqs[r.Seq] = true
	}
	if got, err := db.GetTwin(ctx, "a"); err != nil || got.Properties["x"] != 2.0 {
		t.Errorf("twin a = %v, %v; want x patched to 2", got.Properties, err)
	}

	// A put that moves r's target from b to c, then a delete of b (no
	// relationships left) and of c (which has one now), and a put of a
	// relationship from a twin deleted earlier in the group.
	errs = group(t, db,
		func() error {
			_, err := db.PutRelationship(ctx, twin.Relationship{ID: "r", SourceID: "a", TargetID: "c", Name: "to"}, store.Condition{})
			return err
		},
		func() error { return db.DeleteTwin(ctx, "b", store.Condition{}) },
		func() error { return db.DeleteTwin(ctx, "c", store.Condition{}) },
		func() error {
			_, err := db.PutTwin(ctx, twinOf("d"), store.Condition{IfNoneMatch: true})
			return err
		},
		func() error { return db.DeleteTwin(ctx, "d", store.Condition{}) },
		func() error {
			_, err := db.PutRelationship(ctx, twin.Relationship{ID: "s", SourceID: "d", TargetID: "a", Name: "to"}, store.Condition{})
			return err
		},
	)
	for i, want := range []error{nil, nil, store.ErrConflict, nil, nil, store.ErrNotFound} {
		if want == nil && errs[i] != nil || want != nil && !errors.Is(errs[i], want) {
			t.Errorf("write %d of the second group = %v, want %v", i, errs[i], want)
		}
	}

	// A delete of r, then a delete of c, then a patch of r.
	errs = group(t, db,
		func() error { return db.DeleteRelationship(ctx, "a", "r", store.Condition{}) },
		func() error { return db.DeleteTwin(ctx, "c", store.Condition{}) },
		func() error {
			_, err := db.PatchRelationship(ctx, "a", "r", twin.Patch{{Op: "add", Path: "/y", Value: 1.0}}, store.Condition{})
			return err
		},
	)
	for i, want := range []error{nil, nil, store.ErrNotFound} {
		if want == nil && errs[i] != nil || want != nil && !errors.Is(errs[i], want) {
			t.Errorf("write %d of the third group = %v, want %v", i, errs[i], want)
		}
	}
}
