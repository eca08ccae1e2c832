package provenance_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/trust/provenance"
	"lodestone/twin"
)

const model = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Thing;1","@type":"Interface","contents":[
	{"@type":"Property","name":"a","schema":"double","writable":true},
	{"@type":"Property","name":"b","schema":"double","writable":true}]}`

func open(t testing.TB) *sqlite.DB {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lodestone.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.PutModels(context.Background(), []twin.Model{{ID: "dtmi:test:Thing;1", DTDL: []byte(model)}}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	return st
}

func thing(props map[string]any) twin.Twin {
	return twin.Twin{ID: "x", Metadata: twin.Metadata{Model: "dtmi:test:Thing;1"}, Properties: props}
}

func count(section map[string]provenance.Attrs, key, value string) int {
	n := 0
	for _, r := range section {
		if r[key] == value {
			n++
		}
	}
	return n
}

// TestRemoveReplaceDelete: a patch that removes a value invalidates it; a
// replace that changes only b leaves a's entity alone; the delete
// invalidates every live value, and nothing is current after it.
func TestRemoveReplaceDelete(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.PutTwin(ctx, thing(map[string]any{"a": 1.0, "b": 2.0}), store.Condition{}))
	must(st.PatchTwin(ctx, "x", twin.Patch{{Op: "remove", Path: "/b"}}, store.Condition{}))
	must(st.PutTwin(ctx, thing(map[string]any{"a": 1.0, "b": 3.0}), store.Condition{}))
	doc, err := provenance.Build(ctx, st, "x", provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Entity["twin:x/a/v2"]; ok {
		t.Errorf("a did not change in version 2 but has an entity")
	}
	if count(doc.WasInvalidatedBy, "prov:entity", "twin:x/b/v1") != 1 {
		t.Errorf("b/v1 removed by the patch is not invalidated: %v", doc.WasInvalidatedBy)
	}
	if doc.Entity["twin:x/a/v1"]["lodestone:current"] != true || doc.Entity["twin:x/b/v3"]["lodestone:current"] != true {
		t.Errorf("current values: a/v1 %v, b/v3 %v", doc.Entity["twin:x/a/v1"], doc.Entity["twin:x/b/v3"])
	}
	if err := st.DeleteTwin(ctx, "x", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	doc, err = provenance.Build(ctx, st, "x", provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"twin:x/a/v1", "twin:x/b/v3"} {
		if count(doc.WasInvalidatedBy, "prov:entity", e) != 1 {
			t.Errorf("%s not invalidated by the delete", e)
		}
		if doc.Entity[e]["lodestone:current"] != nil {
			t.Errorf("%s is current after the delete", e)
		}
	}
	if n := count(doc.Activity, "lodestone:op", "delete"); n != 1 {
		t.Errorf("%d delete activities, want 1", n)
	}
	if _, err := provenance.Build(ctx, st, "never", provenance.Options{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a twin never written: %v, want ErrNotFound", err)
	}
}

const runModel = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Run;1","@type":"Interface","contents":[
	{"@type":"Property","name":"inputHash","schema":"string"},
	{"@type":"Property","name":"modelVersion","schema":"string"},
	{"@type":"Property","name":"scenarioJson","schema":"string"},
	{"@type":"Property","name":"status","schema":"string"},
	{"@type":"Property","name":"resultJson","schema":"string"},
	{"@type":"Property","name":"completedAt","schema":"string"}]}`

// TestScenarioRun: a scenario run twin written pending, then completed:
// the result derives from the run, which used the scenario document and
// was run by the engine.
func TestScenarioRun(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	if _, err := st.PutModels(ctx, []twin.Model{{ID: "dtmi:test:Run;1", DTDL: []byte(runModel)}}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	base := map[string]any{"inputHash": "sha256:ab", "modelVersion": "lodestone/supply v1", "scenarioJson": "{}", "status": "running"}
	if _, err := st.PutTwin(ctx, twin.Twin{ID: "r", Metadata: twin.Metadata{Model: "dtmi:test:Run;1"}, Properties: base}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	p := twin.Patch{{Op: "replace", Path: "/status", Value: "succeeded"}, {Op: "add", Path: "/resultJson", Value: "{\"lost\":1}"}, {Op: "add", Path: "/completedAt", Value: "2026-01-01T00:00:00Z"}}
	if _, err := st.PatchTwin(ctx, "r", p, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	doc, err := provenance.Build(ctx, st, "r", provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run := "run:ab@2026-01-01T00:00:00Z"
	if a := doc.Activity[run]; a["prov:type"] != "lodestone:ScenarioRun" {
		t.Fatalf("no scenario run activity: %v", doc.Activity)
	}
	found := false
	for _, d := range doc.WasDerivedFrom {
		found = found || (d["prov:generatedEntity"] == "twin:r/resultJson/v2" && d["prov:usedEntity"] == "twin:r/scenarioJson/v1" && d["prov:activity"] == run)
	}
	if !found {
		t.Errorf("the result does not derive from the scenario through the run: %v", doc.WasDerivedFrom)
	}
	if count(doc.WasAssociatedWith, "prov:agent", "agent:lodestone/supply v1") != 1 {
		t.Errorf("the run is not associated with its engine: %v", doc.WasAssociatedWith)
	}
}

// BenchmarkBuild builds the provenance of a twin with 200 versions (two
// properties, one patched each time).
func BenchmarkBuild(b *testing.B) {
	ctx := context.Background()
	st := open(b)
	if _, err := st.PutTwin(ctx, thing(map[string]any{"a": 0.0, "b": 0.0}), store.Condition{}); err != nil {
		b.Fatal(err)
	}
	for i := 1; i < 200; i++ {
		if _, err := st.PatchTwin(ctx, "x", twin.Patch{{Op: "replace", Path: "/a", Value: float64(i)}}, store.Condition{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		doc, err := provenance.Build(ctx, st, "x", provenance.Options{})
		if err != nil || len(doc.Entity) != 201 {
			b.Fatal(err, len(doc.Entity), fmt.Sprint(len(doc.Activity)))
		}
	}
}
