package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"testing"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/twin"
)

const partModel = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Part;1","@type":"Interface","contents":[
	{"@type":"Property","name":"x","schema":"double","writable":true}]}`

const holderModel = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Holder;1","@type":"Interface","contents":[
	{"@type":"Component","name":"part","schema":"dtmi:test:Part;1"}]}`

// otherServer is a hook whose Check, once armed, stores models straight
// into the store, as another server sharing the database would, between
// this pipeline's reading of the model set and its write.
type otherServer struct {
	st     store.Store
	models []twin.Model
	armed  bool
}

func (o *otherServer) Check(ctx context.Context, w *pipeline.Write) error {
	if !o.armed {
		return nil
	}
	o.armed = false
	_, err := o.st.PutModels(ctx, o.models, store.Condition{})
	return err
}

func (o *otherServer) Committed(context.Context, []store.Record) error { return nil }

// A model delete whose reference check ran against a set that another
// server changed (it stored a model using this one as a component schema)
// is checked again and refused; the model stays.
func TestDeleteModelRacingReference(t *testing.T) {
	h := &otherServer{}
	f := setup(t, h)
	h.st = f.st
	ctx := context.Background()
	if _, err := f.p.PutModels(ctx, []json.RawMessage{json.RawMessage(partModel)}); err != nil {
		t.Fatal(err)
	}
	h.models = []twin.Model{{ID: "dtmi:test:Holder;1", DTDL: json.RawMessage(holderModel)}}
	h.armed = true
	err := f.p.DeleteModel(ctx, "dtmi:test:Part;1")
	var pe *pipeline.Error
	if !errors.As(err, &pe) || pe.Code != "ModelReferencesNotDeleted" {
		t.Fatalf("delete racing a referencing model = %v, want ModelReferencesNotDeleted", err)
	}
	if _, err := f.st.GetModel(ctx, "dtmi:test:Part;1"); err != nil {
		t.Errorf("the referenced model is gone: %v", err)
	}
}

// An import validated against a model set that another server changed
// before the store wrote it is refused as a whole (its stream cannot be
// read twice) and writes nothing.
func TestImportRacingModelChange(t *testing.T) {
	h := &otherServer{}
	f := setup(t, h)
	h.st = f.st
	ctx := context.Background()
	h.models = []twin.Model{{ID: "dtmi:test:Extra;1", DTDL: json.RawMessage(extraModel)}}
	h.armed = true
	_, err := f.p.Import(ctx, store.ImportOptions{}, func(*pipeline.Models) iter.Seq2[store.Entity, error] {
		return func(yield func(store.Entity, error) bool) {
			tw := asset("imported", 1)
			yield(store.Entity{Twin: &tw}, nil)
		}
	})
	if !errors.Is(err, pipeline.ErrBusy) {
		t.Fatalf("import racing a model change = %v, want ErrBusy", err)
	}
	if _, err := f.st.GetTwin(ctx, "imported"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused import stored its twin: %v", err)
	}
}
