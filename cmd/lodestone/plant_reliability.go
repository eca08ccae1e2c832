package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"lodestone/plant/reliability"
)

// The plant reliability commands fit life data and compute replacement
// intervals, availability and OEE (docs/formats/plant-reliability.md).
// They run offline: the engine is plant/reliability; this file reads the
// files and prints.
var plantReliabilityCmd = &command{
	name:      "reliability",
	shortHelp: "equipment reliability: life-data fits, age replacement, availability, OEE",
}

func init() {
	fitFlags := flag.NewFlagSet("lodestone plant reliability fit", flag.ContinueOnError)
	fitJSON := fitFlags.Bool("json", false, "print the result as JSON")
	dist := fitFlags.String("distribution", "weibull", "weibull, exponential, lognormal, or auto (smallest AIC)")
	conf := fitFlags.Float64("confidence", 0.95, "two-sided level of the bounds")
	bounds := fitFlags.String("bounds", "fisher", "confidence bounds: fisher (Fisher matrix) or lr (likelihood ratio)")
	repFlags := flag.NewFlagSet("lodestone plant reliability replace", flag.ContinueOnError)
	repJSON := repFlags.Bool("json", false, "print the result as JSON")
	avFlags := flag.NewFlagSet("lodestone plant reliability availability", flag.ContinueOnError)
	avJSON := avFlags.Bool("json", false, "print the result as JSON")
	oeeFlags := flag.NewFlagSet("lodestone plant reliability oee", flag.ContinueOnError)
	oeeJSON := oeeFlags.Bool("json", false, "print the result as JSON")
	plantReliabilityCmd.sub = append(plantReliabilityCmd.sub,
		&command{
			name:      "fit",
			usage:     "DATA.csv [--json] [--distribution weibull|exponential|lognormal|auto] [--confidence 0.95] [--bounds fisher|lr]",
			shortHelp: "fit a life distribution to failures and suspensions (CSV time,failed; - reads stdin)",
			flags:     fitFlags,
			exec: func(ctx context.Context, env *cliEnv, args []string) error {
				return plantReliabilityFit(env, args, *fitJSON, reliability.FitOptions{Distribution: reliability.Distribution(*dist), Confidence: *conf, Bounds: *bounds})
			},
		},
		&command{
			name:      "replace",
			usage:     "SPEC.json [--json]",
			shortHelp: "optimum age-replacement interval of a Weibull item and its cost rate",
			flags:     repFlags,
			exec: func(ctx context.Context, env *cliEnv, args []string) error {
				return plantReliabilityReplace(env, args, *repJSON)
			},
		},
		&command{
			name:      "availability",
			usage:     "BLOCKS.json [--json]",
			shortHelp: "steady-state availability of a block diagram (series, parallel, k_of_n, standby)",
			flags:     avFlags,
			exec: func(ctx context.Context, env *cliEnv, args []string) error {
				return plantReliabilityAvailability(env, args, *avJSON)
			},
		},
		&command{
			name:      "oee",
			usage:     "RECORD.json [--json]",
			shortHelp: "OEE of a continuous line: availability × performance × quality",
			flags:     oeeFlags,
			exec: func(ctx context.Context, env *cliEnv, args []string) error {
				return plantReliabilityOEE(env, args, *oeeJSON)
			},
		},
	)
	plantCmd.sub = append(plantCmd.sub, plantReliabilityCmd)
}

// readPlantFile reads the one file argument of a plant command ("-" is
// standard input).
func readPlantFile(env *cliEnv, cmd, what string, args []string) ([]byte, error) {
	if len(args) != 1 {
		return nil, usageError{fmt.Sprintf("plant %s: want exactly one %s argument, got %d", cmd, what, len(args))}
	}
	if args[0] == "-" {
		if env.stdin == nil {
			return nil, fmt.Errorf("plant %s: no standard input", cmd)
		}
		return io.ReadAll(env.stdin)
	}
	return os.ReadFile(args[0])
}

func plantReliabilityFit(env *cliEnv, args []string, asJSON bool, opts reliability.FitOptions) error {
	data, err := readPlantFile(env, "reliability fit", "DATA.csv", args)
	if err != nil {
		return err
	}
	obs, err := reliability.ParseLifeCSV(data)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	res, err := reliability.Fit(obs, &opts)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if asJSON {
		return printJSON(env.stdout, res)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "distribution\t%s\n", res.Distribution)
	fmt.Fprintf(tw, "n / failures\t%d / %d\n", res.N, res.Failures)
	fmt.Fprintf(tw, "shape\t%.6g\t[%.6g, %.6g] (%g%% %s bounds)\n", res.Shape, res.ShapeCI[0], res.ShapeCI[1], 100*res.Confidence, res.Bounds)
	fmt.Fprintf(tw, "scale\t%.6g\t[%.6g, %.6g]\n", res.Scale, res.ScaleCI[0], res.ScaleCI[1])
	fmt.Fprintf(tw, "mttf\t%.6g\n", res.MTTF)
	fmt.Fprintf(tw, "log-likelihood\t%.6g\n", res.LogLikelihood)
	fmt.Fprintf(tw, "AIC\t%.6g\n", res.AIC)
	for _, c := range res.Candidates {
		fmt.Fprintf(tw, "  candidate %s\tAIC %.6g\tshape %.6g scale %.6g\n", c.Distribution, c.AIC, c.Shape, c.Scale)
	}
	return tw.Flush()
}

func plantReliabilityReplace(env *cliEnv, args []string, asJSON bool) error {
	data, err := readPlantFile(env, "reliability replace", "SPEC.json", args)
	if err != nil {
		return err
	}
	spec, err := reliability.DecodeReplaceSpec(data)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	res, err := reliability.AgeReplacement(*spec)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(env.stdout, res)
	}
	if res.Interval == nil {
		fmt.Fprintf(env.stdout, "run to failure (shape %g: no wear-out worth replacing early)\ncost rate %.6g per time unit\n", spec.Shape, res.CostRate)
		return nil
	}
	fmt.Fprintf(env.stdout, "replace at age %.6g\ncost rate %.6g per time unit (run to failure %.6g, saving %.1f%%)\nreliability at the interval %.4f\n",
		*res.Interval, res.CostRate, res.RunToFailureCostRate, 100*res.Saving, res.ReliabilityAtInterval)
	return nil
}

func plantReliabilityAvailability(env *cliEnv, args []string, asJSON bool) error {
	data, err := readPlantFile(env, "reliability availability", "BLOCKS.json", args)
	if err != nil {
		return err
	}
	b, err := reliability.DecodeBlock(data)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	res, err := reliability.SystemAvailability(*b)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if asJSON {
		return printJSON(env.stdout, res)
	}
	var walk func(r *reliability.BlockResult, depth int)
	walk = func(r *reliability.BlockResult, depth int) {
		fmt.Fprintf(env.stdout, "%s%s %s\t%.6f\n", strings.Repeat("  ", depth), r.Kind, r.Name, r.Availability)
		for i := range r.Blocks {
			walk(&r.Blocks[i], depth+1)
		}
	}
	walk(res, 0)
	return nil
}

func plantReliabilityOEE(env *cliEnv, args []string, asJSON bool) error {
	data, err := readPlantFile(env, "reliability oee", "RECORD.json", args)
	if err != nil {
		return err
	}
	in, err := reliability.DecodeOEE(data)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	res, err := reliability.OEE(*in)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if asJSON {
		return printJSON(env.stdout, res)
	}
	fmt.Fprintf(env.stdout, "availability %.4f × performance %.4f × quality %.4f = OEE %.4f\n", res.Availability, res.Performance, res.Quality, res.OEE)
	return nil
}
