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
					if werr := writeDownstreamJSON(env.stdout, flowsheet.OutputOf(res)); werr != nil {
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
