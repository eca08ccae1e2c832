package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust/auth"
	"lodestone/twin"
)

// signedFixture is a pipeline that enforces signature marks, with a clock
// the test moves.
func signedFixture(t *testing.T) (*pipeline.Pipeline, store.Store, *pipeline.SignatureMarks, *atomic.Int64) {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	marks := pipeline.NewSignatureMarks(st, func() time.Time { return time.Unix(0, clock.Load()) })
	p, err := pipeline.New(ctx, pipeline.Options{Store: st, Signatures: marks, RelayInterval: 50 * time.Millisecond, RetryDeadline: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	raws := make([]json.RawMessage, len(testModels))
	for i, m := range testModels {
		raws[i] = json.RawMessage(m)
	}
	if _, err := p.PutModels(ctx, raws); err != nil {
		t.Fatal(err)
	}
	for _, tw := range []twin.Twin{
		{ID: "a1", Metadata: twin.Metadata{Model: "dtmi:test:Asset;1"}, Properties: map[string]any{"gauge": map[string]any{"$metadata": map[string]any{}}}},
		{ID: "g1", Metadata: twin.Metadata{Model: "dtmi:test:Gauge;1"}, Properties: map[string]any{}},
	} {
		if _, _, err := p.PutTwin(ctx, tw, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	return p, st, marks, &clock
}

func mark(t *testing.T, st store.Store, model string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"model": model, "required": true})
	if _, err := st.PutDoc(context.Background(), store.Doc{Kind: pipeline.DocModelSignatures, ID: model, Body: b}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
}

func importTwins(ctx context.Context, p *pipeline.Pipeline, tws ...twin.Twin) error {
	_, err := p.Import(ctx, store.ImportOptions{}, func(*pipeline.Models) iter.Seq2[store.Entity, error] {
		return func(yield func(store.Entity, error) bool) {
			for i := range tws {
				if !yield(store.Entity{Twin: &tws[i]}, nil) {
					return
				}
			}
		}
	})
	return err
}

// TestSignaturesEveryPath: with a model marked, every unsigned write to a
// twin of it is refused by the pipeline itself (not only by the HTTP
// check), naming the model (an import also names the twin); the same
// writes signed pass, and twins of other models are untouched.
func TestSignaturesEveryPath(t *testing.T) {
	p, st, marks, _ := signedFixture(t)
	const asset = "dtmi:test:Asset;1"
	mark(t, st, asset)
	marks.Invalidate()
	unsigned := context.Background()
	signed := auth.WithSigner(context.Background(), auth.Signer{KeyID: "pump-7", Owner: "pump-7@acme"})
	assetTwin := func(id string) twin.Twin {
		return twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: asset}, Properties: map[string]any{"capacity": 3.0, "gauge": map[string]any{"$metadata": map[string]any{}}}}
	}
	gaugeTwin := func(id string) twin.Twin {
		return twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: "dtmi:test:Gauge;1"}, Properties: map[string]any{"reading": 1.0}}
	}
	batch := func(ctx context.Context) error {
		refused, err := p.AppendTelemetryBatch(ctx, []pipeline.Telemetry{
			{TwinID: "a1", MessageID: "b1", Values: map[string]any{"temperature": 20.0}},
			{TwinID: "g1", MessageID: "b2", Values: map[string]any{"level": 2.0}},
		})
		if err != nil {
			return err
		}
		if refused[1] != nil {
			t.Errorf("the batch's message for an unmarked model was refused: %v", refused[1])
		}
		return refused[0]
	}
	patch := twin.Patch{{Op: twin.OpAdd, Path: "/capacity", Value: 5.0}}
	tests := []struct {
		name  string
		write func(ctx context.Context) error
		says  string // in the refusal of the unsigned write; "" = passes unsigned too
	}{
		{"PutTwin replacing", func(ctx context.Context) error {
			_, _, err := p.PutTwin(ctx, assetTwin("a1"), store.Condition{})
			return err
		}, asset},
		{"PutTwin creating", func(ctx context.Context) error {
			_, _, err := p.PutTwin(ctx, assetTwin("a-"+ctxName(ctx)), store.Condition{IfNoneMatch: true})
			return err
		}, asset},
		{"PutTwin moving a marked twin to an unmarked model", func(ctx context.Context) error {
			_, _, err := p.PutTwin(ctx, gaugeTwin("a1"), store.Condition{})
			if err == nil { // put it back for the next cases
				_, _, err = p.PutTwin(ctx, assetTwin("a1"), store.Condition{})
			}
			return err
		}, asset},
		{"PatchTwin", func(ctx context.Context) error {
			_, err := p.PatchTwin(ctx, "a1", patch, store.Condition{}, "")
			return err
		}, asset},
		{"component PatchTwin", func(ctx context.Context) error {
			_, err := p.PatchTwin(ctx, "a1", twin.Patch{{Op: twin.OpAdd, Path: "/gauge/reading", Value: 4.0}}, store.Condition{}, "gauge")
			return err
		}, asset},
		{"AppendTelemetry", func(ctx context.Context) error {
			return p.AppendTelemetry(ctx, pipeline.Telemetry{TwinID: "a1", MessageID: "m-" + ctxName(ctx), Values: map[string]any{"temperature": 20.0}})
		}, asset},
		{"AppendTelemetryBatch", batch, asset},
		{"Import of a new twin", func(ctx context.Context) error {
			return importTwins(ctx, p, gaugeTwin("g9-"+ctxName(ctx)), assetTwin("a9"))
		}, "twin a9: model " + asset},
		{"Import replacing a marked twin with another model", func(ctx context.Context) error { return importTwins(ctx, p, gaugeTwin("a1")) }, "twin a1: model " + asset},
		{"PatchTwin of an unmarked model", func(ctx context.Context) error {
			_, err := p.PatchTwin(ctx, "g1", twin.Patch{{Op: twin.OpAdd, Path: "/reading", Value: 2.0}}, store.Condition{}, "")
			return err
		}, ""},
		{"Import of unmarked twins", func(ctx context.Context) error { return importTwins(ctx, p, gaugeTwin("g8")) }, ""},
	}
	for _, tt := range tests {
		err := tt.write(unsigned)
		switch {
		case tt.says == "" && err != nil:
			t.Errorf("%s unsigned: %v, want it stored", tt.name, err)
		case tt.says != "":
			var pe *pipeline.Error
			if !errors.Is(err, pipeline.ErrSignatureRequired) || !errors.Is(err, pipeline.ErrForbidden) || !errors.As(err, &pe) ||
				pe.Code != "SignatureRequired" || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("%s unsigned: %v, want SignatureRequired saying %q", tt.name, err, tt.says)
			}
		}
		if tt.name == "Import replacing a marked twin with another model" {
			continue // signed, it would make a1 a Gauge
		}
		if err := tt.write(signed); err != nil {
			t.Errorf("%s signed: %v", tt.name, err)
		}
	}
	// The refused import stored nothing; the signed writes recorded their
	// signer.
	if _, err := st.GetTwin(context.Background(), "g9-unsigned"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("g9-unsigned of the refused import: %v, want not found", err)
	}
	if tw, err := st.GetTwin(context.Background(), "a1"); err != nil || tw.Metadata.Signer != "pump-7" || tw.Metadata.Model != asset {
		t.Errorf("a1 = %+v, %v; want signed by pump-7, still an Asset", tw.Metadata, err)
	}
}

// ctxName tells the signed run of a case from the unsigned one, for the
// ids a case creates.
func ctxName(ctx context.Context) string {
	if _, ok := auth.SignerFromContext(ctx); ok {
		return "signed"
	}
	return "unsigned"
}

// TestSignatureMarksRefresh: a mark set or lifted behind the reader's back
// (another server) applies after SignatureRefresh; Invalidate applies it
// at once.
func TestSignatureMarksRefresh(t *testing.T) {
	p, st, marks, clock := signedFixture(t)
	ctx := context.Background()
	write := func() error {
		_, err := p.PatchTwin(ctx, "g1", twin.Patch{{Op: twin.OpAdd, Path: "/reading", Value: 2.0}}, store.Condition{}, "")
		return err
	}
	steps := []struct {
		name   string
		do     func()
		refuse bool
	}{
		{"no mark", func() {}, false},
		{"marked by another server, within the refresh time", func() { mark(t, st, "dtmi:test:Gauge;1") }, false},
		{"after the refresh time", func() { clock.Add(int64(pipeline.SignatureRefresh)) }, true},
		{"lifted by another server, within the refresh time", func() {
			if err := st.DeleteDoc(ctx, pipeline.DocModelSignatures, "dtmi:test:Gauge;1", store.Condition{}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"invalidated", marks.Invalidate, false},
		{"a clock that went back reads again", func() { mark(t, st, "dtmi:test:Gauge;1"); clock.Add(-int64(time.Second)) }, true},
	}
	for _, s := range steps {
		s.do()
		err := write()
		if got := errors.Is(err, pipeline.ErrSignatureRequired); got != s.refuse || (err != nil && !got) {
			t.Errorf("%s: %v, want refused %v", s.name, err, s.refuse)
		}
	}
	// A pipeline without Options.Signatures checks nothing.
	if p2 := newPipeline(t, st, nil); p2.Signatures() != nil {
		t.Error("Signatures() of a pipeline without marks")
	} else if _, err := p2.PatchTwin(ctx, "g1", twin.Patch{{Op: twin.OpAdd, Path: "/reading", Value: 3.0}}, store.Condition{}, ""); err != nil {
		t.Errorf("a pipeline without marks: %v", err)
	}
}

// TestSignatureMarksBadDocument: a stored mark that is not JSON of the
// expected shape is an error naming the document, not a silent pass.
func TestSignatureMarksBadDocument(t *testing.T) {
	st := openStore(t)
	if _, err := st.PutDoc(context.Background(), store.Doc{Kind: pipeline.DocModelSignatures, ID: "dtmi:x:Y;1", Body: []byte(`{"required":"yes"}`)}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	_, err := pipeline.NewSignatureMarks(st, nil).Required(context.Background())
	if err == nil || !strings.Contains(err.Error(), "dtmi:x:Y;1") {
		t.Errorf("Required = %v, want an error naming the document", err)
	}
}
