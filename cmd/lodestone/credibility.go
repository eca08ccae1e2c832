package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"

	"lodestone/trust/credibility"
)

func init() {
	fs := flag.NewFlagSet("lodestone credibility", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	register(&command{
		name:      "credibility",
		usage:     "ID [--json] [--server URL]",
		shortHelp: "grade a twin, or every twin of a model (a DTMI), by data, model and operational defensibility: each grade with its rule and the evidence it used",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) != 1 {
				return usageError{"credibility: want one twin ID or model DTMI"}
			}
			return apiError(runCredibility(ctx, env, t, args[0]))
		},
	})
}

func runCredibility(ctx context.Context, env *cliEnv, t *target, id string) error {
	c, stop, err := t.connect(ctx)
	if err != nil {
		return err
	}
	defer stop()
	var rep credibility.Report
	if err := c.Do(ctx, "GET", "/credibility/"+url.PathEscape(id), nil, &rep); err != nil {
		return err
	}
	if t.json {
		return printJSON(env.stdout, rep)
	}
	printCredibility(env.stdout, rep)
	return nil
}

// printCredibility prints each filter's grade, why, the evidence and the
// rule.
func printCredibility(w io.Writer, rep credibility.Report) {
	fmt.Fprintf(w, "Credibility of %s %s (%d twins), %s\n", rep.Kind, rep.Subject, rep.Twins, rep.GeneratedAt)
	for _, f := range rep.Filters {
		fmt.Fprintf(w, "\n%s: %s — %s\n", f.Name, f.Grade, f.Why)
		for _, e := range f.Evidence {
			line := fmt.Sprintf("  %s: %v", e.Name, e.Value)
			if e.Value == nil {
				line = fmt.Sprintf("  %s: none", e.Name)
			} else if e.Unit != "" {
				line += " " + e.Unit
			}
			if cs, ok := e.Value.([]any); ok && e.Name == "validationCases" {
				line = fmt.Sprintf("  %s: %d", e.Name, len(cs))
				for _, c := range cs {
					m, _ := c.(map[string]any)
					line += fmt.Sprintf("\n    %v: computed %v, expected %v (%v), residual %.3g, tolerance %v, passed %v",
						m["name"], m["computed"], m["expected"], m["reference"], m["residual"], m["tolerance"], m["passed"])
				}
			}
			if e.Detail != "" {
				line += " (" + e.Detail + ")"
			}
			fmt.Fprintln(w, line)
		}
		fmt.Fprintf(w, "  rule: %s\n", f.Rule)
	}
}
