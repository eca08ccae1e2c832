package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/store"
	"lodestone/twin"
)

// Run runs the conformance suite. open must return a new, empty store for
// each call; Run closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Models", testModels},
		{"TwinCRUD", testTwinCRUD},
		{"TwinPreconditions", testTwinPreconditions},
		{"TwinPatch", testTwinPatch},
		{"TwinPatchFrom", testTwinPatchFrom},
		{"TwinDelete", testTwinDelete},
		{"Relationships", testRelationships},
		{"RelationshipPreconditions", testRelationshipPreconditions},
		{"History", testHistory},
		{"ChangeList", testChangeList},
		{"Snapshot", testSnapshot},
		{"Telemetry", testTelemetry},
		{"Import", testImport},
		{"ImportAtomic", testImportAtomic},
		{"Concurrency", testConcurrency},
		{"ExportRoundTrip", func(t *testing.T, s store.Store) { testExport(t, s, open) }},
		{"Owners", func(t *testing.T, s store.Store) { testOwners(t, s, open) }},
		{"Records", testRecords},
		{"RecordsFailedWrites", testRecordsFailedWrites},
		{"RecordsConcurrency", testRecordsConcurrency},
		{"Outbox", testOutbox},
		{"ModelsVersion", testModelsVersion},
		{"Documents", testDocuments},
		{"ReadAfterWrite", testReadAfterWrite},
		{"ReadAfterAck", testReadAfterAck},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

const (
	mineModel  = "dtmi:lodestone:test:Mine;1"
	plantModel = "dtmi:lodestone:test:Plant;1"
	siteModel  = "dtmi:lodestone:test:Site;1"
)

func model(id string, extends ...string) twin.Model {
	return twin.Model{ID: id, DTDL: json.RawMessage(`{"@id":"` + id + `","@type":"Interface","@context":"dtmi:dtdl:context;3"}`), Extends: extends}
}

// seedModels stores the models the tests use.
func seedModels(t *testing.T, s store.Store) {
	t.Helper()
	if _, err := s.PutModels(t.Context(), []twin.Model{model(siteModel), model(mineModel, siteModel), model(plantModel, siteModel)}, store.Condition{}); err != nil {
		t.Fatalf("PutModels: %v", err)
	}
}

func newTwin(id twin.ID, m string, props map[string]any) twin.Twin {
	return twin.Twin{ID: id, Metadata: twin.Metadata{Model: m}, Properties: props}
}

func mustPut(t *testing.T, s store.Store, tw twin.Twin) twin.Twin {
	t.Helper()
	out, err := s.PutTwin(t.Context(), tw, store.Condition{})
	if err != nil {
		t.Fatalf("PutTwin(%s): %v", tw.ID, err)
	}
	return out
}

func mustRel(t *testing.T, s store.Store, src, id, name, tgt string, props map[string]any) twin.Relationship {
	t.Helper()
	r, err := s.PutRelationship(t.Context(), twin.Relationship{ID: id, SourceID: twin.ID(src), TargetID: twin.ID(tgt), Name: name, Properties: props}, store.Condition{})
	if err != nil {
		t.Fatalf("PutRelationship(%s/%s): %v", src, id, err)
	}
	return r
}

func mustPatch(t *testing.T, js string) twin.Patch {
	t.Helper()
	p, err := twin.ParsePatch([]byte(js))
	if err != nil {
		t.Fatalf("ParsePatch(%s): %v", js, err)
	}
	return p
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error = %v, want %v", what, err, want)
	}
}

// timeCmp compares times by instant.
var timeCmp = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func testModels(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.PutModels(ctx, []twin.Model{model(plantModel, siteModel), model(siteModel)}, store.Condition{})
	if err != nil {
		t.Fatalf("PutModels: %v", err)
	}
	if len(got) != 2 || got[0].UploadTime.IsZero() {
		t.Fatalf("PutModels returned %+v, want two models with upload times", got)
	}
	m, err := s.GetModel(ctx, plantModel)
	if err != nil {
		t.Fatalf("GetModel: %v", err)
	}
	if diff := cmp.Diff(got[0], m, timeCmp); diff != "" {
		t.Errorf("GetModel (-put +get):\n%s", diff)
	}
	var dtdl map[string]any
	if err := json.Unmarshal(m.DTDL, &dtdl); err != nil || dtdl["@id"] != plantModel {
		t.Errorf("GetModel DTDL = %s, %v", m.DTDL, err)
	}
	_, err = s.GetModel(ctx, "dtmi:nope;1")
	wantErr(t, "GetModel(missing)", err, store.ErrNotFound)

	// A batch with one duplicate is rejected whole.
	_, err = s.PutModels(ctx, []twin.Model{model(mineModel, siteModel), model(siteModel)}, store.Condition{})
	wantErr(t, "PutModels(duplicate)", err, store.ErrConflict)
	_, err = s.GetModel(ctx, mineModel)
	wantErr(t, "GetModel after failed batch", err, store.ErrNotFound)
	_, err = s.PutModels(ctx, []twin.Model{{ID: "dtmi:x;1"}}, store.Condition{})
	wantErr(t, "PutModels(no DTDL)", err, store.ErrInvalid)
	_, err = s.PutModels(ctx, []twin.Model{{DTDL: json.RawMessage(`{}`)}}, store.Condition{})
	wantErr(t, "PutModels(no id)", err, store.ErrInvalid)

	list, err := s.ListModels(ctx)
	if err != nil {
		t.Fatalf("ListModels: %v", err)
	}
	var ids []string
	for _, m := range list {
		ids = append(ids, m.ID)
	}
	if diff := cmp.Diff([]string{plantModel, siteModel}, ids); diff != "" {
		t.Errorf("ListModels ids (-want +got):\n%s", diff)
	}

	if err := s.DecommissionModel(ctx, plantModel); err != nil {
		t.Fatalf("DecommissionModel: %v", err)
	}
	if m, _ := s.GetModel(ctx, plantModel); !m.Decommissioned {
		t.Error("model not decommissioned")
	}
	wantErr(t, "DecommissionModel(missing)", s.DecommissionModel(ctx, "dtmi:nope;1"), store.ErrNotFound)

	// Site is extended by Plant; Plant is used by a twin.
	mustPut(t, s, newTwin("p1", plantModel, nil))
	wantErr(t, "DeleteModel(extended)", s.DeleteModel(ctx, siteModel), store.ErrConflict)
	wantErr(t, "DeleteModel(used)", s.DeleteModel(ctx, plantModel), store.ErrConflict)
	if err := s.DeleteTwin(ctx, "p1", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteModel(ctx, plantModel); err != nil {
		t.Fatalf("DeleteModel(unused): %v", err)
	}
	if err := s.DeleteModel(ctx, siteModel); err != nil {
		t.Fatalf("DeleteModel(no longer extended): %v", err)
	}
	wantErr(t, "DeleteModel(missing)", s.DeleteModel(ctx, siteModel), store.ErrNotFound)
}

func testTwinCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	src := time.Date(2025, 3, 31, 23, 0, 0, 0, time.UTC)
	in := newTwin("mine-1", mineModel, map[string]any{
		"output": 42.5, "name": "Bayan Obo", "tags": []any{"a", "b"},
		"site": map[string]any{"$metadata": map[string]any{}, "country": "CN"},
	})
	in.Metadata.Properties = map[string]twin.PropertyMetadata{"output": {SourceTime: src}, "gone": {SourceTime: src}}
	before := in.Clone()
	put, err := s.PutTwin(ctx, in, store.Condition{})
	if err != nil {
		t.Fatalf("PutTwin: %v", err)
	}
	if diff := cmp.Diff(before, in); diff != "" {
		t.Errorf("PutTwin mutated its argument:\n%s", diff)
	}
	if put.ETag == "" || put.Metadata.LastUpdateTime.IsZero() {
		t.Errorf("PutTwin = %+v, want etag and lastUpdateTime set", put)
	}
	if pm := put.Metadata.Properties["output"]; !pm.SourceTime.Equal(src) || !pm.LastUpdateTime.Equal(put.Metadata.LastUpdateTime) {
		t.Errorf("output metadata = %+v, want sourceTime kept and lastUpdateTime = twin's", pm)
	}
	if _, ok := put.Metadata.Properties["gone"]; ok {
		t.Error("metadata of a property that is not set was kept")
	}
	got, err := s.GetTwin(ctx, "mine-1")
	if err != nil {
		t.Fatalf("GetTwin: %v", err)
	}
	if diff := cmp.Diff(put, got, timeCmp); diff != "" {
		t.Errorf("GetTwin (-put +get):\n%s", diff)
	}
	// The JSON form round-trips through the store unchanged.
	a, _ := json.Marshal(put)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Errorf("JSON differs:\nput %s\nget %s", a, b)
	}

	// GetTwinJSON gives the same bytes as marshalling GetTwin's twin.
	odd := newTwin("odd/<&>", mineModel, map[string]any{
		"é \"q\"": []any{1.0, "<b>", map[string]any{"k": nil}}, "a/b": "x\ny", "n": -1.5e-7,
		"comp": map[string]any{"$metadata": map[string]any{"p": map[string]any{"lastUpdateTime": "2025-01-01T00:00:00Z"}}, "p": true},
	})
	odd.Metadata.Properties = map[string]twin.PropertyMetadata{"n": {SourceTime: src}}
	mustPut(t, s, odd)
	if _, err := s.PatchTwin(ctx, "odd/<&>", mustPatch(t, `[{"op":"replace","path":"/n","value":2}]`), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []twin.ID{"mine-1", "odd/<&>"} {
		tw, err := s.GetTwin(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(tw)
		raw, etag, err := s.GetTwinJSON(ctx, id)
		if err != nil {
			t.Fatalf("GetTwinJSON(%s): %v", id, err)
		}
		if string(raw) != string(want) || etag != tw.ETag {
			t.Errorf("GetTwinJSON(%s) =\n%s %s\nwant\n%s %s", id, raw, etag, want, tw.ETag)
		}
	}
	_, _, err = s.GetTwinJSON(ctx, "nope")
	wantErr(t, "GetTwinJSON(missing)", err, store.ErrNotFound)

	// Replace.
	rep, err := s.PutTwin(ctx, newTwin("mine-1", mineModel, map[string]any{"output": 1.0}), store.Condition{})
	if err != nil {
		t.Fatalf("PutTwin(replace): %v", err)
	}
	if rep.ETag == put.ETag {
		t.Error("replace kept the etag")
	}
	got, _ = s.GetTwin(ctx, "mine-1")
	if diff := cmp.Diff(map[string]any{"output": 1.0}, got.Properties); diff != "" {
		t.Errorf("after replace (-want +got):\n%s", diff)
	}

	// A twin without properties.
	mustPut(t, s, newTwin("empty", siteModel, nil))
	got, err = s.GetTwin(ctx, "empty")
	if err != nil || len(got.Properties) != 0 || got.Metadata.Model != siteModel {
		t.Errorf("GetTwin(empty) = %+v, %v", got, err)
	}

	_, err = s.GetTwin(ctx, "nope")
	wantErr(t, "GetTwin(missing)", err, store.ErrNotFound)
	_, err = s.PutTwin(ctx, newTwin("x", "dtmi:unknown;1", nil), store.Condition{})
	wantErr(t, "PutTwin(unknown model)", err, store.ErrInvalid)
	_, err = s.PutTwin(ctx, newTwin("", mineModel, nil), store.Condition{})
	wantErr(t, "PutTwin(no id)", err, store.ErrInvalid)
	_, err = s.PutTwin(ctx, newTwin("x", "", nil), store.Condition{})
	wantErr(t, "PutTwin(no model)", err, store.ErrInvalid)
}

func testTwinPreconditions(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	tw := newTwin("t", siteModel, map[string]any{"v": 1.0})
	_, err := s.PutTwin(ctx, tw, store.Condition{IfMatch: twin.AnyETag})
	wantErr(t, "PutTwin(If-Match * on missing)", err, store.ErrPreconditionFailed)
	v1, err := s.PutTwin(ctx, tw, store.Condition{IfNoneMatch: true})
	if err != nil {
		t.Fatalf("PutTwin(If-None-Match on missing): %v", err)
	}
	_, err = s.PutTwin(ctx, tw, store.Condition{IfNoneMatch: true})
	wantErr(t, "PutTwin(If-None-Match on existing)", err, store.ErrPreconditionFailed)
	_, err = s.PutTwin(ctx, tw, store.Condition{IfMatch: `W/"stale"`})
	wantErr(t, "PutTwin(stale If-Match)", err, store.ErrPreconditionFailed)
	v2, err := s.PutTwin(ctx, tw, store.Condition{IfMatch: v1.ETag})
	if err != nil {
		t.Fatalf("PutTwin(matching If-Match): %v", err)
	}
	_, err = s.PutTwin(ctx, tw, store.Condition{IfMatch: v1.ETag})
	wantErr(t, "PutTwin(superseded If-Match)", err, store.ErrPreconditionFailed)
	p := mustPatch(t, `[{"op":"replace","path":"/v","value":2}]`)
	_, err = s.PatchTwin(ctx, "t", p, store.Condition{IfMatch: v1.ETag})
	wantErr(t, "PatchTwin(stale If-Match)", err, store.ErrPreconditionFailed)
	v3, err := s.PatchTwin(ctx, "t", p, store.Condition{IfMatch: v2.ETag})
	if err != nil {
		t.Fatalf("PatchTwin(matching If-Match): %v", err)
	}
	if _, err := s.PatchTwin(ctx, "t", p, store.Condition{IfMatch: twin.AnyETag}); err != nil {
		t.Fatalf("PatchTwin(If-Match *): %v", err)
	}
	wantErr(t, "DeleteTwin(stale If-Match)", s.DeleteTwin(ctx, "t", store.Condition{IfMatch: v3.ETag}), store.ErrPreconditionFailed)
	cur, _ := s.GetTwin(ctx, "t")
	if err := s.DeleteTwin(ctx, "t", store.Condition{IfMatch: cur.ETag}); err != nil {
		t.Fatalf("DeleteTwin(matching If-Match): %v", err)
	}
}

func testTwinPatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	v1 := mustPut(t, s, newTwin("m", mineModel, map[string]any{
		"output": 10.0, "site": map[string]any{"$metadata": map[string]any{}, "country": "CN"}}))
	got, err := s.PatchTwin(ctx, "m", mustPatch(t, `[
		{"op":"replace","path":"/output","value":12},
		{"op":"add","path":"/grade","value":0.06},
		{"op":"replace","path":"/site/country","value":"AU"},
		{"op":"replace","path":"/$metadata/$model","value":"`+plantModel+`"}]`), store.Condition{})
	if err != nil {
		t.Fatalf("PatchTwin: %v", err)
	}
	if got.ETag == v1.ETag || !got.Metadata.LastUpdateTime.After(v1.Metadata.LastUpdateTime) {
		t.Errorf("PatchTwin did not renew etag/lastUpdateTime: %+v", got)
	}
	read, _ := s.GetTwin(ctx, "m")
	if diff := cmp.Diff(got, read, timeCmp); diff != "" {
		t.Errorf("GetTwin after patch (-patch result +get):\n%s", diff)
	}
	if read.Metadata.Model != plantModel || read.Properties["output"] != 12.0 || read.Properties["grade"] != 0.06 {
		t.Errorf("patched twin = %+v", read)
	}
	if !read.Metadata.Properties["grade"].LastUpdateTime.Equal(read.Metadata.LastUpdateTime) {
		t.Errorf("grade metadata not stamped: %+v", read.Metadata.Properties)
	}

	// Patches that fail change nothing.
	bad := []struct{ name, patch string }{
		{"missing path", `[{"op":"replace","path":"/nope","value":1},{"op":"replace","path":"/output","value":0}]`},
		{"read-only", `[{"op":"replace","path":"/$dtId","value":"x"}]`},
		{"unknown model", `[{"op":"replace","path":"/$metadata/$model","value":"dtmi:unknown;1"}]`},
	}
	for _, tt := range bad {
		_, err := s.PatchTwin(ctx, "m", mustPatch(t, tt.patch), store.Condition{})
		wantErr(t, "PatchTwin("+tt.name+")", err, store.ErrInvalid)
	}
	after, _ := s.GetTwin(ctx, "m")
	if diff := cmp.Diff(read, after, timeCmp); diff != "" {
		t.Errorf("failed patches changed the twin:\n%s", diff)
	}
	_, err = s.PatchTwin(ctx, "nope", mustPatch(t, `[{"op":"add","path":"/a","value":1}]`), store.Condition{})
	wantErr(t, "PatchTwin(missing twin)", err, store.ErrNotFound)
}

// testTwinPatchFrom checks store.TwinPatcher, for stores that have it: the
// result equals PatchTwin's, the change list keeps the patch, and a stale
// or missing base is refused.
func testTwinPatchFrom(t *testing.T, s store.Store) {
	tp, ok := s.(store.TwinPatcher)
	if !ok {
		t.Skip("store does not implement store.TwinPatcher")
	}
	ctx := t.Context()
	seedModels(t, s)
	v1 := mustPut(t, s, newTwin("m", mineModel, map[string]any{
		"output": 10.0, "site": map[string]any{"$metadata": map[string]any{}, "country": "CN"}}))
	p := mustPatch(t, `[
		{"op":"replace","path":"/output","value":12},
		{"op":"add","path":"/grade","value":0.06},
		{"op":"replace","path":"/site/country","value":"AU"},
		{"op":"replace","path":"/$metadata/$model","value":"`+plantModel+`"}]`)
	base, err := s.GetTwin(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	got, err := tp.PatchTwinFrom(ctx, base, p, store.Condition{})
	if err != nil {
		t.Fatalf("PatchTwinFrom: %v", err)
	}
	if got.ETag == v1.ETag || !got.Metadata.LastUpdateTime.After(v1.Metadata.LastUpdateTime) {
		t.Errorf("PatchTwinFrom did not renew etag/lastUpdateTime: %+v", got)
	}
	read, _ := s.GetTwin(ctx, "m")
	if diff := cmp.Diff(got, read, timeCmp); diff != "" {
		t.Errorf("GetTwin after PatchTwinFrom (-patch result +get):\n%s", diff)
	}
	if read.Metadata.Model != plantModel || read.Properties["output"] != 12.0 || read.Properties["grade"] != 0.06 ||
		read.Properties["site"].(map[string]any)["country"] != "AU" {
		t.Errorf("patched twin = %+v", read)
	}
	if !read.Metadata.Properties["grade"].LastUpdateTime.Equal(read.Metadata.LastUpdateTime) {
		t.Errorf("grade metadata not stamped: %+v", read.Metadata.Properties)
	}
	changes, err := s.TwinChanges(ctx, "m", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[1].Op != store.OpPatch || !changes[1].Time.Equal(got.Metadata.LastUpdateTime) {
		t.Fatalf("TwinChanges = %+v, want create then patch at the twin's lastUpdateTime", changes)
	}
	if diff := cmp.Diff(p, changes[1].Patch); diff != "" {
		t.Errorf("change list patch (-want +got):\n%s", diff)
	}

	// A stale base, a bad patch, an unknown model and a missing twin change nothing.
	bad := []struct {
		name  string
		base  twin.Twin
		patch string
		want  error
	}{
		{"stale base", base, `[{"op":"replace","path":"/output","value":1}]`, store.ErrPreconditionFailed},
		{"missing path", read, `[{"op":"replace","path":"/nope","value":1}]`, store.ErrInvalid},
		{"unknown model", read, `[{"op":"replace","path":"/$metadata/$model","value":"dtmi:unknown;1"}]`, store.ErrInvalid},
		{"missing twin", twin.Twin{ID: "nope", ETag: read.ETag, Metadata: read.Metadata}, `[{"op":"add","path":"/a","value":1}]`, store.ErrNotFound},
	}
	for _, tt := range bad {
		_, err := tp.PatchTwinFrom(ctx, tt.base, mustPatch(t, tt.patch), store.Condition{})
		wantErr(t, "PatchTwinFrom("+tt.name+")", err, tt.want)
	}
	after, _ := s.GetTwin(ctx, "m")
	if diff := cmp.Diff(read, after, timeCmp); diff != "" {
		t.Errorf("failed patches changed the twin:\n%s", diff)
	}
}

func testTwinDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	mustPut(t, s, newTwin("a", mineModel, nil))
	mustPut(t, s, newTwin("b", plantModel, nil))
	mustRel(t, s, "a", "r", "supplies", "b", nil)
	wantErr(t, "DeleteTwin(source of a relationship)", s.DeleteTwin(ctx, "a", store.Condition{}), store.ErrConflict)
	wantErr(t, "DeleteTwin(target of a relationship)", s.DeleteTwin(ctx, "b", store.Condition{}), store.ErrConflict)
	if err := s.DeleteRelationship(ctx, "a", "r", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []twin.ID{"a", "b"} {
		if err := s.DeleteTwin(ctx, id, store.Condition{}); err != nil {
			t.Fatalf("DeleteTwin(%s): %v", id, err)
		}
		_, err := s.GetTwin(ctx, id)
		wantErr(t, "GetTwin(deleted)", err, store.ErrNotFound)
	}
	wantErr(t, "DeleteTwin(missing)", s.DeleteTwin(ctx, "a", store.Condition{}), store.ErrNotFound)
	// The id can be reused.
	mustPut(t, s, newTwin("a", siteModel, nil))
}

func relIDs(rs []twin.Relationship) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, string(r.SourceID)+"/"+r.ID)
	}
	return out
}

func testRelationships(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	for _, id := range []twin.ID{"m1", "m2", "p1", "p2"} {
		mustPut(t, s, newTwin(id, siteModel, nil))
	}
	r := mustRel(t, s, "m1", "r2", "supplies", "p1", map[string]any{"tonnesPerYear": 1200.0})
	if r.ETag == "" {
		t.Error("PutRelationship set no etag")
	}
	mustRel(t, s, "m1", "r1", "supplies", "p2", nil)
	mustRel(t, s, "m1", "r3", "owns", "p1", nil)
	mustRel(t, s, "m2", "r1", "supplies", "p1", nil)

	got, err := s.GetRelationship(ctx, "m1", "r2")
	if err != nil {
		t.Fatalf("GetRelationship: %v", err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("GetRelationship (-put +get):\n%s", diff)
	}
	_, err = s.GetRelationship(ctx, "m2", "r2")
	wantErr(t, "GetRelationship(missing)", err, store.ErrNotFound)

	lists := []struct {
		name string
		fn   func() ([]twin.Relationship, error)
		want []string
		err  error
	}{
		{"outgoing", func() ([]twin.Relationship, error) { return s.ListRelationships(ctx, "m1", "") }, []string{"m1/r1", "m1/r2", "m1/r3"}, nil},
		{"outgoing by name", func() ([]twin.Relationship, error) { return s.ListRelationships(ctx, "m1", "supplies") }, []string{"m1/r1", "m1/r2"}, nil},
		{"outgoing none", func() ([]twin.Relationship, error) { return s.ListRelationships(ctx, "p1", "") }, []string{}, nil},
		{"outgoing of missing twin", func() ([]twin.Relationship, error) { return s.ListRelationships(ctx, "zz", "") }, nil, store.ErrNotFound},
		{"incoming", func() ([]twin.Relationship, error) { return s.ListIncomingRelationships(ctx, "p1") }, []string{"m1/r2", "m1/r3", "m2/r1"}, nil},
		{"incoming none", func() ([]twin.Relationship, error) { return s.ListIncomingRelationships(ctx, "m1") }, []string{}, nil},
		{"incoming of missing twin", func() ([]twin.Relationship, error) { return s.ListIncomingRelationships(ctx, "zz") }, nil, store.ErrNotFound},
	}
	for _, tt := range lists {
		rs, err := tt.fn()
		if tt.err != nil {
			wantErr(t, tt.name, err, tt.err)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, relIDs(rs)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}

	// Referential integrity.
	_, err = s.PutRelationship(ctx, twin.Relationship{ID: "x", SourceID: "zz", TargetID: "p1", Name: "supplies"}, store.Condition{})
	wantErr(t, "PutRelationship(missing source)", err, store.ErrNotFound)
	_, err = s.PutRelationship(ctx, twin.Relationship{ID: "x", SourceID: "m1", TargetID: "zz", Name: "supplies"}, store.Condition{})
	wantErr(t, "PutRelationship(missing target)", err, store.ErrInvalid)
	_, err = s.PutRelationship(ctx, twin.Relationship{ID: "x", SourceID: "m1", TargetID: "p1"}, store.Condition{})
	wantErr(t, "PutRelationship(no name)", err, store.ErrInvalid)

	// Patch.
	pr, err := s.PatchRelationship(ctx, "m1", "r2", mustPatch(t, `[{"op":"replace","path":"/tonnesPerYear","value":900},{"op":"add","path":"/grade","value":"A"}]`), store.Condition{IfMatch: r.ETag})
	if err != nil {
		t.Fatalf("PatchRelationship: %v", err)
	}
	if pr.ETag == r.ETag || pr.TargetID != "p1" || pr.Name != "supplies" {
		t.Errorf("PatchRelationship = %+v", pr)
	}
	got, _ = s.GetRelationship(ctx, "m1", "r2")
	if diff := cmp.Diff(map[string]any{"tonnesPerYear": 900.0, "grade": "A"}, got.Properties); diff != "" {
		t.Errorf("patched properties (-want +got):\n%s", diff)
	}
	_, err = s.PatchRelationship(ctx, "m1", "r2", mustPatch(t, `[{"op":"replace","path":"/$targetId","value":"p2"}]`), store.Condition{})
	wantErr(t, "PatchRelationship($targetId)", err, store.ErrInvalid)
	_, err = s.PatchRelationship(ctx, "m1", "nope", mustPatch(t, `[{"op":"add","path":"/a","value":1}]`), store.Condition{})
	wantErr(t, "PatchRelationship(missing)", err, store.ErrNotFound)

	// Replacing a relationship may move its target.
	if _, err := s.PutRelationship(ctx, twin.Relationship{ID: "r3", SourceID: "m1", TargetID: "p2", Name: "owns"}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	rs, _ := s.ListIncomingRelationships(ctx, "p2")
	if diff := cmp.Diff([]string{"m1/r1", "m1/r3"}, relIDs(rs)); diff != "" {
		t.Errorf("incoming after retarget (-want +got):\n%s", diff)
	}
	if _, err := s.PutRelationship(ctx, twin.Relationship{ID: "r3", SourceID: "m1", TargetID: "p1", Name: "owns"}, store.Condition{}); err != nil {
		t.Fatal(err)
	}

	// Delete.
	if err := s.DeleteRelationship(ctx, "m1", "r2", store.Condition{}); err != nil {
		t.Fatalf("DeleteRelationship: %v", err)
	}
	_, err = s.GetRelationship(ctx, "m1", "r2")
	wantErr(t, "GetRelationship(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteRelationship(missing)", s.DeleteRelationship(ctx, "m1", "r2", store.Condition{}), store.ErrNotFound)
	rs, _ = s.ListIncomingRelationships(ctx, "p1")
	if diff := cmp.Diff([]string{"m1/r3", "m2/r1"}, relIDs(rs)); diff != "" {
		t.Errorf("incoming after delete (-want +got):\n%s", diff)
	}
}

func testRelationshipPreconditions(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	mustPut(t, s, newTwin("a", siteModel, nil))
	mustPut(t, s, newTwin("b", siteModel, nil))
	r := twin.Relationship{ID: "r", SourceID: "a", TargetID: "b", Name: "n"}
	v1, err := s.PutRelationship(ctx, r, store.Condition{IfNoneMatch: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.PutRelationship(ctx, r, store.Condition{IfNoneMatch: true})
	wantErr(t, "PutRelationship(If-None-Match on existing)", err, store.ErrPreconditionFailed)
	v2, err := s.PutRelationship(ctx, r, store.Condition{IfMatch: v1.ETag})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.PatchRelationship(ctx, "a", "r", mustPatch(t, `[{"op":"add","path":"/x","value":1}]`), store.Condition{IfMatch: v1.ETag})
	wantErr(t, "PatchRelationship(stale If-Match)", err, store.ErrPreconditionFailed)
	wantErr(t, "DeleteRelationship(stale If-Match)", s.DeleteRelationship(ctx, "a", "r", store.Condition{IfMatch: v1.ETag}), store.ErrPreconditionFailed)
	if err := s.DeleteRelationship(ctx, "a", "r", store.Condition{IfMatch: v2.ETag}); err != nil {
		t.Fatal(err)
	}
}

func testHistory(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	mustPut(t, s, newTwin("b", siteModel, nil))
	v1 := mustPut(t, s, newTwin("a", siteModel, map[string]any{"v": 1.0}))
	r1 := mustRel(t, s, "a", "r", "n", "b", map[string]any{"w": 1.0})
	v2, err := s.PatchTwin(ctx, "a", mustPatch(t, `[{"op":"replace","path":"/v","value":2}]`), store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.PatchRelationship(ctx, "a", "r", mustPatch(t, `[{"op":"replace","path":"/w","value":2}]`), store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRelationship(ctx, "a", "r", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTwin(ctx, "a", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	t1 := v1.Metadata.LastUpdateTime
	t2 := v2.Metadata.LastUpdateTime
	ns := time.Nanosecond
	twinCases := []struct {
		name string
		at   time.Time
		want *twin.Twin
	}{
		{"before create", t1.Add(-ns), nil},
		{"at create", t1, &v1},
		{"between", t2.Add(-ns), &v1},
		{"at patch", t2, &v2},
		{"long after delete", t2.Add(24 * time.Hour), nil},
	}
	for _, tt := range twinCases {
		got, err := s.TwinAsOf(ctx, "a", tt.at)
		if tt.want == nil {
			wantErr(t, "TwinAsOf("+tt.name+")", err, store.ErrNotFound)
			continue
		}
		if err != nil {
			t.Errorf("TwinAsOf(%s): %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(*tt.want, got, timeCmp); diff != "" {
			t.Errorf("TwinAsOf(%s) (-want +got):\n%s", tt.name, diff)
		}
	}
	// The relationship's versions are bracketed by the twin patch times.
	got, err := s.RelationshipAsOf(ctx, "a", "r", t2)
	if err != nil {
		t.Fatalf("RelationshipAsOf: %v", err)
	}
	if diff := cmp.Diff(r1, got); diff != "" {
		t.Errorf("RelationshipAsOf(t2) (-want +got):\n%s", diff)
	}
	_, err = s.RelationshipAsOf(ctx, "a", "r", t1)
	wantErr(t, "RelationshipAsOf(before create)", err, store.ErrNotFound)
	_, err = s.RelationshipAsOf(ctx, "a", "r", t2.Add(24*time.Hour))
	wantErr(t, "RelationshipAsOf(after delete)", err, store.ErrNotFound)
	if r2.ETag == r1.ETag {
		t.Error("PatchRelationship kept the etag")
	}
}

func testChangeList(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	v1 := mustPut(t, s, newTwin("a", siteModel, map[string]any{"v": 1.0}))
	p := mustPatch(t, `[{"op":"replace","path":"/v","value":2}]`)
	v2, err := s.PatchTwin(ctx, "a", p, store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	v3 := mustPut(t, s, newTwin("a", mineModel, map[string]any{"v": 3.0}))
	if err := s.DeleteTwin(ctx, "a", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	v4 := mustPut(t, s, newTwin("a", siteModel, nil))

	changes, err := s.TwinChanges(ctx, "a", time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("TwinChanges: %v", err)
	}
	type row struct {
		Op    store.ChangeOp
		ETag  twin.ETag
		Patch twin.Patch
	}
	var got []row
	for _, c := range changes {
		r := row{Op: c.Op, Patch: c.Patch}
		if c.Twin != nil {
			r.ETag = c.Twin.ETag
		}
		got = append(got, r)
	}
	want := []row{
		{store.OpCreate, v1.ETag, nil},
		{store.OpPatch, v2.ETag, p},
		{store.OpReplace, v3.ETag, nil},
		{store.OpDelete, "", nil},
		{store.OpCreate, v4.ETag, nil},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("TwinChanges (-want +got):\n%s", diff)
	}
	for i := 1; i < len(changes); i++ {
		if !changes[i].Time.After(changes[i-1].Time) {
			t.Errorf("change times not increasing: %v then %v", changes[i-1].Time, changes[i].Time)
		}
	}
	if len(changes) == len(want) {
		if !changes[1].Time.Equal(v2.Metadata.LastUpdateTime) {
			t.Errorf("patch change time %v, want twin's lastUpdateTime %v", changes[1].Time, v2.Metadata.LastUpdateTime)
		}
		// A window [patch, delete) holds the patch and the replace.
		win, err := s.TwinChanges(ctx, "a", changes[1].Time, changes[3].Time)
		if err != nil {
			t.Fatal(err)
		}
		if len(win) != 2 || win[0].Op != store.OpPatch || win[1].Op != store.OpReplace {
			t.Errorf("TwinChanges(window) = %+v, want patch and replace", win)
		}
	}
	none, err := s.TwinChanges(ctx, "never", time.Time{}, time.Time{})
	if err != nil || len(none) != 0 {
		t.Errorf("TwinChanges(never written) = %v, %v; want empty, nil", none, err)
	}
}

func testSnapshot(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	mustPut(t, s, newTwin("a", siteModel, map[string]any{"v": 1.0}))
	mustPut(t, s, newTwin("b", siteModel, nil))
	mustRel(t, s, "a", "r", "n", "b", nil)
	before, err := s.Snapshot(ctx, time.Time{})
	if err != nil {
		t.Fatalf("Snapshot(now): %v", err)
	}
	// Change the graph.
	mustPut(t, s, newTwin("c", siteModel, nil))
	if _, err := s.PatchTwin(ctx, "a", mustPatch(t, `[{"op":"replace","path":"/v","value":2}]`), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRelationship(ctx, "a", "r", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	mustRel(t, s, "b", "r2", "n", "c", nil)
	now, err := s.Snapshot(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(now.Twins); got != 3 {
		t.Errorf("current snapshot has %d twins, want 3", got)
	}
	if diff := cmp.Diff([]string{"b/r2"}, relIDs(now.Relationships)); diff != "" {
		t.Errorf("current relationships (-want +got):\n%s", diff)
	}
	// Find the time of c's creation: just before it, the graph was "before".
	c, _ := s.GetTwin(ctx, "c")
	old, err := s.Snapshot(ctx, c.Metadata.LastUpdateTime.Add(-time.Nanosecond))
	if err != nil {
		t.Fatalf("Snapshot(as of): %v", err)
	}
	if diff := cmp.Diff(before.Twins, old.Twins, timeCmp); diff != "" {
		t.Errorf("Snapshot(as of) twins (-before +as of):\n%s", diff)
	}
	if diff := cmp.Diff(before.Relationships, old.Relationships); diff != "" {
		t.Errorf("Snapshot(as of) relationships (-before +as of):\n%s", diff)
	}
	empty, err := s.Snapshot(ctx, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(empty.Twins)+len(empty.Relationships) != 0 {
		t.Errorf("Snapshot(2000) = %+v, %v; want empty", empty, err)
	}
}

func testTelemetry(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	mustPut(t, s, newTwin("pump", siteModel, nil))
	base := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	var pts []store.Telemetry
	for i := range 10 {
		pts = append(pts, store.Telemetry{TwinID: "pump", Name: "flow", MessageID: fmt.Sprint("m", i),
			SourceTime: base.Add(time.Duration(i) * time.Minute), Value: json.RawMessage(fmt.Sprint(i))})
		pts = append(pts, store.Telemetry{TwinID: "pump", Name: "temp", MessageID: fmt.Sprint("m", i),
			SourceTime: base.Add(time.Duration(i) * time.Minute), Value: json.RawMessage(`{"c":20}`)})
	}
	n, err := s.AppendTelemetry(ctx, pts)
	if err != nil || n != 20 {
		t.Fatalf("AppendTelemetry = %d, %v; want 20", n, err)
	}
	// Retried messages are skipped.
	n, err = s.AppendTelemetry(ctx, pts[:6])
	if err != nil || n != 0 {
		t.Errorf("AppendTelemetry(retry) = %d, %v; want 0", n, err)
	}
	_, err = s.AppendTelemetry(ctx, []store.Telemetry{{TwinID: "nope", Name: "x", MessageID: "1", Value: json.RawMessage(`1`)}})
	wantErr(t, "AppendTelemetry(missing twin)", err, store.ErrNotFound)
	_, err = s.AppendTelemetry(ctx, []store.Telemetry{{TwinID: "pump", Name: "x", MessageID: "1", Value: json.RawMessage(`{`)}})
	wantErr(t, "AppendTelemetry(bad value)", err, store.ErrInvalid)

	tests := []struct {
		name string
		q    store.TelemetryQuery
		want []string // message id:name
	}{
		{"range of one name", store.TelemetryQuery{TwinID: "pump", Name: "flow", From: base.Add(2 * time.Minute), To: base.Add(5 * time.Minute)}, []string{"m2:flow", "m3:flow", "m4:flow"}},
		{"all names", store.TelemetryQuery{TwinID: "pump", From: base.Add(8 * time.Minute)}, []string{"m8:flow", "m8:temp", "m9:flow", "m9:temp"}},
		{"limit", store.TelemetryQuery{TwinID: "pump", Name: "temp", Limit: 2}, []string{"m0:temp", "m1:temp"}},
		{"empty", store.TelemetryQuery{TwinID: "pump", Name: "flow", To: base}, nil},
	}
	for _, tt := range tests {
		got, err := s.QueryTelemetry(ctx, tt.q)
		if err != nil {
			t.Errorf("QueryTelemetry(%s): %v", tt.name, err)
			continue
		}
		var ids []string
		for _, p := range got {
			ids = append(ids, p.MessageID+":"+p.Name)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("QueryTelemetry(%s) (-want +got):\n%s", tt.name, diff)
		}
	}
	// Without a source time the enqueued time stands in.
	if _, err := s.AppendTelemetry(ctx, []store.Telemetry{{TwinID: "pump", Name: "late", MessageID: "x", Value: json.RawMessage(`true`)}}); err != nil {
		t.Fatal(err)
	}
	late, err := s.QueryTelemetry(ctx, store.TelemetryQuery{TwinID: "pump", Name: "late"})
	if err != nil || len(late) != 1 || !late[0].SourceTime.Equal(late[0].EnqueuedTime) {
		t.Errorf("QueryTelemetry(no source time) = %+v, %v; want source time = enqueued time", late, err)
	}
	got, _ := s.QueryTelemetry(ctx, store.TelemetryQuery{TwinID: "pump", Name: "temp", Limit: 1})
	if len(got) == 1 && (string(got[0].Value) != `{"c":20}` || !got[0].SourceTime.Equal(base) || got[0].EnqueuedTime.IsZero()) {
		t.Errorf("QueryTelemetry point = %+v", got[0])
	}
}

func testImport(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustModels := []twin.Model{model(siteModel), model(mineModel, siteModel)}
	b := &store.Batch{Models: mustModels}
	for i := range 50 {
		b.Twins = append(b.Twins, newTwin(twin.ID(fmt.Sprintf("t%03d", i)), mineModel, map[string]any{"i": float64(i)}))
	}
	for i := range 49 {
		b.Relationships = append(b.Relationships, twin.Relationship{ID: "next", SourceID: twin.ID(fmt.Sprintf("t%03d", i)),
			TargetID: twin.ID(fmt.Sprintf("t%03d", i+1)), Name: "feeds", Properties: map[string]any{"i": float64(i)}})
	}
	// A dry run writes nothing.
	st, err := s.Import(ctx, b.Entities(), store.ImportOptions{DryRun: true})
	if err != nil || st.Twins != 50 {
		t.Fatalf("Import(dry run) = %+v, %v", st, err)
	}
	if ms, _ := s.ListModels(ctx); len(ms) != 0 {
		t.Errorf("dry run stored %d models", len(ms))
	}
	// Progress runs outside the store's writer: it may write to the store.
	var progress int
	st, err = s.Import(ctx, b.Entities(), store.ImportOptions{Progress: func(n int) {
		progress = n
		if _, err := s.PutDoc(ctx, store.Doc{Kind: "job", ID: "import", Body: json.RawMessage(fmt.Sprint(n))}, store.Condition{}); err != nil {
			t.Errorf("PutDoc from Progress: %v", err)
		}
	}})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if diff := cmp.Diff(store.ImportStats{Models: 2, Twins: 50, Relationships: 49}, st, cmpopts.IgnoreFields(store.ImportStats{}, "Elapsed")); diff != "" {
		t.Errorf("Import stats (-want +got):\n%s", diff)
	}
	if progress != 101 {
		t.Errorf("last progress = %d, want 101", progress)
	}
	tw, err := s.GetTwin(ctx, "t007")
	if err != nil || tw.Properties["i"] != 7.0 || tw.ETag == "" {
		t.Errorf("GetTwin(imported) = %+v, %v", tw, err)
	}
	in, err := s.ListIncomingRelationships(ctx, "t010")
	if err != nil || len(in) != 1 || in[0].SourceID != "t009" || in[0].ETag == "" {
		t.Errorf("incoming of imported twin = %+v, %v", in, err)
	}
	// A second import into a non-empty graph replaces twins and may point
	// at twins outside the batch.
	b2 := &store.Batch{
		Twins:         []twin.Twin{newTwin("t000", mineModel, map[string]any{"i": -1.0}), newTwin("new", siteModel, nil)},
		Relationships: []twin.Relationship{{ID: "x", SourceID: "new", TargetID: "t049", Name: "feeds"}},
	}
	if _, err := s.Import(ctx, b2.Entities(), store.ImportOptions{}); err != nil {
		t.Fatalf("Import(second): %v", err)
	}
	tw, _ = s.GetTwin(ctx, "t000")
	if tw.Properties["i"] != -1.0 {
		t.Errorf("replaced twin = %+v", tw)
	}
	ch, _ := s.TwinChanges(ctx, "t000", time.Time{}, time.Time{})
	if len(ch) != 2 || ch[1].Op != store.OpReplace {
		t.Errorf("changes of re-imported twin = %+v, want create then replace", ch)
	}
}

func testImportAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	mustPut(t, s, newTwin("keep", siteModel, map[string]any{"v": 1.0}))
	before, err := s.Snapshot(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	models := func() []string {
		ms, _ := s.ListModels(ctx)
		var ids []string
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
		return ids
	}
	modelsBefore := models()
	good := func() *store.Batch {
		return &store.Batch{
			Models:        []twin.Model{model("dtmi:lodestone:test:New;1")},
			Twins:         []twin.Twin{newTwin("a", siteModel, nil), newTwin("keep", siteModel, map[string]any{"v": 2.0})},
			Relationships: []twin.Relationship{{ID: "r", SourceID: "a", TargetID: "keep", Name: "n"}},
		}
	}
	bad := []struct {
		name  string
		spoil func(b *store.Batch)
		want  error
	}{
		{"relationship to missing twin", func(b *store.Batch) {
			b.Relationships = append(b.Relationships, twin.Relationship{ID: "r2", SourceID: "a", TargetID: "ghost", Name: "n"})
		}, store.ErrInvalid},
		{"twin of unknown model", func(b *store.Batch) { b.Twins = append(b.Twins, newTwin("z", "dtmi:unknown;1", nil)) }, store.ErrInvalid},
		{"existing model", func(b *store.Batch) { b.Models = append(b.Models, model(siteModel)) }, store.ErrConflict},
		{"twin without id", func(b *store.Batch) { b.Twins = append(b.Twins, newTwin("", siteModel, nil)) }, store.ErrInvalid},
	}
	errStream := errors.New("storetest: stream broke")
	bad = append(bad, struct {
		name  string
		spoil func(b *store.Batch)
		want  error
	}{"stream error", nil, errStream})
	for _, tt := range bad {
		b := good()
		src := b.Entities()
		if tt.spoil != nil {
			tt.spoil(b)
			src = b.Entities()
		} else {
			// The source fails after yielding every entity.
			src = func(yield func(store.Entity, error) bool) {
				for e, err := range b.Entities() {
					if !yield(e, err) {
						return
					}
				}
				yield(store.Entity{}, errStream)
			}
		}
		_, err := s.Import(ctx, src, store.ImportOptions{})
		wantErr(t, "Import("+tt.name+")", err, tt.want)
		after, err := s.Snapshot(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before.Twins, after.Twins, timeCmp); diff != "" {
			t.Errorf("Import(%s) changed twins:\n%s", tt.name, diff)
		}
		if len(after.Relationships) != 0 {
			t.Errorf("Import(%s) left relationships %v", tt.name, relIDs(after.Relationships))
		}
		if diff := cmp.Diff(modelsBefore, models()); diff != "" {
			t.Errorf("Import(%s) changed models:\n%s", tt.name, diff)
		}
	}
	if _, err := s.Import(ctx, good().Entities(), store.ImportOptions{}); err != nil {
		t.Errorf("Import(good) after failures: %v", err)
	}
}

func testConcurrency(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	mustPut(t, s, newTwin("counter", siteModel, map[string]any{"n": 0.0}))
	const writers, perWriter = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter*2)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				id := twin.ID(fmt.Sprintf("w%d-%d", w, i))
				put, err := s.PutTwin(ctx, newTwin(id, siteModel, map[string]any{"i": float64(i)}), store.Condition{IfNoneMatch: true})
				if err != nil {
					errs <- fmt.Errorf("PutTwin(%s): %w", id, err)
					return
				}
				// Read-your-writes: the acknowledged write is visible.
				got, err := s.GetTwin(ctx, id)
				if err != nil || got.ETag != put.ETag {
					errs <- fmt.Errorf("GetTwin(%s) after put = %v, %v; want etag %s", id, got.ETag, err, put.ETag)
					return
				}
				// Optimistic increment of a shared counter.
				for {
					cur, err := s.GetTwin(ctx, "counter")
					if err != nil {
						errs <- err
						return
					}
					n := cur.Properties["n"].(float64)
					p := twin.Patch{{Op: twin.OpReplace, Path: "/n", Value: n + 1}}
					_, err = s.PatchTwin(ctx, "counter", p, store.Condition{IfMatch: cur.ETag})
					if errors.Is(err, store.ErrPreconditionFailed) {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.GetTwin(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if n := got.Properties["n"]; n != float64(writers*perWriter) {
		t.Errorf("counter = %v, want %d (lost updates)", n, writers*perWriter)
	}
	snap, err := s.Snapshot(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Twins) != writers*perWriter+1 {
		t.Errorf("snapshot has %d twins, want %d", len(snap.Twins), writers*perWriter+1)
	}
	ch, err := s.TwinChanges(ctx, "counter", time.Time{}, time.Time{})
	if err != nil || len(ch) != writers*perWriter+1 {
		t.Errorf("counter has %d changes (%v), want %d", len(ch), err, writers*perWriter+1)
	}
}

func testExport(t *testing.T, s store.Store, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	mustPut(t, s, newTwin("a", mineModel, map[string]any{"v": 1.0, "c": map[string]any{"$metadata": map[string]any{}, "x": "y"}}))
	mustPut(t, s, newTwin("b", plantModel, nil))
	mustRel(t, s, "a", "r", "supplies", "b", map[string]any{"t": 5.0})
	b1, _ := s.GetTwin(ctx, "b")
	if _, err := s.PatchTwin(ctx, "a", mustPatch(t, `[{"op":"replace","path":"/v","value":2}]`), store.Condition{}); err != nil {
		t.Fatal(err)
	}

	collect := func(at time.Time) (ms []string, ts []twin.Twin, rs []twin.Relationship) {
		t.Helper()
		for e, err := range s.Export(ctx, at) {
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			switch {
			case e.Model != nil:
				ms = append(ms, e.Model.ID)
			case e.Twin != nil:
				ts = append(ts, *e.Twin)
			case e.Relationship != nil:
				rs = append(rs, *e.Relationship)
			}
		}
		return ms, ts, rs
	}
	ms, ts, rs := collect(time.Time{})
	snap, err := s.Snapshot(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{mineModel, plantModel, siteModel}, ms); diff != "" {
		t.Errorf("Export models (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(snap.Twins, ts, timeCmp); diff != "" {
		t.Errorf("Export twins differ from Snapshot:\n%s", diff)
	}
	if diff := cmp.Diff(snap.Relationships, rs); diff != "" {
		t.Errorf("Export relationships differ from Snapshot:\n%s", diff)
	}
	// As of b's creation, a had v = 1 and no relationship existed yet.
	_, old, oldRels := collect(b1.Metadata.LastUpdateTime)
	if len(old) != 2 || old[0].Properties["v"] != 1.0 || len(oldRels) != 0 {
		t.Errorf("Export(as of) = %+v, %+v", old, oldRels)
	}
	// Stopping early is fine.
	for range s.Export(ctx, time.Time{}) {
		break
	}

	// The export imports into an empty store as the same graph.
	s2 := open(t)
	defer s2.Close()
	if _, err := s2.Import(ctx, s.Export(ctx, time.Time{}), store.ImportOptions{}); err != nil {
		t.Fatalf("Import(Export): %v", err)
	}
	snap2, err := s2.Snapshot(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ignore := cmpopts.IgnoreFields(twin.Twin{}, "ETag", "Metadata.LastUpdateTime", "Metadata.Properties")
	if diff := cmp.Diff(snap.Twins, snap2.Twins, ignore); diff != "" {
		t.Errorf("twins after round trip (-source +copy):\n%s", diff)
	}
	if diff := cmp.Diff(snap.Relationships, snap2.Relationships, cmpopts.IgnoreFields(twin.Relationship{}, "ETag")); diff != "" {
		t.Errorf("relationships after round trip (-source +copy):\n%s", diff)
	}
	m, err := s2.GetModel(ctx, mineModel)
	if err != nil || len(m.Extends) != 1 || m.Extends[0] != siteModel {
		t.Errorf("model after round trip = %+v, %v", m, err)
	}
}
