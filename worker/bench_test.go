package worker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"lodestone/supply"
	"lodestone/worker"
)

// BenchmarkStudy measures a study's throughput (runs/s) on 1 and 2
// workers of one shard at a time each, through an embedded nats-server.
func BenchmarkStudy(b *testing.B) {
	sc := study(b, 365)
	const runs = 512
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			url := embedded(b)
			d, err := worker.NewDispatcher(context.Background(), connect(b, url), testConfig)
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			for range n {
				stop := startWorker(b, url, testConfig, &wg)
				defer stop()
			}
			for !d.Available(context.Background()) {
				time.Sleep(10 * time.Millisecond)
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := d.Run(context.Background(), fmt.Sprintf("bench-%d-%d", n, i), sc, runs, 1, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(runs*b.N)/b.Elapsed().Seconds(), "runs/s")
		})
	}
	b.Run("local", func(b *testing.B) {
		for range b.N {
			if _, err := supply.MonteCarlo(context.Background(), sc, supply.MCOptions{Runs: runs, Seed: 1, Workers: 1}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(runs*b.N)/b.Elapsed().Seconds(), "runs/s")
	})
}

// BenchmarkShardOverhead measures the queue's cost per shard: shards of
// one run of a one-day scenario, so that the simulation is negligible.
func BenchmarkShardOverhead(b *testing.B) {
	sc := study(b, 1)
	url := embedded(b)
	cfg := testConfig
	cfg.MaxBlocks = 1
	d, err := worker.NewDispatcher(context.Background(), connect(b, url), cfg)
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := startWorker(b, url, cfg, &wg)
	defer stop()
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	const shards = 16
	b.ResetTimer()
	for i := range b.N {
		if _, err := d.Run(context.Background(), fmt.Sprintf("overhead-%d", i), sc, shards*supply.MCBlock, 1, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(shards*b.N), "µs/shard")
}
