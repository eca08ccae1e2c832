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
	addPlantCommand("estimate", "SPEC.json [--json]",
		"soft sensor: extended Kalman filter on the dynamic cascade from analyser and lab readings, with drift and out-of-sync alarms (SPEC - reads stdin)",
		"print the result as JSON (docs/formats/plant-estimate.md)", plantEstimate)
}

// addPlantCommand adds `lodestone plant NAME` with its --json flag (its
// help jsonHelp) to the plant command, and returns the flag set for
// further flags.
func addPlantCommand(name, usage, help, jsonHelp string, run func(ctx context.Context, env *cliEnv, args []string, asJSON bool) error) *flag.FlagSet {
	fs := flag.NewFlagSet("lodestone plant "+name, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, jsonHelp)
	plantCmd.sub = append(plantCmd.sub, &command{
		name:      name,
		usage:     usage,
		shortHelp: help,
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			return run(ctx, env, args, *asJSON)
		},
	})
	return fs
}

// specCase is a parsed engine spec: Case checks it.
type specCase[C any] interface{ Case() (C, error) }

// caseRun is a checked engine case: Run runs it.
type caseRun[O any] interface {
	Run(ctx context.Context) (O, error)
}

// plantRunSpec reads the SPEC argument of `lodestone plant CMD`, parses,
// checks and runs it.
func plantRunSpec[S specCase[C], C caseRun[O], O any](ctx context.Context, env *cliEnv, cmd string, args []string, parse func([]byte) (S, error)) (O, error) {
	var zero O
	data, err := plantReadArg(env, cmd, args)
	if err != nil {
		return zero, err
	}
	spec, err := parse(data)
	if err != nil {
		return zero, err
	}
	c, err := spec.Case()
	if err != nil {
		return zero, err
	}
	return c.Run(ctx)
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
	out, err := plantRunSpec(ctx, env, "estimate", args, estimate.ParseSpec)
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
