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

	"lodestone/api"
	"lodestone/client"
	"lodestone/twin"
)

// apiRun runs a command that talks to the server through t, with its
// flags fs and arguments args.
type apiRun func(ctx context.Context, env *cliEnv, t *target, fs *flag.FlagSet, args []string) error

// apiCommand is a command that talks to the server: it has the flags of a
// target (--server, --data, --token and, withJSON, --json) and those extra
// adds; path is its name after "lodestone" ("twin get"), and run's errors
// are reported as apiError says.
func apiCommand(path, usage, help string, withJSON bool, run apiRun, extra func(fs *flag.FlagSet)) *command {
	fs := flag.NewFlagSet("lodestone "+path, flag.ContinueOnError)
	t := &target{}
	t.flags(fs, withJSON)
	if extra != nil {
		extra(fs)
	}
	name := path[strings.LastIndexByte(path, ' ')+1:]
	return &command{name: name, usage: usage, shortHelp: help, flags: fs, exec: func(ctx context.Context, env *cliEnv, args []string) error {
		return apiError(run(ctx, env, t, fs, args))
	}}
}

func init() {
	tw := &command{name: "twin", shortHelp: "read and write twins: get, put, patch, delete, list, history"}
	mk := func(name, usage, help string, withJSON bool, run apiRun, extra func(fs *flag.FlagSet)) *command {
		return apiCommand("twin "+name, usage, help, withJSON, run, extra)
	}
	var asOf string
	var model, prefix string
	var top int
	tw.sub = []*command{
		mk("get", "ID [--as-of DATE|TIME] [--json]", "print a twin (as of a time with --as-of)", true, func(ctx context.Context, env *cliEnv, t *target, fs *flag.FlagSet, args []string) error {
			if len(args) != 1 {
				return usageError{"twin get: want one twin ID"}
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
			fs.StringVar(&asOf, "as-of", "", "read the twin as it was at this date (YYYY-MM-DD) or RFC 3339 time")
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
			if err := decodeJSONFile(fileName(args[0]), b, &tw); err != nil {
				return fmt.Errorf("twin put: %w", err)
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
				var ce *client.Error
				if errors.As(err, &ce) && ce.Code == "RelationshipsNotDeleted" {
					return fmt.Errorf("%s\nlist them with `lodestone rel list %s` (and --incoming), delete each with `lodestone rel delete SOURCE REL_ID`", apiError(err), args[0])
				}
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
			if model != "" {
				warnUnknownModel(ctx, env, c, model)
			}
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
		mk("history", "ID [--json]", "print the change list of a twin: what each version added, removed and changed (old → new)", true, func(ctx context.Context, env *cliEnv, t *target, fs *flag.FlagSet, args []string) error {
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
				return printJSON(env.stdout, historyWithChanges(h))
			}
			printHistory(env.stdout, h)
			return nil
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
	if len(args) == 1 && !looksLikePair(args[0]) {
		b, err := readArg(env, args[0])
		if err != nil {
			return nil, err
		}
		var raw any
		if err := decodeJSONFile(fileName(args[0]), b, &raw); err != nil {
			return nil, fmt.Errorf("twin patch: %w", err)
		}
		return twin.ParsePatch(b)
	}
	var p twin.Patch
	for _, a := range args {
		path, val, ok := strings.Cut(a, "=")
		if ok && !strings.HasPrefix(path, "/") {
			return nil, usageError{fmt.Sprintf("twin patch: %q: a JSON Patch path starts with a slash; did you mean /%s?", a, a)}
		}
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

// looksLikePair reports whether a lone patch argument is a path=value
// pair (/name=value, or name=value missing its slash) rather than a file
// name (which may start with a slash too): it has an '=' and no file of
// that name exists.
func looksLikePair(a string) bool {
	if a == "-" || !strings.Contains(a, "=") {
		return false
	}
	_, err := os.Stat(a)
	return err != nil
}

// fileName is how error messages name an input argument.
func fileName(arg string) string {
	if arg == "-" {
		return "<stdin>"
	}
	return arg
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
