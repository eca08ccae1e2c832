package precip_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/internal/golden"
	"lodestone/process/precip"
)

// provenance says, per example, which numbers of its golden file have a
// source independent of this code. An example without an entry fails.
var provenance = map[string]golden.Provenance{
	"prommis-isotherm": {
		Sources: []string{
			"Aqueous mg/L of the 12 metals and Solids mol/h: PrOMMiS " +
				"src/prommis/precipitate/tests/test_precipitator_isotherm.py, TestPrec at 6400 mg/L oxalic acid " +
				"(mg/L to abs 1e-3, La rel 1e-3; mol/h to 1e-6), checked by TestIsothermPrOMMiS",
		},
		Note: "examples/precip/prommis-isotherm.json is that PrOMMiS case (100 L/h, 10 mg/L of each metal, " +
			"Sc 44.946 g/mol); acid, pH, oxalic acid use and conversions are this code's output",
	},
	"ndpr-fixed-split": golden.Snapshot("the conversions are inputs, not results: Nd and Pr 0.99 from the " +
		"example, Ca 0.205 and Fe 0.0244 the PrOMMiS fixed split (Wang, Ziemkiewicz & Noble 2022, " +
		"DefaultFixedSplit); the flows and concentrations derived from them are this code's output"),
	"ksp-synthetic": golden.Snapshot("SYNTHETIC: the solubility products of the example are made up to " +
		"illustrate the input"),
}

// TestGolden runs every example spec and compares the result with
// testdata/golden/<example>.golden (go test ./process/precip -update
// rewrites them, with the header of provenance).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "precip", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples (%v)", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			prov, ok := provenance[name]
			if !ok {
				t.Fatalf("no provenance for example %s: say where its numbers come from", name)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := precip.ParseSpec(data)
			if err != nil {
				t.Fatal(err)
			}
			res, err := precip.Simulate(s)
			if err != nil {
				t.Fatal(err)
			}
			// Closure is round-off; it is checked elsewhere, not pinned here.
			res.Closure = nil
			golden.Check(t, filepath.Join("testdata", "golden", name+".golden"), prov, golden.RoundJSON(t, res))
		})
	}
}
