package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"sort"
	"text/tabwriter"

	"lodestone/process/calcine"
)

// The calcine command runs the oxalate calcination engine on a JSON spec
// (docs/formats/calcine-simulate.md).

func init() {
	fs := flag.NewFlagSet("lodestone calcine simulate", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	register(&command{
		name:      "calcine",
		shortHelp: "calcination of oxalate hydrates to oxides: off-gas, O2 demand, dust, heat duty",
		sub: []*command{{
			name:      "simulate",
			usage:     "SPEC.json [--json]",
			shortHelp: "roast oxalates to oxides: product, off-gas, mass loss and heat duty (SPEC - reads stdin)",
			flags:     fs,
			exec: func(ctx context.Context, env *cliEnv, args []string) error {
				// The flag set lives as long as the process; reset the
				// flag so that a later run in the same process (tests)
				// starts from the default.
				jsonOut := *asJSON
				*asJSON = false
				data, err := readDownstreamSpec(env, "calcine simulate", args)
				if err != nil {
					return err
				}
				spec, err := calcine.ParseSpec(data)
				if err != nil {
					return err
				}
				res, err := calcine.Simulate(spec)
				if err != nil {
					return err
				}
				if jsonOut {
					return writeDownstreamJSON(env.stdout, calcine.OutputOf(res))
				}
				return printCalcine(env.stdout, res)
			},
		}},
	})
}

func printCalcine(w io.Writer, r *calcine.Result) error {
	fmt.Fprintf(w, "calcination: %.6g kg/s of oxalate hydrates → %.6g kg/s oxide product + %.6g kg/s dust (mass loss %.1f %%)\n\n",
		r.FeedKgPerS, r.Product.KgPerS, r.Dust.KgPerS, 100*r.MassLoss)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "oxide\tmol/s\tkg/s\tmass fraction\t")
	for _, o := range r.Product.Oxides {
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t%.4f\t\n", o.Formula, o.MolPerS, o.KgPerS, r.Product.MassFractions[o.Element])
	}
	tw.Flush()
	fmt.Fprintf(w, "\ngas out: %.6g mol/s at %.2f K, %.6g Pa\n", r.GasOut.MolPerS, r.GasOut.Temperature, r.GasOut.Pressure)
	keys := make([]string, 0, len(r.GasOut.MoleFractions))
	for k := range r.GasOut.MoleFractions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  y_%-4s %.6f\n", k, r.GasOut.MoleFractions[k])
	}
	fmt.Fprintf(w, "O2 demand %.6g mol/s, CO2 released %.6g mol/s, H2O released %.6g mol/s\n", r.O2Demand, r.CO2Released, r.H2OReleased)
	if r.HeatDutyKnown {
		fmt.Fprintf(w, "heat duty: %.6g W (positive: heat to add)\n", r.HeatDuty)
	} else {
		fmt.Fprintln(w, "heat duty: not computed (see notes)")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	worst := 0.0
	for _, c := range r.Closure {
		worst = max(worst, math.Abs(c))
	}
	fmt.Fprintf(w, "worst element balance closure: %.2g\n", worst)
	return nil
}
