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
	register(apiCommand("credibility", "ID [--json] [--server URL]",
		"grade a twin, or every twin of a model (a DTMI), by data, model and operational defensibility: each grade with its rule and the evidence it used",
		true, oneID("credibility: want one twin ID or model DTMI", runCredibility), nil))
}

// oneID is the apiRun of a command of one argument, an ID: with another
// number of arguments it fails with usage.
func oneID(usage string, run func(ctx context.Context, env *cliEnv, t *target, id string) error) apiRun {
	return func(ctx context.Context, env *cliEnv, t *target, _ *flag.FlagSet, args []string) error {
		if len(args) != 1 {
			return usageError{usage}
		}
		return run(ctx, env, t, args[0])
	}
}

// apiGet decodes the JSON answer to GET path from the server of t into v.
func apiGet(ctx context.Context, t *target, path string, v any) error {
	c, stop, err := t.connect(ctx)
	if err != nil {
		return err
	}
	defer stop()
	return c.Do(ctx, "GET", path, nil, v)
}

func runCredibility(ctx context.Context, env *cliEnv, t *target, id string) error {
	var rep credibility.Report
	if err := apiGet(ctx, t, "/credibility/"+url.PathEscape(id), &rep); err != nil {
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
