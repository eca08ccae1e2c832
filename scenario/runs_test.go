package scenario_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/models"
	"lodestone/scenario"
	"lodestone/store"
	_ "lodestone/store/sqlite"
	"lodestone/supply"
	"lodestone/twin"
)

// openStore opens a private in-memory SQLite store holding the ScenarioRun
// model and its base, Entity.
func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var b store.Batch
	for _, f := range models.Files() {
		id := "dtmi:lodestone:" + strings.TrimSuffix(f.Name, ".json") + ";1"
		switch id {
		case models.Entity:
			b.Models = append([]twin.Model{{ID: id, DTDL: f.Data}}, b.Models...)
		case models.ScenarioRun:
			b.Models = append(b.Models, twin.Model{ID: id, DTDL: f.Data, Extends: []string{models.Entity}})
		}
	}
	if len(b.Models) != 2 {
		t.Fatalf("found %d of the ScenarioRun and Entity models", len(b.Models))
	}
	if _, err := st.Import(t.Context(), b.Entities(), store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return st
}

// spyTwins passes calls to a store and records the conditions of writes.
// Before the first patch, race (when set) runs as a concurrent writer
// would, between Update's read and its write.
type spyTwins struct {
	scenario.Twins
	race    func(ctx context.Context) error
	mu      sync.Mutex
	puts    []store.Condition
	patches []store.Condition
	reads   []twin.ETag
}

func (s *spyTwins) GetTwin(ctx context.Context, id twin.ID) (twin.Twin, error) {
	t, err := s.Twins.GetTwin(ctx, id)
	s.mu.Lock()
	s.reads = append(s.reads, t.ETag)
	s.mu.Unlock()
	return t, err
}

func (s *spyTwins) PutTwin(ctx context.Context, t twin.Twin, cond store.Condition) (twin.Twin, error) {
	s.mu.Lock()
	s.puts = append(s.puts, cond)
	s.mu.Unlock()
	return s.Twins.PutTwin(ctx, t, cond)
}

func (s *spyTwins) PatchTwin(ctx context.Context, id twin.ID, p twin.Patch, cond store.Condition) (twin.Twin, error) {
	s.mu.Lock()
	s.patches = append(s.patches, cond)
	race := s.race
	s.race = nil
	s.mu.Unlock()
	if race != nil {
		if err := race(ctx); err != nil {
			return twin.Twin{}, fmt.Errorf("the concurrent write: %w", err)
		}
	}
	return s.Twins.PatchTwin(ctx, id, p, cond)
}

// finish is the change of a run ending with its KPIs.
func finish(r *scenario.Run) error {
	r.Status = scenario.Done
	r.CompletedAt = &completed
	r.KPIs = &supply.DemandKPIs{Lost: 3, FillRate: 0.9, FillRates: map[supply.NodeID]float64{"a": 0.9}}
	return nil
}

// TestRunsLifecycle creates a run, reads it, updates it and checks what
// the store holds and under which conditions it was written.
func TestRunsLifecycle(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	spy := &spyTwins{Twins: st}
	runs := scenario.New(spy)
	run := runningStudy()
	run.Error = "a leftover to be cleared"
	if err := runs.Create(ctx, &run); err != nil {
		t.Fatalf("Create: %v", err)
	}
	got, err := runs.Get(ctx, run.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(run, got); diff != "" {
		t.Errorf("Get after Create (-want +got):\n%s", diff)
	}
	// A second create of the same id is refused, not a replacement.
	again := runningStudy()
	again.Name = "impostor"
	if err := runs.Create(ctx, &again); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Errorf("second Create error = %v, want one wrapping store.ErrPreconditionFailed", err)
	}
	// A property the run does not own, set through the twin API.
	if _, err := st.PatchTwin(ctx, run.ID, twin.Patch{{Op: twin.OpAdd, Path: "/notes", Value: "kept"}}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	spy.reads = nil
	updated, err := runs.Update(ctx, run.ID, func(r *scenario.Run) error {
		r.Error = ""
		return finish(r)
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := run
	want.Error = ""
	_ = finish(&want)
	if diff := cmp.Diff(want, updated); diff != "" {
		t.Errorf("Update's run (-want +got):\n%s", diff)
	}
	if got, _ = runs.Get(ctx, run.ID); !cmp.Equal(want, got) {
		t.Errorf("Get after Update (-want +got):\n%s", cmp.Diff(want, got))
	}
	tw, err := st.GetTwin(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tw.Properties["error"]; ok || tw.Properties["notes"] != "kept" {
		t.Errorf("after Update: error = %v (want removed), notes = %v (want kept)", tw.Properties["error"], tw.Properties["notes"])
	}
	wantConds := struct{ Puts, Patches []store.Condition }{
		Puts:    []store.Condition{{IfNoneMatch: true}, {IfNoneMatch: true}},
		Patches: []store.Condition{{IfMatch: spy.reads[0]}},
	}
	if diff := cmp.Diff(wantConds, struct{ Puts, Patches []store.Condition }{spy.puts, spy.patches}); diff != "" {
		t.Errorf("write conditions (-want +got):\n%s", diff)
	}
	// An update that changes nothing writes nothing.
	if _, err := runs.Update(ctx, run.ID, func(*scenario.Run) error { return nil }); err != nil || len(spy.patches) != 1 {
		t.Errorf("no-op Update: err %v, %d patches in all, want nil and 1", err, len(spy.patches))
	}
}

func TestRunsErrors(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	runs := scenario.New(st)
	run := runningStudy()
	if err := runs.Create(ctx, &run); err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("stop")
	tests := []struct {
		name   string
		call   func() error
		wantIs error
	}{
		{"get a missing run", func() error { _, err := runs.Get(ctx, "run-nope"); return err }, scenario.ErrNotFound},
		{"update a missing run", func() error { _, err := runs.Update(ctx, "run-nope", finish); return err }, scenario.ErrNotFound},
		{"change fails", func() error {
			_, err := runs.Update(ctx, run.ID, func(*scenario.Run) error { return errStop })
			return err
		}, errStop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.wantIs) {
				t.Errorf("error = %v, want one wrapping %v", err, tt.wantIs)
			}
		})
	}
	if got, _ := runs.Get(ctx, run.ID); got.Status != scenario.Running {
		t.Errorf("after a failed change the run is %s, want it unchanged (running)", got.Status)
	}
}

// TestUpdateRetriesPreconditionFailure lets another writer rename the run
// between Update's read and its write. The store refuses Update's write
// (If-Match of a version that is gone); Update must read again and apply
// its change on top, so that neither change is lost.
func TestUpdateRetriesPreconditionFailure(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	run := runningStudy()
	if err := scenario.New(st).Create(ctx, &run); err != nil {
		t.Fatal(err)
	}
	spy := &spyTwins{Twins: st, race: func(ctx context.Context) error {
		_, err := scenario.New(st).Update(ctx, run.ID, func(r *scenario.Run) error { r.Name = "renamed meanwhile"; return nil })
		return err
	}}
	calls := 0
	got, err := scenario.New(spy).Update(ctx, run.ID, func(r *scenario.Run) error { calls++; return finish(r) })
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if calls != 2 || len(spy.patches) != 2 || spy.patches[0].IfMatch == spy.patches[1].IfMatch {
		t.Errorf("change called %d times, %d writes under %+v; want 2 and 2, the second under the new version", calls, len(spy.patches), spy.patches)
	}
	stored, err := scenario.New(st).Get(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := run
	want.Name = "renamed meanwhile"
	_ = finish(&want)
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Update's run (-want +got):\n%s", diff)
	}
}

// refusingTwins refuses every patch as a store does when the version
// changed in between.
type refusingTwins struct {
	scenario.Twins
	patches atomic.Int32
}

func (r *refusingTwins) PatchTwin(context.Context, twin.ID, twin.Patch, store.Condition) (twin.Twin, error) {
	r.patches.Add(1)
	return twin.Twin{}, fmt.Errorf("sqlite: patch twin: %w", store.ErrPreconditionFailed)
}

// TestUpdateGivesUp checks that an update that keeps losing the race stops
// after MaxAttempts writes with the precondition failure, rather than
// retrying for ever or writing without a condition.
func TestUpdateGivesUp(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	run := runningStudy()
	if err := scenario.New(st).Create(ctx, &run); err != nil {
		t.Fatal(err)
	}
	ref := &refusingTwins{Twins: st}
	_, err := scenario.New(ref).Update(ctx, run.ID, finish)
	if !errors.Is(err, store.ErrPreconditionFailed) {
		t.Errorf("Update error = %v, want one wrapping store.ErrPreconditionFailed", err)
	}
	if n := ref.patches.Load(); n != scenario.MaxAttempts {
		t.Errorf("Update wrote %d times, want MaxAttempts = %d", n, scenario.MaxAttempts)
	}
}

// TestUpdateConcurrent runs MaxAttempts updates of one run at once on a
// SQLite store, each adding its own node's fill rate. Every update must
// land: with unconditional writes, an update that read before another
// wrote would drop that one's node.
func TestUpdateConcurrent(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	run := runningStudy()
	run.KPIs = &supply.DemandKPIs{FillRates: map[supply.NodeID]float64{}}
	runs := scenario.New(st)
	if err := runs.Create(ctx, &run); err != nil {
		t.Fatal(err)
	}
	const writers = scenario.MaxAttempts
	want := map[supply.NodeID]float64{}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	start := make(chan struct{})
	for i := range writers {
		node := supply.NodeID(fmt.Sprintf("node-%02d", i))
		want[node] = float64(i) / writers
		wg.Go(func() {
			<-start
			_, err := runs.Update(ctx, run.ID, func(r *scenario.Run) error {
				r.KPIs.FillRates[node] = float64(i) / writers
				r.KPIs.Lost++
				return nil
			})
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	got, err := runs.Get(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.KPIs.FillRates); diff != "" {
		t.Errorf("fill rates after %d concurrent updates (-want +got):\n%s", writers, diff)
	}
	if got.KPIs.Lost != writers {
		t.Errorf("lost = %v after %d increments, want %d", got.KPIs.Lost, writers, writers)
	}
}
