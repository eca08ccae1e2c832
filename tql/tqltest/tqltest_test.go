package tqltest_test

import (
	"context"
	"encoding/json"
	"testing"

	"lodestone/tql/tqltest"
)

// TestScripts runs every script in testdata against the reference engine.
func TestScripts(t *testing.T) {
	tqltest.RunDir(t, "testdata", func(*testing.T) tqltest.Engine { return tqltest.NewMemEngine() })
}

// recorder is an engine that keeps what it was asked to load.
type recorder struct {
	tqltest.Engine
	loaded []*tqltest.Dataset
}

func (r *recorder) Load(ctx context.Context, ds *tqltest.Dataset) error {
	r.loaded = append(r.loaded, ds)
	return r.Engine.Load(ctx, ds)
}

// TestDataset checks what a script hands to an engine: models with their
// JSON, timed changes and deletes.
func TestDataset(t *testing.T) {
	r := &recorder{Engine: tqltest.NewMemEngine()}
	tqltest.RunFile(t, "testdata/asof.test", r)
	if len(r.loaded) != 1 {
		t.Fatalf("Load called %d times, want 1", len(r.loaded))
	}
	ds := r.loaded[0]
	if len(ds.Models) != 7 || len(ds.ModelJSON) != len(ds.Models) {
		t.Errorf("got %d models and %d model lines, want 7 of each", len(ds.Models), len(ds.ModelJSON))
	}
	var m map[string]any
	if err := json.Unmarshal(ds.ModelJSON[1], &m); err != nil || m["@id"] != ds.Models[1].ID {
		t.Errorf("ModelJSON[1] = %s, want the line of %s", ds.ModelJSON[1], ds.Models[1].ID)
	}
	if got := ds.Models[1].Units["output"]; got != "tonnePerYear" {
		t.Errorf("unit of output = %q, want tonnePerYear", got)
	}
	deletes := 0
	for _, c := range ds.Changes {
		if c.Doc == nil {
			deletes++
			if c.At.IsZero() {
				t.Errorf("delete of %s has no time", c.DeleteID)
			}
		}
	}
	if deletes != 2 {
		t.Errorf("got %d deletes, want 2", deletes)
	}
}
