package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"text/tabwriter"

	"lodestone/supply"
)

func init() {
	register(&command{
		name:      "supply",
		usage:     "<stress|run> FILE [flags]",
		shortHelp: "supply-chain stress tests (TTS/TTR) and simulations",
		sub:       []*command{supplyStressCmd(), supplyRunCmd()},
	})
}

// readInput reads a file, or standard input for "-".
func readInput(env *cliEnv, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(env.stdin)
	}
	return os.ReadFile(name)
}

// resetSupplyFlags restores a flag set's defaults after a command ran: the
// command table keeps one FlagSet per command for the process, and tests run
// commands many times.
func resetSupplyFlags(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) { _ = f.Value.Set(f.DefValue) })
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// stressOutput is the JSON document of `lodestone supply stress --json`.
type stressOutput struct {
	Scenarios      []supply.StressResult `json:"scenarios"`
	StrategicStock *stockOutput          `json:"strategic_stock,omitempty"`
}

type stockOutput struct {
	Extra map[supply.NodeID]float64 `json:"extra"`
	Cost  float64                   `json:"cost"`
}

func supplyStressCmd() *command {
	fs := flag.NewFlagSet("lodestone supply stress", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	workers := fs.Int("workers", 0, "goroutines solving scenarios (0: all cores)")
	stock := fs.Bool("stock", false, "also size the strategic stock so that TTS ≥ TTR in every scenario")
	return &command{
		name:      "stress",
		usage:     "NETWORK.json [--json] [--stock] [--workers N]",
		shortHelp: "time-to-recover and time-to-survive LPs for every scenario (or every node alone)",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"supply stress: want one NETWORK file"}
			}
			data, err := readInput(env, args[0])
			if err != nil {
				return err
			}
			net, err := supply.DecodeNetwork(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			res, err := supply.Stress(ctx, net, &supply.StressOptions{Workers: *workers})
			if err != nil {
				return err
			}
			out := stressOutput{Scenarios: res}
			if *stock {
				plan, err := supply.StrategicStock(net, nil)
				if err != nil {
					return err
				}
				out.StrategicStock = &stockOutput{Extra: plan.Extra, Cost: plan.Cost}
			}
			if *asJSON {
				return writeJSON(env.stdout, out)
			}
			return printStress(env.stdout, out)
		},
	}
}

func printStress(w io.Writer, out stressOutput) error {
	rows := slices.Clone(out.Scenarios)
	slices.SortStableFunc(rows, func(a, b supply.StressResult) int {
		switch {
		case a.REI > b.REI:
			return -1
		case a.REI < b.REI:
			return 1
		}
		return 0
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tTTR\tTTS\tshortage\tlost units\tloss value\tREI\texposed\t")
	for _, r := range rows {
		tts := fmt.Sprintf("%.3g", r.TTS)
		if r.TTSCapped {
			tts = "≥" + tts
		}
		exp := ""
		if r.Exposed {
			exp = "yes"
		}
		fmt.Fprintf(tw, "%s\t%.3g\t%s\t%.3g\t%.4g\t%.4g\t%.3f\t%s\t\n", r.Name, r.TTR, tts, r.ShortagePeriods, r.LostUnits, r.LossValue, r.REI, exp)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s := out.StrategicStock; s != nil {
		fmt.Fprintf(w, "\nstrategic stock so that TTS ≥ TTR everywhere (cost %.4g):\n", s.Cost)
		ids := make([]string, 0, len(s.Extra))
		for id := range s.Extra {
			ids = append(ids, string(id))
		}
		slices.Sort(ids)
		for _, id := range ids {
			fmt.Fprintf(w, "  %-20s %.4g\n", id, s.Extra[supply.NodeID(id)])
		}
	}
	return nil
}

func supplyRunCmd() *command {
	fs := flag.NewFlagSet("lodestone supply run", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	runs := fs.Int("runs", 0, "Monte Carlo replications (0: one run)")
	seed := fs.Uint64("seed", 1, "random seed; run r uses the stream (seed, r)")
	workers := fs.Int("workers", 0, "goroutines for Monte Carlo (0: all cores)")
	progress := fs.Bool("progress", false, "show Monte Carlo progress on stderr")
	return &command{
		name:      "run",
		usage:     "SCENARIO.json [--json] [--runs N --seed S] [--workers N] [--progress]",
		shortHelp: "simulate a scenario day by day (or a Monte Carlo study) and report KPIs per node",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"supply run: want one SCENARIO file"}
			}
			if *runs < 0 {
				return usageError{"supply run: --runs must be >= 0"}
			}
			data, err := readInput(env, args[0])
			if err != nil {
				return err
			}
			sc, err := supply.DecodeScenario(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if *runs == 0 {
				res, err := supply.Run(ctx, sc, rand.New(rand.NewPCG(*seed, 0)))
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(env.stdout, res)
				}
				return printRun(env.stdout, res)
			}
			opts := supply.MCOptions{Runs: *runs, Seed: *seed, Workers: *workers}
			if *progress {
				opts.Progress = func(done, total int) {
					fmt.Fprintf(env.stderr, "\rruns %d/%d", done, total)
				}
			}
			res, err := supply.MonteCarlo(ctx, sc, opts)
			if *progress {
				fmt.Fprintln(env.stderr)
			}
			if err != nil {
				return err
			}
			if *asJSON {
				return writeJSON(env.stdout, res)
			}
			return printMC(env.stdout, res)
		},
	}
}

func sortedIDs[V any](m map[supply.NodeID]V) []supply.NodeID {
	ids := make([]supply.NodeID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func printRun(w io.Writer, res *supply.Result) error {
	fmt.Fprintf(w, "%d days from %s\n\n", res.Days, res.Start)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "node\tfirst stockout\tstockout days\tfill rate\tlost")
	for _, id := range sortedIDs(res.Nodes) {
		k := res.Nodes[id]
		first := "-"
		if k.FirstStockout != nil {
			first = string(*k.FirstStockout)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.4f\t%.4g\n", id, first, k.StockoutDays, k.FillRate, k.Lost)
	}
	return tw.Flush()
}

func printMC(w io.Writer, res *supply.MCResult) error {
	fmt.Fprintf(w, "%d runs (seed %d), %d days from %s\n\n", res.Runs, res.Seed, res.Days, res.Start)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "node\tP(stockout)\tfill mean\tfill P50\tstockout days P90\tlost mean\tlost P95\tlost CVaR95")
	for _, id := range sortedIDs(res.Nodes) {
		k := res.Nodes[id]
		cvar := 0.0
		if k.Lost.CVaR95 != nil {
			cvar = *k.Lost.CVaR95
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%.4f\t%.4f\t%.4g\t%.4g\t%.4g\t%.4g\n", id, k.PStockout, k.FillRate.Mean, k.FillRate.P50,
			k.StockoutDays.P90, k.Lost.Mean, k.Lost.P95, cvar)
	}
	return tw.Flush()
}
