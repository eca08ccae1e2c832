package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"lodestone/backup"
)

func init() {
	bfs := flag.NewFlagSet("lodestone backup", flag.ContinueOnError)
	bdata := bfs.String("data", "", "data directory of the SQLite store (as for serve --data); the server may keep running")
	out := bfs.String("out", "", "backup file to write (must not exist)")
	bjson := bfs.Bool("json", false, "print what was written as JSON")
	register(&command{
		name:      "backup",
		usage:     "--data DIR --out FILE [--json]",
		shortHelp: "online backup of a SQLite store (VACUUM INTO: a consistent copy while the server writes); for PostgreSQL use pg_dump (docs/operations.md)",
		flags:     bfs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(bfs) // in-process runs (tests) start from the defaults
			if len(args) > 0 {
				return usageError{fmt.Sprintf("backup: unexpected argument %q", args[0])}
			}
			if *bdata == "" || *out == "" {
				return usageError{"backup: give --data DIR and --out FILE"}
			}
			info, err := backup.Backup(ctx, *bdata, *out)
			if err != nil {
				return err
			}
			return printBackupInfo(env, "backup", info, *bjson)
		},
	})

	rfs := flag.NewFlagSet("lodestone restore", flag.ContinueOnError)
	rdata := rfs.String("data", "", "data directory to restore into (empty or new, unless --force)")
	force := rfs.Bool("force", false, "replace the store of a non-empty data directory (the server must be stopped)")
	rjson := rfs.Bool("json", false, "print what was restored as JSON")
	register(&command{
		name:      "restore",
		usage:     "--data DIR [--force] [--json] FILE",
		shortHelp: "put a backup file (of lodestone backup) back as the store of a data directory, after checking that it is a Lodestone store",
		flags:     rfs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(rfs)
			if len(args) != 1 {
				return usageError{"restore: give the backup FILE (one argument)"}
			}
			if *rdata == "" {
				return usageError{"restore: give --data DIR"}
			}
			info, err := backup.Restore(ctx, *rdata, args[0], *force)
			if err != nil {
				return err
			}
			return printBackupInfo(env, "restored", info, *rjson)
		},
	})
}

func printBackupInfo(env *cliEnv, verb string, info backup.Info, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	_, err := fmt.Fprintf(env.stdout, "%s %s: schema version %d, %d bytes, %d models, %d twins, %d relationships\n",
		verb, info.File, info.SchemaVersion, info.Bytes, info.Models, info.Twins, info.Relationships)
	return err
}
