package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"lodestone/api"
	"lodestone/twin"
)

func init() {
	tw := &command{name: "twin", shortHelp: "read and write twins: get, put, patch, delete, list, history"}
	mk := func(name, usage, help string, withJSON bool, run func(ctx context.Context, env *cliEnv, t *target, fs *flag.FlagSet, args []string) error, extra func(fs *flag.FlagSet)) *command {
		fs := flag.NewFlagSet("lodestone twin "+name, flag.ContinueOnError)
		t := &target{}
		t.flags(fs, withJSON)
		if extra != nil {
			extra(fs)
		}
		return &command{name: name, usage: usage, shortHelp: help, flags: fs, exec: func(ctx context.Context, env *cliEnv, args []string) error {
			return apiError(run(ctx, env, t, fs, args))
		}}
	}
	var asOf string
	var model, prefix string
	var top int
	tw.sub = []*command{
		mk("get", "ID [--as-of TIME] [--json]", "print a twin (as of a time with --as-of)", true, func(ctx context.Context, env *cliEnv, t *target, fs *flag.FlagSet, args []string) error {
			if len(args) != 1 {
				return usageError{"twin get: want one twin ID"}
			}
			var at time.Time
			if asOf != "" {
				var err error
				if at, err = time.Parse(time.RFC3339Nano, asOf); err != nil {
					return usageError{fmt.Sprintf("--as-of: %q is not an RFC 3339 time", asOf)}
				}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			tw, err := c.GetTwin(ctx, twin.ID(args[0]), at)
			if err != nil {
				return err
			}
			if t.json {
				return printJSON(env.stdout, tw)
			}
			printTwin(env.stdout, tw)
			return nil
		}, func(fs *flag.FlagSet) {
			fs.StringVar(&asOf, "as-of", "", "read the twin as it was at this RFC 3339 time")
		}),
		mk("put", "FILE|- [--create]", "create or replace a twin from its JSON ($dtId and $metadata.$model required)", true, func(ctx context.Context, env *cliEnv, t *target, fs *flag.FlagSet, args []string) error {
			if len(args) != 1 {
				return usageError{"twin put: want one FILE (or - for stdin)"}
			}
			b, err := readArg(env, args[0])
			if err != nil {
				return err
			}
			var tw twin.Twin
			if err := json.Unmarshal(b, &tw); err != nil {
				return fmt.Errorf("twin put: %s: %w", args[0], err)
			}
			if tw.ID == "" {
				return fmt.Errorf("twin put: %s: $dtId is required", args[0])
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			create := fs.Lookup("create").Value.(flag.Getter).Get().(bool)
			out, err := c.PutTwin(ctx, tw, create)
			if err != nil {
				return err
			}
			if t.json {
				return printJSON(env.stdout, out)
			}
			fmt.Fprintf(env.stdout, "stored %s (etag %s)\n", out.ID, out.ETag)
			return nil
		}, func(fs *flag.FlagSet) {
			fs.Bool("create", false, "create only: fail if the twin exists (If-None-Match: *)")
		}),
		mk("patch", "ID PATCH.json|- | ID /path=value...", "apply a JSON Patch, from a file or as /path=JSONvalue pairs (replace) and /path= (remove)", true, func(ctx context.Context, env *cliEnv, t *target, fs *flag.FlagSet, args []string) error {
			if len(args) < 2 {
				return usageError{"twin patch: want ID and a patch file or /path=value pairs"}
			}
			p, err := patchArgs(env, args[1:])
			if err != nil {
				return err
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			etag, err := c.PatchTwin(ctx, twin.ID(args[0]), p, twin.ETag(fs.Lookup("if-match").Value.String()))
			if err != nil {
				return err
			}
			if t.json {
				return printJSON(env.stdout, map[string]string{"$dtId": args[0], "$etag": string(etag)})
			}
			fmt.Fprintf(env.stdout, "patched %s (etag %s)\n", args[0], etag)
			return nil
		}, func(fs *flag.FlagSet) { fs.String("if-match", "", "apply only if the twin has this etag") }),
		mk("delete", "ID", "delete a twin (it must have no relationships)", false, func(ctx context.Context, env *cliEnv, t *target, fs *flag.FlagSet, args []string) error {
			if len(args) != 1 {
				return usageError{"twin delete: want one twin ID"}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			if err := c.DeleteTwin(ctx, twin.ID(args[0])); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "deleted %s\n", args[0])
			return nil
		}, nil),
		mk("list", "[--model DTMI] [--prefix P] [--top N] [--json]", "list twins, optionally of a model (with inheritance) or by id prefix", true, func(ctx context.Context, env *cliEnv, t *target, fs *flag.FlagSet, args []string) error {
			if len(args) != 0 {
				return usageError{"twin list: no arguments; use --model or --prefix"}
			}
			var conds []string
			if model != "" {
				conds = append(conds, "IS_OF_MODEL(T, '"+quote(model)+"')")
			}
			if prefix != "" {
				conds = append(conds, "STARTSWITH(T.$dtId, '"+quote(prefix)+"')")
			}
			q := "SELECT T FROM DIGITALTWINS T"
			if top > 0 {
				q = fmt.Sprintf("SELECT TOP(%d) T FROM DIGITALTWINS T", top)
			}
			if len(conds) > 0 {
				q += " WHERE " + strings.Join(conds, " AND ")
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			var twins []twin.Twin
			err = c.QueryAll(ctx, q, func(res api.QueryResponse) error {
				for _, row := range res.Value {
					b, _ := json.Marshal(row["T"])
					var tw twin.Twin
					if err := json.Unmarshal(b, &tw); err != nil {
						return err
					}
					twins = append(twins, tw)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if t.json {
				return printJSON(env.stdout, api.TwinList{Value: append([]twin.Twin{}, twins...)})
			}
			w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tMODEL")
			for _, tw := range twins {
				fmt.Fprintf(w, "%s\t%s\n", tw.ID, tw.Metadata.Model)
			}
			return w.Flush()
		}, func(fs *flag.FlagSet) {
			fs.StringVar(&model, "model", "", "only twins of this model or of models extending it")
			fs.StringVar(&prefix, "prefix", "", "only twins whose id starts with this")
			fs.IntVar(&top, "top", 0, "at most this many twins")
		}),
		mk("history", "ID [--json]", "print the change list of a twin", true, func(ctx context.Context, env *cliEnv, t *target, fs *flag.FlagSet, args []string) error {
			if len(args) != 1 {
				return usageError{"twin history: want one twin ID"}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			h, err := c.History(ctx, twin.ID(args[0]))
			if err != nil {
				return err
			}
			if t.json {
				return printJSON(env.stdout, api.HistoryList{Value: h})
			}
			w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TIME\tCHANGE\tETAG")
			for _, e := range h {
				etag := ""
				if e.Twin != nil {
					etag = string(e.Twin.ETag)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339Nano), e.Kind, etag)
			}
			return w.Flush()
		}, nil),
	}
	register(tw)
}

func quote(s string) string { return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) }

func readArg(env *cliEnv, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(env.stdin)
	}
	return os.ReadFile(name)
}

// patchArgs reads a patch document, or builds one from /path=value pairs:
// the value is JSON when it parses as JSON and a string otherwise; an empty
// value removes the property.
func patchArgs(env *cliEnv, args []string) (twin.Patch, error) {
	if len(args) == 1 && !strings.HasPrefix(args[0], "/") {
		b, err := readArg(env, args[0])
		if err != nil {
			return nil, err
		}
		return twin.ParsePatch(b)
	}
	var p twin.Patch
	for _, a := range args {
		path, val, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(path, "/") {
			return nil, usageError{fmt.Sprintf("twin patch: %q is not /path=value", a)}
		}
		if val == "" {
			p = append(p, twin.Operation{Op: "remove", Path: path})
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(val), &v); err != nil {
			v = val
		}
		p = append(p, twin.Operation{Op: "add", Path: path, Value: v})
	}
	return p, nil
}

func printTwin(w io.Writer, t twin.Twin) {
	fmt.Fprintf(w, "%s  (%s, etag %s)\n", t.ID, t.Metadata.Model, t.ETag)
	keys := make([]string, 0, len(t.Properties))
	for k := range t.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range keys {
		b, _ := json.Marshal(t.Properties[k])
		fmt.Fprintf(tw, "  %s\t%s\n", k, b)
	}
	tw.Flush()
}
