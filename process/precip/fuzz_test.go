package precip_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"lodestone/process/precip"
)

// FuzzParseSpec checks that ParseSpec never panics and that every spec it
// accepts simulates without error or with a *SpecError, and with balances
// that close.
func FuzzParseSpec(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "precip", "*.json"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"flow_L_per_h": 1, "temperature_K": 300, "mg_per_L": {"Nd": 10, "H2C2O4": 1000}, "model": "fixed-split"}`))
	f.Add([]byte(`{"flow_L_per_h": 1e308, "temperature_K": 1e-300, "mg_per_L": {"Nd": 1e308, "H2C2O4": 1e308}, "model": "ksp", "ksp": {"elements": {"Nd": {"log10_Ksp": 300, "source": "x"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := precip.ParseSpec(data)
		if err != nil {
			return
		}
		res, err := precip.Simulate(s)
		if err != nil {
			return
		}
		for k, v := range res.Aqueous {
			if v < 0 || math.IsNaN(v) {
				t.Errorf("aqueous %s = %v", k, v)
			}
		}
		for k, c := range res.Closure {
			if !(math.Abs(c) <= 1e-9) {
				t.Errorf("closure %s = %v", k, c)
			}
		}
	})
}
