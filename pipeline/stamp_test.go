package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"testing"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust/auth"
	"lodestone/twin"
)

func as(org, subject string, roles ...auth.Role) context.Context {
	return auth.NewContext(context.Background(), auth.Principal{Subject: subject, Org: org, Roles: roles, Method: "token"})
}

// TestStamping: the pipeline records the owner org, writer and signer of
// every write in the stored entity and its event, ignores the owner a
// client sends, keeps the org on replace and patch, and refuses writes to
// another org's things as not found and beyond the principal's roles as
// forbidden.
func TestStamping(t *testing.T) {
	f := setup(t)
	alice := as("acme", "alice", auth.Writer)
	signed := auth.WithSigner(as("acme", "bob", auth.Writer), auth.Signer{KeyID: "key-1", Owner: "device-7"})
	mallory := as("globex", "mallory", auth.Admin)

	forged := asset("a", 1)
	forged.Metadata.Org, forged.Metadata.Writer, forged.Metadata.Signer = "globex", "eve", "k0"
	a, _, err := f.p.PutTwin(alice, forged, store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	if md := a.Metadata; md.Org != "acme" || md.Writer != "alice" || md.Signer != "" {
		t.Errorf("created = %+v, want org acme, writer alice, no signer", md)
	}
	// A signed replace by another writer of the org keeps the org.
	b, _, err := f.p.PutTwin(signed, asset("a", 2), store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	if md := b.Metadata; md.Org != "acme" || md.Writer != "bob" || md.Signer != "key-1" {
		t.Errorf("replaced = %+v", md)
	}
	// A patch records its writer; its signer is cleared when unsigned.
	p, err := f.p.PatchTwin(alice, "a", twin.Patch{{Op: "replace", Path: "/capacity", Value: 3.0}}, store.Condition{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if md := p.Metadata; md.Org != "acme" || md.Writer != "alice" || md.Signer != "" {
		t.Errorf("patched = %+v", md)
	}
	if got, _ := f.st.GetTwin(context.Background(), "a"); got.Metadata.Writer != "alice" || got.Metadata.Org != "acme" {
		t.Errorf("stored = %+v", got.Metadata)
	}
	// Another org's writes are "not found"; nothing changes.
	for name, err := range map[string]error{
		"put":       second(f.p.PutTwin(mallory, asset("a", 9), store.Condition{})),
		"patch":     second2(f.p.PatchTwin(mallory, "a", twin.Patch{{Op: "replace", Path: "/capacity", Value: 9.0}}, store.Condition{}, "")),
		"delete":    f.p.DeleteTwin(mallory, "a", store.Condition{}),
		"telemetry": f.p.AppendTelemetry(mallory, pipeline.Telemetry{TwinID: "a", MessageID: "m", Values: map[string]any{"temperature": 1.0}}),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s by another org: %v, want not found", name, err)
		}
	}
	// A reader of the org may not write it; a writer may not write org "".
	if _, err := f.p.PatchTwin(as("acme", "rita", auth.Reader), "a", twin.Patch{{Op: "replace", Path: "/capacity", Value: 9.0}}, store.Condition{}, ""); !errors.Is(err, pipeline.ErrForbidden) {
		t.Errorf("reader's patch: %v, want forbidden", err)
	}
	if _, _, err := f.p.PutTwin(context.Background(), asset("free", 1), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.PatchTwin(alice, "free", twin.Patch{{Op: "replace", Path: "/capacity", Value: 9.0}}, store.Condition{}, ""); !errors.Is(err, pipeline.ErrForbidden) {
		t.Errorf("writer's patch of org \"\": %v, want forbidden", err)
	}
	if _, err := f.p.PatchTwin(as("acme", "root", auth.Admin), "free", twin.Patch{{Op: "replace", Path: "/capacity", Value: 9.0}}, store.Condition{}, ""); err != nil {
		t.Errorf("admin's patch of org \"\": %v", err)
	}
	// Relationships: created with the org of the writer, refused to others.
	if _, _, err := f.p.PutTwin(alice, asset("b", 1), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	r, err := f.p.PutRelationship(signed, twin.Relationship{ID: "r", SourceID: "a", TargetID: "b", Name: "feeds", Org: "globex"}, store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Org != "acme" || r.Writer != "bob" || r.Signer != "key-1" {
		t.Errorf("relationship = %+v", r)
	}
	if pr, err := f.p.PatchRelationship(alice, "a", "r", twin.Patch{}, store.Condition{}); err != nil || pr.Writer != "alice" || pr.Signer != "" || pr.Org != "acme" {
		t.Errorf("patched relationship = %+v, %v", pr, err)
	}
	if _, err := f.p.PutRelationship(mallory, twin.Relationship{ID: "r", SourceID: "a", TargetID: "b", Name: "feeds"}, store.Condition{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("relationship replace by another org: %v", err)
	}
	if err := f.p.DeleteRelationship(mallory, "a", "r", store.Condition{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("relationship delete by another org: %v", err)
	}
	// Telemetry records carry their twin's org.
	rec := &store.Recorder{}
	if err := f.p.AppendTelemetry(store.WithRecorder(alice, rec), pipeline.Telemetry{TwinID: "a", MessageID: "m1", Values: map[string]any{"temperature": 1.0}}); err != nil {
		t.Fatal(err)
	}
	if rs := rec.Records(); len(rs) != 1 || rs[0].Org != "acme" {
		t.Errorf("telemetry records = %+v", rs)
	} else if ev := pipeline.EventOf("s", rs[0]); ev.Extensions["org"] != "acme" {
		t.Errorf("telemetry event extensions = %v", ev.Extensions)
	}
	// Models get the uploader's org; imports stamp the importer's.
	ms, err := f.p.PutModels(as("acme", "root", auth.Admin), []json.RawMessage{json.RawMessage(extraModel)})
	if err != nil || ms[0].Org != "acme" {
		t.Errorf("model = %+v, %v", ms, err)
	}
	imp := twin.Twin{ID: "imp", Metadata: twin.Metadata{Model: "dtmi:test:Extra;1", Org: "globex"}, Properties: map[string]any{"x": 1.0}}
	_, err = f.p.Import(alice, store.ImportOptions{}, func(*pipeline.Models) iter.Seq2[store.Entity, error] {
		return func(yield func(store.Entity, error) bool) { yield(store.Entity{Twin: &imp}, nil) }
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.st.GetTwin(context.Background(), "imp"); got.Metadata.Org != "acme" || got.Metadata.Writer != "alice" {
		t.Errorf("imported = %+v", got.Metadata)
	}
	if imp.Metadata.Org != "globex" {
		t.Error("the import changed the caller's twin")
	}
	// Without a principal nothing is stamped or checked.
	anon, _, err := f.p.PutTwin(context.Background(), forged, store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	if md := anon.Metadata; md.Org != "acme" || md.Writer != "" || md.Signer != "" {
		t.Errorf("anonymous replace = %+v, want the org kept and no writer", md)
	}
}

func second(_ twin.Twin, _ []byte, err error) error { return err }
func second2(_ twin.Twin, err error) error          { return err }
