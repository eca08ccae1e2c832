package pipeline_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"lodestone/pipeline"
	"lodestone/twin"
)

// TestValidateTwinAsDoc: ValidateTwin, which builds a light document,
// answers as the validator does on the twin's full document (t.Doc()
// without the metadata entries of components), errors included.
func TestValidateTwinAsDoc(t *testing.T) {
	models := make([]twin.Model, len(testModels))
	for i, m := range testModels {
		var head struct {
			ID string `json:"@id"`
		}
		if err := json.Unmarshal([]byte(m), &head); err != nil {
			t.Fatal(err)
		}
		models[i] = twin.Model{ID: head.ID, DTDL: json.RawMessage(m)}
	}
	ms, err := pipeline.ParseModels(models)
	if err != nil {
		t.Fatal(err)
	}
	iface := ms.Interface("dtmi:test:Asset;1")
	if iface == nil {
		t.Fatal("no Asset interface")
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	pm := twin.PropertyMetadata{LastUpdateTime: now}
	twins := []twin.Twin{
		{Properties: map[string]any{"name": "a", "capacity": 1.0, "gauge": map[string]any{"$metadata": map[string]any{}, "reading": 2.0}}},
		{Properties: map[string]any{"name": "a", "capacity": "x", "gauge": map[string]any{"$metadata": map[string]any{}, "reading": "y"}}},
		{Properties: map[string]any{"name": "a", "nope": 1.0}},
		{Properties: map[string]any{"name": nil, "gauge": 3.0, "temperature": 1.0}},
		{Properties: map[string]any{"gauge": map[string]any{"reading": 1.0}}},
	}
	for i := range twins {
		twins[i].ID = twin.ID(fmt.Sprint("v", i))
		twins[i].Metadata = twin.Metadata{Model: "dtmi:test:Asset;1", LastUpdateTime: now,
			Properties: map[string]twin.PropertyMetadata{"name": pm, "capacity": {LastUpdateTime: now, SourceTime: now}, "gauge": pm, "ghost": pm}}
	}
	other := twins[0]
	other.Metadata.Model = "dtmi:test:Gauge;1"
	twins = append(twins, other)
	refused := 0
	for _, tw := range twins {
		doc := tw.Doc()
		md := doc["$metadata"].(map[string]any)
		for k := range md {
			if iface.Component(k) != nil {
				delete(md, k)
			}
		}
		werr := iface.ValidateTwin(doc)
		if werr != nil {
			refused++
		}
		want := fmt.Sprint(werr)
		if got := fmt.Sprint(pipeline.ValidateTwin(iface, tw)); got != want {
			t.Errorf("twin %s: ValidateTwin = %s\nvalidator on Doc = %s", tw.ID, got, want)
		}
	}
	if refused != len(twins) {
		t.Errorf("%d of %d twins refused, want all (each has an unknown metadata entry)", refused, len(twins))
	}
}
