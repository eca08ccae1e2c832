package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"lodestone/process/sx/dynamic"
)

func init() {
	fs := flag.NewFlagSet("lodestone sx dynamic", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the result as JSON (docs/formats/sx-dynamic.md)")
	sxCommand.sub = append(sxCommand.sub, &command{
		name:      "dynamic",
		usage:     "SPEC.json [--json]",
		shortHelp: "transient cascade: start-up or disturbances, outlet and stage time series, time to steady state (SPEC - reads stdin)",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			return sxDynamic(ctx, env, args, *asJSON)
		},
	})
}

func sxDynamic(ctx context.Context, env *cliEnv, args []string, asJSON bool) error {
	data, err := readSXInput(env, "dynamic", "SPEC.json", args)
	if err != nil {
		return err
	}
	spec, err := dynamic.ParseSpec(data)
	if err != nil {
		return err
	}
	c, err := spec.Case()
	if err != nil {
		return err
	}
	res, runErr := dynamic.Simulate(ctx, c.Problem, &c.Settings)
	if runErr != nil && (res == nil || !errors.Is(runErr, dynamic.ErrStep)) {
		return runErr
	}
	out := c.Output(res, c.Settings)
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else if err := printDynamic(env.stdout, c, out); err != nil {
		return err
	}
	if runErr != nil {
		fmt.Fprintln(env.stderr, "lodestone:", runErr)
		return exitError{code: 1}
	}
	return nil
}

// printDynamic writes the human report: outlet concentrations over time
// (at most about 25 rows) and the time to steady state.
func printDynamic(w io.Writer, c *dynamic.Case, o *dynamic.Output) error {
	var names []string
	for _, comp := range c.Problem.Cascade.Components {
		names = append(names, comp.Name)
	}
	fmt.Fprintf(w, "%d stages, %g h: %d steps (%d rejected), %d Newton iterations, mass-balance closure %.2g\n",
		len(o.Stages), o.DurationH, o.Steps, o.Rejected, o.Newton, o.ClosureMax)
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "t h\t")
	for _, n := range names {
		fmt.Fprintf(tw, "%s raff\t", n)
	}
	for _, n := range names {
		fmt.Fprintf(tw, "%s extr\t", n)
	}
	fmt.Fprintln(tw, "mg/L\t")
	every := max(1, len(o.TimesH)/25)
	for j, t := range o.TimesH {
		if j%every != 0 && j != len(o.TimesH)-1 {
			continue
		}
		fmt.Fprintf(tw, "%.4g\t", t)
		for _, n := range names {
			fmt.Fprintf(tw, "%.4g\t", o.Outlets.Aqueous.MgPerL[n][j])
		}
		for _, n := range names {
			fmt.Fprintf(tw, "%.4g\t", o.Outlets.Organic.MgPerL[n][j])
		}
		fmt.Fprintln(tw, "\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case o.TimeToSteadyH != nil:
		_, err := fmt.Fprintf(w, "steady state (within %g of process/sx) from t = %.4g h; final deviation %.2g\n", o.SteadyTolerance, *o.TimeToSteadyH, o.Deviation)
		return err
	case o.Steady == nil:
		_, err := fmt.Fprintf(w, "no steady-state reference: %s\n", o.SteadyError)
		return err
	default:
		_, err := fmt.Fprintf(w, "steady state NOT reached: deviation %.3g > %g at the end\n", o.Deviation, o.SteadyTolerance)
		return err
	}
}
