package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runSX(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin)}
	code = run(t.Context(), env, args)
	return code, out.String(), errb.String()
}

// repoRoot walks up from the package directory to go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod found")
		}
		dir = parent
	}
}

// TestSXExamples runs every example spec under examples/sx.
func TestSXExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "examples", "sx", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, out, errs := runSX(t, "", "sx", "simulate", f, "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var o map[string]any
			if err := json.Unmarshal([]byte(out), &o); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"converged", "iterations", "closure", "stages", "outlets", "recovery", "purity"} {
				if _, ok := o[k]; !ok {
					t.Errorf("output has no %q", k)
				}
			}
			if o["converged"] != true {
				t.Errorf("converged = %v", o["converged"])
			}
			if c, _ := o["closure_max"].(float64); c > 1e-9 {
				t.Errorf("closure_max = %g > 1e-9", c)
			}
			code, human, _ := runSX(t, "", "sx", "simulate", f)
			if code != 0 || !strings.Contains(human, "stage") {
				t.Errorf("human output (exit %d):\n%s", code, human)
			}
		})
	}
}

func TestSXSimulatePrommis(t *testing.T) {
	code, out, errs := runSX(t, "", "sx", "simulate", filepath.Join(repoRoot(t), "examples", "sx", "prommis-3stage.json"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var o struct {
		Outlets struct {
			Aqueous struct {
				Stage  int                `json:"stage"`
				MgPerL map[string]float64 `json:"mg_per_L"`
			} `json:"aqueous"`
			Organic struct {
				Stage  int                `json:"stage"`
				MgPerL map[string]float64 `json:"mg_per_L"`
			} `json:"organic"`
		} `json:"outlets"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	// PrOMMiS test_solvent_extraction_steady.py asserted values (rel 1e-4).
	for k, want := range map[string]float64{"Fe": 585.5947, "H": 39.5131, "HSO4": 8023.225, "Nd": 0.8801} {
		if got := o.Outlets.Aqueous.MgPerL[k]; !(got > want*(1-1e-4) && got < want*(1+1e-4)) {
			t.Errorf("raffinate %s = %v, want %v", k, got, want)
		}
	}
	if got, want := o.Outlets.Organic.MgPerL["DEHPA"], 46086.719; !(got > want*(1-1e-4) && got < want*(1+1e-4)) {
		t.Errorf("extract DEHPA = %v, want %v", got, want)
	}
	if o.Outlets.Aqueous.Stage != 1 || o.Outlets.Organic.Stage != 3 {
		t.Errorf("outlet stages = %d, %d, want 1, 3", o.Outlets.Aqueous.Stage, o.Outlets.Organic.Stage)
	}
}

func TestSXSimulateErrors(t *testing.T) {
	base := func(mut string) string {
		return `{"stages": 6, "temperature_K": 298, "media": "chloride",
		"inlets": [{"phase": "aqueous", "stage": 6, "flow_L_per_h": 10, "mg_per_L": {"Nd": 100, "H": 1}},
		           {"phase": "organic", "stage": 1, "flow_L_per_h": 10, "mg_per_L": {"PC88A": 100000}},
		           ` + mut + `],
		"equilibrium": {"model": "constant", "D": {"Nd": 2}}}`
	}
	tests := []struct {
		name, spec, want string
	}{
		{"stage out of range", base(`{"phase": "aqueous", "stage": 7, "flow_L_per_h": 1, "mg_per_L": {}}`), "inlets[2].stage: 7 is out of range 1..6"},
		{"negative flow", base(`{"phase": "aqueous", "stage": 2, "flow_L_per_h": -1, "mg_per_L": {}}`), "inlets[2].flow_L_per_h: -1"},
		{"unknown element", base(`{"phase": "aqueous", "stage": 2, "flow_L_per_h": 1, "mg_per_L": {"Xx": 1}}`), `inlets[2].mg_per_L.Xx: unknown element`},
		{"missing stage", base(`{"phase": "aqueous", "flow_L_per_h": 1, "mg_per_L": {}}`), "inlets[2].stage: missing"},
		{"unknown field", base(`{"phase": "aqueous", "stage": 2, "flow_L_per_h": 1, "mg_per_L": {}, "colour": "red"}`), `colour: unknown field`},
		{"bad phase", base(`{"phase": "gas", "stage": 2, "flow_L_per_h": 1, "mg_per_L": {}}`), `inlets[2].phase`},
		{"NaN", base(`{"phase": "aqueous", "stage": 2, "flow_L_per_h": NaN, "mg_per_L": {}}`), "invalid JSON"},
		{"string number", base(`{"phase": "aqueous", "stage": "two", "flow_L_per_h": 1, "mg_per_L": {}}`), "inlets.stage"},
		{"missing stages", `{"temperature_K": 298, "media": "chloride", "inlets": [], "equilibrium": {"model": "constant"}}`, "stages: missing"},
		{"missing model", strings.Replace(base(`{"phase": "aqueous", "stage": 2, "flow_L_per_h": 1, "mg_per_L": {}}`), `"model": "constant", `, "", 1), "equilibrium.model: missing"},
		{"no organic outlet", `{"stages": 2, "temperature_K": 298, "media": "chloride",
			"inlets": [{"phase": "aqueous", "stage": 2, "flow_L_per_h": 10, "mg_per_L": {"Nd": 100}}],
			"equilibrium": {"model": "constant", "D": {"Nd": 2}}}`, "no organic outlet"},
		{"missing D", strings.Replace(base(`{"phase": "aqueous", "stage": 2, "flow_L_per_h": 1, "mg_per_L": {"Pr": 5}}`), "", "", 1), "equilibrium.D.Pr: missing"},
		{"sulfate in chloride", base(`{"phase": "aqueous", "stage": 2, "flow_L_per_h": 1, "mg_per_L": {"SO4": 5}}`), "sulfate species in chloride media"},
		{"unknown model", strings.Replace(base(`{"phase": "aqueous", "stage": 2, "flow_L_per_h": 1, "mg_per_L": {}}`), `"model": "constant", "D": {"Nd": 2}`, `"model": "gibbs"`, 1), `equilibrium.model: "gibbs"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runSX(t, tt.spec, "sx", "simulate", "-", "--json")
			if code != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errs, tt.want)
			}
		})
	}
	if code, _, _ := runSX(t, "", "sx", "simulate"); code != 2 {
		t.Errorf("sx simulate without SPEC: exit %d, want 2", code)
	}
	if code, _, _ := runSX(t, "", "sx"); code != 2 {
		t.Errorf("sx without subcommand: exit %d, want 2", code)
	}
}

func TestSXFit(t *testing.T) {
	data := filepath.Join(repoRoot(t), "..", "shared", "data", "llepe", "PC88A_HCL_NdPrCeLaDySmY.csv")
	if _, err := os.Stat(data); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("LLEPE data absent under CI=true: %v", err)
		}
		t.Skipf("LLEPE data absent (%v)", err)
	}
	code, out, errs := runSX(t, "", "sx", "fit", data, "--json", "--source", "Lyon (2016)", "--max-h0", "0.1", "--single-element")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var o struct {
		Elements []struct {
			Element string  `json:"element"`
			LOORMS  float64 `json:"loo_rms_log_D"`
			Points  int     `json:"points"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Elements) != 2 {
		t.Fatalf("fitted %d elements, want Nd and Pr: %s", len(o.Elements), out)
	}
	for _, e := range o.Elements {
		if e.Points != 9 || e.LOORMS > 0.25 {
			t.Errorf("%s: %d points, LOO RMS %.3f; want 9 and ≤ 0.25", e.Element, e.Points, e.LOORMS)
		}
	}
}
