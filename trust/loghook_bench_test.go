package trust_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust"
	"lodestone/twin"
)

// BenchmarkLogHook compares, in one run, the log appending after each
// commit (log=after, LogOptions.NoStoreHook) with the log writing its
// entries in the changes' own SQLite transactions (log=hook), and no log
// (log=off), for 16 concurrent pipeline writers. Besides wall time it
// reports the process's CPU time per write, steadier than wall time on a
// shared machine:
//
//	go test ./trust -run '^$' -bench LogHook -benchtime 4000x
func BenchmarkLogHook(b *testing.B) {
	for _, op := range []string{"create", "patch"} {
		for _, mode := range []string{"off", "after", "hook"} {
			b.Run(fmt.Sprintf("op=%s/log=%s", op, mode), func(b *testing.B) {
				ctx := context.Background()
				st := openStore(b, filepath.Join(b.TempDir(), "lodestone.db"))
				defer st.Close()
				var hooks []pipeline.Hook
				if mode != "off" {
					l, err := trust.NewLog(ctx, st, testSigner, trust.LogOptions{NoStoreHook: mode == "after"})
					if err != nil {
						b.Fatal(err)
					}
					hooks = append(hooks, l)
				}
				p, err := pipeline.New(ctx, pipeline.Options{Store: st, Hooks: hooks})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.PutModels(ctx, rawModels()); err != nil {
					b.Fatal(err)
				}
				for i := range 64 {
					if _, _, err := p.PutTwin(ctx, asset(fmt.Sprintf("p%d", i), 1), store.Condition{}); err != nil {
						b.Fatal(err)
					}
				}
				var n atomic.Int64
				b.SetParallelism(8) // 16 writers on 2 CPUs
				b.ReportAllocs()
				cpu0 := cpuTime()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						var err error
						if op == "create" {
							_, _, err = p.PutTwin(ctx, asset(fmt.Sprintf("c%d", i), float64(i)), store.Condition{})
						} else {
							_, err = p.PatchTwin(ctx, twin.ID(fmt.Sprintf("p%d", i%64)), twin.Patch{{Op: "replace", Path: "/capacity", Value: float64(i)}}, store.Condition{}, "")
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
		}
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
