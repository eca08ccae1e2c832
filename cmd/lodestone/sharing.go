package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"lodestone/api"
	"lodestone/trust/tenancy"
)

// lodestone sharing: the sharing agreements of a server with --auth
// (docs/formats/sharing.md). put, list, get and delete call PUT, GET and
// DELETE /sharing as the principal of $LODESTONE_TOKEN.
func init() {
	register(&command{
		name:      "sharing",
		usage:     "<put|list|get|delete> [flags] [args]",
		shortHelp: "sharing agreements between orgs: show another org the twins of some models, with only some properties and relationships",
		sub:       []*command{sharingPutCmd(), sharingListCmd(), sharingGetCmd(), sharingDeleteCmd()},
	})
}

// splitList splits a comma-separated flag value; "" gives none.
func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func sharingPutCmd() *command {
	fs := flag.NewFlagSet("lodestone sharing put", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	to := fs.String("to", "", "the org that receives read access (required)")
	models := fs.String("models", "", "comma-separated DTMIs of your org's models whose twins are shared (required)")
	props := fs.String("properties", "", "comma-separated property and telemetry names shown")
	rels := fs.String("relationships", "", "comma-separated relationship names shown")
	purpose := fs.String("purpose", "", "why, for the people who read the agreement")
	expires := fs.String("expires", "", "RFC 3339 time the agreement ends (default: until deleted)")
	return &command{
		name:      "put",
		usage:     "ID --to ORG --models DTMI,… [--properties P,…] [--relationships R,…] [--purpose TEXT] [--expires RFC3339] [--json] [--server URL]",
		shortHelp: "create or replace a sharing agreement of your org (admin)",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"sharing put: want exactly one agreement ID"}
			}
			req := api.AgreementRequest{ToOrg: *to, Models: splitList(*models), Properties: splitList(*props), Relationships: splitList(*rels), Purpose: *purpose}
			if req.ToOrg == "" || len(req.Models) == 0 {
				return usageError{"sharing put: --to and --models are required"}
			}
			if *expires != "" {
				e, err := time.Parse(time.RFC3339, *expires)
				if err != nil {
					return usageError{fmt.Sprintf("sharing put: --expires %q is not an RFC 3339 time", *expires)}
				}
				req.Expires = e
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			var ag tenancy.Agreement
			if err := c.Do(ctx, "PUT", "/sharing/"+url.PathEscape(args[0]), req, &ag); err != nil {
				return apiError(err)
			}
			if t.json {
				return printJSON(env.stdout, ag)
			}
			printAgreement(env.stdout, ag)
			return nil
		},
	}
}

func sharingListCmd() *command {
	fs := flag.NewFlagSet("lodestone sharing list", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	return &command{
		name:      "list",
		usage:     "[--json] [--server URL]",
		shortHelp: "list the sharing agreements your org gives or receives",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 0 {
				return usageError{"sharing list: no arguments"}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			var list api.AgreementList
			if err := c.Do(ctx, "GET", "/sharing", nil, &list); err != nil {
				return apiError(err)
			}
			if t.json {
				return printJSON(env.stdout, list)
			}
			tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tOWNER\tTO\tMODELS\tPROPERTIES\tRELATIONSHIPS\tEXPIRES")
			for _, ag := range list.Value {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ag.ID, ag.Owner, ag.ToOrg, strings.Join(ag.Models, ","),
					strings.Join(ag.Properties, ","), strings.Join(ag.Relationships, ","), expiry(ag))
			}
			return tw.Flush()
		},
	}
}

func sharingGetCmd() *command {
	fs := flag.NewFlagSet("lodestone sharing get", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	return &command{
		name:      "get",
		usage:     "ID [--json] [--server URL]",
		shortHelp: "show a sharing agreement your org gives or receives",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"sharing get: want exactly one agreement ID"}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			var ag tenancy.Agreement
			if err := c.Do(ctx, "GET", "/sharing/"+url.PathEscape(args[0]), nil, &ag); err != nil {
				return apiError(err)
			}
			if t.json {
				return printJSON(env.stdout, ag)
			}
			printAgreement(env.stdout, ag)
			return nil
		},
	}
}

func sharingDeleteCmd() *command {
	fs := flag.NewFlagSet("lodestone sharing delete", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, false)
	return &command{
		name:      "delete",
		usage:     "ID [--server URL]",
		shortHelp: "end a sharing agreement of your org (admin)",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"sharing delete: want exactly one agreement ID"}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			if err := c.Do(ctx, "DELETE", "/sharing/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return apiError(err)
			}
			fmt.Fprintf(env.stdout, "Ended sharing agreement %s.\n", args[0])
			return nil
		},
	}
}

func expiry(ag tenancy.Agreement) string {
	if ag.Expires.IsZero() {
		return "until deleted"
	}
	return ag.Expires.UTC().Format(time.RFC3339)
}

func printAgreement(w io.Writer, ag tenancy.Agreement) {
	fmt.Fprintf(w, "Agreement %s: %s shares with %s until %s\n", ag.ID, ag.Owner, ag.ToOrg, expiry(ag))
	fmt.Fprintf(w, "  models:        %s\n", strings.Join(ag.Models, ", "))
	fmt.Fprintf(w, "  properties:    %s\n", strings.Join(ag.Properties, ", "))
	fmt.Fprintf(w, "  relationships: %s\n", strings.Join(ag.Relationships, ", "))
	if ag.Purpose != "" {
		fmt.Fprintf(w, "  purpose:       %s\n", ag.Purpose)
	}
	fmt.Fprintf(w, "  created %s by %s\n", ag.Created.UTC().Format(time.RFC3339), ag.CreatedBy)
}
