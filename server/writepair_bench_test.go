package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/server"
	"lodestone/store/postgres"
)

// BenchmarkWritePair runs the same creates and patches through the HTTP API
// on SQLite and on PostgreSQL side by side, with writeClients concurrent
// clients, so that the two backends are compared in one run on one
// machine:
//
//	LODESTONE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//		go test -run='^$' -bench=WritePair -benchtime=5s -count=3 ./server
//
// Each op runs on each backend one after the other (op=create/store=sqlite,
// op=create/store=sqlite-full, op=create/store=postgres, op=patch/…), so
// that a change in the machine's load hits all of them; sqlite-full is
// SQLite with synchronous=full, which syncs its log at every commit as
// PostgreSQL does by default. PostgreSQL runs in a fresh schema that is dropped
// afterwards; without LODESTONE_TEST_POSTGRES its sub-benchmarks skip.
// Besides ops/s and the p50 and p99 latencies, each reports the CPU time
// of this process per op (server and client; the PostgreSQL server's own
// work is not in it) and, where the store counts them, the writes per
// commit (writes/commit).
func BenchmarkWritePair(b *testing.B) {
	stores := []struct {
		name string
		dsn  func(b *testing.B) string // "" skips
	}{
		{"sqlite", func(*testing.B) string { return "" }},
		// SQLite syncing its log at every commit, as PostgreSQL does by
		// default (SQLite's default syncs at checkpoints only).
		{"sqlite-full", func(b *testing.B) string {
			return "sqlite:" + filepath.Join(b.TempDir(), "full.db") + "?synchronous=full"
		}},
		{"postgres", benchPostgresDSN},
	}
	// Servers are started once per backend and shared by the ops and the
	// b.N rounds of each (a start loads the ontology and 2,000 twins).
	servers := make(map[string]*pairServer)
	for _, st := range stores {
		dsn := st.dsn(b)
		if st.name == "postgres" && dsn == "" {
			continue
		}
		servers[st.name] = startPair(b, dsn)
	}
	var seq atomic.Int64 // ids of created twins, unique across rounds
	ops := []struct {
		name string
		do   func(ctx context.Context, ps *pairServer, i int64) error
	}{
		{"create", func(ctx context.Context, ps *pairServer, i int64) error {
			body := []byte(`{"$metadata":{"$model":"` + benchModel + `"},"name":"new warehouse","capacityTonnesPerYear":2500,"inventoryTonnes":` + strconv.FormatInt(i%1000, 10) + `}`)
			res, err := send(ctx, ps.c, http.MethodPut, ps.url+"/digitaltwins/new-"+strconv.FormatInt(seq.Add(1), 10), body, "If-None-Match", "*")
			return expect(res, err, http.StatusOK, "PUT twin")
		}},
		{"patch", func(ctx context.Context, ps *pairServer, i int64) error {
			// Clients patch distinct twins at any moment (i runs through
			// the pool), as the SQLite benchmark's random picks nearly do,
			// so that retries after a concurrent patch stay rare.
			body := []byte(`[{"op":"replace","path":"/inventoryTonnes","value":` + strconv.FormatInt(i%100000, 10) + `.5}]`)
			res, err := send(ctx, ps.c, http.MethodPatch, ps.url+"/digitaltwins/pool-"+strconv.FormatInt((i*7)%benchPool, 10), body)
			return expect(res, err, http.StatusNoContent, "PATCH twin")
		}},
	}
	for _, op := range ops {
		for _, st := range stores {
			b.Run(fmt.Sprintf("op=%s/store=%s", op.name, st.name), func(b *testing.B) {
				ps := servers[st.name]
				if ps == nil {
					b.Skip("LODESTONE_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); skipping the PostgreSQL side")
				}
				runClients(b, ps, op.do)
			})
		}
	}
}

// writeClients is the number of concurrent HTTP clients of
// BenchmarkWritePair, whatever GOMAXPROCS is.
const writeClients = 16

// pairServer is a server of BenchmarkWritePair and its client.
type pairServer struct {
	s   *server.Server
	c   *http.Client
	url string
	// pg watches the PostgreSQL server's processes that serve s, when s
	// runs on PostgreSQL.
	pg *pgBackends
}

// writerStatser is implemented by stores that count the work of their
// writer (store/postgres).
type writerStatser interface {
	WriterStats() postgres.WriterStats
}

// startPair starts a server on the store dsn ("" is SQLite in a temporary
// directory) with the bundled ontology and benchPool twins to patch.
func startPair(b *testing.B, dsn string) *pairServer {
	b.Helper()
	ps := startPairServer(b, dsn)
	if strings.HasPrefix(dsn, "postgres") {
		ps.pg = watchBackends(b, dsn)
	}
	return ps
}

func startPairServer(b *testing.B, dsn string) *pairServer {
	b.Helper()
	s := startServer(b, func(o *server.Options) { o.StoreDSN = dsn })
	ps := &pairServer{s: s, c: fastClient(), url: s.URL()}
	res, err := send(b.Context(), ps.c, http.MethodPost, ps.url+"/models", ontologyBody())
	if err != nil || res.status != http.StatusCreated {
		b.Fatalf("POST /models = %d %s, %v", res.status, res.body, err)
	}
	if err := importFile(b.Context(), ps.c, ps.url, "pool", "pool", benchPool, false); err != nil {
		b.Fatal(err)
	}
	return ps
}

// benchPostgresDSN returns LODESTONE_TEST_POSTGRES with a schema of its own,
// dropped when the benchmark ends, or "" when the variable is unset.
func benchPostgresDSN(b *testing.B) string {
	b.Helper()
	base := os.Getenv("LODESTONE_TEST_POSTGRES")
	if base == "" {
		return ""
	}
	schema := fmt.Sprintf("lodestone_bench_%d_%d", os.Getpid(), time.Now().UnixNano())
	u, err := url.Parse(base)
	if err != nil {
		b.Fatalf("LODESTONE_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("schema", schema)
	// The name lets watchBackends find the server's connections.
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	// Registered before the server's Shutdown (cleanups run last first),
	// so the schema is dropped after the server closed its connections.
	b.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, plainDSN(u))
		if err != nil {
			b.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			b.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return u.String()
}

// runClients runs b.N calls of do from writeClients goroutines and reports
// the rate, latency percentiles, CPU per op and (where counted) writes per
// commit.
func runClients(b *testing.B, ps *pairServer, do func(ctx context.Context, ps *pairServer, i int64) error) {
	ctx := b.Context()
	ws, _ := ps.s.Store.(writerStatser)
	var st0 postgres.WriterStats
	if ws != nil {
		st0 = ws.WriterStats()
	}
	var pg0 map[int]time.Duration
	if ps.pg != nil {
		pg0 = ps.pg.cpu(b)
	}
	var (
		next   atomic.Int64
		failed atomic.Value
		mu     sync.Mutex
		all    = make([]time.Duration, 0, b.N)
		wg     sync.WaitGroup
	)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, sys0 := cpuTime(), rwSyscalls()
	start := time.Now()
	for range writeClients {
		wg.Go(func() {
			local := make([]time.Duration, 0, b.N/writeClients+1)
			for {
				i := next.Add(1)
				if i > int64(b.N) || failed.Load() != nil {
					break
				}
				t0 := time.Now()
				if err := do(ctx, ps, i); err != nil {
					failed.CompareAndSwap(nil, err)
					break
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			all = append(all, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu, sys := cpuTime()-cpu0, rwSyscalls()-sys0
	b.StopTimer()
	var pgCPU time.Duration
	if ps.pg != nil {
		for pid, t := range ps.pg.cpu(b) {
			pgCPU += t - pg0[pid]
			if os.Getenv("PGDEBUG") != "" {
				var q string
				ps.pg.conn.QueryRow(ctx, `SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 60) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&q)
				fmt.Printf("pid %d cpu %v  %s\n", pid, t-pg0[pid], q)
			}
		}
	}
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	q := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "ops/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(all)), "cpu-us/op")
	b.ReportMetric(sys/float64(len(all)), "rw-syscalls/op")

	if ps.pg != nil {
		b.ReportMetric(float64(pgCPU.Microseconds())/float64(len(all)), "pg-cpu-us/op")
	}
	if ws != nil {
		st := ws.WriterStats()
		if n := st.Commits - st0.Commits; n > 0 {
			b.ReportMetric(float64(st.Writes-st0.Writes)/float64(n), "writes/commit")
		}
		if n := st.Writes - st0.Writes; n > 0 && st.RoundTrips > st0.RoundTrips {
			b.ReportMetric(float64(st.RoundTrips-st0.RoundTrips)/float64(n), "trips/write")
		}
	}
}

// pgBackends finds the PostgreSQL server processes that serve a Lodestone
// server's connections (by their application_name) to read their CPU time
// from /proc: the server runs on this machine, on loopback.
type pgBackends struct {
	conn *pgx.Conn
	app  string
}

func watchBackends(b *testing.B, dsn string) *pgBackends {
	b.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := pgx.Connect(b.Context(), plainDSN(u))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	return &pgBackends{conn: conn, app: u.Query().Get("application_name")}
}

// plainDSN is u without the parameters that only store/postgres and pgx's
// pool read, for a connection of the benchmark's own.
func plainDSN(u *url.URL) string {
	q := u.Query()
	for k := range q {
		if k == "schema" || k == "application_name" || strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	v := *u
	v.RawQuery = q.Encode()
	return v.String()
}

// cpu returns the user and system CPU time of each backend process by pid
// (none if /proc cannot be read).
func (p *pgBackends) cpu(b *testing.B) map[int]time.Duration {
	rows, err := p.conn.Query(b.Context(), `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, p.app)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	out := make(map[int]time.Duration, len(pids))
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// utime and stime are fields 14 and 15, in clock ticks (100 per
		// second on Linux), after the parenthesised command name.
		_, rest, _ := strings.Cut(string(stat), ") ")
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[int(pid)] = time.Duration(ut+st) * 10 * time.Millisecond
	}
	return out
}
