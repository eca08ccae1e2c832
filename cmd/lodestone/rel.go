package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"lodestone/api"
	"lodestone/twin"
)

// rel reads and writes relationships through the API, as twin does twins:
//
//	lodestone rel list SOURCE [--name NAME] [--incoming]
//	lodestone rel get SOURCE REL_ID [--as-of DATE|TIME]
//	lodestone rel put SOURCE REL_ID --name NAME --target TARGET [/prop=value...] | FILE|-
//	lodestone rel delete SOURCE REL_ID [--if-match ETAG]

func init() {
	rc := &command{name: "rel", shortHelp: "read and write relationships: list, get, put, delete"}
	mk := func(name, usage, help string, withJSON bool, run func(ctx context.Context, env *cliEnv, t *target, args []string) error, extra func(fs *flag.FlagSet)) *command {
		return apiCommand("rel "+name, usage, help, withJSON, func(ctx context.Context, env *cliEnv, t *target, _ *flag.FlagSet, args []string) error {
			return run(ctx, env, t, args)
		}, extra)
	}
	var relName, targetID, ifMatch, asOf string
	var incoming, create bool
	rc.sub = []*command{
		mk("list", "SOURCE [--name NAME] [--incoming] [--json]", "list a twin's outgoing relationships (--incoming: those pointing to it)", true, func(ctx context.Context, env *cliEnv, t *target, args []string) error {
			if len(args) != 1 {
				return usageError{"rel list: want one twin ID"}
			}
			if incoming && relName != "" {
				return usageError{"rel list: --name goes with outgoing relationships, not --incoming"}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			id := twin.ID(args[0])
			if incoming {
				in, err := c.IncomingRelationships(ctx, id)
				if err != nil {
					return err
				}
				if t.json {
					return printJSON(env.stdout, api.IncomingRelationshipList{Value: append([]api.IncomingRelationship{}, in...)})
				}
				w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "SOURCE\tNAME\tREL_ID")
				for _, r := range in {
					fmt.Fprintf(w, "%s\t%s\t%s\n", r.SourceID, r.RelationshipName, r.RelationshipID)
				}
				return w.Flush()
			}
			rels, err := c.Relationships(ctx, id, relName)
			if err != nil {
				return err
			}
			if t.json {
				return printJSON(env.stdout, api.RelationshipList{Value: append([]twin.Relationship{}, rels...)})
			}
			w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "REL_ID\tNAME\tTARGET")
			for _, r := range rels {
				fmt.Fprintf(w, "%s\t%s\t%s\n", r.ID, r.Name, r.TargetID)
			}
			return w.Flush()
		}, func(fs *flag.FlagSet) {
			fs.StringVar(&relName, "name", "", "only relationships of this name (e.g. suppliesTo)")
			fs.BoolVar(&incoming, "incoming", false, "list the relationships that point to the twin instead")
		}),
		mk("get", "SOURCE REL_ID [--as-of DATE|TIME] [--json]", "print a relationship (as of a time with --as-of)", true, func(ctx context.Context, env *cliEnv, t *target, args []string) error {
			if len(args) != 2 {
				return usageError{"rel get: want the source twin ID and the relationship ID"}
			}
			at, err := parseAsOf(asOf)
			if err != nil {
				return err
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			r, err := c.GetRelationship(ctx, twin.ID(args[0]), args[1], at)
			if err != nil {
				return err
			}
			if t.json {
				return printJSON(env.stdout, r)
			}
			printRel(env, r)
			return nil
		}, func(fs *flag.FlagSet) {
			fs.StringVar(&asOf, "as-of", "", "read the relationship as it was at this date (YYYY-MM-DD) or RFC 3339 time")
		}),
		mk("put", "SOURCE REL_ID --name NAME --target TARGET [/prop=value...] | FILE|- [--create] [--json]", "create or replace a relationship (target model and multiplicity are checked by the server)", true, func(ctx context.Context, env *cliEnv, t *target, args []string) error {
			r, err := relArgs(env, args, relName, targetID)
			if err != nil {
				return err
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			out, err := c.PutRelationship(ctx, r, create)
			if err != nil {
				return err
			}
			if t.json {
				return printJSON(env.stdout, out)
			}
			fmt.Fprintf(env.stdout, "stored %s -[%s]-> %s as %s (etag %s)\n", out.SourceID, out.Name, out.TargetID, out.ID, out.ETag)
			return nil
		}, func(fs *flag.FlagSet) {
			fs.StringVar(&relName, "name", "", "the relationship's name as its source's model declares it (e.g. suppliesTo)")
			fs.StringVar(&targetID, "target", "", "the target twin ID")
			fs.BoolVar(&create, "create", false, "create only: fail if the relationship exists (If-None-Match: *)")
		}),
		mk("delete", "SOURCE REL_ID [--if-match ETAG]", "delete a relationship", false, func(ctx context.Context, env *cliEnv, t *target, args []string) error {
			if len(args) != 2 {
				return usageError{"rel delete: want the source twin ID and the relationship ID (lodestone rel list SOURCE shows them)"}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			if err := c.DeleteRelationship(ctx, twin.ID(args[0]), args[1], twin.ETag(ifMatch)); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "deleted %s of %s\n", args[1], args[0])
			return nil
		}, func(fs *flag.FlagSet) {
			fs.StringVar(&ifMatch, "if-match", "", "delete only if the relationship has this etag")
		}),
	}
	register(rc)
}

// relArgs builds the relationship of rel put: from a JSON file (or stdin)
// in ADT's shape, or from SOURCE REL_ID, --name, --target and /prop=value
// pairs (values are JSON when they parse as JSON, strings otherwise).
func relArgs(env *cliEnv, args []string, name, target string) (twin.Relationship, error) {
	if len(args) == 1 {
		if name != "" || target != "" {
			return twin.Relationship{}, usageError{"rel put: --name and --target go with SOURCE REL_ID, not with a FILE"}
		}
		b, err := readArg(env, args[0])
		if err != nil {
			return twin.Relationship{}, err
		}
		var r twin.Relationship
		if err := decodeJSONFile(fileName(args[0]), b, &r); err != nil {
			return twin.Relationship{}, fmt.Errorf("rel put: %w", err)
		}
		var missing []string
		for _, f := range []struct{ name, v string }{{"$sourceId", string(r.SourceID)}, {"$relationshipId", r.ID}, {"$relationshipName", r.Name}, {"$targetId", string(r.TargetID)}} {
			if f.v == "" {
				missing = append(missing, f.name)
			}
		}
		if len(missing) > 0 {
			return twin.Relationship{}, fmt.Errorf("rel put: %s: %s required", fileName(args[0]), strings.Join(missing, ", "))
		}
		return r, nil
	}
	if len(args) < 2 {
		return twin.Relationship{}, usageError{"rel put: want SOURCE REL_ID --name NAME --target TARGET, or a FILE"}
	}
	if name == "" || target == "" {
		return twin.Relationship{}, usageError{"rel put: --name and --target are required with SOURCE REL_ID"}
	}
	r := twin.Relationship{SourceID: twin.ID(args[0]), ID: args[1], Name: name, TargetID: twin.ID(target)}
	if len(args) > 2 {
		p, err := patchArgs(env, args[2:])
		if err != nil {
			return twin.Relationship{}, err
		}
		r.Properties = map[string]any{}
		for _, op := range p {
			if op.Op == "remove" || strings.Count(op.Path, "/") != 1 {
				return twin.Relationship{}, usageError{fmt.Sprintf("rel put: %q: want /property=value (top-level properties, with a value)", op.Path)}
			}
			r.Properties[op.Path[1:]] = op.Value
		}
	}
	return r, nil
}

func printRel(env *cliEnv, r twin.Relationship) {
	fmt.Fprintf(env.stdout, "%s -[%s]-> %s  (%s, etag %s)\n", r.SourceID, r.Name, r.TargetID, r.ID, r.ETag)
	keys := make([]string, 0, len(r.Properties))
	for k := range r.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(env.stdout, "  %s  %s\n", k, short(r.Properties[k]))
	}
}
