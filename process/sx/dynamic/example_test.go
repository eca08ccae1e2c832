package dynamic_test

import (
	"context"
	"fmt"

	"lodestone/process/sx"
	"lodestone/process/sx/dynamic"
)

// Start up a 6-stage extraction with a constant D from empty stages and
// report when it reaches its steady state.
func ExampleSimulate() {
	p := dynamic.Problem{
		Cascade: sx.Problem{
			Stages:     6,
			Components: []sx.Component{{Name: "Nd", Charge: 3}},
			Inlets: []sx.Inlet{
				{Phase: sx.Aqueous, Stage: 6, Flow: 10, Conc: []float64{0.1}, H: 0.1},
				{Phase: sx.Organic, Stage: 1, Flow: 10, Extractant: 1},
			},
			Model: sx.Constant{D: []float64{2}},
		},
		Holdup:   dynamic.Holdup{Mixer: 20, Settler: 40},
		Duration: 200,
	}
	res, err := dynamic.Simulate(context.Background(), p, nil)
	if err != nil {
		panic(err)
	}
	last := res.Samples[len(res.Samples)-1]
	fmt.Printf("raffinate %.5f mol/L (process/sx %.5f); steady within 1%% after %.0f h; closure below 1e-12: %v\n",
		last.Raffinate[0], res.Steady.Raffinate.Conc[0], res.TimeToSteady, res.MaxClosure() < 1e-12)
	// Output: raffinate 0.00079 mol/L (process/sx 0.00079); steady within 1% after 66 h; closure below 1e-12: true
}

// ExampleStepper steps the cascade sample by sample, as an estimator or a
// controller does, changing an inlet between steps.
func ExampleStepper() {
	p := dynamic.Problem{
		Cascade: sx.Problem{
			Stages:     4,
			Components: []sx.Component{{Name: "Nd", Charge: 3}, {Name: "Pr", Charge: 3}},
			Inlets: []sx.Inlet{
				{Name: "feed", Phase: sx.Aqueous, Stage: 4, Flow: 10, Conc: []float64{0.1, 0.05}, H: 0.1},
				{Name: "organic", Phase: sx.Organic, Stage: 1, Flow: 20, Extractant: 1},
			},
			Model: sx.Constant{D: []float64{1.5, 0.5}},
		},
		Holdup: dynamic.Holdup{Mixer: 50},
		Start:  dynamic.SteadyState,
	}
	st, err := dynamic.NewStepper(context.Background(), p, &dynamic.StepperOptions{MaxStep: 0.5})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Double the feed: the raffinate Nd rises towards its new steady state.
	if err := st.SetInlet(0, dynamic.Flow, 0, 20); err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range []float64{0, 2, 50} {
		if err := st.Advance(context.Background(), t, nil); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("t = %2.0f h: raffinate Nd %.4f mol/L\n", st.Time(), st.Sample().Raffinate[0])
	}
	// Output:
	// t =  0 h: raffinate Nd 0.0008 mol/L
	// t =  2 h: raffinate Nd 0.0017 mol/L
	// t = 50 h: raffinate Nd 0.0076 mol/L
}
