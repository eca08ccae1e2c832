package design_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/process/sx/design"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

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
			got = append(got, '\n')
			golden := filepath.Join("testdata", name[:len(name)-len(".json")]+".golden.json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			// Compare numbers to 1e-9 relative: the last digits of the
			// rigorous check follow the steady-state solver's iterations.
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w, g, cmpopts.EquateApprox(1e-9, 1e-12)); diff != "" {
				t.Errorf("%s vs %s (-want +got):\n%s", name, golden, diff)
			}
		})
	}
}
