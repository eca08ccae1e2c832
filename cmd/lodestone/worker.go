package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"

	"lodestone/worker"
)

// `lodestone worker` takes shards of Monte Carlo studies from the JetStream
// work queue of a server started with --studies.workers (docs/formats/worker.md).
// On SIGINT or SIGTERM it hands its shards under way back to the queue
// (worker.Worker.Run) and exits 0.

func init() {
	fs := flag.NewFlagSet("lodestone worker", flag.ContinueOnError)
	natsURL := fs.String("nats", "", "NATS URL of the work queue (the server's --nats, or its --nats.listen with credentials: nats://user:pass@host:port)")
	storeDSN := fs.String("store", "", "accepted (the issue's contract names it) and ignored: a worker needs no store, shard results travel back on the JetStream results stream")
	concurrency := fs.Int("concurrency", runtime.GOMAXPROCS(0), "shards run at once (one core each)")
	replicas := fs.Int("replicas", 1, "replicas of the work queue's streams (3 on a three-node JetStream cluster, as the server's --nats.replicas)")
	ackWait := fs.Duration("ack-wait", 0, "how long a shard may go without a heartbeat before it is redelivered (0: 30s; the server's --studies.ack-wait)")
	verbose := fs.Bool("v", false, "log each shard's problems to stderr")
	register(&command{
		name:      "worker",
		usage:     "--nats URL [--store DSN] [--concurrency N] [--replicas R] [--ack-wait D]",
		shortHelp: "run shards of Monte Carlo studies from the server's JetStream work queue",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) > 0 {
				return usageError{fmt.Sprintf("worker: unexpected argument %q", args[0])}
			}
			if *natsURL == "" {
				*natsURL = os.Getenv("LODESTONE_NATS_URL")
			}
			if *natsURL == "" {
				return usageError{"worker: --nats URL is required (the NATS server of the work queue)"}
			}
			if *replicas < 1 || *replicas > 5 {
				return usageError{"worker: --replicas must be 1 to 5"}
			}
			if *concurrency < 1 {
				return usageError{"worker: --concurrency must be >= 1"}
			}
			if *storeDSN != "" {
				fmt.Fprintln(env.stderr, "worker: --store is ignored: a worker needs no store (shard results travel on the JetStream results stream)")
			}
			level := slog.LevelWarn
			if *verbose {
				level = slog.LevelInfo
			}
			log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
			nc, err := worker.Connect(*natsURL, "lodestone-worker")
			if err != nil {
				return err
			}
			defer nc.Close()
			w, err := worker.New(nc, worker.Config{Replicas: *replicas, AckWait: *ackWait}, log)
			if err != nil {
				return err
			}
			w.Concurrency = *concurrency
			fmt.Fprintf(env.stderr, "worker: taking study shards from %s with %d at once\n", nc.ConnectedUrlRedacted(), *concurrency)
			return w.Run(ctx)
		},
	})
}
