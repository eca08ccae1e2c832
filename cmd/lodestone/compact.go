package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"lodestone/server"
	"lodestone/store"
	"lodestone/store/retention"
	"lodestone/trust"
)

// `lodestone compact` removes old history versions and telemetry from a
// store (package store/retention), recording a signed compaction marker
// in the transparency log's documents so that `lodestone verify` still
// holds (docs/operations.md, "Retention and compaction").

func init() {
	fs := flag.NewFlagSet("lodestone compact", flag.ContinueOnError)
	data := fs.String("data", "", "data directory of the SQLite store (as for serve --data); the server may keep running")
	dsn := fs.String("store", "", "store DSN (sqlite:PATH or postgres://…) instead of --data")
	history := fs.String("history-older-than", "", "remove twin and relationship versions that ended longer ago than this (30d, 720h; never the current version)")
	telemetry := fs.String("telemetry-older-than", "", "remove telemetry stored longer ago than this (30d, 720h)")
	logKey := fs.String("log-key", "", "the transparency log's signing key, required when the store keeps a log: the compaction marker is signed with it")
	vacuum := fs.Bool("vacuum", false, "give the freed space back to the file system (SQLite VACUUM; PostgreSQL VACUUM FULL: locks each table while it runs)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	register(&command{
		name:      "compact",
		usage:     "--data DIR | --store DSN [--history-older-than D] [--telemetry-older-than D] [--log-key FILE] [--vacuum] [--json]",
		shortHelp: "remove history versions and telemetry older than a horizon (keeping every current version and the transparency log's hashes) and print the store's bytes before and after",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) > 0 {
				return usageError{fmt.Sprintf("compact: unexpected argument %q", args[0])}
			}
			if (*data == "") == (*dsn == "") {
				return usageError{"compact: give --data DIR or --store DSN"}
			}
			now := time.Now()
			var o retention.Options
			for _, h := range []struct {
				flag, val string
				to        *time.Time
			}{{"--history-older-than", *history, &o.HistoryBefore}, {"--telemetry-older-than", *telemetry, &o.TelemetryBefore}} {
				if h.val == "" {
					continue
				}
				d, err := parseAge(h.val)
				if err != nil {
					return usageError{fmt.Sprintf("compact: %s: %v", h.flag, err)}
				}
				*h.to = now.Add(-d)
			}
			if o.HistoryBefore.IsZero() && o.TelemetryBefore.IsZero() {
				return usageError{"compact: give --history-older-than and/or --telemetry-older-than"}
			}
			o.Vacuum = *vacuum
			var signer note.Signer
			if *logKey != "" {
				var err error
				if signer, err = trust.LoadSigner(*logKey); err != nil {
					return usageError{"compact: --log-key: " + err.Error()}
				}
			}
			src := *dsn
			if src == "" {
				src = "sqlite:" + filepath.Join(*data, "lodestone.db")
			}
			st, err := store.Open(ctx, src)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := server.Compact(ctx, st, src, signer, o)
			if err != nil {
				return err
			}
			if *asJSON {
				enc := json.NewEncoder(env.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			printCompact(env, res)
			return nil
		},
	})
}

func printCompact(env *cliEnv, res *retention.Result) {
	at := func(t time.Time) string {
		if t.IsZero() {
			return "kept"
		}
		return "before " + t.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(env.stdout, "history %s: %d twin versions, %d relationship versions removed\n", at(res.HistoryBefore), res.TwinVersions, res.RelationshipVersions)
	fmt.Fprintf(env.stdout, "telemetry %s: %d points removed\n", at(res.TelemetryBefore), res.Telemetry)
	fmt.Fprintf(env.stdout, "bytes before: %d (%d used); after: %d (%d used)\n", res.Before.File, res.Before.Used, res.After.File, res.After.Used)
}

// parseAge reads an age: a Go duration ("720h", "90m") or a whole number
// of days ("30d"); it must be positive.
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 365*1000 {
			return 0, fmt.Errorf("%q: want a positive whole number of days (30d) or a Go duration (720h)", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a positive Go duration (720h) or a number of days (30d)", s)
	}
	return d, nil
}
