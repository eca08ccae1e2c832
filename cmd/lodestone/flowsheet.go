package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"sort"

	"lodestone/process/flowsheet"
	"lodestone/process/sx"
)

// The flowsheet command runs a whole separation plant (docs/formats/flowsheet-run.md).

func init() {
	fs := flag.NewFlagSet("lodestone flowsheet run", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	register(&command{
		name:      "flowsheet",
		shortHelp: "separation plant: SX load and strip → precipitation → filtration → calcination with recycles",
		sub: []*command{{
			name:      "run",
			usage:     "SPEC.json [--json]",
			shortHelp: "solve the plant: recovery, oxide purity, reagents per tonne REO, element balance (SPEC - reads stdin)",
			flags:     fs,
			exec: func(ctx context.Context, env *cliEnv, args []string) error {
				// The flag set lives as long as the process; reset the
				// flag so that a later run in the same process (tests)
				// starts from the default.
				jsonOut := *asJSON
				*asJSON = false
				data, err := readDownstreamSpec(env, "flowsheet run", args)
				if err != nil {
					return err
				}
				spec, err := flowsheet.ParseSpec(data)
				if err != nil {
					return err
				}
				res, err := flowsheet.Run(ctx, spec)
				if err != nil && !errors.Is(err, flowsheet.ErrNotConverged) {
					return err
				}
				if res.Calcination == nil {
					return err
				}
				if jsonOut {
					if werr := writeDownstreamJSON(env.stdout, flowsheetOutputOf(res)); werr != nil {
						return werr
					}
				} else {
					printFlowsheet(env.stdout, res)
				}
				return err // non-converged: the last iterate is printed, exit 1
			},
		}},
	})
}

type flowsheetOutput struct {
	Converged     bool                          `json:"converged"`
	Iterations    int                           `json:"iterations"`
	TearResidual  float64                       `json:"tear_residual"`
	Recovery      map[string]float64            `json:"recovery"`
	Purity        map[string]float64            `json:"purity"`
	REOPurity     float64                       `json:"reo_purity"`
	ProductKgPerH float64                       `json:"product_kg_per_h"`
	REOKgPerH     float64                       `json:"reo_kg_per_h"`
	REOTPerYear   float64                       `json:"reo_t_per_yr_at_full_availability"`
	Reagents      flowsheetReagents             `json:"reagents"`
	Closure       map[string]float64            `json:"closure"`
	Losses        map[string]map[string]float64 `json:"losses_mol_per_h"`
	Load          flowsheetCascade              `json:"load"`
	Strip         flowsheetCascade              `json:"strip"`
	StripLiquor   precipStream                  `json:"strip_liquor"`
	Precipitation precipOutput                  `json:"precipitation"`
	Calcination   calcineOutput                 `json:"calcination"`
}

type flowsheetReagents struct {
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

type flowsheetCascade struct {
	Stages    []flowsheetStage `json:"stages"`
	Raffinate precipStream     `json:"raffinate"`
	Extract   precipStream     `json:"extract"`
}

type flowsheetStage struct {
	Stage   int                `json:"stage"`
	PH      float64            `json:"pH"`
	Aqueous map[string]float64 `json:"aqueous_mg_per_L"`
	Organic map[string]float64 `json:"organic_mg_per_L"`
}

func cascadeOf(r *sx.Result) flowsheetCascade {
	mg := func(conc []float64) map[string]float64 {
		m := make(map[string]float64, len(conc))
		for i, c := range r.Components {
			m[c.Name] = conc[i] * 1000 * c.MolarMass
		}
		return m
	}
	var out flowsheetCascade
	ph := r.PH()
	for k := range r.Aqueous {
		out.Stages = append(out.Stages, flowsheetStage{Stage: k + 1, PH: ph[k], Aqueous: mg(r.Aqueous[k]), Organic: mg(r.Organic[k])})
	}
	out.Raffinate = precipStream{FlowLPerH: r.Raffinate.Flow, MgPerL: mg(r.Raffinate.Conc)}
	out.Extract = precipStream{FlowLPerH: r.Extract.Flow, MgPerL: mg(r.Extract.Conc)}
	return out
}

func flowsheetOutputOf(r *flowsheet.Result) flowsheetOutput {
	rg := r.Reagents
	out := flowsheetOutput{
		Converged: r.Converged, Iterations: r.Iterations, TearResidual: r.TearResidual,
		Recovery: r.Recovery, Purity: r.Purity, REOPurity: r.REOPurity,
		ProductKgPerH: r.ProductKgPerH, REOKgPerH: r.REOKgPerH, REOTPerYear: r.REOKgPerH * 8760 / 1000,
		Reagents: flowsheetReagents{
			OxalicAcidKgPerH: rg.OxalicAcidKgPerH, OxalicAcidKgPerTREO: rg.OxalicAcidKgPerTREO,
			Acid: rg.AcidName, AcidMolPerH: rg.AcidMolPerH, AcidKgPerH: rg.AcidKgPerH, AcidKgPerTREO: rg.AcidKgPerTREO,
			ExtractantMolPerH: rg.ExtractantMolPerH, ExtractantKgPerH: rg.ExtractantKgPerH, ExtractantKgPerTREO: rg.ExtractantKgPerTREO,
		},
		Closure:       r.Closure,
		Losses:        r.Losses,
		Load:          cascadeOf(r.Load),
		Strip:         cascadeOf(r.Strip),
		StripLiquor:   precipStream{FlowLPerH: r.StripLiquor.FlowLPerH, MgPerL: r.StripLiquor.MgPerL},
		Precipitation: precipOutputOf(r.Precipitation),
		Calcination:   calcineOutputOf(r.Calcination),
	}
	if rg.HeatDutyKnown {
		q := rg.CalcinationHeatDutyW
		out.Reagents.CalcinationHeatDutyW = &q
	}
	return out
}

func printFlowsheet(w io.Writer, r *flowsheet.Result) {
	status := "converged"
	if !r.Converged {
		status = "NOT converged"
	}
	fmt.Fprintf(w, "flowsheet %s in %d recycle passes (tear change %.2g)\n\n", status, r.Iterations, r.TearResidual)
	fmt.Fprintf(w, "product %.6g kg/h oxide, %.6g kg/h REO (%.4f %% REO), %.4g t REO/yr at full availability\n",
		r.ProductKgPerH, r.REOKgPerH, 100*r.REOPurity, r.REOKgPerH*8760/1000)
	keys := make([]string, 0, len(r.Recovery))
	for k := range r.Closure {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "\nmetal  recovery   oxide mass fraction in product")
	for _, k := range keys {
		fmt.Fprintf(w, "%-5s  %8.4f %%  %.6f\n", k, 100*r.Recovery[k], r.Purity[k])
	}
	rg := r.Reagents
	fmt.Fprintf(w, "\nreagents per tonne REO: oxalic acid %.4g kg, %s %.4g kg, extractant make-up %.4g kg\n",
		rg.OxalicAcidKgPerTREO, rg.AcidName, rg.AcidKgPerTREO, rg.ExtractantKgPerTREO)
	if rg.HeatDutyKnown {
		fmt.Fprintf(w, "calcination heat duty: %.6g W\n", rg.CalcinationHeatDutyW)
	}
	fmt.Fprintf(w, "load raffinate pH %.3f, strip liquor pH %.3f\n", r.Load.PH()[0], r.Strip.PH()[0])
	worst := 0.0
	for _, c := range r.Closure {
		worst = max(worst, math.Abs(c))
	}
	fmt.Fprintf(w, "worst element balance closure: %.2g\n", worst)
}
