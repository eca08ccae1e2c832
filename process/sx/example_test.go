package sx_test

import (
	"context"
	"fmt"

	"lodestone/process/sx"
)

// A 3-stage extraction with a constant D: the raffinate follows Kremser.
func ExampleSolve() {
	p := sx.Problem{
		Stages:     3,
		Components: []sx.Component{{Name: "Fe", Charge: 3}},
		Inlets: []sx.Inlet{
			{Phase: sx.Aqueous, Stage: 3, Flow: 100, Conc: []float64{0.01}, H: 0.1},
			{Phase: sx.Organic, Stage: 1, Flow: 100, Extractant: 0.5},
		},
		Model: sx.Constant{D: []float64{2}},
	}
	res, err := sx.Solve(context.Background(), p, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%v; raffinate %.6f mol/L, extract %.6f mol/L, pH %.3f\n",
		res.Status, res.Raffinate.Conc[0], res.Extract.Conc[0], res.PH()[0])
	// Output: converged; raffinate 0.000667 mol/L, extract 0.009333 mol/L, pH 0.893
}

// Predict the distribution ratio of a batch contact from a fitted log K
// (the Lyon (2016) point measured D = 1.106 here).
func ExamplePredictBatch() {
	pt := sx.BatchPoint{H0: 0.05, Extractant: 1, Feed: map[string]float64{"Nd": 0.043}}
	d, err := sx.PredictBatch(context.Background(), pt, map[string]float64{"Nd": -1.604})
	if err != nil {
		panic(err)
	}
	fmt.Printf("D(Nd) = %.2f\n", d["Nd"])
	// Output: D(Nd) = 1.17
}

// Load and strip with the stripped organic recycled.
func ExampleSolveCircuit() {
	comps := []sx.Component{{Name: "Nd", Charge: 3}}
	model := sx.MassAction{LogK: []float64{-1.604}}
	c := sx.Circuit{
		Sections: []sx.Section{
			{Name: "load", Problem: sx.Problem{Stages: 4, Components: comps, Model: model, Inlets: []sx.Inlet{
				{Phase: sx.Aqueous, Stage: 4, Flow: 10, Conc: []float64{0.02}, H: 0.001},
				{Phase: sx.Organic, Stage: 1, Flow: 1, Extractant: 1},
			}}},
			{Name: "strip", Problem: sx.Problem{Stages: 3, Components: comps, Model: model, Inlets: []sx.Inlet{
				{Phase: sx.Aqueous, Stage: 3, Flow: 2, H: 3},
			}}},
		},
		Links: []sx.Link{
			{From: 0, Phase: sx.Organic, To: 1, Stage: 1},
			{From: 1, Phase: sx.Organic, To: 0, Stage: 1, Fraction: 0.9},
		},
	}
	res, err := sx.SolveCircuit(context.Background(), c, nil)
	if err != nil {
		panic(err)
	}
	strip := res.Sections[1].Raffinate
	fmt.Printf("%v; Nd in strip liquor %.4f mol/L, make-up %.1f mol/h HA\n", res.Status, strip.Conc[0], res.MakeUp)
	// Output: converged; Nd in strip liquor 0.1000 mol/L, make-up 1.0 mol/h HA
}
