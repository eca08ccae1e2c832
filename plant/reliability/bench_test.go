package reliability_test

import (
	"fmt"
	"math"
	"testing"

	"lodestone/plant/reliability"
)

// sample returns n Weibull(2.5, 1000) quantiles with the upper 20 %
// censored at the 80th percentile: a fixed, deterministic data set.
func sample(n int) []reliability.Observation {
	obs := make([]reliability.Observation, n)
	cut := 1000 * math.Pow(-math.Log(0.2), 1/2.5)
	for i := range obs {
		p := (float64(i) + 0.5) / float64(n)
		t := 1000 * math.Pow(-math.Log(1-p), 1/2.5)
		obs[i] = reliability.Observation{Time: math.Min(t, cut), Failed: t < cut}
	}
	return obs
}

func BenchmarkFit(b *testing.B) {
	for _, n := range []int{23, 1000, 100000} {
		obs := sample(n)
		for _, d := range []reliability.Distribution{reliability.Weibull, reliability.Lognormal, reliability.Auto} {
			b.Run(fmt.Sprintf("dist=%s/n=%d", d, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := reliability.Fit(obs, &reliability.FitOptions{Distribution: d}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkAgeReplacement(b *testing.B) {
	b.ReportAllocs()
	s := reliability.ReplaceSpec{Shape: 2.5, Scale: 1000, CostPreventive: 1, CostFailure: 10}
	for b.Loop() {
		if _, err := reliability.AgeReplacement(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlan(b *testing.B) {
	var items []reliability.PlanItem
	for i := range 200 {
		items = append(items, reliability.PlanItem{ID: fmt.Sprint("item-", i), Shape: 1.5 + float64(i%4), Scale: 2000 + 10*float64(i),
			CostPreventive: 100, CostFailure: 1000, MTTRPreventive: 2, MTTRCorrective: 12})
	}
	spec := reliability.PlanSpec{Horizon: 8760, Items: items}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reliability.Plan(spec); err != nil {
			b.Fatal(err)
		}
	}
}
