package trust_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust"
	"lodestone/twin"
)

// BenchmarkPipelineWrites measures twin creates and patches through the
// pipeline on SQLite with the transparency log off and on (the log must
// not halve write throughput), with parallel writers so that the log's
// group commit is exercised as a server's requests would.
func BenchmarkPipelineWrites(b *testing.B) {
	for _, on := range []bool{false, true} {
		for _, op := range []string{"create", "patch"} {
			b.Run(fmt.Sprintf("log=%v/%s", on, op), func(b *testing.B) {
				ctx := context.Background()
				st := openStore(b, filepath.Join(b.TempDir(), "lodestone.db"))
				defer st.Close()
				var hooks []pipeline.Hook
				if on {
					l, err := trust.NewLog(ctx, st, testSigner, trust.LogOptions{})
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
				b.SetParallelism(16)
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
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}
