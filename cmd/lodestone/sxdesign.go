package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"lodestone/process/sx/design"
)

func init() {
	fs := flag.NewFlagSet("lodestone sx design", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the result as JSON (docs/formats/sx-design.md)")
	sxCommand.sub = append(sxCommand.sub, &command{
		name:      "design",
		usage:     "SPEC.json [--json]",
		shortHelp: "binary cascade design by Xu's theory: regime, minimum and optimum flows, stage counts, rigorous check (SPEC - reads stdin)",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			return sxDesign(ctx, env, args, *asJSON)
		},
	})
}

func sxDesign(ctx context.Context, env *cliEnv, args []string, asJSON bool) error {
	data, err := readSXInput(env, "design", "SPEC.json", args)
	if err != nil {
		return err
	}
	spec, cut, err := design.ParseRequest(data)
	if err != nil {
		return err
	}
	var out *design.Output
	if cut != nil {
		out, err = design.RunCut(ctx, *cut)
		if err == nil {
			spec = out.Spec()
		}
	} else {
		out, err = design.Run(ctx, spec)
	}
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return printDesign(env.stdout, spec, out)
}

// printDesign writes the human report of a design.
func printDesign(w io.Writer, s design.Spec, o *design.Output) error {
	if c := o.Cut; c != nil {
		fmt.Fprintf(w, "cut with key pair %s/%s:", c.KeyA, c.KeyB)
		for _, comp := range c.Components {
			fmt.Fprintf(w, " %s (%s, D %g, recovery %.4f)", comp.Name, comp.Group, comp.D, comp.Recovery)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "binary split, β = %g, f_A = %g, %s feed: %s\n", s.Beta, s.FeedFractionA, s.Feed, o.Regime)
	fmt.Fprintf(w, "f'_A = %.4f   a = %.4g   b = %.4g   N_min = %.2f\n", o.FAPrime, o.A, o.B, o.NMin)
	fmt.Fprintf(w, "organic S = %.4f (min %.4f)   scrub W = %.4f (min %.4f)   mol RE per mol fed\n", o.S, o.SMin, o.W, o.WMin)
	fmt.Fprintf(w, "E_M = %.4f (extraction)   E'_M = %.4f (scrub)\n", o.EExtraction, o.EScrub)
	fmt.Fprintf(w, "stages: extraction n = %d (%.2f), scrub m = %d (%.2f), feed at stage %d\n", o.N, o.NExact, o.M, o.MExact, o.FeedStage)
	c := o.Check.Stages
	fmt.Fprintf(w, "rigorous check (%s) at %d+%d stages: purity A %.5f, purity B %.5f, recovery A %.4f, recovery B %.4f, targets met: %v\n",
		o.Check.Model, c.N, c.M, c.PurityA, c.PurityB, c.RecoveryA, c.RecoveryB, c.Meets)
	if r := o.Check.Required; r != nil {
		_, err := fmt.Fprintf(w, "fewest stages meeting the targets at these flows: n = %d, m = %d (purity A %.5f, B %.5f)\n", r.N, r.M, r.PurityA, r.PurityB)
		return err
	}
	_, err := fmt.Fprintf(w, "no stage count up to 500 meets the targets: %s\n", o.Check.Note)
	return err
}
