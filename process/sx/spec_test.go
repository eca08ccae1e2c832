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

// TestCaseErrorsDeterministic gives Case specs with two bad keys in one map
// and requires the same message every time (the first bad key in sorted
// order): Go randomises map iteration, so a check in map order would name
// either key.
func TestCaseErrorsDeterministic(t *testing.T) {
	const (
		organic = `{"name": "fresh organic", "phase": "organic", "stage": 1, "flow_L_per_h": 100, "mg_per_L": {"DEHPA": 48790}}`
		feed    = `{"name": "feed", "phase": "aqueous", "stage": 5, "flow_L_per_h": 100, "mg_per_L": {"Fe": 500, "Al": 200, "H": 10, "Cl": 1600}}`
	)
	spec := func(extra, feed, organic, eq string) string {
		return `{"stages": 5, "temperature_K": 298.15, "media": "chloride",` + extra +
			` "inlets": [` + feed + `, ` + organic + `], "equilibrium": ` + eq + `}`
	}
	constant := `{"model": "constant", "D": {"Fe": 2, "Al": 0.0531}}`
	tests := []struct{ name, in, want string }{
		{"D of two non-components", spec("", feed, organic, `{"model": "constant", "D": {"Fe": 2, "Al": 0.05, "Pr": 1, "Nd": 1}}`),
			`sx: spec: equilibrium.D.Nd: "Nd" is not a component of any inlet`},
		{"log_K of two non-components", spec("", feed, organic, `{"model": "mass-action", "log_K": {"Fe": 2, "Al": 0.05, "Pr": 1, "Nd": 1}}`),
			`sx: spec: equilibrium.log_K.Nd: "Nd" is not a component of any inlet`},
		{"mg_per_L of two unknown species", spec("",
			`{"name": "feed", "phase": "aqueous", "stage": 5, "flow_L_per_h": 100, "mg_per_L": {"Fe": 500, "Xx": 1, "Qq": 1}}`, organic, constant),
			`sx: spec: inlets[0].mg_per_L.Qq: unknown element or species "Qq"`},
		{"mg_per_L of two negative values", spec("",
			`{"name": "feed", "phase": "aqueous", "stage": 5, "flow_L_per_h": 100, "mg_per_L": {"Fe": -1, "Al": -2}}`, organic, constant),
			`sx: spec: inlets[0].mg_per_L.Al: -2 is negative or not finite`},
		{"two extractants", spec("", feed,
			`{"name": "fresh organic", "phase": "organic", "stage": 1, "flow_L_per_h": 100, "mg_per_L": {"PC88A": 1, "DEHPA": 1}}`, constant),
			`sx: spec: inlets[1].mg_per_L.PC88A: a second extractant (DEHPA is already used)`},
		{"two bad molar masses", spec(` "molar_mass_g_per_mol": {"Fe": 0, "Al": -1},`, feed, organic, constant),
			`sx: spec: molar_mass_g_per_mol.Al: -1, want a positive value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 {
				spec, err := sx.ParseSpec([]byte(tt.in))
				if err != nil {
					t.Fatal(err)
				}
				_, err = spec.Case()
				if err == nil || err.Error() != tt.want {
					t.Fatalf("Case() = %v, want %s", err, tt.want)
				}
			}
		})
	}
}
