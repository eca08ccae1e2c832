package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestFlowsheetCLI(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "flowsheet", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no flowsheet examples (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, out, errs := runDownstreamCLI(t, "", "flowsheet", "run", f, "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var res struct {
				Converged bool               `json:"converged"`
				Recovery  map[string]float64 `json:"recovery"`
				Purity    map[string]float64 `json:"purity"`
				Closure   map[string]float64 `json:"closure"`
				Reagents  map[string]any     `json:"reagents"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("output is not JSON: %v", err)
			}
			if !res.Converged || len(res.Recovery) == 0 || len(res.Purity) == 0 || len(res.Reagents) == 0 {
				t.Errorf("incomplete result: %+v", res)
			}
			for m, c := range res.Closure {
				if math.Abs(c) > 1e-9 {
					t.Errorf("closure %s = %g", m, c)
				}
			}
			code, out, errs = runDownstreamCLI(t, "", "flowsheet", "run", f)
			if code != 0 || !strings.Contains(out, "per tonne REO") {
				t.Fatalf("human output: exit %d, stderr %s, stdout %s", code, errs, out)
			}
		})
	}
	// Errors name the field.
	for _, tc := range []struct{ spec, msg string }{
		{`{"media": "chloride"}`, "feed: required"},
		{`{"media": "chloride", "colour": 1}`, `unknown field "colour"`},
	} {
		code, _, errs := runDownstreamCLI(t, tc.spec, "flowsheet", "run", "-")
		if code != 1 || !strings.Contains(errs, tc.msg) {
			t.Errorf("spec %s: exit %d, stderr %q, want %q", tc.spec, code, errs, tc.msg)
		}
	}
}
