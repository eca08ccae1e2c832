package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"lodestone/store"
	"lodestone/trust"
)

func init() {
	fs := flag.NewFlagSet("lodestone verify", flag.ContinueOnError)
	data := fs.String("data", "", "data directory of a SQLite store (as for serve --data)")
	dsn := fs.String("store", "", "store DSN instead of --data: sqlite:PATH or postgres://…")
	pub := fs.String("log-key-pub", "", "file with the log's verifier key (one C2SP vkey line); without it the key the store names is used, which proves only self-consistency")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	register(&command{
		name:      "verify",
		usage:     "--data DIR [--store DSN] [--log-key-pub FILE] [--json]",
		shortHelp: "recompute every transparency-log entry from the store and check the tree, the signed checkpoints and their consistency; exit 0 when all matches, 1 on any mismatch",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Sprintf("verify: unexpected argument %q", args[0])}
			}
			if (*data == "") == (*dsn == "") {
				return usageError{"verify: give --data DIR or --store DSN"}
			}
			src := *dsn
			if src == "" {
				src = "sqlite:" + filepath.Join(*data, "lodestone.db")
			}
			vkey := ""
			if *pub != "" {
				var err error
				if vkey, err = trust.ReadVKey(*pub); err != nil {
					return usageError{"verify: --log-key-pub: " + err.Error()}
				}
			}
			st, err := store.Open(ctx, src)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := trust.Verify(ctx, st, vkey)
			if err != nil {
				return err
			}
			if *asJSON {
				enc := json.NewEncoder(env.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printVerify(env, rep)
			}
			if !rep.OK {
				return exitError{1}
			}
			return nil
		},
	})
}

func printVerify(env *cliEnv, rep *trust.Report) {
	fmt.Fprintf(env.stdout, "log %s: %d entries, %d signed, %d checkpoints; %d versions in the store; key from %s\n",
		rep.Origin, rep.TreeSize, rep.Signed, rep.Checkpoints, rep.Versions, rep.KeyFrom)
	if rep.LegacyModelEntries > 0 {
		fmt.Fprintf(env.stdout, "note: %d model entries predate model events carrying the DTDL: their definitions are not covered by the log\n", rep.LegacyModelEntries)
	}
	if rep.OK {
		fmt.Fprintln(env.stdout, "ok: the store matches its log")
		return
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tENTITY\tNAME\tVERSION\tCHANGE\tINDEX\tDETAIL")
	for _, m := range rep.Mismatches {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", m.Kind, m.Entity, m.Name, m.Version, m.Change, m.Index, m.Detail)
	}
	tw.Flush()
	fmt.Fprintf(env.stdout, "%d mismatches\n", len(rep.Mismatches))
}
