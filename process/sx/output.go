package sx

import "math"

// Output is the JSON result of `lodestone sx simulate`
// (docs/formats/sx-simulate.md). Concentrations are mg/L, flows L/h.
type Output struct {
	Converged  bool                          `json:"converged"`
	Status     string                        `json:"status"`
	Iterations int                           `json:"iterations"`
	Residual   float64                       `json:"residual"`
	Closure    map[string]float64            `json:"closure"`
	ClosureMax float64                       `json:"closure_max"`
	Stages     []OutputStage                 `json:"stages"`
	Outlets    OutputOutlets                 `json:"outlets"`
	Recovery   map[string]map[string]float64 `json:"recovery"`
	Purity     map[string]map[string]float64 `json:"purity"`
	Reagents   OutputReagents                `json:"reagents"`
	Model      string                        `json:"model"`
	Extractant string                        `json:"extractant,omitempty"`
	Media      string                        `json:"media"`
	Temp       float64                       `json:"temperature_K"`
}

// OutputStage is the state of one stage.
type OutputStage struct {
	Stage   int                `json:"stage"`
	PH      float64            `json:"pH"`
	Aqueous map[string]float64 `json:"aqueous_mg_per_L"`
	Organic map[string]float64 `json:"organic_mg_per_L"`
	D       map[string]float64 `json:"D"`
}

// OutputStream is an outlet stream.
type OutputStream struct {
	Stage  int                `json:"stage"`
	Flow   float64            `json:"flow_L_per_h"`
	MgPerL map[string]float64 `json:"mg_per_L"`
}

// OutputOutlets holds the raffinate (aqueous, stage 1) and the extract
// (organic, stage N).
type OutputOutlets struct {
	Aqueous OutputStream `json:"aqueous"`
	Organic OutputStream `json:"organic"`
}

// OutputReagents is Reagents in mol/h.
type OutputReagents struct {
	AcidIn        float64 `json:"acid_in_mol_per_h"`
	AcidOut       float64 `json:"acid_out_mol_per_h"`
	AcidConsumed  float64 `json:"acid_consumed_mol_per_h"`
	Base          float64 `json:"base_mol_per_h"`
	ExtractantIn  float64 `json:"extractant_in_mol_per_h"`
	ExtractantOut float64 `json:"extractant_out_mol_per_h"`
}

func fin(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// Output converts a result of c.Problem to mg/L for the JSON contract.
func (c *Case) Output(res *Result) *Output {
	p := &c.Problem
	N := p.Stages
	o := &Output{
		Converged: res.Status == Converged, Status: res.Status.String(), Iterations: res.Stats.NewtonIterations + res.Stats.Substitutions,
		Residual: fin(res.Stats.Residual), Closure: map[string]float64{}, ClosureMax: fin(res.MaxClosure()),
		Recovery: map[string]map[string]float64{"aqueous": {}, "organic": {}},
		Purity:   map[string]map[string]float64{"aqueous": {}, "organic": {}},
		Model:    c.Model, Extractant: c.Extractant, Media: p.Media.String(), Temp: c.temp,
	}
	// Spectator anions ride with the aqueous flow.
	spect := make([]map[string]float64, N)
	for k := range spect {
		spect[k] = map[string]float64{}
	}
	for j, in := range p.Inlets {
		for name, mol := range c.spectIn[j] {
			for k := 0; k < in.Stage; k++ {
				spect[k][name] += in.Flow * mol / res.AqueousFlow[k]
			}
		}
	}
	mg := func(key string, mol float64) float64 { return fin(mol * 1000 * c.MolarMass[key]) }
	ph := res.PH()
	for k := 0; k < N; k++ {
		st := OutputStage{Stage: k + 1, PH: fin(ph[k]), Aqueous: map[string]float64{}, Organic: map[string]float64{}, D: map[string]float64{}}
		for i, comp := range p.Components {
			st.Aqueous[comp.Name] = mg(comp.Name, res.Aqueous[k][i])
			st.Organic[comp.Name] = mg(comp.Name, res.Organic[k][i])
			st.D[comp.Name] = fin(res.D[k][i])
		}
		st.Aqueous["H"] = mg("H", res.H[k])
		if p.Media == Sulfate {
			st.Aqueous["HSO4"] = mg("HSO4", res.HSO4[k])
			st.Aqueous["SO4"] = mg("SO4", res.SO4[k])
		}
		for name, mol := range spect[k] {
			st.Aqueous[name] = mg(name, mol)
		}
		if c.Extractant != "" {
			st.Organic[c.Extractant] = mg(c.Extractant, res.Extractant[k])
		}
		o.Stages = append(o.Stages, st)
	}
	o.Outlets.Aqueous = OutputStream{Stage: 1, Flow: res.Raffinate.Flow, MgPerL: o.Stages[0].Aqueous}
	o.Outlets.Organic = OutputStream{Stage: N, Flow: res.Extract.Flow, MgPerL: o.Stages[N-1].Organic}
	for i, comp := range p.Components {
		o.Closure[comp.Name] = fin(res.Closure[i])
		if comp.CounterIon {
			continue
		}
		o.Recovery["aqueous"][comp.Name] = fin(res.Recovery[0][i])
		o.Recovery["organic"][comp.Name] = fin(res.Recovery[1][i])
		o.Purity["aqueous"][comp.Name] = fin(res.Purity[0][i])
		o.Purity["organic"][comp.Name] = fin(res.Purity[1][i])
	}
	r := res.Reagents
	o.Reagents = OutputReagents{fin(r.AcidIn), fin(r.AcidOut), fin(r.AcidConsumed), fin(r.Base), fin(r.ExtractantIn), fin(r.ExtractantOut)}
	return o
}
