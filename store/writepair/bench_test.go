package writepair_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/store/postgres"
	_ "lodestone/store/sqlite" // registers sqlite:
	"lodestone/twin"
)

// clients is the number of concurrent writers, as in the HTTP write pair.
const clients = 16

// pool is the number of twins the patches spread over.
const pool = 2000

const model = "dtmi:lodestone:bench:Warehouse;1"

const modelDTDL = `{"@context":"dtmi:dtdl:context;3","@id":"` + model + `","@type":"Interface","contents":[
	{"@type":"Property","name":"name","schema":"string"},
	{"@type":"Property","name":"capacityTonnesPerYear","schema":"double"},
	{"@type":"Property","name":"inventoryTonnes","schema":"double"}]}`

// BenchmarkStoreWritePair runs the same creates and patches on SQLite and
// PostgreSQL with 16 concurrent clients (see the package documentation).
// Each op runs on SQLite, on SQLite with synchronous=full, then on
// PostgreSQL, so that a change in the machine's load hits all three; the
// PostgreSQL line reports its rate as a fraction of SQLite's in the run
// just before (x-sqlite) and of SQLite's with synchronous=full
// (x-sqlite-full: an fsync at every commit, as PostgreSQL does by default,
// where SQLite's default syncs only at checkpoints; the store=sqlite-full
// line), the CPU of its database server processes per op (pg-cpu-us/op,
// read from /proc: the server must run on this machine) and the writer's
// writes per commit and round trips per write.
func BenchmarkStoreWritePair(b *testing.B) {
	backends := []*backend{openSQLite(b, ""), openSQLite(b, "full"), openPostgres(b)}
	var ids atomic.Int64 // ids of created twins, unique across rounds
	ops := []struct {
		name string
		do   func(ctx context.Context, be *backend, i int64) error
	}{
		{"create", func(ctx context.Context, be *backend, i int64) error {
			t := warehouse("new-"+strconv.FormatInt(ids.Add(1), 10), float64(i%1000))
			_, err := be.st.PutTwin(ctx, t, store.Condition{IfNoneMatch: true, Models: be.models})
			return err
		}},
		{"patch", func(ctx context.Context, be *backend, i int64) error {
			id := twin.ID("pool-" + strconv.FormatInt((i*7)%pool, 10))
			p := twin.Patch{{Op: twin.OpReplace, Path: "/inventoryTonnes", Value: float64(i%100000) + 0.5}}
			return patch(ctx, be, id, p)
		}},
	}
	for _, op := range ops {
		var sqliteRate, fullRate float64
		for _, be := range backends {
			b.Run("op="+op.name+"/store="+be.name, func(b *testing.B) {
				if be.st == nil {
					b.Skip(be.skip)
				}
				rate := runClients(b, be, op.do)
				switch {
				case be.name == "sqlite":
					sqliteRate = rate
				case be.name == "sqlite-full":
					fullRate = rate
				case sqliteRate > 0:
					b.ReportMetric(rate/sqliteRate, "x-sqlite")
					if fullRate > 0 {
						b.ReportMetric(rate/fullRate, "x-sqlite-full")
					}
				}
			})
		}
	}
}

// patch does what the pipeline does for a PATCH without If-Match
// (pipeline.PatchTwin): it takes the base version from the versions this
// client side has just written (the pipeline's twin cache), else reads the
// twin, and stores the patch applied to that version under If-Match of it
// (PatchTwinFrom). A cached version that is no longer current (another
// write came between) is dropped and the twin read again, as is a version
// read from the store that a concurrent write made stale.
func patch(ctx context.Context, be *backend, id twin.ID, p twin.Patch) error {
	if v, ok := be.written.Load(id); ok {
		cur := v.(twin.Twin)
		if err := patchFrom(ctx, be, cur, p); err == nil {
			return nil
		}
		be.written.CompareAndDelete(id, v)
	}
	for {
		cur, err := be.st.GetTwin(ctx, id)
		if err != nil {
			return err
		}
		err = patchFrom(ctx, be, cur, p)
		if !errors.Is(err, store.ErrPreconditionFailed) {
			return err
		}
	}
}

// patchFrom stores p applied to cur under If-Match of cur and keeps the
// stored version for the next patch of the twin.
func patchFrom(ctx context.Context, be *backend, cur twin.Twin, p twin.Patch) error {
	c := store.Condition{IfMatch: cur.ETag, Models: be.models}
	var (
		stored twin.Twin
		err    error
	)
	if tp, ok := be.st.(store.TwinPatcher); ok {
		stored, err = tp.PatchTwinFrom(ctx, cur, p, c)
	} else {
		stored, err = be.st.PatchTwin(ctx, cur.ID, p, c)
	}
	if err == nil {
		be.written.Store(cur.ID, stored)
	}
	return err
}

func warehouse(id string, inventory float64) twin.Twin {
	return twin.Twin{
		ID:       twin.ID(id),
		Metadata: twin.Metadata{Model: model},
		Properties: map[string]any{
			"name": "new warehouse", "capacityTonnesPerYear": 2500.0, "inventoryTonnes": inventory,
		},
	}
}

// backend is one store of the pair.
type backend struct {
	name   string
	st     store.Store // nil: skipped, for skip
	skip   string
	models int64       // the model-set version the writes were "validated" against
	pg     *pgBackends // the PostgreSQL server's processes, or nil
	acks   *acker
	// written holds the twin versions the patches stored (twin.ID →
	// twin.Twin), as the pipeline's twin cache does.
	written sync.Map
}

// openSQLite opens a SQLite store in a temporary folder, with the
// default synchronous mode (normal) or, with sync "full", one that syncs
// the log at every commit.
func openSQLite(b *testing.B, sync string) *backend {
	b.Helper()
	dsn, name := "sqlite:"+filepath.Join(b.TempDir(), "pair.db"), "sqlite"
	if sync != "" {
		dsn += "?synchronous=" + sync
		name += "-" + sync
	}
	st, err := store.Open(b.Context(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	return setUp(b, &backend{name: name, st: st})
}

// openPostgres opens PostgreSQL in a fresh schema, dropped at the end.
func openPostgres(b *testing.B) *backend {
	b.Helper()
	base := os.Getenv("LODESTONE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			b.Fatal("LODESTONE_TEST_POSTGRES is not set, and CI=true requires the PostgreSQL benchmarks to run")
		}
		return &backend{name: "postgres", skip: "LODESTONE_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); skipping the PostgreSQL side"}
	}
	schema := fmt.Sprintf("lodestone_pair_%d_%d", os.Getpid(), time.Now().UnixNano())
	u, err := url.Parse(base)
	if err != nil {
		b.Fatalf("LODESTONE_TEST_POSTGRES: %v", err)
	}
	plain := u.String()
	q := u.Query()
	q.Set("schema", schema)
	q.Set("application_name", schema) // lets pgBackends find the store's connections
	u.RawQuery = q.Encode()
	conn, err := pgx.Connect(b.Context(), plain)
	if err != nil {
		b.Fatalf("LODESTONE_TEST_POSTGRES: %v", err)
	}
	// Cleanups run last first: the schema is dropped after the store closed.
	b.Cleanup(func() {
		ctx := context.Background()
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			b.Errorf("drop schema %s: %v", schema, err)
		}
	})
	st, err := store.Open(b.Context(), u.String())
	if err != nil {
		b.Fatal(err)
	}
	return setUp(b, &backend{name: "postgres", st: st, pg: &pgBackends{conn: conn, app: schema}})
}

// setUp stores the model and the pool of twins to patch, and starts the
// acknowledgements.
func setUp(b *testing.B, be *backend) *backend {
	b.Helper()
	ctx := b.Context()
	b.Cleanup(func() {
		be.acks.stop()
		if err := be.st.Close(); err != nil {
			b.Errorf("close %s: %v", be.name, err)
		}
	})
	be.acks = startAcker(be.st)
	if _, err := be.st.PutModels(ctx, []twin.Model{{ID: model, DTDL: json.RawMessage(modelDTDL)}}, store.Condition{}); err != nil {
		b.Fatal(err)
	}
	v, err := be.st.ModelsVersion(ctx)
	if err != nil {
		b.Fatal(err)
	}
	be.models = v
	src := func(yield func(store.Entity, error) bool) {
		for i := range pool {
			t := warehouse("pool-"+strconv.Itoa(i), float64(i))
			if !yield(store.Entity{Twin: &t}, nil) {
				return
			}
		}
	}
	if _, err := be.st.Import(ctx, src, store.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	return be
}

// acker removes the records of committed writes from the outbox in
// batches, as the pipeline's relay does once their events are published:
// every 125 ms, or at once when 512 are waiting.
type acker struct {
	mu   sync.Mutex
	seqs []int64
	kick chan struct{}
	quit chan struct{}
	done chan struct{}
}

func startAcker(o store.Outbox) *acker {
	a := &acker{kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		tick := time.NewTicker(125 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-a.quit:
				a.flush(o)
				return
			case <-tick.C:
			case <-a.kick:
			}
			a.flush(o)
		}
	}()
	return a
}

func (a *acker) add(recs []store.Record) {
	a.mu.Lock()
	for _, r := range recs {
		a.seqs = append(a.seqs, r.Seq)
	}
	n := len(a.seqs)
	a.mu.Unlock()
	if n >= 512 {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
}

func (a *acker) flush(o store.Outbox) {
	a.mu.Lock()
	seqs := a.seqs
	a.seqs = nil
	a.mu.Unlock()
	if len(seqs) > 0 {
		// A failure leaves records in the outbox, which only makes the
		// table larger; the benchmark goes on.
		_ = o.AckRecords(context.Background(), seqs)
	}
}

func (a *acker) stop() {
	close(a.quit)
	<-a.done
}

// runClients runs b.N calls of do from clients goroutines, each with a
// store.Recorder in its context, reports the rate, the latency
// percentiles, the CPU per op and the writer's counters, and returns the
// rate.
func runClients(b *testing.B, be *backend, do func(ctx context.Context, be *backend, i int64) error) float64 {
	ctx := b.Context()
	ws, _ := be.st.(interface{ WriterStats() postgres.WriterStats })
	var st0 postgres.WriterStats
	if ws != nil {
		st0 = ws.WriterStats()
	}
	var pg0 map[int]time.Duration
	if be.pg != nil {
		pg0 = be.pg.cpu(b)
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
	cpu0 := cpuTime()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			local := make([]time.Duration, 0, b.N/clients+1)
			for {
				i := next.Add(1)
				if i > int64(b.N) || failed.Load() != nil {
					break
				}
				t0 := time.Now()
				rec := &store.Recorder{}
				if err := do(store.WithRecorder(ctx, rec), be, i); err != nil {
					failed.CompareAndSwap(nil, err)
					break
				}
				local = append(local, time.Since(t0))
				be.acks.add(rec.Records())
			}
			mu.Lock()
			all = append(all, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	if len(all) == 0 {
		return 0
	}
	slices.Sort(all)
	q := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	rate := float64(len(all)) / elapsed.Seconds()
	n := float64(len(all))
	b.ReportMetric(rate, "ops/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-us/op")
	if be.pg != nil {
		var pgCPU time.Duration
		for pid, t := range be.pg.cpu(b) {
			pgCPU += t - pg0[pid]
		}
		b.ReportMetric(float64(pgCPU.Microseconds())/n, "pg-cpu-us/op")
	}
	if ws != nil {
		st := ws.WriterStats()
		if c := st.Commits - st0.Commits; c > 0 {
			b.ReportMetric(float64(st.Writes-st0.Writes)/float64(c), "writes/commit")
		}
		if w := st.Writes - st0.Writes; w > 0 {
			b.ReportMetric(float64(st.RoundTrips-st0.RoundTrips)/float64(w), "trips/write")
		}
	}
	return rate
}

// cpuTime is the user and system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pgBackends finds the PostgreSQL server processes that serve the store's
// connections (by their application_name) to read their CPU time from
// /proc.
type pgBackends struct {
	conn *pgx.Conn
	app  string
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
