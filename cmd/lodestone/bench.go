package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"lodestone/loadtest"
)

func init() {
	fs := flag.NewFlagSet("lodestone bench", flag.ContinueOnError)
	srv := fs.String("server", "", "server URL (default $LODESTONE_SERVER or http://127.0.0.1:8080)")
	clients := fs.Int("clients", 8, "concurrent clients, each with one request in flight")
	dur := fs.Duration("duration", 10*time.Second, "how long the clients run (after the setup)")
	mix := fs.String("mix", loadtest.DefaultMix().String(), "operation weights: reads, patches, creates, queries, telemetry")
	twins := fs.Int("twins", 100, "twins created before the run, which reads, patches, queries and telemetry address")
	prefix := fs.String("prefix", "", "id prefix of the run's twins (default bench-RANDOM-)")
	cleanup := fs.Bool("cleanup", false, "delete the run's twins at the end")
	token := fs.String("token", "", "bearer token for a server with authentication (default $LODESTONE_TOKEN)")
	seed := fs.Uint64("seed", 1, "seed of the clients' choices (timings are not repeatable)")
	asJSON := fs.Bool("json", false, "print the result as JSON (docs/formats/bench.md)")
	register(&command{
		name:      "bench",
		usage:     "[--server URL] [--clients N] [--duration D] [--mix reads=60,patches=20,creates=10,queries=5,telemetry=5] [--twins N] [--prefix P] [--cleanup] [--json]",
		shortHelp: "load-test a server: N clients over twin reads, patches, creates, queries and telemetry for a fixed time; rates and latency percentiles (p50, p90, p99, max) per operation and overall, errors by status",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Sprintf("bench: unexpected argument %q", args[0])}
			}
			m, err := loadtest.ParseMix(*mix)
			if err != nil {
				return usageError{"bench: --" + err.Error()}
			}
			url := *srv
			if url == "" {
				url = os.Getenv("LODESTONE_SERVER")
			}
			if url == "" {
				url = "http://127.0.0.1:8080"
			}
			tok := *token
			if tok == "" {
				tok = os.Getenv("LODESTONE_TOKEN")
			}
			if *clients < 1 {
				return usageError{fmt.Sprintf("bench: --clients %d: want at least 1", *clients)}
			}
			if *dur <= 0 {
				return usageError{fmt.Sprintf("bench: --duration %s: want a positive duration", *dur)}
			}
			res, err := loadtest.Run(ctx, loadtest.Options{Server: url, Clients: *clients, Duration: *dur, Mix: m,
				Twins: *twins, Prefix: *prefix, Cleanup: *cleanup, Token: tok, Seed: *seed})
			if res != nil {
				if *asJSON {
					enc := json.NewEncoder(env.stdout)
					enc.SetIndent("", "  ")
					if err := enc.Encode(res); err != nil {
						return err
					}
				} else if err := res.Print(env.stdout); err != nil {
					return err
				}
			}
			return err
		},
	})
}
