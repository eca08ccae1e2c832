package calcine_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"lodestone/process/calcine"
)

// FuzzParseSpec checks that ParseSpec never panics and that every spec it
// accepts either fails with an error or gives finite streams whose element
// balances close.
func FuzzParseSpec(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "calcine", "*.json"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"feeds_mol_per_h": {"Nd": 1e12, "Ce": 1}, "feed_temperature_K": 1, "moisture_mol_per_s": 1e12,
		"gas_in": {"mol_per_s": 1e12, "temperature_K": 1e4, "pressure_Pa": 1, "mole_fractions": {"O2": 1}},
		"product_temperature_K": 1e4, "oxide_recovery": 0, "oxides": "air"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := calcine.ParseSpec(data)
		if err != nil {
			return
		}
		res, err := calcine.Simulate(s)
		if err != nil {
			return
		}
		if !(res.GasOut.MolPerS >= 0) || !(res.Product.KgPerS >= 0) || math.IsNaN(res.HeatDuty) {
			t.Errorf("bad result %+v", res)
		}
		for el, c := range res.Closure {
			if !(math.Abs(c) <= 1e-9) {
				t.Errorf("closure %s = %v", el, c)
			}
		}
	})
}
