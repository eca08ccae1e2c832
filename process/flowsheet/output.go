package flowsheet

import (
	"lodestone/process/calcine"
	"lodestone/process/precip"
	"lodestone/process/sx"
)

// Output is the JSON result of `lodestone flowsheet run` and of
// POST /process/flowsheet/run (one encoder for both).
type Output struct {
	Converged     bool                          `json:"converged"`
	Iterations    int                           `json:"iterations"`
	TearResidual  float64                       `json:"tear_residual"`
	Recovery      map[string]float64            `json:"recovery"`
	Purity        map[string]float64            `json:"purity"`
	REOPurity     float64                       `json:"reo_purity"`
	ProductKgPerH float64                       `json:"product_kg_per_h"`
	REOKgPerH     float64                       `json:"reo_kg_per_h"`
	REOTPerYear   float64                       `json:"reo_t_per_yr_at_full_availability"`
	Reagents      ReagentsOut                   `json:"reagents"`
	Closure       map[string]float64            `json:"closure"`
	Losses        map[string]map[string]float64 `json:"losses_mol_per_h"`
	Load          CascadeOut                    `json:"load"`
	Strip         CascadeOut                    `json:"strip"`
	StripLiquor   precip.Stream                 `json:"strip_liquor"`
	Precipitation precip.Output                 `json:"precipitation"`
	Calcination   calcine.Output                `json:"calcination"`
}

// ReagentsOut is the reagent use of a run, per hour and per tonne REO.
type ReagentsOut struct {
	OxalicAcidKgPerH     float64  `json:"oxalic_acid_kg_per_h"`
	OxalicAcidKgPerTREO  float64  `json:"oxalic_acid_kg_per_t_REO"`
	Acid                 string   `json:"acid"`
	AcidMolPerH          float64  `json:"acid_H_mol_per_h"`
	AcidKgPerH           float64  `json:"acid_kg_per_h"`
	AcidKgPerTREO        float64  `json:"acid_kg_per_t_REO"`
	ExtractantMolPerH    float64  `json:"extractant_makeup_mol_per_h"`
	ExtractantKgPerH     float64  `json:"extractant_makeup_kg_per_h"`
	ExtractantKgPerTREO  float64  `json:"extractant_kg_per_t_REO"`
	CalcinationHeatDutyW *float64 `json:"calcination_heat_duty_W"`
}

// CascadeOut is one SX cascade of the plant: its stage profile and outlets.
type CascadeOut struct {
	Stages    []StageOut    `json:"stages"`
	Raffinate precip.Stream `json:"raffinate"`
	Extract   precip.Stream `json:"extract"`
}

// StageOut is one stage's pH and phase concentrations (mg/L).
type StageOut struct {
	Stage   int                `json:"stage"`
	PH      float64            `json:"pH"`
	Aqueous map[string]float64 `json:"aqueous_mg_per_L"`
	Organic map[string]float64 `json:"organic_mg_per_L"`
}

func cascadeOf(r *sx.Result) CascadeOut {
	mg := func(conc []float64) map[string]float64 {
		m := make(map[string]float64, len(conc))
		for i, c := range r.Components {
			m[c.Name] = conc[i] * 1000 * c.MolarMass
		}
		return m
	}
	var out CascadeOut
	ph := r.PH()
	for k := range r.Aqueous {
		out.Stages = append(out.Stages, StageOut{Stage: k + 1, PH: ph[k], Aqueous: mg(r.Aqueous[k]), Organic: mg(r.Organic[k])})
	}
	out.Raffinate = precip.Stream{FlowLPerH: r.Raffinate.Flow, MgPerL: mg(r.Raffinate.Conc)}
	out.Extract = precip.Stream{FlowLPerH: r.Extract.Flow, MgPerL: mg(r.Extract.Conc)}
	return out
}

// OutputOf turns a run result into its JSON form.
func OutputOf(r *Result) Output {
	rg := r.Reagents
	out := Output{
		Converged: r.Converged, Iterations: r.Iterations, TearResidual: r.TearResidual,
		Recovery: r.Recovery, Purity: r.Purity, REOPurity: r.REOPurity,
		ProductKgPerH: r.ProductKgPerH, REOKgPerH: r.REOKgPerH, REOTPerYear: r.REOKgPerH * 8760 / 1000,
		Reagents: ReagentsOut{
			OxalicAcidKgPerH: rg.OxalicAcidKgPerH, OxalicAcidKgPerTREO: rg.OxalicAcidKgPerTREO,
			Acid: rg.AcidName, AcidMolPerH: rg.AcidMolPerH, AcidKgPerH: rg.AcidKgPerH, AcidKgPerTREO: rg.AcidKgPerTREO,
			ExtractantMolPerH: rg.ExtractantMolPerH, ExtractantKgPerH: rg.ExtractantKgPerH, ExtractantKgPerTREO: rg.ExtractantKgPerTREO,
		},
		Closure:       r.Closure,
		Losses:        r.Losses,
		Load:          cascadeOf(r.Load),
		Strip:         cascadeOf(r.Strip),
		StripLiquor:   precip.Stream{FlowLPerH: r.StripLiquor.FlowLPerH, MgPerL: r.StripLiquor.MgPerL},
		Precipitation: precip.OutputOf(r.Precipitation),
		Calcination:   calcine.OutputOf(r.Calcination),
	}
	if rg.HeatDutyKnown {
		q := rg.CalcinationHeatDutyW
		out.Reagents.CalcinationHeatDutyW = &q
	}
	return out
}
