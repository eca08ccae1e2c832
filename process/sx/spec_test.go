package sx_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/internal/golden"
	"lodestone/process/sx"
)

func exampleSpec(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "sx", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// provenance says, per example, which numbers of its golden file have a
// source independent of this code.
var provenance = map[string]golden.Provenance{
	"prommis-3stage.json": {
		Sources: []string{
			"outlets.aqueous.mg_per_L and outlets.organic.mg_per_L: PrOMMiS " +
				"tests/test_solvent_extraction_steady.py (rel 1e-4; Y, at 4.3e-6 mg/L, rel 1e-3), checked by " +
				"TestPrommisThreeStage and, through the CLI, TestSXSimulatePrommis",
		},
		Note: "examples/sx/prommis-3stage.json is the 3-stage DEHPA case of PrOMMiS " +
			"solvent_extraction_steady.py (dosage 5 %, fixed); purity, recovery and reagents are this code's " +
			"output; residual, closure and iterations are zeroed (rounding paths)",
	},
	"constant-d.json": {
		Sources: []string{
			"outlets.aqueous.mg_per_L of Fe and Al: the Kremser equation for a countercurrent cascade with " +
				"constant D and flows, raffinate = feed (E-1)/(E^(N+1)-1), E = D O/A, N = 5, O/A = 1: " +
				"Fe 500/63 = 7.93651, Al 200 x 0.9469 = 189.38 mg/L (by hand); the organic outlet is the feed " +
				"minus the raffinate (Fe 492.063, Al 10.62); TestKremser checks the formula on other cases",
		},
		Note: "SYNTHETIC: D of Fe (2) is made up, D of Al (0.0531) is the PrOMMiS constant; the other numbers " +
			"are this code's output",
	},
	"ndpr-saponified.json": golden.Snapshot("SYNTHETIC flows; Nd and Pr log K fitted by `lodestone sx fit` to " +
		"the Lyon (2016) rows of the LLEPE data, Na log K made up (examples/sx/README.md)"),
}

// TestGoldenOutput runs the examples through ParseSpec, Case, Solve and
// Output and compares the JSON with testdata/*.golden.json (go test
// ./process/sx -update rewrites them, with their provenance header).
func TestGoldenOutput(t *testing.T) {
	for name, prov := range provenance {
		t.Run(name, func(t *testing.T) {
			spec, err := sx.ParseSpec(exampleSpec(t, name))
			if err != nil {
				t.Fatal(err)
			}
			c, err := spec.Case()
			if err != nil {
				t.Fatal(err)
			}
			res, err := sx.Solve(context.Background(), c.Problem, nil)
			if err != nil {
				t.Fatal(err)
			}
			out := c.Output(res)
			// Residual, closure and iteration counts depend on rounding
			// paths; the golden file holds the physics, rounded to 6 digits.
			out.Residual, out.ClosureMax, out.Iterations = 0, 0, 0
			for k := range out.Closure {
				out.Closure[k] = 0
			}
			golden.Check(t, filepath.Join("testdata", strings.TrimSuffix(name, ".json")+".golden.json"), prov,
				golden.RoundJSONDigits(t, out, 6))
		})
	}
}

func TestParseSpecErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"trailing", `{"stages": 1} {}`, "trailing data"},
		{"unknown", `{"stages": 1, "extra": 2}`, "extra: unknown field"},
		{"type", `{"stages": "x"}`, "stages: cannot use"},
		{"syntax", `{"stages": }`, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sx.ParseSpec([]byte(tt.in))
			var se *sx.SpecError
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseSpec(%s) = %v, want error containing %q", tt.in, err, tt.want)
			}
			if !errorsAs(err, &se) {
				t.Errorf("error %T is not a *SpecError", err)
			}
		})
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, n := range []string{"prommis-3stage.json", "constant-d.json", "ndpr-saponified.json"} {
		f.Add(exampleSpec(f, n))
	}
	f.Add([]byte(`{"stages": 2, "temperature_K": 300, "media": "sulfate", "inlets": [{"phase": "aqueous", "stage": 2, "flow_L_per_h": 1, "mg_per_L": {"Fe": 1, "H": 1, "HSO4": 10}}, {"phase": "organic", "stage": 1, "flow_L_per_h": 1, "mg_per_L": {"DEHPA": 1000}}], "equilibrium": {"model": "prommis-dehpa"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := sx.ParseSpec(data)
		if err != nil {
			return
		}
		c, err := spec.Case()
		if err != nil {
			return
		}
		if c.Problem.Stages > 30 || len(c.Problem.Components) > 6 {
			return
		}
		res, _ := sx.Solve(t.Context(), c.Problem, &sx.Settings{MaxIterations: 50})
		if res != nil {
			if _, err := json.Marshal(c.Output(res)); err != nil {
				t.Fatalf("output does not encode: %v", err)
			}
		}
	})
}
