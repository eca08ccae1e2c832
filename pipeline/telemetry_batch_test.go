package pipeline_test

import (
	"context"
	"testing"

	"lodestone/pipeline"
	"lodestone/store"
)

// TestAppendTelemetryBatch: the valid messages of a batch are stored in
// one commit, each refused one is reported at its index, nothing else.
func TestAppendTelemetryBatch(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, _, err := f.p.PutTwin(ctx, asset("a", 1), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	refused, err := f.p.AppendTelemetryBatch(ctx, []pipeline.Telemetry{
		{TwinID: "a", MessageID: "b1", Values: map[string]any{"temperature": 20.5}},
		{TwinID: "a", MessageID: "b2", Values: map[string]any{"temperature": "warm"}},
		{TwinID: "ghost", MessageID: "b3", Values: map[string]any{"temperature": 1.0}},
		{TwinID: "a", Component: "gauge", MessageID: "b4", Values: map[string]any{"level": 0.5}},
		{TwinID: "a", Component: "nope", MessageID: "b5", Values: map[string]any{"level": 0.5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true, true, false, true} {
		if (refused[i] != nil) != want {
			t.Errorf("message %d: refused = %v", i, refused[i])
		}
	}
	pts, err := f.st.QueryTelemetry(ctx, store.TelemetryQuery{TwinID: "a"})
	if err != nil || len(pts) != 2 {
		t.Errorf("stored %v, %v; want temperature and gauge/level", pts, err)
	}
}
