package dynamic_test

import (
	"testing"

	"lodestone/process/sx"
	"lodestone/process/sx/dynamic"
)

// benchCascade is a 60-stage Nd/Pr cascade with saponified PC88A and ideal
// mass action (the log K of the process/sx fit on the Lyon (2016) rows:
// Nd −1.604, Pr −1.750; Na −3.5 as in examples/sx/ndpr-saponified.json),
// feed at stage 30.
func benchCascade() sx.Problem {
	return sx.Problem{
		Stages:     60,
		Components: []sx.Component{{Name: "Na", Charge: 1, CounterIon: true}, {Name: "Nd", Charge: 3}, {Name: "Pr", Charge: 3}},
		Inlets: []sx.Inlet{
			{Name: "feed", Phase: sx.Aqueous, Stage: 30, Flow: 10, Conc: []float64{0, 0.15, 0.05}, H: 0.001},
			{Name: "scrub", Phase: sx.Aqueous, Stage: 60, Flow: 4, H: 1},
			{Name: "organic", Phase: sx.Organic, Stage: 1, Flow: 25, Conc: []float64{0.3, 0, 0}, Extractant: 0.7},
		},
		Model: sx.MassAction{LogK: []float64{-3.5, -1.604, -1.750}},
	}
}

// BenchmarkSimulate runs 30 days of plant time of a 60-stage cascade from
// empty, with a feed step at day 10.
func BenchmarkSimulate(b *testing.B) {
	p := dynamic.Problem{
		Cascade:  benchCascade(),
		Holdup:   dynamic.Holdup{Mixer: 100, Settler: 400},
		Duration: 720,
		Disturbances: []dynamic.Disturbance{
			{Kind: dynamic.Step, Start: 240, Inlet: 0, Field: dynamic.Flow, Value: 12},
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := dynamic.Simulate(b.Context(), p, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Stats.Steps), "steps")
	}
}
