package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"lodestone/api"
	"lodestone/org/governance"
)

// lodestone governance: the proposal → review → approval workflow of the
// governed parts of the twin (docs/formats/governance.md), against a
// server (its principal is $LODESTONE_TOKEN's).
func init() {
	register(&command{
		name:      "governance",
		usage:     "<propose|review|approve|list|versions> [flags] [args]",
		shortHelp: "governance of the twin: propose a change, review it, approve it; list proposals and versions",
		sub:       []*command{govProposeCmd(), govReviewCmd(), govApproveCmd(), govListCmd(), govVersionsCmd()},
	})
}

func govProposeCmd() *command {
	fs := flag.NewFlagSet("lodestone governance propose", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	reason := fs.String("reason", "", "why the change is made (required)")
	return &command{
		name:      "propose",
		usage:     "CHANGE.json --reason TEXT [--json] [--server URL]",
		shortHelp: "propose a change (CHANGE: {\"op\", …} as docs/formats/governance.md; - reads standard input)",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"governance propose: want one CHANGE file"}
			}
			data, err := readInput(env, args[0])
			if err != nil {
				return err
			}
			var ch governance.Change
			if err := decodeJSONFile(args[0], data, &ch); err != nil {
				return err
			}
			if _, err := ch.Validate(); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if strings.TrimSpace(*reason) == "" {
				return usageError{"governance propose: --reason is required"}
			}
			var pr governance.Proposal
			if err := govDo(ctx, t, "POST", "/governance/proposals", api.GovernanceProposalRequest{Reason: *reason, Change: ch}, &pr); err != nil {
				return err
			}
			return govPrint(env.stdout, t, pr, func(w io.Writer) { printProposals(w, []governance.Proposal{pr}) })
		},
	}
}

func govReviewCmd() *command {
	fs := flag.NewFlagSet("lodestone governance review", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	verdict := fs.String("verdict", governance.VerdictApprove, "approve or reject")
	comment := fs.String("comment", "", "the review's comment")
	return &command{
		name:      "review",
		usage:     "PROPOSAL-ID [--verdict approve|reject] [--comment TEXT] [--json] [--server URL]",
		shortHelp: "review a proposal (not your own)",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"governance review: want one PROPOSAL-ID"}
			}
			var pr governance.Proposal
			body := api.GovernanceReviewRequest{Verdict: *verdict, Comment: *comment}
			if err := govDo(ctx, t, "POST", "/governance/proposals/"+url.PathEscape(args[0])+"/reviews", body, &pr); err != nil {
				return err
			}
			return govPrint(env.stdout, t, pr, func(w io.Writer) { printProposals(w, []governance.Proposal{pr}) })
		},
	}
}

func govApproveCmd() *command {
	fs := flag.NewFlagSet("lodestone governance approve", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	return &command{
		name:      "approve",
		usage:     "PROPOSAL-ID [--json] [--server URL]",
		shortHelp: "approve a reviewed proposal (admin, not its author): the change is applied and becomes a version",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"governance approve: want one PROPOSAL-ID"}
			}
			var ap api.GovernanceApproval
			if err := govDo(ctx, t, "POST", "/governance/proposals/"+url.PathEscape(args[0])+"/approve", nil, &ap); err != nil {
				return err
			}
			return govPrint(env.stdout, t, ap, func(w io.Writer) { printVersions(w, []governance.Version{ap.Version}) })
		},
	}
}

func govListCmd() *command {
	fs := flag.NewFlagSet("lodestone governance list", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	status := fs.String("status", "", "only proposals in this state (open, approved, applied, failed)")
	return &command{
		name:      "list",
		usage:     "[--status S] [--json] [--server URL]",
		shortHelp: "list proposals, oldest first",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 0 {
				return usageError{"governance list: takes no arguments"}
			}
			path := "/governance/proposals"
			if *status != "" {
				path += "?status=" + url.QueryEscape(*status)
			}
			var out api.GovernanceProposalList
			if err := govDo(ctx, t, "GET", path, nil, &out); err != nil {
				return err
			}
			return govPrint(env.stdout, t, out, func(w io.Writer) { printProposals(w, out.Proposals) })
		},
	}
}

func govVersionsCmd() *command {
	fs := flag.NewFlagSet("lodestone governance versions", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	return &command{
		name:      "versions",
		usage:     "[N] [--json] [--server URL]",
		shortHelp: "the approved changes (versions); with N, version N and its subject as of its time",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			switch len(args) {
			case 0:
				var out api.GovernanceVersionList
				if err := govDo(ctx, t, "GET", "/governance/versions", nil, &out); err != nil {
					return err
				}
				return govPrint(env.stdout, t, out, func(w io.Writer) { printVersions(w, out.Versions) })
			case 1:
				n, err := strconv.Atoi(args[0])
				if err != nil || n < 1 {
					return usageError{fmt.Sprintf("governance versions: %q is not a version number", args[0])}
				}
				var v json.RawMessage
				if err := govDo(ctx, t, "GET", "/governance/versions/"+args[0], nil, &v); err != nil {
					return err
				}
				var any any
				if err := json.Unmarshal(v, &any); err != nil {
					return err
				}
				return printJSON(env.stdout, any)
			}
			return usageError{"governance versions: want at most one version number"}
		},
	}
}

func govDo(ctx context.Context, t *target, method, path string, in, out any) error {
	c, stop, err := t.connect(ctx)
	if err != nil {
		return err
	}
	defer stop()
	return apiError(c.Do(ctx, method, path, in, out))
}

func govPrint(w io.Writer, t *target, v any, table func(io.Writer)) error {
	if t.json {
		return printJSON(w, v)
	}
	table(w)
	return nil
}

func printProposals(w io.Writer, ps []governance.Proposal) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tOP\tSUBJECT\tGOVERNED\tAUTHOR\tREVIEWS\tVERSION\tREASON")
	for _, p := range ps {
		var rv []string
		for _, r := range p.Reviews {
			rv = append(rv, r.By+":"+r.Verdict)
		}
		ver := "-"
		if p.Version > 0 {
			ver = strconv.Itoa(p.Version)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Status, p.Change.Op, p.Subject, dash(p.Governed), p.Author, dash(strings.Join(rv, ",")), ver, p.Reason)
		if p.LastError != "" {
			fmt.Fprintf(tw, "\t  error: %s\n", p.LastError)
		}
	}
	tw.Flush()
}

func printVersions(w io.Writer, vs []governance.Version) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "N\tTIME (asOf)\tOP\tSUBJECT\tAUTHOR\tREVIEWERS\tAPPROVER\tCREDIBILITY\tREASON")
	for _, v := range vs {
		var grades []string
		for _, e := range v.Evidence {
			g := e.Note
			if len(e.Grades) > 0 {
				g = fmt.Sprintf("%s data %s model %s ops %s", e.Subject, e.Grades["data"], e.Grades["model"], e.Grades["operational"])
			}
			grades = append(grades, g)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.N, v.Time.UTC().Format(time.RFC3339Nano), v.Op, v.Subject, v.Author,
			dash(strings.Join(v.Reviewers, ",")), v.Approver, dash(strings.Join(grades, "; ")), v.Reason)
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
