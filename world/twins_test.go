package world_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"lodestone/dtdl"
	"lodestone/models"
	"lodestone/supply"
	"lodestone/twin"
)

func parseModels(t *testing.T) *dtdl.ModelSet {
	t.Helper()
	var docs []dtdl.Document
	for _, f := range models.Files() {
		docs = append(docs, dtdl.Document(f))
	}
	ms, err := dtdl.Parse(docs, &dtdl.Options{})
	if err != nil {
		var el *dtdl.ErrorList
		if errors.As(err, &el) {
			for _, e := range el.Errors {
				t.Errorf("%v", e)
			}
		}
		t.Fatalf("dtdl.Parse(models) = %v", err)
	}
	return ms
}

// TestTwinsValidate checks every twin and relationship of the world against
// the bundled ontology with the project's DTDL validator, in their ADT JSON
// form.
func TestTwinsValidate(t *testing.T) {
	ms := parseModels(t)
	w := load(t)
	twins, rels := w.Twins()
	byID := map[twin.ID]*dtdl.Interface{}
	for _, tw := range twins {
		if byID[tw.ID] != nil {
			t.Errorf("duplicate twin %s", tw.ID)
		}
		in := ms.Interface(tw.Metadata.Model)
		if in == nil {
			t.Errorf("twin %s: model %q not in the ontology", tw.ID, tw.Metadata.Model)
			continue
		}
		byID[tw.ID] = in
		data, err := json.Marshal(tw)
		if err != nil {
			t.Fatalf("marshal twin %s: %v", tw.ID, err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		if err := in.ValidateTwin(doc); err != nil {
			t.Errorf("twin %s: ValidateTwin = %v", tw.ID, err)
		}
	}
	counts := map[[2]string]int{}
	relIDs := map[[2]string]bool{}
	for _, r := range rels {
		src, dst := byID[r.SourceID], byID[r.TargetID]
		if src == nil || dst == nil {
			t.Errorf("relationship %s: unknown twin", r.ID)
			continue
		}
		k := [2]string{string(r.SourceID), r.ID}
		if relIDs[k] {
			t.Errorf("duplicate relationship id %s on %s", r.ID, r.SourceID)
		}
		relIDs[k] = true
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		counts[[2]string{string(r.SourceID), r.Name}]++
		if err := src.ValidateRelationship(r.Name, dst, doc, counts[[2]string{string(r.SourceID), r.Name}]); err != nil {
			t.Errorf("relationship %s: %v", r.ID, err)
		}
	}
	// Every node is a twin, every arc a feeds edge, every control a twin.
	for _, n := range w.Nodes {
		if byID[twin.ID(n.ID)] == nil {
			t.Errorf("node %s has no twin", n.ID)
		}
	}
	if got, want := counts[[2]string{"magnet-cn", "feeds"}], 2; got != want {
		t.Errorf("magnet-cn feeds edges = %d, want %d", got, want)
	}
	for name := range supply.BuiltinControls() {
		if byID[twin.ID("control-"+strings.ToLower(name))] == nil {
			t.Errorf("built-in control %s has no twin", name)
		}
	}
}
