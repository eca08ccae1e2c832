package postgres_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/store/postgres"
	"lodestone/twin"
)

const benchModel = "dtmi:lodestone:bench:Node;1"

// importTwins sizes BenchmarkImport (relationships are twice as many).
var importTwins = flag.Int("pg.import.twins", 100_000, "twins in BenchmarkImport (relationships are twice as many)")

func openBench(b *testing.B) *postgres.DB {
	b.Helper()
	db := openTest(b, newSchemaDSN(b))
	b.Cleanup(func() { db.Close() })
	if _, err := db.PutModels(b.Context(), []twin.Model{{ID: benchModel, DTDL: json.RawMessage(`{"@id":"` + benchModel + `"}`)}}, store.Condition{}); err != nil {
		b.Fatal(err)
	}
	return db
}

func benchTwin(i int) twin.Twin {
	return twin.Twin{
		ID:       twin.ID(fmt.Sprintf("node-%07d", i)),
		Metadata: twin.Metadata{Model: benchModel},
		Properties: map[string]any{
			"name": fmt.Sprintf("Node %d", i), "capacityTonnesPerYear": float64(i % 5000),
			"country": "CN", "active": i%3 != 0,
		},
	}
}

// genGraph streams n twins and 2n relationships (a ring, "feeds", and a
// pseudo-random chord per twin, "supplies") without holding them in
// memory, as an ndjson import does.
func genGraph(n int) func(yield func(store.Entity, error) bool) {
	return func(yield func(store.Entity, error) bool) {
		for i := range n {
			t := benchTwin(i)
			if !yield(store.Entity{Twin: &t}, nil) {
				return
			}
		}
		for i := range n {
			src := twin.ID(fmt.Sprintf("node-%07d", i))
			feeds := twin.Relationship{ID: "feeds", SourceID: src, TargetID: twin.ID(fmt.Sprintf("node-%07d", (i+1)%n)), Name: "feeds"}
			supplies := twin.Relationship{ID: "supplies", SourceID: src, TargetID: twin.ID(fmt.Sprintf("node-%07d", (i*7919+13)%n)), Name: "supplies",
				Properties: map[string]any{"tonnesPerYear": float64(i % 977)}}
			if !yield(store.Entity{Relationship: &feeds}, nil) || !yield(store.Entity{Relationship: &supplies}, nil) {
				return
			}
		}
	}
}

// seedSize is the graph the read and write benchmarks run on.
const seedSize = 10_000

func seed(b *testing.B, db *postgres.DB, n int) {
	b.Helper()
	if _, err := db.Import(b.Context(), genGraph(n), store.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkTwinCreate(b *testing.B) {
	db := openBench(b)
	ctx := b.Context()
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	i := 0
	for b.Loop() {
		if _, err := db.PutTwin(ctx, benchTwin(i), store.Condition{IfNoneMatch: true}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkTwinGet(b *testing.B) {
	db := openBench(b)
	seed(b, db, seedSize)
	ctx := b.Context()
	for _, form := range []string{"twin", "json"} {
		b.Run("form="+form, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b, cpuTime())
			i := 0
			for b.Loop() {
				id := twin.ID(fmt.Sprintf("node-%07d", i%seedSize))
				var err error
				if form == "twin" {
					_, err = db.GetTwin(ctx, id)
				} else {
					_, _, err = db.GetTwinJSON(ctx, id)
				}
				if err != nil {
					b.Fatal(err)
				}
				i += 7
			}
		})
	}
}

func BenchmarkTwinPatch(b *testing.B) {
	db := openBench(b)
	seed(b, db, seedSize)
	ctx := b.Context()
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	i := 0
	for b.Loop() {
		p := twin.Patch{{Op: twin.OpReplace, Path: "/capacityTonnesPerYear", Value: float64(i)}}
		if _, err := db.PatchTwin(ctx, twin.ID(fmt.Sprintf("node-%07d", i%seedSize)), p, store.Condition{}); err != nil {
			b.Fatal(err)
		}
		i += 7
	}
}

// BenchmarkParallel measures many concurrent clients (as behind an HTTP
// server): reads run on the pool, writes share commits through group
// commit.
func BenchmarkParallel(b *testing.B) {
	for _, op := range []string{"get", "create", "patch"} {
		b.Run("op="+op+"/clients=32", func(b *testing.B) {
			db := openBench(b)
			seed(b, db, seedSize)
			ctx := b.Context()
			var seq atomic.Int64
			b.SetParallelism(16) // 16 × GOMAXPROCS(2) = 32 clients
			b.ReportAllocs()
			b.ResetTimer()
			defer reportCPU(b, cpuTime())
			defer reportWriter(b, db, db.WriterStats())
			defer reportServerCPU(b, db.Schema(), serverCPU(b, db.Schema()))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(seq.Add(1))
					var err error
					switch op {
					case "get":
						_, _, err = db.GetTwinJSON(ctx, twin.ID(fmt.Sprintf("node-%07d", (i*7)%seedSize)))
					case "create":
						_, err = db.PutTwin(ctx, benchTwin(seedSize+i), store.Condition{IfNoneMatch: true})
					default:
						p := twin.Patch{{Op: twin.OpReplace, Path: "/capacityTonnesPerYear", Value: float64(i)}}
						_, err = db.PatchTwin(ctx, twin.ID(fmt.Sprintf("node-%07d", (i*7)%seedSize)), p, store.Condition{})
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkImport streams n twins and 2n relationships per iteration into
// an empty schema (into=empty) or one already holding the same graph, whose
// every version then moves to the history (into=same). It reports twins/s
// and the process's peak RSS (the database server's memory is not
// counted).
func BenchmarkImport(b *testing.B) {
	n := *importTwins
	if testing.Short() {
		n = 10_000
	}
	for _, into := range []string{"empty", "same"} {
		b.Run(fmt.Sprintf("twins=%d/rels=%d/into=%s", n, 2*n, into), func(b *testing.B) {
			b.ReportAllocs()
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				db := openBench(b)
				if into == "same" {
					seed(b, db, n)
				}
				cpu0 := cpuTime()
				b.StartTimer()
				st, err := db.Import(b.Context(), genGraph(n), store.ImportOptions{})
				if err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - cpu0
				if st.Twins != n || st.Relationships != 2*n {
					b.Fatalf("Import = %+v", st)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "twins/s")
			b.ReportMetric(float64(3*n)*float64(b.N)/b.Elapsed().Seconds(), "entities/s")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "client-cpu-s/op")
			if kb := peakRSSKiB(); kb > 0 {
				b.ReportMetric(float64(kb)/1024, "peak-RSS-MiB")
			}
		})
	}
}

// BenchmarkExport streams a graph of 10,000 twins and 20,000
// relationships.
func BenchmarkExport(b *testing.B) {
	db := openBench(b)
	seed(b, db, seedSize)
	ctx := b.Context()
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		count := 0
		for _, err := range db.Export(ctx, time.Time{}) {
			if err != nil {
				b.Fatal(err)
			}
			count++
		}
		if count != 3*seedSize+1 {
			b.Fatalf("exported %d entities, want %d", count, 3*seedSize+1)
		}
	}
	b.ReportMetric(float64(3*seedSize)*float64(b.N)/b.Elapsed().Seconds(), "entities/s")
}

// reportWriter reports the writes per commit and the writer's round trips
// per write since st0.
func reportWriter(b *testing.B, db *postgres.DB, st0 postgres.WriterStats) {
	st := db.WriterStats()
	if n := st.Commits - st0.Commits; n > 0 {
		b.ReportMetric(float64(st.Writes-st0.Writes)/float64(n), "writes/commit")
	}
	if n := st.Writes - st0.Writes; n > 0 {
		b.ReportMetric(float64(st.RoundTrips-st0.RoundTrips)/float64(n), "trips/write")
	}
}

// peakRSSKiB reads VmHWM from /proc/self/status (Linux); 0 elsewhere.
func peakRSSKiB() int {
	f, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(f))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			if fields := bytes.Fields(rest); len(fields) > 0 {
				kb, _ := strconv.Atoi(string(fields[0]))
				return kb
			}
		}
	}
	return 0
}

// cpuTime returns this process's user+system CPU time (the client side;
// the database server's work is not in it).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the client's CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	if d := cpuTime() - start; d > 0 && b.N > 0 {
		b.ReportMetric(float64(d.Microseconds())/float64(b.N), "client-cpu-µs/op")
	}
}

// serverCPU returns the CPU time of the PostgreSQL server processes that
// serve the connections named app (their application_name), read from
// /proc: the server runs on this machine in the benchmarks. It returns 0
// where it cannot.
func serverCPU(b *testing.B, app string) time.Duration {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testDSN(b))
	if err != nil {
		return 0
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		return 0
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0
		}
		// utime and stime are fields 14 and 15, in clock ticks (100 per
		// second on Linux), after the parenthesised command name.
		_, rest, _ := bytes.Cut(stat, []byte(") "))
		f := bytes.Fields(rest)
		if len(f) < 13 {
			return 0
		}
		ut, _ := strconv.ParseInt(string(f[11]), 10, 64)
		st, _ := strconv.ParseInt(string(f[12]), 10, 64)
		sum += time.Duration(ut+st) * 10 * time.Millisecond
	}
	return sum
}

// reportServerCPU reports the PostgreSQL server's CPU time per operation
// (of the processes serving app) since start.
func reportServerCPU(b *testing.B, app string, start time.Duration) {
	if start == 0 || b.N == 0 {
		return
	}
	if d := serverCPU(b, app) - start; d > 0 {
		b.ReportMetric(float64(d.Microseconds())/float64(b.N), "pg-cpu-µs/op")
	}
}
