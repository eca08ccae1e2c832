package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"lodestone/plant/inspect"
)

func init() {
	fs := flag.NewFlagSet("lodestone plant inspect", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the findings and the round as JSON (docs/formats/plant-inspection.md)")
	tgt := &target{}
	tgt.flags(fs, false)
	plantCmd.sub = append(plantCmd.sub, &command{
		name:      "inspect",
		usage:     "SPEC.json [--json] [--server URL | --data DIR]",
		shortHelp: "virtual inspection: limit, rate, frozen, estimate-disagreement and twin-alarm rules over readings; findings with detection times and an inspection round over the equipment (SPEC - reads stdin); a SPEC with telemetry {from, to, sources} reads stored telemetry from the server",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			data, err := plantReadArg(env, "inspect", args)
			if err != nil {
				return err
			}
			var top map[string]json.RawMessage
			if json.Unmarshal(data, &top) == nil && top["telemetry"] != nil {
				// The readings are in a server's store: POST /plant/inspect.
				out, err := remoteInspect(ctx, tgt, data)
				if err != nil {
					return apiError(err)
				}
				if *asJSON {
					return plantWriteJSON(env.stdout, out)
				}
				return printInspect(env.stdout, out)
			}
			spec, err := inspect.ParseSpec(data)
			if err != nil {
				return err
			}
			out, err := spec.Run()
			if err != nil {
				return err
			}
			if *asJSON {
				return plantWriteJSON(env.stdout, out)
			}
			return printInspect(env.stdout, out)
		},
	})
	ffs := flag.NewFlagSet("lodestone plant fault-study", flag.ContinueOnError)
	fJSON := ffs.Bool("json", false, "print the study as JSON (docs/formats/plant-inspection.md)")
	seed := ffs.Uint64("seed", 1, "seed of the synthetic measurement noise")
	hours := ffs.Float64("hours", 30, "length of each replayed run, h (faults start at 10 h)")
	plantCmd.sub = append(plantCmd.sub, &command{
		name:      "fault-study",
		usage:     "[--seed N] [--hours H] [--json]",
		shortHelp: "replay a synthetic fault set on the dynamic cascade: time from fault to finding with limit rules on raw readings only and with the twin (soft sensor); synthetic figures",
		flags:     ffs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) != 0 {
				return usageError{"plant fault-study: takes no arguments"}
			}
			if !(*hours > 10) || *hours > 200 {
				return usageError{fmt.Sprintf("plant fault-study: --hours %v: must be in (10, 200]", *hours)}
			}
			res, err := inspect.FaultStudy(ctx, inspect.DefaultFaults(), *seed, *hours)
			if err != nil {
				return err
			}
			if *fJSON {
				return plantWriteJSON(env.stdout, res)
			}
			return printFaultStudy(env.stdout, res)
		},
	})
}

func printInspect(w io.Writer, o *inspect.Output) error {
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "t h\trule\tkind\ttag\tequipment\tdetail")
	for _, f := range o.Findings {
		fmt.Fprintf(tw, "%.4g\t%s\t%s\t%s\t%s\t%s\n", f.T, f.Rule, f.Kind, f.Tag, f.Equipment, f.Detail)
	}
	fmt.Fprintf(tw, "\nround %.4g–%.4g h: %d findings\n", o.Round.FromH, o.Round.ToH, o.Round.Findings)
	for _, it := range o.Round.Items {
		fmt.Fprintf(tw, "%s\t%s\t%d checks\n", it.Equipment, it.Status, len(it.Checks))
	}
	return tw.Flush()
}

func printFaultStudy(w io.Writer, r inspect.StudyResult) error {
	fmt.Fprintf(w, "SYNTHETIC fault set (seed %d, %g h runs, samples every %g h)\n", r.Seed, r.DurationH, r.SampleH)
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\twithout twin h\twith twin h\tfirst finding with twin")
	d := func(p *float64) string {
		if p == nil {
			return "not found"
		}
		return fmt.Sprintf("%.2f", *p)
	}
	for _, x := range r.Results {
		first := ""
		if x.FirstWith != nil {
			first = x.FirstWith.Rule
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Fault.Name, d(x.WithoutTwinH), d(x.WithTwinH), first)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, a := range r.Assumptions {
		fmt.Fprintf(w, "- %s\n", a)
	}
	return nil
}

// remoteInspect posts a spec with a telemetry member to the server of t.
func remoteInspect(ctx context.Context, t *target, spec []byte) (*inspect.Output, error) {
	c, stop, err := t.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	var out inspect.Output
	if err := c.Do(ctx, "POST", "/plant/inspect", json.RawMessage(spec), &out); err != nil {
		return nil, err
	}
	return &out, nil
}
