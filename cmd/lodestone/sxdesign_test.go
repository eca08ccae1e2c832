package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSXDesignExamples runs every example under examples/sx-design, and
// checks that the keys of the output are those of the result schema.
func TestSXDesignExamples(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "examples", "sx-design", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	schema := readSchemaKeys(t, filepath.Join(root, "docs", "formats", "sx-design.result.schema.json"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, out, errs := runSX(t, "", "sx", "design", f, "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var o map[string]any
			if err := json.Unmarshal([]byte(out), &o); err != nil {
				t.Fatal(err)
			}
			for k := range o {
				if !slices.Contains(schema, k) {
					t.Errorf("output key %q is not in the result schema", k)
				}
			}
			for _, k := range schema {
				if _, ok := o[k]; !ok && k != "cut" {
					t.Errorf("output has no %q", k)
				}
			}
			check, _ := o["check"].(map[string]any)
			if check["converged"] != true {
				t.Errorf("check = %v", check)
			}
			code, human, _ := runSX(t, "", "sx", "design", f)
			if code != 0 || !strings.Contains(human, "rigorous check") {
				t.Errorf("human output (exit %d):\n%s", code, human)
			}
		})
	}
}

// readSchemaKeys returns the sorted property names of a JSON Schema.
func readSchemaKeys(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var keys []string
	for k := range s.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestSXDesignSpecSchema(t *testing.T) {
	got := readSchemaKeys(t, filepath.Join(repoRoot(t), "docs", "formats", "sx-design.schema.json"))
	want := []string{"beta", "components", "cut", "feed_fraction_A", "feed_phase", "purity_A", "purity_B"}
	if !slices.Equal(got, want) {
		t.Errorf("schema properties %v, want %v", got, want)
	}
}

func TestSXDesignErrors(t *testing.T) {
	tests := []struct {
		name, spec, want string
	}{
		{"unknown field", `{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous", "colour": 2}`, "colour: unknown field"},
		{"missing", `{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": 0.99, "feed_phase": "aqueous"}`, "purity_B: missing"},
		{"beta 1", `{"beta": 1, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "beta:"},
		{"fraction", `{"beta": 1.5, "feed_fraction_A": 0, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "feed_fraction_A:"},
		{"NaN", `{"beta": NaN, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "invalid JSON"},
		{"NaN string", `{"beta": "NaN", "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "beta:"},
		{"phase", `{"beta": 1.5, "feed_fraction_A": 0.5, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "solid"}`, "feed_phase:"},
		{"cut with beta", `{"beta": 1.5, "components": [{"name": "La", "feed_fraction": 0.5, "D": 1}, {"name": "Ce", "feed_fraction": 0.5, "D": 2}], "cut": 1, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "beta: not used"},
		{"cut missing", `{"components": [{"name": "La", "feed_fraction": 0.5, "D": 1}, {"name": "Ce", "feed_fraction": 0.5, "D": 2}], "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "cut: missing"},
		{"cut range", `{"components": [{"name": "La", "feed_fraction": 0.5, "D": 1}, {"name": "Ce", "feed_fraction": 0.5, "D": 2}], "cut": 2, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "cut: 2 is out of range"},
		{"cut fractions", `{"components": [{"name": "La", "feed_fraction": 0.5, "D": 1}, {"name": "Ce", "feed_fraction": 0.4, "D": 2}], "cut": 1, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "components: feed fractions sum"},
		{"cut component field", `{"components": [{"name": "La", "feed_fraction": 0.5, "D": 1, "Z": 3}, {"name": "Ce", "feed_fraction": 0.5, "D": 2}], "cut": 1, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "Z: unknown field"},
		{"cut D missing", `{"components": [{"name": "La", "feed_fraction": 0.5}, {"name": "Ce", "feed_fraction": 0.5, "D": 2}], "cut": 1, "purity_A": 0.99, "purity_B": 0.99, "feed_phase": "aqueous"}`, "components[0].D: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runSX(t, tt.spec, "sx", "design", "-", "--json")
			if code != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("sx design = exit %d, stderr %q, want exit 1 naming %q", code, errs, tt.want)
			}
		})
	}
	if code, _, _ := runSX(t, "", "sx", "design"); code != 2 {
		t.Errorf("sx design without a spec: exit %d, want 2", code)
	}
}
