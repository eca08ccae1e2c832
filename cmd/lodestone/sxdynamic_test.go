package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSXDynamicExamples runs every example under examples/sx-dynamic and
// checks the output against the keys of the result schema.
func TestSXDynamicExamples(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "examples", "sx-dynamic", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	schema := readSchemaKeys(t, filepath.Join(root, "docs", "formats", "sx-dynamic.result.schema.json"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, out, errs := runSX(t, "", "sx", "dynamic", f, "--json")
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
			for _, k := range []string{"steady_state_reached", "time_to_steady_state_h", "closure_max", "times_h", "outlets", "stages", "steady_state"} {
				if _, ok := o[k]; !ok {
					t.Errorf("output has no %q", k)
				}
			}
			if c, _ := o["closure_max"].(float64); c > 1e-9 {
				t.Errorf("closure_max = %g > 1e-9", c)
			}
			code, human, _ := runSX(t, "", "sx", "dynamic", f)
			if code != 0 || !strings.Contains(human, "steady state") {
				t.Errorf("human output (exit %d):\n%s", code, human)
			}
		})
	}
}

// TestSXDynamicSpecSchema checks that the spec schema lists the fields of
// sx simulate and those sx dynamic adds.
func TestSXDynamicSpecSchema(t *testing.T) {
	root := repoRoot(t)
	got := readSchemaKeys(t, filepath.Join(root, "docs", "formats", "sx-dynamic.schema.json"))
	want := append(readSchemaKeys(t, filepath.Join(root, "docs", "formats", "sx-simulate.schema.json")),
		"disturbances", "duration_h", "holdup", "max_step_h", "output_every_h", "start", "steady_tolerance", "tolerance")
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("schema properties %v, want %v", got, want)
	}
}

func TestSXDynamicErrors(t *testing.T) {
	base := `"stages": 4, "temperature_K": 298, "media": "chloride",
		"inlets": [{"phase": "aqueous", "stage": 4, "flow_L_per_h": 10, "mg_per_L": {"Nd": 100, "H": 10}},
		           {"phase": "organic", "stage": 1, "flow_L_per_h": 10, "mg_per_L": {"PC88A": 100000}}],
		"equilibrium": {"model": "constant", "D": {"Nd": 2}}`
	tests := []struct {
		name, spec, want string
	}{
		{"unknown field", `{` + base + `, "holdup": {"mixer_L": 10}, "duration_h": 5, "colour": 1}`, "colour: unknown field"},
		{"missing holdup", `{` + base + `, "duration_h": 5}`, "holdup: missing"},
		{"missing duration", `{` + base + `, "holdup": {"mixer_L": 10}}`, "duration_h: missing"},
		{"bad inlet", `{` + base + `, "holdup": {"mixer_L": 10}, "duration_h": 5, "disturbances": [{"kind": "step", "at_h": 1, "inlet": 9, "field": "flow_L_per_h", "value": 1}]}`, "disturbances[0].inlet"},
		{"NaN", `{` + base + `, "holdup": {"mixer_L": NaN}, "duration_h": 5}`, "invalid JSON"},
		{"sx error", `{"stages": 4, "temperature_K": 298, "media": "chloride", "inlets": [{"phase": "aqueous", "stage": 7, "flow_L_per_h": 1, "mg_per_L": {}}], "equilibrium": {"model": "constant"}, "holdup": {"mixer_L": 10}, "duration_h": 5}`, "inlets[0].stage: 7 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runSX(t, tt.spec, "sx", "dynamic", "-", "--json")
			if code != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("sx dynamic = exit %d, stderr %q, want exit 1 naming %q", code, errs, tt.want)
			}
		})
	}
}
