package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
)

// TestRefPlantCascadeSimulates: the demo's reference plant cascades carry
// a spec, so a dry-run simulate of each answers a 60-stage result (the
// Process view's flowsheet and stream table).
func TestRefPlantCascadeSimulates(t *testing.T) {
	e := start(t, options{demo: true, noModels: true})
	for _, id := range []string{"ref-sep-plant-train-1-cascade", "ref-sep-plant-train-2-cascade"} {
		r := e.mustDo("POST", "/digitaltwins/"+id+"/simulate", `{"dryRun": true}`, http.StatusOK)
		var res struct {
			Result struct {
				Converged bool              `json:"converged"`
				Stages    []json.RawMessage `json:"stages"`
			} `json:"result"`
		}
		if err := json.Unmarshal(r.body, &res); err != nil {
			t.Fatal(err)
		}
		if !res.Result.Converged || len(res.Result.Stages) != 60 {
			t.Errorf("%s: converged %v, %d stages; want a converged 60-stage result", id, res.Result.Converged, len(res.Result.Stages))
		}
	}
}

// BenchmarkProcessRoute measures a process engine route end to end over
// HTTP on the bundled precipitation example (the cheapest engine, so the
// route's own cost shows) and the plant flowsheet example.
func BenchmarkProcessRoute(b *testing.B) {
	e := start(b, options{noModels: true})
	for _, c := range []struct{ name, route, file string }{
		{"precip", "/process/precip/simulate", "../examples/precip/ndpr-fixed-split.json"},
		{"flowsheet", "/process/flowsheet/run", "../examples/flowsheet/ndpr-pc88a.json"},
	} {
		spec, err := os.ReadFile(c.file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if r := e.do("POST", c.route, spec); r.status != http.StatusOK {
					b.Fatalf("%s: %d %s", c.route, r.status, r.body)
				}
			}
		})
	}
}
