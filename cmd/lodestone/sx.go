package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"lodestone/process/chem"
	"lodestone/process/sx"
)

// The sx command groups the solvent-extraction tools. Its children live in
// sxCommand.sub; other files append theirs from their own init (design,
// dynamic): sxCommand is a pointer built before any init runs, so the
// order of the init functions does not matter.
var sxCommand = &command{
	name:      "sx",
	shortHelp: "solvent-extraction cascades: simulate a steady state, fit equilibrium constants",
}

func init() {
	simFlags := flag.NewFlagSet("lodestone sx simulate", flag.ContinueOnError)
	simJSON := simFlags.Bool("json", false, "print the result as JSON (docs/formats/sx-simulate.md)")
	fitFlags := flag.NewFlagSet("lodestone sx fit", flag.ContinueOnError)
	fitJSON := fitFlags.Bool("json", false, "print the result as JSON")
	source := fitFlags.String("source", "", "use only rows whose label starts with this (e.g. \"Lyon (2016)\")")
	maxH0 := fitFlags.Float64("max-h0", 0, "use only rows with initial H+ at most this (mol/L); 0 means no limit")
	single := fitFlags.Bool("single-element", false, "use only rows with one element in the feed")
	sxCommand.sub = append(sxCommand.sub,
		&command{
			name:      "simulate",
			usage:     "SPEC.json [--json]",
			shortHelp: "steady state of a cascade: stage profiles, outlets, recovery, purity, reagents (SPEC - reads stdin)",
			flags:     simFlags,
			exec: func(ctx context.Context, env *cliEnv, args []string) error {
				return sxSimulate(ctx, env, args, *simJSON)
			},
		},
		&command{
			name:      "fit",
			usage:     "DATA.csv [--json] [--source LABEL] [--max-h0 M] [--single-element]",
			shortHelp: "fit mass-action log K per element to measured batch D (LLEPE CSV), with leave-one-out error",
			flags:     fitFlags,
			exec: func(ctx context.Context, env *cliEnv, args []string) error {
				return sxFit(ctx, env, args, fitOptions{json: *fitJSON, source: *source, maxH0: *maxH0, single: *single})
			},
		},
	)
	register(sxCommand)
}

func readSXInput(env *cliEnv, cmd, what string, args []string) ([]byte, error) {
	if len(args) != 1 {
		return nil, usageError{fmt.Sprintf("sx %s: want exactly one %s argument, got %d", cmd, what, len(args))}
	}
	if args[0] == "-" {
		if env.stdin == nil {
			return nil, fmt.Errorf("sx %s: no standard input", cmd)
		}
		return io.ReadAll(env.stdin)
	}
	return os.ReadFile(args[0])
}

func sxSimulate(ctx context.Context, env *cliEnv, args []string, asJSON bool) error {
	data, err := readSXInput(env, "simulate", "SPEC.json", args)
	if err != nil {
		return err
	}
	spec, err := sx.ParseSpec(data)
	if err != nil {
		return err
	}
	c, err := spec.Case()
	if err != nil {
		return err
	}
	res, solveErr := sx.Solve(ctx, c.Problem, nil)
	var ce *sx.ConvergenceError
	if solveErr != nil && !errors.As(solveErr, &ce) {
		return solveErr
	}
	out := c.Output(res)
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else if err := printSX(env.stdout, c, out); err != nil {
		return err
	}
	if ce != nil {
		fmt.Fprintln(env.stderr, "lodestone:", ce)
		return exitError{code: 1}
	}
	return nil
}

// printSX writes the human report: status, outlets and a stage table.
func printSX(w io.Writer, c *sx.Case, o *sx.Output) error {
	fmt.Fprintf(w, "%s: %d stages, model %s, %s media; %s after %d iterations, closure %.2g\n",
		map[bool]string{true: "converged", false: "NOT CONVERGED"}[o.Converged], len(o.Stages), o.Model, o.Media, o.Status, o.Iterations, o.ClosureMax)
	var metals []string
	for _, comp := range c.Problem.Components {
		metals = append(metals, comp.Name)
	}
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "stage\tpH\t")
	for _, m := range metals {
		fmt.Fprintf(tw, "%s aq\t%s org\t", m, m)
	}
	fmt.Fprintln(tw, "mg/L\t")
	for _, st := range o.Stages {
		fmt.Fprintf(tw, "%d\t%.3f\t", st.Stage, st.PH)
		for _, m := range metals {
			fmt.Fprintf(tw, "%.4g\t%.4g\t", st.Aqueous[m], st.Organic[m])
		}
		fmt.Fprintln(tw, "\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "raffinate (stage 1): %.4g L/h; extract (stage %d): %.4g L/h\n", o.Outlets.Aqueous.Flow, o.Outlets.Organic.Stage, o.Outlets.Organic.Flow)
	tw = tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "element\trecovery aq\trecovery org\tpurity aq\tpurity org\t")
	for _, m := range metals {
		if _, ok := o.Recovery["aqueous"][m]; !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t\n", m, o.Recovery["aqueous"][m], o.Recovery["organic"][m], o.Purity["aqueous"][m], o.Purity["organic"][m])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	r := o.Reagents
	_, err := fmt.Fprintf(w, "acid in %.4g, out %.4g, consumed %.4g mol/h; base %.4g mol/h; extractant %.4g mol/h HA\n",
		r.AcidIn, r.AcidOut, r.AcidConsumed, r.Base, r.ExtractantIn)
	return err
}

type fitOptions struct {
	json   bool
	source string
	maxH0  float64
	single bool
}

// fitOutput is the JSON result of sx fit.
type fitOutput struct {
	Points      int              `json:"points"`
	Elements    []fitElementJSON `json:"elements"`
	Assumptions []string         `json:"assumptions"`
}

type fitElementJSON struct {
	Element   string    `json:"element"`
	LogK      float64   `json:"log_K"`
	Points    int       `json:"points"`
	FitRMS    float64   `json:"fit_rms_log_D"`
	LOORMS    float64   `json:"loo_rms_log_D"`
	LOOMax    float64   `json:"loo_max_log_D"`
	LOOErrors []float64 `json:"loo_errors_log_D"`
}

func sxFit(ctx context.Context, env *cliEnv, args []string, opt fitOptions) error {
	data, err := readSXInput(env, "fit", "DATA.csv", args)
	if err != nil {
		return err
	}
	if opt.maxH0 < 0 {
		return usageError{"sx fit: --max-h0 is negative"}
	}
	all, err := sx.DecodeLLEPE(data)
	if err != nil {
		return err
	}
	var pts []sx.BatchPoint
	for _, p := range all {
		if opt.source != "" && !strings.HasPrefix(p.Label, opt.source) {
			continue
		}
		if opt.maxH0 > 0 && p.H0 > opt.maxH0 {
			continue
		}
		if opt.single && len(p.Feed) != 1 {
			continue
		}
		if len(p.D) == 0 {
			continue
		}
		for e := range p.Feed {
			if el, err := chem.Lookup(e); err != nil || !el.IsRareEarth() {
				return fmt.Errorf("sx fit: row %q: %q is not a rare-earth element", p.Label, e)
			}
		}
		pts = append(pts, p)
	}
	if len(pts) == 0 {
		return fmt.Errorf("sx fit: no rows with a measured D left after filtering")
	}
	res, err := sx.Fit(ctx, pts)
	if err != nil {
		return err
	}
	out := fitOutput{Points: len(pts), Assumptions: []string{
		"ideal mass action on the dimer basis: M3+ + 3(HA)2 = M(HA2)3 + 3H+, D = K([(HA)2]free/[H+])^3",
		"free extractant depleted by loading (6 HA per M3+), 3 H+ released per M3+ extracted",
		"initial H+ is the column \"Feed H+[M]\"; O/A = 1 (the phase ratio is not in the data)",
		"log K by least squares in log10 D; leave-one-out refits without each row and predicts it",
	}}
	for _, e := range res.Elements {
		out.Elements = append(out.Elements, fitElementJSON{e.Element, e.LogK, e.Points, e.FitRMS, e.LOORMS, e.LOOMax, e.LOOErrors})
	}
	sort.Slice(out.Elements, func(i, j int) bool { return out.Elements[i].Element < out.Elements[j].Element })
	if opt.json {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(env.stdout, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "element\tpoints\tlog K\tfit RMS log D\tLOO RMS log D\tLOO max\t")
	for _, e := range out.Elements {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t\n", e.Element, e.Points, e.LogK, e.FitRMS, e.LOORMS, e.LOOMax)
	}
	return tw.Flush()
}
