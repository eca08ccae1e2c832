package design_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"lodestone/internal/golden"
	"lodestone/process/sx/design"
)

// provenance says, per example, which numbers of its golden file have a
// source independent of this code. An example without an entry fails.
var provenance = map[string]golden.Provenance{
	"ndpr-aqueous.json": {
		Sources: []string{
			"fA_prime, S, W, S_min, W_min, E_extraction, E_scrub, a, b, n_extraction_exact, m_scrub_exact and " +
				"N_min: Xu's closed forms (doc.go, from research note process-twin.md §b.5, which marks them verify " +
				"against Xu's book) evaluated by hand for beta 1.5, f_A 0.5, P 0.99: f'_A = 0.5 > 1/(1+sqrt 1.5), " +
				"scrub-controlled; W = 0.5/(sqrt 1.5 - 1) = 2.22474, S = W + 0.5, E_scrub = sqrt 1.5, " +
				"E_extraction = S/(W+1) = 0.844949, a = b = 99, y* = 0.6, W_min = 0.5 x 0.39/0.1 = 1.95, " +
				"S_min = 2.45, n = ln 99/ln(1.5 E_extraction) = 19.3898, m = N_min = 2 ln 99/ln 1.5 = 22.6659",
		},
		Note: "the stage counts rounded up, the Kremser counts and the check block (rigorous solver) are this " +
			"code's output",
	},
	"ybtm-organic.json": golden.Snapshot("beta 3.22 is the Yb/Tm factor of Thomas, Smutz & Burkhart with 1 M " +
		"HDEHP; the purities are illustrative (docs/formats/sx-design.md); TestNew checks Xu's closed forms " +
		"by hand on other specs"),
	"lacepr-cut.json": golden.Snapshot("the relative extractabilities of the example are illustrative " +
		"(docs/formats/sx-design.md)"),
}

// TestGolden runs every example of examples/sx-design and compares the
// JSON result with testdata/NAME.golden.json (regenerate with -update).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "examples", "sx-design", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			prov, ok := provenance[name]
			if !ok {
				t.Fatalf("no provenance for example %s: say where its numbers come from", name)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, cut, err := design.ParseRequest(data)
			if err != nil {
				t.Fatal(err)
			}
			var out *design.Output
			if cut != nil {
				out, err = design.RunCut(t.Context(), *cut)
			} else {
				out, err = design.Run(t.Context(), s)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			// Compare numbers to 1e-9 relative: the last digits of the
			// rigorous check follow the steady-state solver's iterations.
			golden.CheckJSON(t, filepath.Join("testdata", name[:len(name)-len(".json")]+".golden.json"), prov,
				append(got, '\n'), 1e-9, 1e-12)
		})
	}
}
