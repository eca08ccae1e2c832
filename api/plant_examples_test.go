package api_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestPlantExamples: GET /plant/examples serves every bundled plant spec,
// each the same JSON as the engine testdata it copies (so the dashboard
// starts from the files the engines' tests check), and each runs through
// its route.
func TestPlantExamples(t *testing.T) {
	e := start(t, options{noModels: true})
	var got struct {
		Examples []struct {
			Kind, Name, Route string
			Spec              json.RawMessage
		} `json:"examples"`
	}
	if err := json.Unmarshal(e.mustDo("GET", "/plant/examples", nil, 200).body, &got); err != nil {
		t.Fatal(err)
	}
	copies := map[string]string{
		"estimate": filepath.Join("..", "plant", "estimate", "testdata", "ndpr-drift.json"),
		"control":  filepath.Join("..", "plant", "control", "testdata", "ndpr-upset.json"),
		"training": filepath.Join("..", "plant", "ots", "testdata", "ndpr-shift.json"),
		"inspect":  filepath.Join("..", "plant", "inspect", "testdata", "inspect.json"),
	}
	if len(got.Examples) != len(copies) {
		t.Fatalf("%d examples, want %d: %+v", len(got.Examples), len(copies), got.Examples)
	}
	for _, ex := range got.Examples {
		want, err := os.ReadFile(copies[ex.Kind])
		if err != nil {
			t.Fatalf("%s: %v", ex.Kind, err)
		}
		var a, b bytes.Buffer
		if err := json.Compact(&a, ex.Spec); err != nil {
			t.Fatal(err)
		}
		if err := json.Compact(&b, want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("examples/plant/%s.json differs from %s: copy it again", ex.Name, copies[ex.Kind])
		}
		body := []byte(ex.Spec)
		if ex.Kind == "training" {
			var s struct {
				Scenario json.RawMessage `json:"scenario"`
			}
			if err := json.Unmarshal(ex.Spec, &s); err != nil {
				t.Fatal(err)
			}
			body = []byte(`{"scenario": ` + string(s.Scenario) + `}`)
		}
		method, path, _ := bytes.Cut([]byte(ex.Route), []byte(" "))
		status := 200
		if ex.Kind == "training" {
			status = 201
		}
		e.mustDo(string(method), string(path), body, status)
	}
}
