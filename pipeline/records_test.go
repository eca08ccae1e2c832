package pipeline_test

import (
	"context"
	"encoding/json"
	"iter"
	"sync"
	"testing"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust/auth"
	"lodestone/twin"
)

// capture is a hook that keeps the records it is given.
type capture struct {
	mu   sync.Mutex
	recs []store.Record
}

func (c *capture) Check(context.Context, *pipeline.Write) error { return nil }
func (c *capture) Committed(_ context.Context, recs []store.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, recs...)
	return nil
}

// of returns the records of kind and op it holds.
func (c *capture) of(kind store.Kind, op store.ChangeOp) []store.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []store.Record
	for _, r := range c.recs {
		if r.Kind == kind && r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

// patchWrites writes a twin and a relationship and patches each as bob
// (signed with key-1) through p.
func patchWrites(t *testing.T, p *pipeline.Pipeline) {
	t.Helper()
	alice := as("acme", "alice", auth.Writer)
	bob := auth.WithSigner(as("acme", "bob", auth.Writer), auth.Signer{KeyID: "key-1"})
	for _, id := range []string{"a", "b"} {
		if _, _, err := p.PutTwin(alice, asset(id, 1), store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.PutRelationship(alice, twin.Relationship{ID: "r", SourceID: "a", TargetID: "b", Name: "feeds"}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.PatchTwin(bob, "a", twin.Patch{{Op: "replace", Path: "/capacity", Value: 2.0}}, store.Condition{}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.PatchRelationship(bob, "a", "r", twin.Patch{}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
}

// checkPatchRecords checks that the hook got each patch record once with
// bob as writer and key-1 as signer.
func checkPatchRecords(t *testing.T, c *capture) {
	t.Helper()
	for _, kind := range []store.Kind{store.KindTwin, store.KindRelationship} {
		recs := c.of(kind, store.OpPatch)
		if len(recs) != 1 {
			t.Errorf("%s patch records = %d, want 1", kind, len(recs))
			continue
		}
		if r := recs[0]; r.Writer != "bob" || r.Signer != "key-1" || r.Org != "acme" {
			t.Errorf("%s patch record: writer %q, signer %q, org %q; want bob, key-1, acme", kind, r.Writer, r.Signer, r.Org)
		}
	}
}

// TestPatchRecordsNameWriter: the hooks (the transparency log) get a
// patch's record with the writer and signer of the version it made, both
// from the request that wrote it and from the relay that publishes what a
// request left in the outbox (which does not keep them).
func TestPatchRecordsNameWriter(t *testing.T) {
	t.Run("request", func(t *testing.T) {
		c := &capture{}
		f := setup(t, c)
		patchWrites(t, f.p)
		checkPatchRecords(t, c)
	})
	t.Run("relay", func(t *testing.T) {
		st := openStore(t)
		ctx := context.Background()
		// A pipeline that is never started acknowledges nothing: its
		// records stay in the outbox, as a crash leaves them.
		left, err := pipeline.New(ctx, pipeline.Options{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		raws := make([]json.RawMessage, len(testModels))
		for i, m := range testModels {
			raws[i] = json.RawMessage(m)
		}
		if _, err := left.PutModels(ctx, raws); err != nil {
			t.Fatal(err)
		}
		patchWrites(t, left)
		c := &capture{}
		newPipeline(t, st, nil, c)
		waitOutboxEmpty(t, st)
		checkPatchRecords(t, c)
	})
}

// TestImportRecordOrg: an import's summary record and its event data
// carry the importer's org, also when read back from the outbox.
func TestImportRecordOrg(t *testing.T) {
	c := &capture{}
	f := setup(t, c)
	admin := as("acme", "ann", auth.Admin)
	imp := asset("i1", 1)
	if _, err := f.p.Import(admin, store.ImportOptions{}, func(*pipeline.Models) iter.Seq2[store.Entity, error] {
		return func(yield func(store.Entity, error) bool) { yield(store.Entity{Twin: &imp}, nil) }
	}); err != nil {
		t.Fatal(err)
	}
	recs := c.of(store.KindImport, store.OpCreate)
	if len(recs) != 1 {
		t.Fatalf("import records = %d, want 1", len(recs))
	}
	var sum struct {
		Org   string `json:"org"`
		Twins int    `json:"twins"`
	}
	if err := json.Unmarshal(recs[0].Data, &sum); err != nil {
		t.Fatal(err)
	}
	if recs[0].Org != "acme" || sum.Org != "acme" || sum.Twins != 1 {
		t.Errorf("import record org %q, data %s; want org acme in both", recs[0].Org, recs[0].Data)
	}
	if ev := pipeline.EventOf("s", recs[0]); ev.Extensions["org"] != "acme" {
		t.Errorf("import event extensions = %v, want org acme", ev.Extensions)
	}
	// An import without a principal has no org, and its data is as before.
	if _, err := f.p.Import(context.Background(), store.ImportOptions{}, func(*pipeline.Models) iter.Seq2[store.Entity, error] {
		t2 := asset("i2", 1)
		return func(yield func(store.Entity, error) bool) { yield(store.Entity{Twin: &t2}, nil) }
	}); err != nil {
		t.Fatal(err)
	}
	recs = c.of(store.KindImport, store.OpCreate)
	if len(recs) != 2 || recs[1].Org != "" || string(recs[1].Data) != `{"models":[],"twins":1,"relationships":0}` {
		t.Errorf("anonymous import record = %+v", recs[len(recs)-1])
	}
	// Read back from the outbox (a crash before publishing), the summary
	// names the org.
	st := openStore(t)
	ctx := context.Background()
	left, err := pipeline.New(ctx, pipeline.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	raws := make([]json.RawMessage, len(testModels))
	for i, m := range testModels {
		raws[i] = json.RawMessage(m)
	}
	if _, err := left.PutModels(ctx, raws); err != nil {
		t.Fatal(err)
	}
	if _, err := left.Import(admin, store.ImportOptions{}, func(*pipeline.Models) iter.Seq2[store.Entity, error] {
		return func(yield func(store.Entity, error) bool) { yield(store.Entity{Twin: &imp}, nil) }
	}); err != nil {
		t.Fatal(err)
	}
	pend, err := st.PendingRecords(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range pend {
		if r.Kind == store.KindImport {
			found = true
			if r.Org != "acme" {
				t.Errorf("read-back import record org = %q, want acme", r.Org)
			}
		}
	}
	if !found {
		t.Error("no import record in the outbox")
	}
}
