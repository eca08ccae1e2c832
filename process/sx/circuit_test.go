package sx_test

import (
	"context"
	"testing"

	"lodestone/process/sx"
)

// ndprCircuit is a SYNTHETIC load–strip circuit: 6 extraction stages
// (mass action with the Nd and Pr log K fitted to the LLEPE Lyon (2016)
// rows), 4 strip stages with 3 M HCl, the stripped organic recycled to
// extraction (90 %) with fresh make-up.
func ndprCircuit() sx.Circuit {
	comps := []sx.Component{{Name: "Nd", Charge: 3, MolarMass: 144.24}, {Name: "Pr", Charge: 3, MolarMass: 140.91}}
	model := sx.MassAction{LogK: []float64{-1.604, -1.750}}
	return sx.Circuit{
		Sections: []sx.Section{
			{Name: "extraction", Problem: sx.Problem{Stages: 6, Components: comps, Model: model, Inlets: []sx.Inlet{
				{Name: "feed", Phase: sx.Aqueous, Stage: 6, Flow: 10, Conc: []float64{0.02, 0.01}, H: 0.001},
				{Name: "make-up", Phase: sx.Organic, Stage: 1, Flow: 2, Extractant: 1},
			}}},
			{Name: "strip", Problem: sx.Problem{Stages: 4, Components: comps, Model: model, Inlets: []sx.Inlet{
				{Name: "strip acid", Phase: sx.Aqueous, Stage: 4, Flow: 3, H: 3},
			}}},
		},
		Links: []sx.Link{
			{From: 0, Phase: sx.Organic, To: 1, Stage: 1},                // loaded organic to strip
			{From: 1, Phase: sx.Organic, To: 0, Stage: 1, Fraction: 0.9}, // recycle
		},
	}
}

func TestCircuitRecycle(t *testing.T) {
	res, err := sx.SolveCircuit(context.Background(), ndprCircuit(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for j, c := range res.Closure {
		if c > 1e-9 {
			t.Errorf("component %d: circuit closure %g > 1e-9", j, c)
		}
	}
	ext, strip := res.Sections[0], res.Sections[1]
	if got, want := ext.OrganicFlow[5], 20.0; !near(got, want, 1e-12, 0) {
		t.Errorf("extraction organic flow = %v, want %v (make-up / purge fraction)", got, want)
	}
	if got, want := res.MakeUp, 2.0; !near(got, want, 1e-12, 0) {
		t.Errorf("make-up = %v mol/h, want %v", got, want)
	}
	// At steady state the purge carries out what the make-up brings in.
	if !near(res.Purge, res.MakeUp, 1e-9, 0) {
		t.Errorf("purge %v mol/h HA, make-up %v", res.Purge, res.MakeUp)
	}
	t.Logf("%d tear iterations; recovery to strip liquor Nd %.4f Pr %.4f", res.Iterations,
		strip.Raffinate.Flow*strip.Raffinate.Conc[0]/res.In[0], strip.Raffinate.Flow*strip.Raffinate.Conc[1]/res.In[1])
}

func TestCircuitErrors(t *testing.T) {
	c := ndprCircuit()
	c.Links[1].Stage = 9
	if _, err := sx.SolveCircuit(context.Background(), c, nil); err == nil {
		t.Error("link to stage 9 of a 6-stage section succeeded")
	}
	c = ndprCircuit()
	c.Links[1].Fraction = 1
	c.Sections[0].Problem.Inlets = c.Sections[0].Problem.Inlets[:1]
	if _, err := sx.SolveCircuit(context.Background(), c, nil); err == nil {
		t.Error("closed organic loop without make-up succeeded")
	}
}
