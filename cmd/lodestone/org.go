package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"

	"lodestone/org"
)

func init() {
	register(&command{
		name:      "org",
		usage:     "<run|invest> FILE [flags]",
		shortHelp: "organisation twin: decisions with latencies inside a supply run; where to put the money",
		sub:       []*command{orgRunCmd(), orgInvestCmd()},
	})
}

func orgRunCmd() *command {
	fs := flag.NewFlagSet("lodestone org run", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON (docs/formats/org.md)")
	seed := fs.Uint64("seed", 1, "random seed (the stream (seed, 0), as supply run)")
	zero := fs.Bool("zero-latency", true, "add the counterfactual with every latency zero and the cost of the latencies")
	moved := fs.Bool("moved", false, "add each decision's KPIs moved (one more run per decision)")
	return &command{
		name:      "run",
		usage:     "SCENARIO.json [--json] [--seed S] [--zero-latency=false] [--moved]",
		shortHelp: "simulate a supply scenario with its organisation's rules: decisions, timeline, cost of slow decisions",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"org run: want one SCENARIO file"}
			}
			data, err := readInput(env, args[0])
			if err != nil {
				return err
			}
			sc, err := org.DecodeScenario(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			res, err := org.Run(ctx, sc, org.Options{Seed: *seed, ZeroLatency: *zero, Moved: *moved})
			if err != nil {
				return err
			}
			if *asJSON {
				return writeJSON(env.stdout, res)
			}
			return printOrgRun(env.stdout, res)
		},
	}
}

func printOrgRun(w io.Writer, res *org.RunResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tACTOR\tSIGNAL\tSIGNAL DAY\tDECIDED\tEFFECTIVE\tACTION")
	for _, d := range res.Decisions {
		eff := string(d.EffectiveDay)
		if d.Refused != "" {
			eff = "refused: " + d.Refused
		}
		fmt.Fprintf(tw, "%s\t%s\t%s=%.4g\t%s\t%s\t%s\t%s %s\n", d.Rule, d.Actor, d.Signal, d.Value, d.SignalDay, d.DecidedDay, eff, d.Action.Type, actionTarget(d.Action))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "lost demand: %.6g units\n", res.Lost)
	if z := res.ZeroLatency; z != nil {
		fmt.Fprintf(w, "with zero latency: %.6g units; cost of the latencies: %.6g units\n", z.Lost, *res.LatencyCost)
		if res.LatencyMoney != nil {
			fmt.Fprintf(w, "cost of the latencies in money: %.6g\n", *res.LatencyMoney)
		}
	}
	fmt.Fprintln(w)
	return printRun(w, res.Result)
}

// actionTarget is what an action acts on: its arc, node or control.
func actionTarget(a org.Action) string {
	switch {
	case a.Arc != "":
		return a.Arc
	case a.Node != "":
		return a.Node
	}
	return a.Control
}

func orgInvestCmd() *command {
	fs := flag.NewFlagSet("lodestone org invest", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON (docs/formats/org.md)")
	workers := fs.Int("workers", 0, "goroutines (0: the spec's, else all cores)")
	search := fs.String("search", "", "exhaustive, greedy or branch_and_bound (default: the spec's)")
	return &command{
		name:      "invest",
		usage:     "SPEC.json [--json] [--workers N] [--search S]",
		shortHelp: "best portfolio of mitigations under a budget over common Monte Carlo runs, and the efficient frontier",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"org invest: want one SPEC file"}
			}
			if *workers < 0 {
				return usageError{"org invest: --workers must be >= 0"}
			}
			data, err := readInput(env, args[0])
			if err != nil {
				return err
			}
			spec, err := org.DecodeInvestSpec(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if *search != "" {
				spec.Search = *search
				raw, err := json.Marshal(spec)
				if err != nil {
					return err
				}
				if spec, err = org.DecodeInvestSpec(raw); err != nil {
					return fmt.Errorf("--search: %w", err)
				}
			}
			if *workers > 0 {
				spec.Workers = *workers
			} else if spec.Workers == 0 {
				spec.Workers = runtime.GOMAXPROCS(0)
			}
			res, err := org.Invest(ctx, spec)
			if err != nil {
				return err
			}
			if *asJSON {
				return writeJSON(env.stdout, res)
			}
			return printInvest(env.stdout, res)
		},
	}
}

func printInvest(w io.Writer, res *org.InvestResult) error {
	fmt.Fprintf(w, "objective %s over %d runs (seed %d), %s search, %d portfolios evaluated\n", res.Objective, res.Runs, res.Seed, res.Method, res.Evaluated)
	fmt.Fprintf(w, "no investment: %.6g [%.6g, %.6g]\n", res.Baseline.Objective, res.Baseline.CI[0], res.Baseline.CI[1])
	fmt.Fprintf(w, "best: %v cost %.6g objective %.6g [%.6g, %.6g]\n", res.Best.Candidates, res.Best.Cost, res.Best.Objective, res.Best.CI[0], res.Best.CI[1])
	if b := res.Bound; b != nil {
		// On the same runs: how far the best found may be from the best
		// within the budget, and under what assumption.
		fmt.Fprintf(w, "bound: no portfolio within the budget beats %.6g (gap %.6g; assumes %s)\n", b.Objective, b.Gap, b.Assumes)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COST\tOBJECTIVE\tCI95\tCANDIDATES")
	for _, p := range res.Frontier {
		fmt.Fprintf(tw, "%.6g\t%.6g\t[%.6g, %.6g]\t%v\n", p.Cost, p.Objective, p.CI[0], p.CI[1], p.Candidates)
	}
	return tw.Flush()
}
