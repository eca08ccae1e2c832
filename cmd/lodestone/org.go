package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"text/tabwriter"
	"time"

	"lodestone/api"
	"lodestone/client"
	"lodestone/org"
	"lodestone/world"
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
	graph := fs.Bool("graph", false, "read the network and the organisation (OrgActor and DecisionRule twins) from the twin graph (GET /snapshot); the SCENARIO file, if any, supplies shocks, controls, policies and dates")
	asOf := fs.String("as-of", "", "with --graph: the graph as of this date (YYYY-MM-DD) or RFC 3339 time")
	var tgt target
	tgt.flags(fs, false)
	return &command{
		name:      "run",
		usage:     "SCENARIO.json [--json] [--seed S] [--zero-latency=false] [--moved] [--server URL] | --graph [--as-of DATE] [--server URL | --data DIR] [SCENARIO.json]",
		shortHelp: "simulate a supply scenario with its organisation's rules: decisions, timeline, cost of slow decisions",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if *graph && len(args) > 1 || !*graph && len(args) != 1 {
				return usageError{"org run: want one SCENARIO file (optional with --graph)"}
			}
			if !*graph && (*asOf != "" || tgt.data != "") {
				return usageError{"org run: --as-of and --data go with --graph"}
			}
			var data []byte
			if len(args) == 1 {
				var err error
				if data, err = readInput(env, args[0]); err != nil {
					return err
				}
			}
			if !*graph && tgt.server != "" {
				q := url.Values{"seed": {strconv.FormatUint(*seed, 10)}, "zeroLatency": {strconv.FormatBool(*zero)}, "moved": {strconv.FormatBool(*moved)}}
				var res org.RunResult
				if err := orgRemote(ctx, tgt.server, args[0], "/org/run?"+q.Encode(), data, nil, &res); err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(env.stdout, &res)
				}
				return printOrgRun(env.stdout, &res)
			}
			var sc *org.Scenario
			var err error
			if *graph {
				sc, err = orgGraphScenario(ctx, env, &tgt, *asOf, data)
			} else {
				sc, err = org.DecodeScenario(data)
			}
			if err != nil {
				if len(args) == 1 {
					return fmt.Errorf("%s: %w", args[0], err)
				}
				return err
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

// orgGraphScenario builds the org SCENARIO of `org run --graph`: the
// network and the organisation of the twin graph as of asOf (one
// snapshot, so both are of the same moment) and the document doc, which
// may be empty and must carry neither network nor org
// (world.OrgGraphScenario).
func orgGraphScenario(ctx context.Context, env *cliEnv, tgt *target, asOf string, doc []byte) (*org.Scenario, error) {
	var head map[string]json.RawMessage
	if json.Unmarshal(doc, &head) == nil && (head["network"] != nil || head["org"] != nil) {
		// Say so before calling the server.
		return world.OrgGraphScenario(doc, nil, nil, nil)
	}
	snap, err := graphSnapshot(ctx, tgt, asOf)
	if err != nil {
		return nil, err
	}
	desc := "twin graph as of " + snap.AsOf.UTC().Format(time.RFC3339)
	g, err := world.NetworkFromTwins(snap.Twins, snap.Relationships, &world.GraphOptions{Description: desc})
	if err != nil {
		return nil, err
	}
	sc, err := world.OrgGraphScenario(doc, g.Network, snap.Twins, snap.Relationships)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(env.stderr, "network and organisation from the %s: %d nodes, %d arcs (per day), %d actors, %d rules\n", desc, len(g.Network.Nodes), len(g.Network.Arcs), len(sc.Org.Actors), len(sc.Org.Rules))
	for _, p := range g.Process {
		if p.Used {
			fmt.Fprintf(env.stderr, "  %s: capacity %.6g t/yr and recovery %.4g from the process twin (%s, %s)\n", p.Node, p.CapacityTonnesPerYear, p.Recovery, p.ModelVersion, p.InputHash)
		}
	}
	return sc, nil
}

// graphSnapshot reads the twin graph as of asOf (GET /snapshot).
func graphSnapshot(ctx context.Context, tgt *target, asOf string) (*api.Snapshot, error) {
	path := "/snapshot"
	if asOf != "" {
		if _, err := time.Parse(time.DateOnly, asOf); err != nil {
			if _, err := time.Parse(time.RFC3339Nano, asOf); err != nil {
				return nil, usageError{fmt.Sprintf("--as-of %q: want YYYY-MM-DD or an RFC 3339 time", asOf)}
			}
		}
		path += "?asOf=" + url.QueryEscape(asOf)
	}
	c, stop, err := tgt.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	var snap api.Snapshot
	if err := c.Do(ctx, "GET", path, nil, &snap); err != nil {
		return nil, apiError(err)
	}
	return &snap, nil
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
	srv := fs.String("server", "", "run the search on this server (POST /org/invest; on its workers when they answer) and print what the local command prints; $LODESTONE_TOKEN and $LODESTONE_CA as for the other remote commands")
	return &command{
		name:      "invest",
		usage:     "SPEC.json [--json] [--workers N] [--search S] [--server URL]",
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
			if *srv != "" {
				// The server checks the SPEC (its errors name the field);
				// the flags override the SPEC's fields there as here.
				set := map[string]any{}
				if *search != "" {
					set["search"] = *search
				}
				if *workers > 0 {
					set["workers"] = *workers
				}
				var res org.InvestResult
				if err := orgRemote(ctx, *srv, args[0], "/org/invest", data, set, &res); err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(env.stdout, &res)
				}
				return printInvest(env.stdout, &res)
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

// orgRemote posts the document data, read from the file name, to path on
// the server srv, with the top-level fields of set replacing the
// document's, and decodes the answer into out. The request has no client
// timeout: the server answers when the run or search is done, and an
// interrupt (ctx) closes the request, which stops the work on the server.
func orgRemote(ctx context.Context, srv, name, path string, data []byte, set map[string]any, out any) error {
	body := json.RawMessage(data)
	if len(set) > 0 {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(data, &doc); err != nil {
			return jsonError(name, data, err)
		}
		for k, v := range set {
			doc[k], _ = json.Marshal(v)
		}
		var err error
		if body, err = json.Marshal(doc); err != nil {
			return err
		}
	} else if !json.Valid(data) {
		var v any
		return jsonError(name, data, json.Unmarshal(data, &v))
	}
	hc, err := remoteHTTPClient(os.Getenv("LODESTONE_CA"))
	if err != nil {
		return err
	}
	if hc == nil {
		hc = &http.Client{}
	} else {
		long := *hc
		long.Timeout = 0
		hc = &long
	}
	c := client.New(srv, hc).WithToken(os.Getenv("LODESTONE_TOKEN"))
	if err := c.Do(ctx, "POST", path, body, out); err != nil {
		return apiError(err)
	}
	return nil
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
