package trust_test

import (
	"context"
	"encoding/json"
	"iter"
	"testing"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust"
	"lodestone/twin"
)

func TestVerifyUntouched(t *testing.T) {
	f := setup(t)
	scenario(t, f, 5)
	rep, err := trust.Verify(context.Background(), f.st, testVKey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		for _, m := range rep.Mismatches {
			t.Errorf("%+v", m)
		}
	}
	if rep.TreeSize == 0 || rep.Signed != rep.TreeSize || rep.Versions == 0 {
		t.Errorf("report %+v", rep)
	}
	t.Logf("tree %d, versions %d, checkpoints %d", rep.TreeSize, rep.Versions, rep.Checkpoints)
}

// TestVerifyImport: an import has one summary entry; the models, twins
// and relationships it wrote are attributed to it.
func TestVerifyImport(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	b := &store.Batch{
		Models:        []twin.Model{{ID: "dtmi:test:Imported;1", DTDL: json.RawMessage(`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Imported;1","@type":"Interface","contents":[]}`)}},
		Twins:         []twin.Twin{asset("i1", 1), asset("i2", 2)},
		Relationships: []twin.Relationship{{ID: "r", SourceID: "i1", TargetID: "i2", Name: "feeds", Properties: map[string]any{"share": 0.1}}},
	}
	if _, err := f.p.Import(ctx, store.ImportOptions{}, func(*pipeline.Models) iter.Seq2[store.Entity, error] { return b.Entities() }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.PatchTwin(ctx, "i1", twin.Patch{{Op: "replace", Path: "/capacity", Value: 3.0}}, store.Condition{}, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := trust.Verify(ctx, f.st, testVKey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("%+v", rep.Mismatches)
	}
}

// TestLogStartedLate: changes committed before the log was started on a
// store were never logged and are not reported; later ones are checked.
func TestLogStartedLate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir+"/lodestone.db")
	defer st.Close()
	p, err := pipeline.New(ctx, pipeline.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PutModels(ctx, rawModels()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.PutTwin(ctx, asset("early", 1), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	l, err := trust.NewLog(ctx, st, testSigner, trust.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := pipeline.New(ctx, pipeline.Options{Store: st, Hooks: []pipeline.Hook{l}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p2.PatchTwin(ctx, "early", twin.Patch{{Op: "replace", Path: "/capacity", Value: 2.0}}, store.Condition{}, ""); err != nil {
		t.Fatal(err)
	}
	if err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := trust.Verify(ctx, st, testVKey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.TreeSize != 1 {
		t.Fatalf("tree %d: %+v", rep.TreeSize, rep.Mismatches)
	}
}
