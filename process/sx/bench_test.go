package sx_test

import (
	"context"
	"fmt"
	"testing"

	"lodestone/process/sx"
)

// loadedProblem is a SYNTHETIC extraction + scrub cascade at high loading:
// comps components with log K from −2.5 rising by 0.2 per component (an
// adjacent separation factor of 1.58, the order of the measured Nd/Pr value
// with PC88A; the series itself is made up), an equimolar aqueous feed at
// the middle stage, 1 M extractant and a 1.5 M HCl scrub. It claims nothing
// about a real plant.
func loadedProblem(stages, comps int, loading float64) sx.Problem {
	cs := make([]sx.Component, comps)
	logK := make([]float64, comps)
	feed := make([]float64, comps)
	for i := range cs {
		cs[i] = sx.Component{Name: fmt.Sprintf("M%d", i+1), Charge: 3}
		logK[i] = -2.5 + 0.2*float64(i)
		feed[i] = 0.3 / float64(comps)
	}
	// Organic capacity 1/6 M of M³⁺; the flow is set so that the RE fed
	// would fill the given fraction of it.
	org := 10 * 0.3 / (loading * (1.0 / 6))
	return sx.Problem{
		Stages: stages, Components: cs,
		Inlets: []sx.Inlet{
			{Name: "feed", Phase: sx.Aqueous, Stage: (stages + 1) / 2, Flow: 10, Conc: feed, H: 0.01},
			{Name: "scrub", Phase: sx.Aqueous, Stage: stages, Flow: 2, H: 1.5},
			{Name: "organic", Phase: sx.Organic, Stage: 1, Flow: org, Extractant: 1},
		},
		Model: sx.MassAction{LogK: logK},
	}
}

func BenchmarkCascade(b *testing.B) {
	for _, sz := range []struct{ n, c int }{{10, 2}, {30, 4}, {60, 8}, {100, 17}} {
		b.Run(fmt.Sprintf("stages=%d/components=%d", sz.n, sz.c), func(b *testing.B) {
			p := loadedProblem(sz.n, sz.c, 0.9)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sx.Solve(context.Background(), p, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestLoadedConverges(t *testing.T) {
	for _, load := range []float64{0.5, 0.9, 0.98} {
		p := loadedProblem(100, 17, load)
		res, err := sx.Solve(context.Background(), p, nil)
		if err != nil {
			t.Fatalf("loading %v: %v", load, err)
		}
		t.Logf("loading %v: %+v closure %g pH1 %.3f pHN %.3f free f N %.4g", load, res.Stats, res.MaxClosure(), res.PH()[0], res.PH()[99], res.Extractant[99])
	}
}
