package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"text/tabwriter"

	"lodestone/process/precip"
)

// The precip command runs the oxalate precipitation engine on a JSON spec
// (docs/formats/precip-simulate.md).

func init() {
	fs := flag.NewFlagSet("lodestone precip simulate", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	register(&command{
		name:      "precip",
		shortHelp: "oxalate precipitation of rare earths (fixed split, PrOMMiS dose isotherm, Ksp)",
		sub: []*command{{
			name:      "simulate",
			usage:     "SPEC.json [--json]",
			shortHelp: "precipitate a liquor with oxalic acid: solids, liquor out, oxalic acid and acid balance (SPEC - reads stdin)",
			flags:     fs,
			exec: func(ctx context.Context, env *cliEnv, args []string) error {
				// The flag set lives as long as the process; reset the
				// flag so that a later run in the same process (tests)
				// starts from the default.
				jsonOut := *asJSON
				*asJSON = false
				data, err := readDownstreamSpec(env, "precip simulate", args)
				if err != nil {
					return err
				}
				spec, err := precip.ParseSpec(data)
				if err != nil {
					return err
				}
				res, err := precip.Simulate(spec)
				if err != nil {
					return err
				}
				if jsonOut {
					return writeDownstreamJSON(env.stdout, precip.OutputOf(res))
				}
				return printPrecip(env.stdout, res)
			},
		}},
	})
}

// readDownstreamSpec reads the single SPEC argument of the precip and
// calcine commands: a file name, or "-" for standard input.
func readDownstreamSpec(env *cliEnv, cmd string, args []string) ([]byte, error) {
	if len(args) != 1 {
		return nil, usageError{fmt.Sprintf("%s: want exactly one SPEC.json argument, got %d", cmd, len(args))}
	}
	if args[0] == "-" {
		if env.stdin == nil {
			return nil, fmt.Errorf("%s: no standard input", cmd)
		}
		return io.ReadAll(env.stdin)
	}
	return os.ReadFile(args[0])
}

// writeDownstreamJSON writes v as indented JSON with a trailing newline.
func writeDownstreamJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printPrecip(w io.Writer, r *precip.Result) error {
	fmt.Fprintf(w, "oxalate precipitation, model %s, %.6g L/h at %.2f K\n\n", r.Model, r.FlowLPerH, r.Temperature)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "solid\thydrate H2O\tmol/h\tkg/h\tprecipitated\t")
	for _, s := range r.Solids {
		fmt.Fprintf(tw, "%s\t%d\t%.6g\t%.6g\t%.2f %%\t\n", s.Formula, s.HydrateWater, s.MolPerH, s.KgPerH, 100*r.Conversion[s.Element])
	}
	tw.Flush()
	fmt.Fprintln(w, "\nliquor out (mg/L):")
	keys := make([]string, 0, len(r.Aqueous))
	for k := range r.Aqueous {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-7s %.6g\n", k, r.Aqueous[k])
	}
	o := r.OxalicAcid
	fmt.Fprintf(w, "\noxalic acid (mol/h): supplied %.6g, bound %.6g (rare earths %.6g, impurities %.6g), required at %.0f %% efficiency %.6g\n",
		o.Supplied, o.Consumed, o.ConsumedRareEarths, o.ConsumedImpurities, 100*o.Efficiency, o.Required)
	fmt.Fprintf(w, "acid released: %.6g mol/h H+\n", r.AcidReleased)
	if r.Model == precip.KspModel {
		fmt.Fprintf(w, "outlet pH (speciated): %.3f\n", r.PH)
	}
	if r.OxalateLimited {
		fmt.Fprintln(w, "warning: not enough oxalic acid for the model's conversions; all were scaled down")
	}
	if len(r.PassThrough) > 0 {
		fmt.Fprintf(w, "no oxalate known, left in the liquor: %v\n", r.PassThrough)
	}
	worst := 0.0
	for _, c := range r.Closure {
		worst = max(worst, math.Abs(c))
	}
	fmt.Fprintf(w, "worst element balance closure: %.2g\n", worst)
	return nil
}
