package calcine_test

import (
	"testing"

	"lodestone/process/calcine"
)

func BenchmarkSimulate(b *testing.B) {
	for _, mode := range []calcine.OxideMode{calcine.Sesquioxide, calcine.Air} {
		b.Run("oxides="+string(mode), func(b *testing.B) {
			s := prommisSpec(map[string]float64{"O2": 0.1118, "H2O": 0.1005, "CO2": 0.0431, "N2": 0.7446})
			s.Oxides = mode
			b.ReportAllocs()
			for b.Loop() {
				if _, err := calcine.Simulate(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
