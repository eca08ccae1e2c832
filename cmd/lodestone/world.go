package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"lodestone/supply"
	"lodestone/world"
)

func init() {
	register(&command{
		name:      "world",
		usage:     "<show|shares|network|prices> [flags]",
		shortHelp: "the default mine-to-magnet world (2024) with its sources",
		sub:       []*command{worldShowCmd(), worldSharesCmd(), worldNetworkCmd(), worldPricesCmd()},
	})
}

// worldJSON writes v as indented JSON.
func worldJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func worldLoad() (*world.World, error) {
	w, err := world.Load()
	if err != nil {
		return nil, fmt.Errorf("load default world: %w", err)
	}
	return w, nil
}

// worldResetFlags puts a flag set back to its defaults after a run: the
// command table lives for the whole process, and tests run many commands.
func worldResetFlags(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) { _ = f.Value.Set(f.DefValue) })
}

func worldNoArgs(path string, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q", path, args[0])}
	}
	return nil
}

func worldShowCmd() *command {
	fs := flag.NewFlagSet("lodestone world show", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the whole data set as JSON (every number with its source)")
	return &command{
		name:      "show",
		usage:     "[--json]",
		shortHelp: "print the default world: nodes, values and their sources",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer worldResetFlags(fs)
			if err := worldNoArgs("world show", args); err != nil {
				return err
			}
			w, err := worldLoad()
			if err != nil {
				return err
			}
			if *asJSON {
				return worldJSON(env.stdout, w)
			}
			return printWorld(env.stdout, w)
		},
	}
}

// worldMarks returns the provenance marks of a quantity: d derived, a assumption.
func worldMarks(q *world.Quantity) string {
	if q == nil {
		return ""
	}
	s := ""
	if q.Derived {
		s += "d"
	}
	if q.Assumption {
		s += "a"
	}
	return s
}

func worldTonnes(q *world.Quantity) string {
	if q == nil {
		return "-"
	}
	return strconv.FormatFloat(q.Value, 'f', -1, 64) + worldMarkSuffix(q)
}

func worldMarkSuffix(q *world.Quantity) string {
	if f := worldMarks(q); f != "" {
		return " (" + f + ")"
	}
	return ""
}

func printWorld(out io.Writer, w *world.World) error {
	fmt.Fprintf(out, "%s\n\n", w.Name)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "node\tstage\tcountry\toperator\tcapacity t/yr\tdemand t/yr\tinventory t\tsource")
	for i := range w.Nodes {
		n := &w.Nodes[i]
		src := ""
		for _, q := range []*world.Quantity{n.CapacityTonnesPerYear, n.DemandTonnesPerYear, n.TargetCoverDays} {
			if q != nil {
				src = q.Source
				break
			}
		}
		op := n.Operator
		if r := []rune(op); len(r) > 32 {
			op = string(r[:31]) + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.ID, n.Stage, n.Country, op,
			worldTonnes(n.CapacityTonnesPerYear), worldTonnes(n.DemandTonnesPerYear), worldTonnes(n.InventoryTonnes), src)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\n(d) derived by arithmetic, (a) modelling assumption: `lodestone world show --json` has the formulas and reasons.")
	fmt.Fprintf(out, "\n%d arcs; materials:", len(w.Arcs))
	for _, m := range w.Materials {
		fmt.Fprintf(out, " %s", m.Code)
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "\nmagnet grades (mass fractions):")
	for _, g := range w.Grades {
		fmt.Fprintf(out, "  %s:", g.Code)
		for _, k := range []string{"NdPr", "Dy", "Tb", "B", "Co", "Fe"} {
			if q, ok := g.Composition[k]; ok {
				fmt.Fprintf(out, " %s %g%s", k, q.Value, worldMarkSuffix(&q))
			}
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintln(out, "\nproducers of the USGS table absent from the network:")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, a := range w.Absent {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Country, a.Name, a.Reason, a.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nrequired parameters (no default):")
	for _, p := range w.RequiredParameters {
		fmt.Fprintf(out, "  %s (%s): %s; %s\n", p.Name, p.AppliesTo, p.Description, p.Why)
	}
	fmt.Fprintln(out, "\nmissing from the research note:")
	for _, m := range w.Missing {
		fmt.Fprintf(out, "  - %s\n", m)
	}
	fmt.Fprintln(out, "\nsources:")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, k := range worldSourceKeys(w.Sources) {
		fmt.Fprintf(tw, "  [%s]\t%s\n", k, w.Sources[k])
	}
	return tw.Flush()
}

func worldSourceKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Natural order: S6 < S10 < S10b.
	less := func(a, b string) bool {
		na, ra := worldSplitKey(a)
		nb, rb := worldSplitKey(b)
		if na != nb {
			return na < nb
		}
		return ra < rb
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && less(keys[j], keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// worldSplitKey splits "S10b" into 10 and "b"; keys without a number sort last.
func worldSplitKey(k string) (int, string) {
	s := strings.TrimPrefix(k, "S")
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || s == k {
		return 1 << 30, k
	}
	return n, s[i:]
}

// sharesOutput is the JSON document of `lodestone world shares --json`.
type sharesOutput struct {
	Stages []world.StageShare `json:"stages"`
}

func worldSharesCmd() *command {
	fs := flag.NewFlagSet("lodestone world shares", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	return &command{
		name:      "shares",
		usage:     "[--json]",
		shortHelp: "China's share of each stage from the data, next to the published figures",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer worldResetFlags(fs)
			if err := worldNoArgs("world shares", args); err != nil {
				return err
			}
			w, err := worldLoad()
			if err != nil {
				return err
			}
			shares := w.StageShares()
			if *asJSON {
				return worldJSON(env.stdout, sharesOutput{Stages: shares})
			}
			tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "stage\tChina t/yr\tworld t/yr\tChina share\tpublished\tyear\tdiff pp\tindependent\tpublished source")
			for _, s := range shares {
				pub, year, diff, src := "-", "-", "-", ""
				if p := s.Published; p != nil {
					pub = fmt.Sprintf("%.1f%%", 100*p.Value)
					year = strconv.Itoa(p.Year)
					diff = fmt.Sprintf("%+.1f", 100*(s.Share-p.Value))
					src = p.Source
				}
				ind := "no (sized from the share)"
				if s.Independent {
					ind = "yes"
				}
				fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.1f%%\t%s\t%s\t%s\t%s\t%s\n", s.Stage, s.ChinaTonnesPerYear, s.WorldTonnesPerYear, 100*s.Share, pub, year, diff, ind, src)
			}
			return tw.Flush()
		},
	}
}

func worldNetworkCmd() *command {
	fs := flag.NewFlagSet("lodestone world network", flag.ContinueOnError)
	fs.Bool("json", true, "print JSON (the only format; accepted for symmetry)")
	perYear := fs.Bool("per-year", false, "quantities per year instead of per day (annual / 365)")
	level := fs.String("level", "aggregate", "aggregate or element (element needs --reo-split)")
	splitFile := fs.String("reo-split", "", `JSON file {"MINE-ID": {"NdPr": f, "Dy": f, "Tb": f}}: oxide mass fractions of each mine's REO (no default exists)`)
	grade := fs.String("grade", "", "magnet grade of the element-level network (default "+world.DefaultGrade+")")
	ttr := fs.Float64("ttr", 0, "default_ttr_periods of the stress test, in the network's periods (0: the engine's default)")
	scenario := fs.String("scenario", "", "write a SCENARIO for `lodestone supply run` instead: baseline, april-2025, october-2025 or november-2025")
	start := fs.String("start", string(world.DefaultStart), "first day of a --scenario")
	days := fs.Int("days", 0, "length of a --scenario in days (0: five years)")
	withPrices := fs.Bool("prices", false, "with --scenario: add the world's sourced prices (lodestone world prices) as the scenario's prices")
	outFile := fs.String("o", "", "write to this file instead of standard output")
	graph := fs.Bool("graph", false, "the network of the twin graph (facility twins and feeds edges, GET /snapshot) instead of the embedded data")
	asOf := fs.String("as-of", "", "with --graph: the graph as of this date (YYYY-MM-DD) or RFC 3339 time")
	var tgt target
	tgt.flags(fs, false)
	stock := map[supply.NodeID]float64{}
	fs.Func("stockpile", "ID=TONNES: holdings of a stockpile node (repeatable; holdings were not retrieved, so they default to 0)", func(s string) error {
		id, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("want ID=TONNES, got %q", s)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("tonnes of %s: %w", id, err)
		}
		stock[supply.NodeID(id)] = f
		return nil
	})
	return &command{
		name:      "network",
		usage:     "[--per-year] [--level aggregate|element --reo-split FILE --grade G] [--stockpile ID=T] [--ttr N] [--scenario NAME --start DATE --days N --prices] [-o FILE] | --graph [--as-of DATE] [--server URL | --data DIR] [--per-year] [--stockpile ID=T] [--ttr N] [-o FILE]",
		shortHelp: "write the default world as a NETWORK for `lodestone supply stress` (or a SCENARIO for `supply run`)",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer func() {
				worldResetFlags(fs)
				clear(stock)
			}()
			if err := worldNoArgs("world network", args); err != nil {
				return err
			}
			if !*graph && (*asOf != "" || tgt.server != "" || tgt.data != "") {
				return usageError{"world network: --as-of, --server and --data go with --graph"}
			}
			var doc any
			if *graph {
				if *scenario != "" || *splitFile != "" || *grade != "" || *level != string(world.LevelAggregate) {
					return usageError{"world network: --graph builds the aggregate network only (no --scenario, --level, --reo-split or --grade)"}
				}
				g, err := graphNetwork(ctx, env, &tgt, *asOf, world.GraphOptions{PerYear: *perYear, StockpileTonnes: stock, DefaultTTRPeriods: *ttr})
				if err != nil {
					return err
				}
				doc = g.Network
				return writeWorldDoc(env, *outFile, doc)
			}
			w, err := worldLoad()
			if err != nil {
				return err
			}
			opts := world.NetworkOptions{
				PerYear: *perYear, Level: world.Level(*level), Grade: *grade,
				StockpileTonnes: stock, DefaultTTRPeriods: *ttr,
			}
			if *splitFile != "" {
				data, err := os.ReadFile(*splitFile)
				if err != nil {
					return err
				}
				if err := json.Unmarshal(data, &opts.REOSplit); err != nil {
					return fmt.Errorf("%s: %w", *splitFile, err)
				}
			}
			if *withPrices && *scenario == "" {
				return usageError{"world network: --prices goes with --scenario"}
			}
			if *scenario != "" {
				doc, err = w.Scenario(*scenario, &world.ScenarioOptions{Start: supply.Date(*start), Days: *days, Network: opts, Prices: *withPrices})
			} else {
				doc, err = w.Network(&opts)
			}
			if err != nil {
				return err
			}
			return writeWorldDoc(env, *outFile, doc)
		},
	}
}

// writeWorldDoc writes doc as JSON to the file name, or to standard output
// when name is empty.
func writeWorldDoc(env *cliEnv, name string, doc any) error {
	if name == "" {
		return worldJSON(env.stdout, doc)
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := worldJSON(f, doc); err != nil {
		return err
	}
	return f.Close()
}

// pricesOutput is the JSON document of `lodestone world prices --json`:
// the shape of data/prices.json and of a supply scenario's prices input.
type pricesOutput struct {
	Prices []world.Price `json:"prices"`
}

func worldPricesCmd() *command {
	fs := flag.NewFlagSet("lodestone world prices", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, `print JSON {"prices": [...]}, the prices input of a supply scenario`)
	material := fs.String("material", "", "only the prices of this material (e.g. NdPr-oxide, Dy-oxide)")
	return &command{
		name:      "prices",
		usage:     "[--material CODE] [--json]",
		shortHelp: "the sourced material prices of the default world (USD/kg, dated)",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer worldResetFlags(fs)
			if err := worldNoArgs("world prices", args); err != nil {
				return err
			}
			all, err := world.Prices()
			if err != nil {
				return err
			}
			prices := all[:0:0]
			for _, p := range all {
				if *material == "" || p.Material == *material {
					prices = append(prices, p)
				}
			}
			if len(prices) == 0 {
				return fmt.Errorf("world prices: no price of material %q in the data", *material)
			}
			if *asJSON {
				return worldJSON(env.stdout, pricesOutput{Prices: prices})
			}
			tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "material\tcountry\tprice\tdate\tsource")
			for _, p := range prices {
				fmt.Fprintf(tw, "%s\t%s\t%s %s/%s\t%s\t%s\n", p.Material, p.Country,
					strconv.FormatFloat(p.Price, 'f', -1, 64), p.Currency, p.Unit, p.Date, p.Source)
			}
			return tw.Flush()
		},
	}
}
