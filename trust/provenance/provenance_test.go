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
