package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/store"
	"lodestone/twin"
)

// testOwners checks that the owner fields of twins ($org, $writer,
// $signer in $metadata), relationships ($org, $writer, $signer) and models
// (org) are stored as given, kept by patches, found in the history, the
// records, the export and an import of the export.
func testOwners(t *testing.T, s store.Store, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	site := model(siteModel)
	site.Org = "acme"
	if _, err := s.PutModels(ctx, []twin.Model{site, model(mineModel, siteModel)}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if m, err := s.GetModel(ctx, siteModel); err != nil || m.Org != "acme" {
		t.Errorf("GetModel org = %q, %v; want acme", m.Org, err)
	}
	if ms, err := s.ListModels(ctx); err != nil || len(ms) != 2 || ms[1].Org != "acme" || ms[0].Org != "" {
		t.Errorf("ListModels = %+v, %v", ms, err)
	}
	a := newTwin("a", siteModel, map[string]any{"v": 1.0})
	a.Metadata.Org, a.Metadata.Writer, a.Metadata.Signer = "acme", "alice", "key-1"
	b := newTwin("b", siteModel, nil)
	b.Metadata.Org, b.Metadata.Writer = "acme", "bob"
	var v1 twin.Twin
	recs := mustRecord(t, s, "put owned twin", func(ctx context.Context) error {
		var err error
		v1, err = s.PutTwin(ctx, a, store.Condition{})
		return err
	})
	if len(recs) != 1 || recs[0].Org != "acme" {
		t.Errorf("twin record org = %+v, want acme", recs)
	}
	mustPut(t, s, b)
	got, err := s.GetTwin(ctx, "a")
	if err != nil || got.Metadata.Org != "acme" || got.Metadata.Writer != "alice" || got.Metadata.Signer != "key-1" {
		t.Errorf("GetTwin owner = %+v, %v", got.Metadata, err)
	}
	doc, _ := got.MarshalJSON()
	if !containsAll(string(doc), `"$org":"acme"`, `"$signer":"key-1"`, `"$writer":"alice"`) {
		t.Errorf("twin JSON %s lacks its owner", doc)
	}
	// A patch of the store keeps the owner it was given with the base.
	base := got
	base.Metadata.Writer, base.Metadata.Signer = "carol", ""
	var v2 twin.Twin
	if tp, ok := s.(store.TwinPatcher); ok {
		v2, err = tp.PatchTwinFrom(ctx, base, mustPatch(t, `[{"op":"replace","path":"/v","value":2}]`), store.Condition{})
	} else {
		v2, err = s.PatchTwin(ctx, "a", mustPatch(t, `[{"op":"replace","path":"/v","value":2}]`), store.Condition{})
		base.Metadata.Writer, base.Metadata.Signer = "alice", "key-1"
	}
	if err != nil {
		t.Fatal(err)
	}
	if v2.Metadata.Org != "acme" || v2.Metadata.Writer != base.Metadata.Writer || v2.Metadata.Signer != base.Metadata.Signer {
		t.Errorf("patched owner = %+v", v2.Metadata)
	}
	r := twin.Relationship{ID: "r", SourceID: "a", TargetID: "b", Name: "n", Org: "acme", Writer: "alice", Signer: "key-2", Properties: map[string]any{"w": 1.0}}
	var r1 twin.Relationship
	recs = mustRecord(t, s, "put owned relationship", func(ctx context.Context) error {
		var err error
		r1, err = s.PutRelationship(ctx, r, store.Condition{})
		return err
	})
	if len(recs) != 1 || recs[0].Org != "acme" || !containsAll(string(recs[0].Data), `"$org":"acme"`, `"$signer":"key-2"`, `"$writer":"alice"`) {
		t.Errorf("relationship record = %+v", recs)
	}
	gr, err := s.GetRelationship(ctx, "a", "r")
	if err != nil || gr.Org != "acme" || gr.Writer != "alice" || gr.Signer != "key-2" || !cmp.Equal(gr.Properties, map[string]any{"w": 1.0}) {
		t.Errorf("GetRelationship = %+v, %v", gr, err)
	}
	rdoc, _ := gr.MarshalJSON()
	if want, _ := r1.MarshalJSON(); string(rdoc) != string(want) || string(recs[0].Data) != string(want) {
		t.Errorf("relationship JSON %s; record %s; want %s", rdoc, recs[0].Data, want)
	}
	pr, err := s.PatchRelationship(ctx, "a", "r", mustPatch(t, `[{"op":"replace","path":"/w","value":2}]`), store.Condition{})
	if err != nil || pr.Org != "acme" || pr.Writer != "alice" || pr.Signer != "key-2" || pr.Properties["w"] != 2.0 {
		t.Errorf("PatchRelationship = %+v, %v", pr, err)
	}
	// With a stamp in its context a patch records that writer and signer.
	pr, err = s.PatchRelationship(store.WithStamp(ctx, store.Stamp{Writer: "carol"}), "a", "r", mustPatch(t, `[{"op":"replace","path":"/w","value":3}]`), store.Condition{})
	if err != nil || pr.Org != "acme" || pr.Writer != "carol" || pr.Signer != "" {
		t.Errorf("stamped PatchRelationship = %+v, %v", pr, err)
	}
	if got, _ := s.GetRelationship(ctx, "a", "r"); got.Writer != "carol" || got.Signer != "" {
		t.Errorf("stored after stamped patch = %+v", got)
	}
	if in, err := s.ListIncomingRelationships(ctx, "b"); err != nil || len(in) != 1 || in[0].Org != "acme" {
		t.Errorf("ListIncomingRelationships = %+v, %v", in, err)
	}
	// History keeps each version's owner.
	old, err := s.TwinAsOf(ctx, "a", v1.Metadata.LastUpdateTime)
	if err != nil || old.Metadata.Writer != "alice" || old.Metadata.Signer != "key-1" || old.Metadata.Org != "acme" {
		t.Errorf("TwinAsOf(v1) = %+v, %v", old.Metadata, err)
	}
	if hr, err := s.RelationshipAsOf(ctx, "a", "r", time.Now().Add(time.Hour)); err != nil || hr.Org != "acme" || hr.Writer != "carol" {
		t.Errorf("RelationshipAsOf = %+v, %v", hr, err)
	}
	// Export and import into an empty store keep the owners.
	s2 := open(t)
	defer s2.Close()
	if _, err := s2.Import(ctx, s.Export(ctx, time.Time{}), store.ImportOptions{}); err != nil {
		t.Fatalf("Import(Export): %v", err)
	}
	for _, id := range []twin.ID{"a", "b"} {
		want, _ := s.GetTwin(ctx, id)
		got, err := s2.GetTwin(ctx, id)
		ign := cmpopts.IgnoreFields(twin.Twin{}, "ETag", "Metadata.LastUpdateTime", "Metadata.Properties")
		if err != nil || !cmp.Equal(want, got, ign) {
			t.Errorf("twin %s after round trip: %v\n%s", id, err, cmp.Diff(want, got, ign))
		}
	}
	if got, err := s2.GetRelationship(ctx, "a", "r"); err != nil || got.Org != "acme" || got.Writer != "carol" || got.Signer != "" {
		t.Errorf("relationship after round trip = %+v, %v", got, err)
	}
	if m, err := s2.GetModel(ctx, siteModel); err != nil || m.Org != "acme" {
		t.Errorf("model after round trip = %+v, %v", m, err)
	}
	// The delete records name the owner of what was deleted.
	recs = mustRecord(t, s, "delete owned", func(ctx context.Context) error {
		if err := s.DeleteRelationship(ctx, "a", "r", store.Condition{}); err != nil {
			return err
		}
		return s.DeleteTwin(ctx, "a", store.Condition{})
	})
	if len(recs) != 2 || recs[0].Org != "acme" || recs[1].Org != "acme" {
		t.Errorf("delete records = %+v", recs)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !contains(s, sub) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
