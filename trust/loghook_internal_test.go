package trust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/twin"
)

// memState is a copy of a log's in-memory state.
type memState struct {
	entries   [][]byte
	hashes    []tlog.Hash
	seqs      map[int64]int64
	seqOf     []int64
	lastChunk string
	late      hookEntries
}

func (l *Log) state() memState {
	l.mu.RLock()
	defer l.mu.RUnlock()
	l.qmu.Lock()
	defer l.qmu.Unlock()
	return memState{entries: slices.Clone(l.entries), hashes: slices.Clone(l.hashes), seqs: maps.Clone(l.seqs),
		seqOf: slices.Clone(l.seqOf), lastChunk: l.lastChunk,
		late: hookEntries{ents: slices.Clone(l.late.ents), seqs: slices.Clone(l.late.seqs)}}
}

func (s memState) equal(o memState) bool {
	return slices.EqualFunc(s.entries, o.entries, func(a, b []byte) bool { return string(a) == string(b) }) &&
		slices.Equal(s.hashes, o.hashes) && maps.Equal(s.seqs, o.seqs) && slices.Equal(s.seqOf, o.seqOf) &&
		s.lastChunk == o.lastChunk && slices.Equal(s.late.seqs, o.late.seqs) && len(s.late.ents) == len(o.late.ents)
}

// fakeTx is a transaction that rolls back: it reads the store and keeps
// its writes to itself; failAt, when > 0, fails that PutDoc call.
type fakeTx struct {
	st     store.Documents
	puts   int
	failAt int
}

func (f *fakeTx) GetDoc(ctx context.Context, kind, id string) (store.Doc, error) {
	return f.st.GetDoc(ctx, kind, id)
}

func (f *fakeTx) PutDoc(_ context.Context, d store.Doc, _ store.Condition) (store.Doc, error) {
	if f.puts++; f.puts == f.failAt {
		return store.Doc{}, errors.New("disk full")
	}
	d.ETag = twin.NewETag()
	return d, nil
}

// cancelHook is the log's hook that then fails its transaction (by
// cancelling the write's context, which rolls the transaction back).
type cancelHook struct {
	*Log
	cancel func()
}

func (h cancelHook) PrepareCommit(ctx context.Context, tx store.TxDocs, recs []store.Record) error {
	err := h.Log.PrepareCommit(ctx, tx, recs)
	h.cancel()
	return err
}

const hookTestModel = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Box;1","@type":"Interface","contents":[
	{"@type":"Property","name":"size","schema":"double","writable":true}]}`

func box(id string, size float64) twin.Twin {
	return twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: "dtmi:test:Box;1"}, Properties: map[string]any{"size": size}}
}

// TestHookFailureKeepsMemory: a transaction whose hook wrote entries and
// then failed (a document write, the transaction itself, the commit)
// leaves the log's memory as it was, late entries queued again; the log
// then appends and verifies as if nothing happened.
func TestHookFailureKeepsMemory(t *testing.T) {
	ctx := context.Background()
	skey, vkey, err := GenerateKey("lodestone.test/hook")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lodestone.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := NewLog(ctx, st, signer, LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.hooker == nil {
		t.Fatal("the log is not the SQLite store's commit hook")
	}
	p, err := pipeline.New(ctx, pipeline.Options{Store: st, Hooks: []pipeline.Hook{l}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PutModels(ctx, []json.RawMessage{json.RawMessage(hookTestModel)}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, _, err := p.PutTwin(ctx, box(fmt.Sprint("b", i), 1), store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	// Records that never committed: enough entries for three chunks.
	var recs []store.Record
	for i := range 20 {
		recs = append(recs, store.Record{Seq: 1000 + int64(i), Kind: store.KindTwin, Op: store.OpPatch, Subject: "b1",
			Key: string(twin.NewETag()), Model: "dtmi:test:Box;1", Time: time.Now(), Data: json.RawMessage(`[{"op":"replace","path":"/size","value":2}]`)})
	}
	lateEntry := []byte(`{"late":1}`)
	tests := []struct {
		name string
		fail func(t *testing.T)
	}{
		{"transaction rolls back", func(t *testing.T) {
			if err := l.PrepareCommit(ctx, &fakeTx{st: st}, recs); err != nil {
				t.Fatal(err)
			}
			if l.viewSize() != l.Size()+int64(len(recs))+1 {
				t.Fatalf("the transaction holds %d entries, want %d", l.viewSize()-l.Size(), len(recs)+1)
			}
			l.Finished(false)
		}},
		{"a chunk write fails", func(t *testing.T) {
			if err := l.PrepareCommit(ctx, &fakeTx{st: st, failAt: 2}, recs); err == nil {
				t.Fatal("PrepareCommit succeeded")
			}
			l.Finished(true) // the writes commit without the hook's
		}},
		{"commit fails", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			must(t, st.SetCommitHook(nil))
			must(t, st.SetCommitHook(cancelHook{l, cancel}))
			defer func() {
				must(t, st.SetCommitHook(nil))
				must(t, st.SetCommitHook(l))
			}()
			if _, err := st.PutTwin(cctx, box("never", 1), store.Condition{}); err == nil {
				t.Fatal("the write committed")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l.qmu.Lock()
			l.late = hookEntries{ents: [][]byte{lateEntry}, seqs: []int64{999}}
			l.qmu.Unlock()
			before := l.state()
			tt.fail(t)
			if after := l.state(); !after.equal(before) {
				t.Fatalf("memory changed: size %d → %d, late %v → %v", len(before.entries), len(after.entries), before.late.seqs, after.late.seqs)
			}
			l.qmu.Lock()
			l.late = hookEntries{}
			l.qmu.Unlock()
			// The log goes on: a write is logged in its transaction.
			rec := &store.Recorder{}
			if _, err := p.PatchTwin(store.WithRecorder(ctx, rec), "b2", twin.Patch{{Op: "replace", Path: "/size", Value: 3.0}}, store.Condition{}, ""); err != nil {
				t.Fatal(err)
			}
			if i, ok := l.IndexOf(rec.Records()[0].Seq); !ok || i != int64(len(before.entries)) {
				t.Fatalf("IndexOf = %d, %v; want %d", i, ok, len(before.entries))
			}
			must(t, l.Checkpoint(ctx))
			rep, err := Verify(ctx, st, vkey)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK {
				t.Fatalf("%+v", rep.Mismatches)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestHookLogsInTransaction: the writes the hook takes are logged by the
// time the store returns, without Committed; the others wait for it.
func TestHookLogsInTransaction(t *testing.T) {
	ctx := context.Background()
	skey, _, err := GenerateKey("lodestone.test/hook")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		noHook     bool
		write      func(ctx context.Context, st *sqlite.DB) error
		wantLogged bool
	}{
		{"twin create", false, func(ctx context.Context, st *sqlite.DB) error {
			_, err := st.PutTwin(ctx, box("c", 1), store.Condition{})
			return err
		}, true},
		{"twin patch", false, func(ctx context.Context, st *sqlite.DB) error {
			_, err := st.PatchTwin(ctx, "b", twin.Patch{{Op: "replace", Path: "/size", Value: 2.0}}, store.Condition{})
			return err
		}, true},
		{"twin delete", false, func(ctx context.Context, st *sqlite.DB) error {
			return st.DeleteTwin(ctx, "b", store.Condition{})
		}, true},
		{"relationship create", false, func(ctx context.Context, st *sqlite.DB) error {
			_, err := st.PutRelationship(ctx, twin.Relationship{ID: "r", SourceID: "b", TargetID: "b", Name: "self"}, store.Condition{})
			return err
		}, true},
		{"relationship patch, stamped", false, func(ctx context.Context, st *sqlite.DB) error {
			if _, err := st.PutRelationship(context.Background(), twin.Relationship{ID: "r", SourceID: "b", TargetID: "b", Name: "self"}, store.Condition{}); err != nil {
				return err
			}
			ctx = store.WithStamp(ctx, store.Stamp{Writer: "w", Signer: "s"})
			_, err := st.PatchRelationship(ctx, "b", "r", twin.Patch{{Op: "add", Path: "/share", Value: 0.5}}, store.Condition{})
			return err
		}, true},
		{"twin create without a recorder", false, func(_ context.Context, st *sqlite.DB) error {
			_, err := st.PutTwin(context.Background(), box("c", 1), store.Condition{})
			return err
		}, false},
		{"telemetry (its org is set by the pipeline)", false, func(ctx context.Context, st *sqlite.DB) error {
			_, err := st.AppendTelemetry(ctx, []store.Telemetry{{TwinID: "b", Name: "size", MessageID: "m", Value: json.RawMessage(`1`)}})
			return err
		}, false},
		{"twin create, hook off", true, func(ctx context.Context, st *sqlite.DB) error {
			_, err := st.PutTwin(ctx, box("c", 1), store.Condition{})
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lodestone.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.PutModels(ctx, []twin.Model{{ID: "dtmi:test:Box;1", DTDL: json.RawMessage(hookTestModel)}}, store.Condition{}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.PutTwin(ctx, box("b", 1), store.Condition{}); err != nil {
				t.Fatal(err)
			}
			l, err := NewLog(ctx, st, signer, LogOptions{NoStoreHook: tt.noHook})
			if err != nil {
				t.Fatal(err)
			}
			rec := &store.Recorder{}
			if err := tt.write(store.WithRecorder(ctx, rec), st); err != nil {
				t.Fatal(err)
			}
			recs, err := st.PendingRecords(ctx, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			last := recs[len(recs)-1]
			if _, ok := l.IndexOf(last.Seq); ok != tt.wantLogged {
				t.Fatalf("logged in the transaction: %v, want %v", ok, tt.wantLogged)
			}
			// Committed (the relay's records) logs what is missing, once.
			if err := l.Committed(ctx, []store.Record{last}); err != nil {
				t.Fatal(err)
			}
			size := l.Size()
			if err := l.Committed(ctx, []store.Record{last}); err != nil {
				t.Fatal(err)
			}
			if i, ok := l.IndexOf(last.Seq); !ok || l.Size() != size || i != size-1 {
				t.Fatalf("size %d then %d, index %d, %v", size, l.Size(), i, ok)
			}
			// The entry is the one of the record as the relay reads it
			// back (with the writer and signer of the version it names).
			if last.Op == store.OpPatch && last.Kind == store.KindRelationship {
				last.Writer, last.Signer = "w", "s"
			}
			e, err := EntryOf(l.source, last)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.entries[size-1]; string(got) != string(e.Bytes()) {
				t.Fatalf("entry\n%s\nwant\n%s", got, e.Bytes())
			}
		})
	}
}
