package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/twin"
)

// recHook is a store.CommitHook that writes one document per transaction
// (kind "hooktest", id: the first seq, or "run" without records) and
// remembers what it saw and was told.
type recHook struct {
	mu        sync.Mutex
	prepared  int
	recs      []store.Record // of every PrepareCommit
	finished  []bool
	open      bool        // between PrepareCommit and Finished
	fail      error       // PrepareCommit writes, then returns it
	cancel    func()      // called in PrepareCommit (fails the transaction)
	overlap   bool        // PrepareCommit while another was open
	committed []store.Doc // documents of transactions that committed
	pending   *store.Doc
}

func (h *recHook) PrepareCommit(ctx context.Context, tx store.TxDocs, recs []store.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.overlap = h.overlap || h.open
	h.open = true
	h.prepared++
	h.recs = append(h.recs, recs...)
	id := "run"
	if len(recs) > 0 {
		id = fmt.Sprint(recs[0].Seq)
	}
	d, err := tx.PutDoc(ctx, store.Doc{Kind: "hooktest", ID: id, Body: []byte(`{"n":` + fmt.Sprint(len(recs)) + `}`)}, store.Condition{})
	if err != nil {
		return err
	}
	if got, err := tx.GetDoc(ctx, "hooktest", id); err != nil || got.ETag != d.ETag {
		return fmt.Errorf("GetDoc in the transaction = %v, %v; want the document just written", got.ETag, err)
	}
	h.pending = &d
	if h.cancel != nil {
		h.cancel()
	}
	return h.fail
}

func (h *recHook) Finished(committed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.open = false
	h.finished = append(h.finished, committed)
	if committed && h.fail == nil && h.pending != nil {
		h.committed = append(h.committed, *h.pending)
	}
	h.pending = nil
}

// TestCommitHook: the writer runs the hook in the transaction of the
// records it is given (and only of the writes that committed), the hook's
// documents commit with them, a failing hook rolls back only its own
// writes, and a failing transaction takes the hook's writes with it and
// tells the hook so.
func TestCommitHook(t *testing.T) {
	tests := []struct {
		name string
		// run writes through db with hook h installed and returns the
		// seqs of the records it expects committed.
		run func(t *testing.T, db *sqlite.DB, h *recHook) []int64
		// wantDocs is whether the hook's documents must be stored.
		wantDocs bool
		// wantFinished is what every Finished call must be told.
		wantFinished bool
	}{
		{name: "one write", wantDocs: true, wantFinished: true, run: func(t *testing.T, db *sqlite.DB, _ *recHook) []int64 {
			return []int64{putTwin(t, db, context.Background(), "a", store.Condition{})}
		}},
		{name: "failing writes in groups", wantDocs: true, wantFinished: true, run: func(t *testing.T, db *sqlite.DB, _ *recHook) []int64 {
			// Writers race on the same ids with If-None-Match: one write
			// of each id commits, the others fail in their savepoints.
			var mu sync.Mutex
			var seqs []int64
			var wg sync.WaitGroup
			for w := range 16 {
				wg.Go(func() {
					rec := &store.Recorder{}
					_, err := db.PutTwin(store.WithRecorder(context.Background(), rec), thing(fmt.Sprint("t", w%4)), store.Condition{IfNoneMatch: true})
					if err != nil && !errors.Is(err, store.ErrPreconditionFailed) {
						t.Error(err)
					}
					mu.Lock()
					for _, r := range rec.Records() {
						seqs = append(seqs, r.Seq)
					}
					mu.Unlock()
				})
			}
			wg.Wait()
			if len(seqs) != 4 {
				t.Errorf("%d creates committed, want 4", len(seqs))
			}
			return seqs
		}},
		{name: "hook fails", wantDocs: false, wantFinished: true, run: func(t *testing.T, db *sqlite.DB, h *recHook) []int64 {
			h.fail = errors.New("hook failure")
			seq := putTwin(t, db, context.Background(), "a", store.Condition{})
			if err := db.RunCommitHook(context.Background()); !errors.Is(err, h.fail) {
				t.Errorf("RunCommitHook = %v, want the hook's error", err)
			}
			return []int64{seq}
		}},
		{name: "transaction fails after the hook", wantDocs: false, wantFinished: false, run: func(t *testing.T, db *sqlite.DB, h *recHook) []int64 {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h.cancel = cancel
			if _, err := db.PutTwin(ctx, thing("a"), store.Condition{}); err == nil {
				t.Error("the write committed, want it failed")
			}
			h.cancel = nil
			if _, err := db.GetTwin(context.Background(), "a"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetTwin after the failed transaction: %v, want not found", err)
			}
			return nil
		}},
		{name: "run without records", wantDocs: true, wantFinished: true, run: func(t *testing.T, db *sqlite.DB, _ *recHook) []int64 {
			if err := db.RunCommitHook(context.Background()); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openFile(t, filepath.Join(t.TempDir(), "twin.db"))
			defer db.Close()
			putModel(t, db, testModel)
			h := &recHook{}
			if err := db.SetCommitHook(h); err != nil {
				t.Fatal(err)
			}
			want := tt.run(t, db, h)
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.overlap || h.open {
				t.Error("PrepareCommit calls overlapped, or one was not finished")
			}
			if h.prepared == 0 || len(h.finished) != h.prepared {
				t.Fatalf("%d PrepareCommit, %d Finished", h.prepared, len(h.finished))
			}
			for _, f := range h.finished {
				if f != tt.wantFinished {
					t.Errorf("Finished(%v), want %v", f, tt.wantFinished)
				}
			}
			var got []int64
			for _, r := range h.recs {
				got = append(got, r.Seq)
			}
			slices.Sort(got)
			slices.Sort(want)
			if tt.wantFinished && !slices.Equal(got, want) {
				t.Errorf("hook saw seqs %v, want those of the committed writes %v", got, want)
			}
			docs, err := db.ListDocs(context.Background(), "hooktest")
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantDocs && len(docs) != len(h.committed) || !tt.wantDocs && len(docs) != 0 {
				t.Errorf("%d hook documents stored, want %d", len(docs), len(h.committed))
			}
		})
	}
}

// TestSetCommitHook: one hook at a time; nil removes it.
func TestSetCommitHook(t *testing.T) {
	db := openFile(t, filepath.Join(t.TempDir(), "twin.db"))
	defer db.Close()
	h1, h2 := &recHook{}, &recHook{}
	if err := db.SetCommitHook(h1); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCommitHook(h2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second hook: %v, want ErrConflict", err)
	}
	if err := db.SetCommitHook(nil); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCommitHook(h2); err != nil {
		t.Fatal(err)
	}
	putModel(t, db, testModel)
	if h1.prepared != 0 || h2.prepared != 1 {
		t.Errorf("hooks ran %d and %d times, want 0 and 1", h1.prepared, h2.prepared)
	}
}

func thing(id string) twin.Twin {
	return twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: testModel}, Properties: map[string]any{}}
}

// putTwin stores thing(id) and returns its record's seq.
func putTwin(t *testing.T, db *sqlite.DB, ctx context.Context, id string, cond store.Condition) int64 {
	t.Helper()
	rec := &store.Recorder{}
	if _, err := db.PutTwin(store.WithRecorder(ctx, rec), thing(id), cond); err != nil {
		t.Fatal(err)
	}
	return rec.Records()[0].Seq
}

// funcHook is a store.CommitHook of a function.
type funcHook func(ctx context.Context, tx store.TxDocs) error

func (f funcHook) PrepareCommit(ctx context.Context, tx store.TxDocs, _ []store.Record) error {
	return f(ctx, tx)
}

func (funcHook) Finished(bool) {}

// TestTxDocsConditions: the conditional document writes of a hook (the
// one-statement If-Match and If-None-Match) keep PutDoc's conditions.
func TestTxDocsConditions(t *testing.T) {
	db := openFile(t, filepath.Join(t.TempDir(), "twin.db"))
	defer db.Close()
	var etag twin.ETag
	steps := []struct {
		name string
		cond func() store.Condition
		id   string
		want error
	}{
		{"create", func() store.Condition { return store.Condition{IfNoneMatch: true} }, "a", nil},
		{"create again", func() store.Condition { return store.Condition{IfNoneMatch: true} }, "a", store.ErrPreconditionFailed},
		{"replace the version written", func() store.Condition { return store.Condition{IfMatch: etag} }, "a", nil},
		{"replace a version replaced", func() store.Condition { return store.Condition{IfMatch: `W/"stale"`} }, "a", store.ErrPreconditionFailed},
		{"replace a missing one", func() store.Condition { return store.Condition{IfMatch: etag} }, "b", store.ErrPreconditionFailed},
		{"replace any", func() store.Condition { return store.Condition{IfMatch: twin.AnyETag} }, "a", nil},
		{"put", func() store.Condition { return store.Condition{} }, "b", nil},
	}
	for _, s := range steps {
		var got error
		h := funcHook(func(ctx context.Context, tx store.TxDocs) error {
			d, err := tx.PutDoc(ctx, store.Doc{Kind: "k", ID: s.id, Body: []byte(`{"step":"` + s.name + `"}`)}, s.cond())
			got = err
			if err == nil {
				etag = d.ETag
			}
			return nil
		})
		if err := db.SetCommitHook(h); err != nil {
			t.Fatal(err)
		}
		if err := db.RunCommitHook(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := db.SetCommitHook(nil); err != nil {
			t.Fatal(err)
		}
		if s.want == nil && got != nil || s.want != nil && !errors.Is(got, s.want) {
			t.Fatalf("%s: %v, want %v", s.name, got, s.want)
		}
		if got == nil {
			d, err := db.GetDoc(context.Background(), "k", s.id)
			if err != nil || d.ETag != etag || string(d.Body) != `{"step":"`+s.name+`"}` {
				t.Fatalf("%s: stored %s %s, %v; want etag %s", s.name, d.ETag, d.Body, err, etag)
			}
		}
	}
}
