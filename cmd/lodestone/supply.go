package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"lodestone/api"
	"lodestone/supply"
	"lodestone/world"
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
	// Legend names the default TTR used, the unit of every column and the
	// definition of REI and the others.
	Legend supply.StressLegend `json:"legend"`
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
	graph := fs.Bool("graph", false, "stress the network of the twin graph (per day; GET /snapshot) instead of a NETWORK file")
	asOf := fs.String("as-of", "", "with --graph: the graph as of this date (YYYY-MM-DD) or RFC 3339 time")
	ttr := fs.Float64("ttr", 0, fmt.Sprintf("with --graph: time to recover of each node alone, in days (0: the engine's default, %d days: new-supplier qualification, research note c.8)", supply.DefaultTTR))
	var tgt target
	tgt.flags(fs, false)
	return &command{
		name:      "stress",
		usage:     "NETWORK.json [--json] [--stock] [--workers N] | --graph [--as-of DATE] [--ttr DAYS] [--server URL | --data DIR]",
		shortHelp: "time-to-recover and time-to-survive LPs for every scenario (or every node alone, for " + fmt.Sprint(supply.DefaultTTR) + " days by default); REI = the scenario's loss / the worst scenario's loss",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if *graph && len(args) != 0 || !*graph && len(args) != 1 {
				return usageError{"supply stress: want one NETWORK file, or --graph and none"}
			}
			if !*graph && (*asOf != "" || *ttr != 0 || tgt.server != "" || tgt.data != "") {
				return usageError{"supply stress: --as-of, --ttr, --server and --data go with --graph"}
			}
			if *ttr < 0 {
				return usageError{"supply stress: --ttr must be >= 0"}
			}
			var net *supply.Network
			if *graph {
				g, err := graphNetwork(ctx, env, &tgt, *asOf, world.GraphOptions{DefaultTTRPeriods: *ttr})
				if err != nil {
					return err
				}
				net = g.Network
			} else {
				data, err := readInput(env, args[0])
				if err != nil {
					return err
				}
				if net, err = supply.DecodeNetwork(data); err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
			}
			res, err := supply.Stress(ctx, net, &supply.StressOptions{Workers: *workers})
			if err != nil {
				return err
			}
			periods := ""
			if *graph {
				periods = "days"
			}
			out := stressOutput{Scenarios: res, Legend: net.Legend(periods)}
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
	lg := out.Legend
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	p := lg.Periods
	fmt.Fprintf(tw, "scenario\tTTR (%s)\tTTS (%s)\tshortage (%s)\tlost (units)\tloss value\tREI (0–1)\texposed\t\n", p, p, p)
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
	fmt.Fprintln(w)
	if lg.DefaultTTRUsed {
		fmt.Fprintf(w, "TTR of every node alone: %g %s (%s)\n", lg.DefaultTTRPeriods, p, lg.DefaultTTRSource)
	}
	fmt.Fprintf(w, "REI: %s\nloss value: %s\n", lg.Definitions["rei"], lg.Units["loss_value"])
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
	progress := fs.Bool("progress", false, "show a Monte Carlo progress bar on stderr (shown anyway when stderr is a terminal)")
	graph := fs.Bool("graph", false, "build the network from the twin graph (GET /snapshot); the SCENARIO file, if any, supplies shocks, controls, policies and dates")
	asOf := fs.String("as-of", "", "with --graph: the graph as of this date (YYYY-MM-DD) or RFC 3339 time")
	baseline := fs.String("baseline", "", "with --runs: a baseline SCENARIO file; report the net benefit of SCENARIO (the mitigation) against it over the same runs (common random numbers); both need prices or costs")
	var tgt target
	tgt.flags(fs, false)
	return &command{
		name:      "run",
		usage:     "SCENARIO.json [--json] [--runs N --seed S [--baseline BASE.json]] [--workers N] [--progress] [--server URL] | --graph [--as-of DATE] [--server URL | --data DIR] [SCENARIO.json]",
		shortHelp: "simulate a scenario day by day (or a Monte Carlo study) and report KPIs per node",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if *graph && len(args) > 1 || !*graph && len(args) != 1 {
				return usageError{"supply run: want one SCENARIO file (optional with --graph)"}
			}
			if !*graph && (*asOf != "" || tgt.data != "") {
				return usageError{"supply run: --as-of and --data go with --graph"}
			}
			if !*graph && tgt.server != "" {
				if *baseline != "" || *runs == 1 {
					return usageError{"supply run: --server runs one run (--runs 0) or a study (--runs N, N ≥ 2), without --baseline"}
				}
				data, err := readInput(env, args[0])
				if err != nil {
					return err
				}
				return supplyRunRemote(ctx, env, &tgt, args[0], data, *runs, *seed, *asJSON)
			}
			if *runs < 0 {
				return usageError{"supply run: --runs must be >= 0"}
			}
			if *baseline != "" && *runs == 0 {
				return usageError{"supply run: --baseline needs --runs N (a study of both scenarios)"}
			}
			var data []byte
			if len(args) == 1 {
				var err error
				if data, err = readInput(env, args[0]); err != nil {
					return err
				}
			}
			var sc *supply.SimScenario
			var err error
			if *graph {
				if sc, err = graphScenario(ctx, env, &tgt, *asOf, data); err != nil {
					if len(args) == 1 {
						return fmt.Errorf("%s: %w", args[0], err)
					}
					return err
				}
			} else if sc, err = supply.DecodeScenario(data); err != nil {
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
			if *baseline != "" {
				return supplyCompare(ctx, env, *baseline, sc, supply.MCOptions{Runs: *runs, Seed: *seed, Workers: *workers}, *asJSON)
			}
			opts := supply.MCOptions{Runs: *runs, Seed: *seed, Workers: *workers}
			var bar *runBar
			if *progress || isTerminal(env.stderr) {
				bar = &runBar{w: env.stderr, start: time.Now()}
				opts.Progress = bar.update
			}
			res, err := supply.MonteCarlo(ctx, sc, opts)
			if bar != nil {
				bar.finish()
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

// compareOutput is the JSON document of `lodestone supply run --baseline`.
type compareOutput struct {
	Benefit    *supply.Benefit  `json:"benefit"`
	Baseline   *supply.MCResult `json:"baseline"`
	Mitigation *supply.MCResult `json:"mitigation"`
}

// supplyCompare runs the baseline file and the mitigation scenario over the
// same runs and prints the net benefit of the mitigation.
func supplyCompare(ctx context.Context, env *cliEnv, file string, mit *supply.SimScenario, opts supply.MCOptions, asJSON bool) error {
	data, err := readInput(env, file)
	if err != nil {
		return err
	}
	base, err := supply.DecodeScenario(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	b, rb, rm, err := supply.Compare(ctx, base, mit, opts)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(env.stdout, compareOutput{Benefit: b, Baseline: rb, Mitigation: rm})
	}
	fmt.Fprintf(env.stdout, "%d runs (seed %d, common random numbers), %s; differences baseline − mitigation, mean ± 95%% CI half-width\n\n", b.Runs, b.Seed, b.Currency)
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	for _, r := range []struct {
		name string
		d    supply.Dist
	}{{"net benefit", b.NetBenefit}, {"avoided cost of lost demand", b.AvoidedLostDemandCost}, {"avoided revenue at risk", b.AvoidedRevenueAtRisk},
		{"extra holding cost", b.ExtraHoldingCost}, {"mitigation cost", b.MitigationCost}, {"avoided lost demand (units)", b.AvoidedLost}} {
		fmt.Fprintf(tw, "%s\t%.6g\t± %.3g\t(P50 %.6g, P95 %.6g)\n", r.name, r.d.Mean, r.d.CI95, r.d.P50, r.d.P95)
	}
	return tw.Flush()
}

// graphScenario builds the scenario from the twin graph's network as of
// asOf and the scenario document doc (which may be empty: the baseline).
func graphScenario(ctx context.Context, env *cliEnv, tgt *target, asOf string, doc []byte) (*supply.SimScenario, error) {
	var head map[string]json.RawMessage
	if json.Unmarshal(doc, &head) == nil && head["network"] != nil {
		// Say so before calling the server.
		return world.GraphScenario(doc, nil)
	}
	g, err := graphNetwork(ctx, env, tgt, asOf, world.GraphOptions{})
	if err != nil {
		return nil, err
	}
	sc, err := world.GraphScenario(doc, g.Network)
	if err != nil {
		return nil, err
	}
	// The graph's network declares no input stocks or pipelines: it starts
	// at rest unless the document says otherwise.
	if _, ok := head["initial_state"]; !ok {
		sc.InitialState = supply.InitialAtRest
	}
	return sc, nil
}

// graphNetwork builds the per-day network of the twin graph as of asOf (a
// snapshot through the API) and reports on stderr what it is made of and
// which process-twin results it used.
func graphNetwork(ctx context.Context, env *cliEnv, tgt *target, asOf string, opts world.GraphOptions) (*world.GraphNetwork, error) {
	snap, err := graphSnapshot(ctx, tgt, asOf)
	var u usageError
	if errors.As(err, &u) {
		return nil, usageError{"supply: " + u.msg}
	}
	if err != nil {
		return nil, err
	}
	desc := "twin graph as of " + snap.AsOf.UTC().Format(time.RFC3339)
	opts.Description = desc
	g, err := world.NetworkFromTwins(snap.Twins, snap.Relationships, &opts)
	if err != nil {
		return nil, err
	}
	per := "per day"
	if opts.PerYear {
		per = "per year"
	}
	fmt.Fprintf(env.stderr, "network from the %s: %d nodes, %d arcs (%s)\n", desc, len(g.Network.Nodes), len(g.Network.Arcs), per)
	for _, p := range g.Process {
		if p.Used {
			fmt.Fprintf(env.stderr, "  %s: capacity %.6g t/yr and recovery %.4g from the process twin (%s, %s)\n", p.Node, p.CapacityTonnesPerYear, p.Recovery, p.ModelVersion, p.InputHash)
		} else {
			fmt.Fprintf(env.stderr, "  %s: process-twin result not used: %s\n", p.Node, p.Why)
		}
	}
	return g, nil
}

// runBar draws a Monte Carlo progress bar. Its update may be called from
// several goroutines at once.
type runBar struct {
	w     io.Writer
	start time.Time
	mu    sync.Mutex
	done  int
	drawn bool
}

func (b *runBar) update(done, total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if done < b.done || total <= 0 {
		return // workers report out of order
	}
	b.done = done
	frac := float64(done) / float64(total)
	el := time.Since(b.start)
	eta := ""
	if done > 0 && done < total {
		eta = "  ETA " + (time.Duration(float64(el) / frac * (1 - frac))).Round(time.Second).String()
	}
	n := int(frac * 30)
	fmt.Fprintf(b.w, "\r[%s%s] %5.1f%%  %d/%d runs  %s%s ", strings.Repeat("#", n), strings.Repeat(".", 30-n), 100*frac, done, total, el.Round(100*time.Millisecond), eta)
	b.drawn = true
}

func (b *runBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintln(b.w)
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
	fmt.Fprintln(tw, "node\tfirst stockout (date)\tstockout days\tfill rate (share)\tlost (units)")
	for _, id := range sortedIDs(res.Nodes) {
		k := res.Nodes[id]
		first := "-"
		if k.FirstStockout != nil {
			first = string(*k.FirstStockout)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.4f\t%.4g\n", id, first, k.StockoutDays, k.FillRate, k.Lost)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if c := res.Cost; c != nil {
		fmt.Fprintf(w, "\ncost (%s): revenue at risk %.6g, lost demand %.6g, holding %.6g, mitigation %.6g, total %.6g\n",
			c.Currency, c.RevenueAtRisk, c.LostDemandCost, c.HoldingCost, c.MitigationCost, c.Total)
	}
	return nil
}

func printMC(w io.Writer, res *supply.MCResult) error {
	fmt.Fprintf(w, "%d runs (seed %d), %d days from %s\n\n", res.Runs, res.Seed, res.Days, res.Start)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "node\tP(stockout)\tfill rate mean ± 95% CI (share)\tfill P50\tstockout days P90\tlost mean ± 95% CI (units)\tlost P95 (units)\tlost CVaR95 (units)")
	for _, id := range sortedIDs(res.Nodes) {
		k := res.Nodes[id]
		cvar := 0.0
		if k.Lost.CVaR95 != nil {
			cvar = *k.Lost.CVaR95
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%.4f ± %.2g\t%.4f\t%.4g\t%.4g ± %.2g\t%.4g\t%.4g\n", id, k.PStockout, k.FillRate.Mean, k.FillRate.CI95, k.FillRate.P50,
			k.StockoutDays.P90, k.Lost.Mean, k.Lost.CI95, k.Lost.P95, cvar)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if c := res.Cost; c != nil {
		fmt.Fprintf(w, "\ncost (%s, mean ± 95%% CI): revenue at risk %.6g ± %.3g, lost demand %.6g ± %.3g, holding %.6g ± %.3g, mitigation %.6g, total %.6g ± %.3g\n",
			c.Currency, c.RevenueAtRisk.Mean, c.RevenueAtRisk.CI95, c.LostDemandCost.Mean, c.LostDemandCost.CI95, c.HoldingCost.Mean, c.HoldingCost.CI95,
			c.MitigationCost.Mean, c.Total.Mean, c.Total.CI95)
	}
	return nil
}

// supplyRunRemote runs a SCENARIO document through the server (POST
// /scenarios; a study runs there or on its workers), waits for its end and
// prints its result as the local command would: the bytes of
// `lodestone supply run SCENARIO --runs N --seed S --json` with --json.
// Interrupted, it cancels the study (DELETE /scenarios/{id}).
func supplyRunRemote(ctx context.Context, env *cliEnv, tgt *target, name string, data []byte, runs int, seed uint64, asJSON bool) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if runs > 0 {
		doc["runs"], _ = json.Marshal(runs)
	}
	doc["seed"], _ = json.Marshal(seed)
	c, stop, err := tgt.connect(ctx)
	if err != nil {
		return err
	}
	defer stop()
	var run api.ScenarioRun
	if err := c.Do(ctx, "POST", "/scenarios", doc, &run); err != nil {
		return apiError(err)
	}
	for run.Status == api.RunRunning {
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = c.Do(dctx, "DELETE", "/scenarios/"+url.PathEscape(run.ID), nil, nil)
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if err := c.Do(ctx, "GET", "/scenarios/"+url.PathEscape(run.ID), nil, &run); err != nil && ctx.Err() == nil {
			return apiError(err)
		}
	}
	if run.Status != api.RunDone {
		return fmt.Errorf("supply run: run %s on the server is %s: %s", run.ID, run.Status, run.Error)
	}
	if runs == 0 {
		var res supply.Result
		if err := json.Unmarshal(run.Result, &res); err != nil {
			return fmt.Errorf("supply run: result of %s: %w", run.ID, err)
		}
		if asJSON {
			return writeJSON(env.stdout, &res)
		}
		return printRun(env.stdout, &res)
	}
	var res supply.MCResult
	if err := json.Unmarshal(run.Result, &res); err != nil {
		return fmt.Errorf("supply run: result of %s: %w", run.ID, err)
	}
	if asJSON {
		return writeJSON(env.stdout, &res)
	}
	return printMC(env.stdout, &res)
}
