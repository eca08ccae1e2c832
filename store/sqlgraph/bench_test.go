package sqlgraph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"lodestone/store"
	"lodestone/store/sqlgraph"
	"lodestone/store/sqlite"
	"lodestone/tql"
	"lodestone/twin"
)

// The benchmark graph: benchTiers tiers of equal size, each of its own
// model (all extending dtmi:bench:Site;1). Every twin supplies two random
// twins of the next tier (suppliesTo) and is owned by one random twin
// (ownedBy): three relationships per twin, the 1M/3M ratio.
const (
	benchTiers   = 10
	benchVersion = 1 // bump when the generator changes, to regenerate the cached file
)

var benchCountries = []string{"AU", "BR", "CA", "CN", "DE", "EE", "FR", "GB", "IN", "JP", "KR", "MM", "MY", "NA", "RU", "TH", "US", "VN", "ZA", "LA"}

func benchTwinID(i int) twin.ID { return twin.ID(fmt.Sprintf("tw-%07d", i)) }

func benchModelID(tier int) string { return fmt.Sprintf("dtmi:bench:Tier%d;1", tier) }

// benchEntities streams the models, n twins and 3n relationships.
func benchEntities(n int) iter.Seq2[store.Entity, error] {
	return func(yield func(store.Entity, error) bool) {
		dtdl := func(id string, extends ...string) json.RawMessage {
			m := map[string]any{"@id": id, "@type": "Interface", "@context": "dtmi:dtdl:context;3"}
			if len(extends) > 0 {
				m["extends"] = extends[0]
			}
			b, _ := json.Marshal(m)
			return b
		}
		site := "dtmi:bench:Site;1"
		if !yield(store.Entity{Model: &twin.Model{ID: site, DTDL: dtdl(site)}}, nil) {
			return
		}
		for k := range benchTiers {
			id := benchModelID(k)
			if !yield(store.Entity{Model: &twin.Model{ID: id, Extends: []string{site}, DTDL: dtdl(id, site)}}, nil) {
				return
			}
		}
		per := n / benchTiers
		r := rand.New(rand.NewPCG(42, 4))
		for i := range n {
			t := &twin.Twin{ID: benchTwinID(i), Metadata: twin.Metadata{Model: benchModelID(i / per % benchTiers)}, Properties: map[string]any{
				"name":    fmt.Sprintf("Site %d", i),
				"country": benchCountries[r.IntN(len(benchCountries))],
				"output":  float64(r.IntN(10000)),
				"active":  r.IntN(4) != 0,
			}}
			if !yield(store.Entity{Twin: t}, nil) {
				return
			}
		}
		for i := range n {
			next := (i/per + 1) % benchTiers
			for j := range 2 {
				tgt := next*per + r.IntN(per)
				rel := &twin.Relationship{ID: fmt.Sprintf("s%d", j), SourceID: benchTwinID(i), TargetID: benchTwinID(tgt), Name: "suppliesTo",
					Properties: map[string]any{"share": float64(r.IntN(100)) / 100}}
				if !yield(store.Entity{Relationship: rel}, nil) {
					return
				}
			}
			rel := &twin.Relationship{ID: "o", SourceID: benchTwinID(i), TargetID: benchTwinID(r.IntN(n)), Name: "ownedBy"}
			if !yield(store.Entity{Relationship: rel}, nil) {
				return
			}
		}
	}
}

var benchOnce sync.Mutex

// benchDB opens the benchmark graph of n twins, generating it on first use
// into the user cache directory, where later runs find it.
func benchDB(b *testing.B, n int) *sqlite.DB {
	b.Helper()
	benchOnce.Lock()
	defer benchOnce.Unlock()
	ctx := context.Background()
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "lodestone-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("query-v%d-%d.db", benchVersion, n))
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".tmp"
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + suffix)
		}
		db, err := sqlite.Open(ctx, tmp, nil)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := db.Import(ctx, benchEntities(n), store.ImportOptions{}); err != nil {
			db.Close()
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d twins and %d relationships in %s: %s", n, 3*n, time.Since(start).Round(time.Second), path)
		for _, suffix := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(tmp + suffix); err == nil {
				if err := os.Rename(tmp+suffix, path+suffix); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
	}
	db, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkQuery measures the query targets on a generated graph:
// 100,000 twins and 300,000 relationships, or with LODESTONE_BENCH_LARGE=1
// the 1,000,000 and 3,000,000. The graph is generated once into
// os.UserCacheDir()/lodestone-bench and reused. path=run is sqlgraph.Run
// (pushdown), path=eval the reference evaluator over the same SQL graph.
func BenchmarkQuery(b *testing.B) {
	n := 100_000
	if os.Getenv("LODESTONE_BENCH_LARGE") == "1" {
		n = 1_000_000
	}
	db := benchDB(b, n)
	per := n / benchTiers
	mid := benchTwinID(n / 2)
	exprs := []struct{ name, query string }{
		{"lookup", fmt.Sprintf("SELECT * FROM DIGITALTWINS T WHERE T.$dtId = '%s'", mid)},
		{"match6", fmt.Sprintf("SELECT b FROM DIGITALTWINS MATCH (a)-[:suppliesTo*..6]->(b) WHERE a.$dtId = '%s'", benchTwinID(per/3))},
		{"groupby", "SELECT T.country AS c, COUNT() AS n, SUM(T.output) AS total FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:bench:Tier3;1') GROUP BY T.country"},
		{"matchwhere", "SELECT a.$dtId AS a, b.$dtId AS b FROM DIGITALTWINS MATCH (a)-[:suppliesTo]->(b) WHERE IS_OF_MODEL(a, 'dtmi:bench:Tier4;1') AND a.country = 'AU' AND a.output >= 9900 AND b.active = true"},
		{"where", "SELECT T.$dtId AS id, T.output AS output FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:bench:Tier5;1') AND T.country = 'AU' AND T.output >= 9900"},
	}
	ctx := b.Context()
	opts := &tql.Options{MaxScan: -1}
	for _, x := range exprs {
		for _, path := range []string{"run", "eval"} {
			b.Run("expr="+x.name+"/path="+path, func(b *testing.B) {
				q, err := tql.Parse(x.query)
				if err != nil {
					b.Fatal(err)
				}
				if err := tql.Check(q, opts); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				var rows, cost int
				cpu0 := cpuTime()
				for b.Loop() {
					var res *tql.Result
					if path == "run" {
						res, err = sqlgraph.Run(ctx, db, q, opts, "")
					} else {
						var g *sqlgraph.Graph
						if g, err = sqlgraph.New(ctx, db, time.Time{}); err == nil {
							res, err = tql.Eval(ctx, g, q, opts, "")
						}
					}
					if err != nil {
						b.Fatal(err)
					}
					rows, cost = len(res.Rows), res.Cost.RowsScanned
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/op")
				b.ReportMetric(float64(rows), "rows")
				b.ReportMetric(float64(cost), "scanned")
			})
		}
	}
}

// cpuTime is the user and system CPU time of the process so far, so that a
// benchmark can report CPU per operation, which a loaded machine does not
// inflate as it does wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
