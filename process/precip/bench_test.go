package precip_test

import (
	"testing"

	"lodestone/process/precip"
)

func BenchmarkSimulate(b *testing.B) {
	ksp := map[string]precip.KspParam{}
	for _, m := range []string{"Al", "Ca", "Fe", "Sc", "Y", "La", "Ce", "Pr", "Nd", "Sm", "Gd", "Dy"} {
		ksp[m] = precip.KspParam{Log10Ksp: -25, Source: "SYNTHETIC"}
	}
	ksp["Ca"] = precip.KspParam{Log10Ksp: -8.6, Source: "SYNTHETIC"}
	for _, model := range []precip.Model{precip.Isotherm, precip.FixedSplit, precip.KspModel} {
		b.Run("model="+string(model), func(b *testing.B) {
			s := &precip.Spec{FlowLPerH: 100, Temperature: 348.15, MgPerL: prommisFeed(6400, 1e-9), Model: model,
				Ksp: &precip.KspSpec{Elements: ksp}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := precip.Simulate(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
