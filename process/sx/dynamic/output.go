package dynamic

import (
	"math"

	"lodestone/process/sx"
)

// Output is the JSON result of `lodestone sx dynamic`
// (docs/formats/sx-dynamic.md). Concentrations are mg/L, flows L/h, times
// h; time series are arrays aligned with TimesH.
type Output struct {
	Reached         bool                          `json:"steady_state_reached"`
	TimeToSteadyH   *float64                      `json:"time_to_steady_state_h"`
	SteadyTolerance float64                       `json:"steady_tolerance"`
	Deviation       float64                       `json:"deviation"`
	Closure         map[string]float64            `json:"closure"`
	ClosureMax      float64                       `json:"closure_max"`
	Balance         map[string]OutputBalance      `json:"balance_mol"`
	DurationH       float64                       `json:"duration_h"`
	Steps           int                           `json:"steps"`
	Rejected        int                           `json:"rejected_steps"`
	Newton          int                           `json:"newton_iterations"`
	TimesH          []float64                     `json:"times_h"`
	Outlets         OutputOutlets                 `json:"outlets"`
	Stages          []OutputStage                 `json:"stages"`
	Steady          *sx.Output                    `json:"steady_state"`
	SteadyError     string                        `json:"steady_state_error,omitempty"`
	Final           map[string]map[string]float64 `json:"final_purity"`
}

// OutputBalance is the mass balance of one component over the run, mol.
type OutputBalance struct {
	Initial float64 `json:"initial"`
	In      float64 `json:"in"`
	Out     float64 `json:"out"`
	Final   float64 `json:"final"`
}

// OutputOutlets holds the outlet time series.
type OutputOutlets struct {
	Aqueous OutputSeries `json:"aqueous"`
	Organic OutputSeries `json:"organic"`
}

// OutputSeries is an outlet stream over time.
type OutputSeries struct {
	Stage  int                  `json:"stage"`
	Flow   []float64            `json:"flow_L_per_h"`
	MgPerL map[string][]float64 `json:"mg_per_L"`
}

// OutputStage is the state of one stage's mixer over time.
type OutputStage struct {
	Stage   int                  `json:"stage"`
	PH      []float64            `json:"pH"`
	Aqueous map[string][]float64 `json:"aqueous_mg_per_L"`
	Organic map[string][]float64 `json:"organic_mg_per_L"`
}

func fin(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// Output converts a result of c.Problem to mg/L for the JSON contract.
func (c *Case) Output(res *Result, set Settings) *Output {
	p := &c.Problem
	comps := p.Cascade.Components
	N := p.Cascade.Stages
	mm := c.Steady.MolarMass
	set = (&set).defaults(p.Duration)
	o := &Output{Reached: res.Reached, SteadyTolerance: set.SteadyTolerance, Deviation: fin(res.Deviation),
		Closure: map[string]float64{}, ClosureMax: fin(res.MaxClosure()), Balance: map[string]OutputBalance{},
		DurationH: p.Duration, Steps: res.Stats.Steps, Rejected: res.Stats.Rejected, Newton: res.Stats.NewtonIterations,
		Final: map[string]map[string]float64{"aqueous": {}, "organic": {}}}
	if res.Reached && !math.IsNaN(res.TimeToSteady) {
		v := res.TimeToSteady
		o.TimeToSteadyH = &v
	}
	for i, comp := range comps {
		o.Closure[comp.Name] = fin(res.Closure[i])
		o.Balance[comp.Name] = OutputBalance{fin(res.Initial[i]), fin(res.In[i]), fin(res.Out[i]), fin(res.Final[i])}
	}
	mg := func(key string, mol float64) float64 { return fin(mol * 1000 * mm[key]) }
	o.Outlets.Aqueous = OutputSeries{Stage: 1, MgPerL: map[string][]float64{}}
	o.Outlets.Organic = OutputSeries{Stage: N, MgPerL: map[string][]float64{}}
	o.Stages = make([]OutputStage, N)
	for k := range o.Stages {
		o.Stages[k] = OutputStage{Stage: k + 1, Aqueous: map[string][]float64{}, Organic: map[string][]float64{}}
	}
	for _, s := range res.Samples {
		o.TimesH = append(o.TimesH, s.T)
		o.Outlets.Aqueous.Flow = append(o.Outlets.Aqueous.Flow, s.RaffinateFlow)
		o.Outlets.Organic.Flow = append(o.Outlets.Organic.Flow, s.ExtractFlow)
		for i, comp := range comps {
			o.Outlets.Aqueous.MgPerL[comp.Name] = append(o.Outlets.Aqueous.MgPerL[comp.Name], mg(comp.Name, s.Raffinate[i]))
			o.Outlets.Organic.MgPerL[comp.Name] = append(o.Outlets.Organic.MgPerL[comp.Name], mg(comp.Name, s.Extract[i]))
		}
		for k := range o.Stages {
			st := &o.Stages[k]
			ph := 0.0
			if s.H[k] > 0 {
				ph = -math.Log10(s.H[k])
			}
			st.PH = append(st.PH, fin(ph))
			for i, comp := range comps {
				st.Aqueous[comp.Name] = append(st.Aqueous[comp.Name], mg(comp.Name, s.Aqueous[k][i]))
				st.Organic[comp.Name] = append(st.Organic[comp.Name], mg(comp.Name, s.Organic[k][i]))
			}
			if c.Steady.Extractant != "" {
				st.Organic[c.Steady.Extractant] = append(st.Organic[c.Steady.Extractant], mg(c.Steady.Extractant, s.Extractant[k]))
			}
		}
	}
	// Purity of the outlets at the end, mass basis, counter-ions left out.
	if n := len(res.Samples); n > 0 {
		last := res.Samples[n-1]
		for ph, conc := range map[string][]float64{"aqueous": last.Raffinate, "organic": last.Extract} {
			tot := 0.0
			for i, comp := range comps {
				if !comp.CounterIon {
					tot += conc[i] * mm[comp.Name]
				}
			}
			for i, comp := range comps {
				if !comp.CounterIon && tot > 0 {
					o.Final[ph][comp.Name] = conc[i] * mm[comp.Name] / tot
				}
			}
		}
	}
	if res.Steady != nil {
		sc := *c.Steady
		sc.Problem.Inlets = p.InletsAt(p.Duration)
		o.Steady = sc.Output(res.Steady)
	} else if res.SteadyErr != nil {
		o.SteadyError = res.SteadyErr.Error()
	}
	return o
}
