package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"

	"lodestone/plant/estimate"
)

func init() {
	fs := flag.NewFlagSet("lodestone plant estimate", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the result as JSON (docs/formats/plant-estimate.md)")
	plantCmd.sub = append(plantCmd.sub, &command{
		name:      "estimate",
		usage:     "SPEC.json [--json]",
		shortHelp: "soft sensor: extended Kalman filter on the dynamic cascade from analyser and lab readings, with drift and out-of-sync alarms (SPEC - reads stdin)",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			return plantEstimate(ctx, env, args, *asJSON)
		},
	})
}

// plantReadArg reads the one SPEC argument of a plant subcommand ("-" is
// standard input).
func plantReadArg(env *cliEnv, cmd string, args []string) ([]byte, error) {
	if len(args) != 1 {
		return nil, usageError{fmt.Sprintf("plant %s: want exactly one SPEC.json argument, got %d", cmd, len(args))}
	}
	if args[0] == "-" {
		if env.stdin == nil {
			return nil, fmt.Errorf("plant %s: no standard input", cmd)
		}
		return io.ReadAll(env.stdin)
	}
	return os.ReadFile(args[0])
}

// plantWriteJSON writes v indented.
func plantWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func plantEstimate(ctx context.Context, env *cliEnv, args []string, asJSON bool) error {
	data, err := plantReadArg(env, "estimate", args)
	if err != nil {
		return err
	}
	spec, err := estimate.ParseSpec(data)
	if err != nil {
		return err
	}
	c, err := spec.Case()
	if err != nil {
		return err
	}
	out, err := c.Run(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return plantWriteJSON(env.stdout, out)
	}
	return printEstimate(env.stdout, out)
}

// printEstimate writes the human report: alarms, then the last estimate.
func printEstimate(w io.Writer, o *estimate.Output) error {
	fmt.Fprintf(w, "%d estimates, %d innovations, %d alarms\n", len(o.Estimates), len(o.Innovations), len(o.Alarms))
	for _, a := range o.Alarms {
		s := "-"
		if a.Sensor != nil {
			s = *a.Sensor
		}
		fmt.Fprintf(w, "  alarm %-12s at %8.4g h  sensor %s\n", a.Kind, a.TH, s)
	}
	if len(o.Estimates) == 0 {
		return nil
	}
	last := o.Estimates[len(o.Estimates)-1]
	cert := "certified"
	if !last.Certified {
		cert = "UNCERTIFIED (alarm not acknowledged)"
	}
	fmt.Fprintf(w, "estimate at %.4g h, %s\n", last.TH, cert)
	var names []string
	for k := range last.Stages[0].Aqueous {
		names = append(names, k)
	}
	slices.Sort(names)
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "stage\t")
	for _, n := range names {
		fmt.Fprintf(tw, "%s aq\t", n)
	}
	for _, n := range names {
		fmt.Fprintf(tw, "%s org\t", n)
	}
	fmt.Fprintln(tw, "mg/L\t")
	for _, st := range last.Stages {
		fmt.Fprintf(tw, "%d\t", st.Stage)
		for _, n := range names {
			fmt.Fprintf(tw, "%.4g\t", st.Aqueous[n])
		}
		for _, n := range names {
			fmt.Fprintf(tw, "%.4g\t", st.Organic[n])
		}
		fmt.Fprintln(tw, "\t")
	}
	return tw.Flush()
}
