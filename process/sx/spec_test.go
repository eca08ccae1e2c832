package sx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/process/sx"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func exampleSpec(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "sx", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestGoldenOutput runs the examples through ParseSpec, Case, Solve and
// Output and compares the JSON with testdata/*.golden.json (go test
// ./process/sx -update rewrites them).
func TestGoldenOutput(t *testing.T) {
	for _, name := range []string{"prommis-3stage.json", "constant-d.json", "ndpr-saponified.json"} {
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
			got := roundJSON(t, out)
			golden := filepath.Join("testdata", strings.TrimSuffix(name, ".json")+".golden.json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", golden, d)
			}
		})
	}
}

// roundJSON encodes v with every number rounded to 6 significant digits.
func roundJSON(t testing.TB, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		t.Fatal(err)
	}
	var walk func(any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				x[k] = walk(v)
			}
		case []any:
			for i, v := range x {
				x[i] = walk(v)
			}
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return x
			}
			return json.RawMessage(strings.TrimSpace(formatG6(f)))
		}
		return x
	}
	out, err := json.MarshalIndent(walk(generic), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func formatG6(f float64) string {
	b, _ := json.Marshal(json.Number(strings.TrimSpace(strconvG(f))))
	return string(b)
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
