package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"lodestone/server"
)

// Benchmarks of the twin API over HTTP on loopback with the embedded store
// and bus, as `lodestone serve` runs them. Rerun with
//
//	go test -run='^$' -bench=. -benchtime=5s ./server
//	LODESTONE_BENCH_LARGE=1 go test -run='^$' -bench=Import/twins=1000000 -benchtime=1x -timeout=30m ./server
//
// docs/benchmarks.md holds the figures and the targets.

const (
	benchModel    = "dtmi:lodestone:Warehouse;1"
	benchPool     = 2000 // twins read and patched
	benchClients  = 8    // client goroutines per GOMAXPROCS in RunParallel
	benchLargeEnv = "LODESTONE_BENCH_LARGE"
)

// startBench runs a server with the bundled ontology (no demo world) in a
// fresh data directory.
func startBench(b *testing.B) (*server.Server, *http.Client) {
	b.Helper()
	s := startServer(b, nil)
	c := fastClient()
	res, err := send(b.Context(), c, http.MethodPost, s.URL()+"/models", ontologyBody())
	if err != nil || res.status != http.StatusCreated {
		b.Fatalf("POST /models = %d %s, %v", res.status, res.body, err)
	}
	return s, c
}

// writeImport writes an ADT import file of n Warehouse twins with ids
// prefix-0 … prefix-(n-1) and, when rels, two "feeds" relationships per
// twin (to its next and its 13th neighbour in a ring).
func writeImport(w io.Writer, prefix string, n int, rels bool) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.WriteString(`{"Section":"Header"}` + "\n" + `{"fileVersion":"1.0.0","author":"lodestone bench","organization":"lodestone"}` + "\n")
	bw.WriteString(`{"Section":"Twins"}` + "\n")
	var line []byte
	for i := range n {
		line = line[:0]
		line = append(line, `{"$dtId":"`...)
		line = append(line, prefix...)
		line = append(line, '-')
		line = strconv.AppendInt(line, int64(i), 10)
		line = append(line, `","$metadata":{"$model":"`+benchModel+`"},"name":"bench warehouse","capacityTonnesPerYear":`...)
		line = strconv.AppendInt(line, int64(1000+i%5000), 10)
		line = append(line, `,"inventoryTonnes":12.5}`+"\n"...)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	if rels {
		bw.WriteString(`{"Section":"Relationships"}` + "\n")
		for i := range n {
			for j, step := range [2]int{1, 13} {
				line = line[:0]
				line = append(line, `{"$dtId":"`...)
				line = append(line, prefix...)
				line = append(line, '-')
				line = strconv.AppendInt(line, int64(i), 10)
				line = append(line, `","$relationshipId":"feeds-`...)
				line = strconv.AppendInt(line, int64(j), 10)
				line = append(line, `","$targetId":"`...)
				line = append(line, prefix...)
				line = append(line, '-')
				line = strconv.AppendInt(line, int64((i+step)%n), 10)
				line = append(line, `","$relationshipName":"feeds","tonnesPerYear":`...)
				line = strconv.AppendInt(line, int64(10+i%90), 10)
				line = append(line, "}\n"...)
				if _, err := bw.Write(line); err != nil {
					return err
				}
			}
		}
	}
	return bw.Flush()
}

// importFile streams a generated import file into PUT /jobs/imports/{id}.
func importFile(ctx context.Context, c *http.Client, base, job, prefix string, n int, rels bool) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeImport(pw, prefix, n, rels)) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/jobs/imports/"+job, pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	// A large job takes longer than the client's per-request timeout;
	// ctx bounds it instead.
	res, err := (&http.Client{Transport: c.Transport}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var st struct {
		Status string `json:"status"`
		Twins  int    `json:"twinsCount"`
		Rels   int    `json:"relationshipsCount"`
	}
	json.Unmarshal(body, &st)
	if res.StatusCode != http.StatusOK || st.Status != "succeeded" {
		return fmt.Errorf("import %s = %d %s", job, res.StatusCode, body)
	}
	if st.Twins != n || (rels && st.Rels != 2*n) {
		return fmt.Errorf("import %s stored %d twins and %d relationships, want %d and %d", job, st.Twins, st.Rels, n, 2*n)
	}
	return nil
}

// latencies collects request durations from parallel clients.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d...)
	l.mu.Unlock()
}

// report adds ops/s and the p50 and p99 latencies to the benchmark.
func (l *latencies) report(b *testing.B, unit string, elapsed time.Duration) {
	if len(l.all) == 0 {
		return
	}
	slices.Sort(l.all)
	q := func(p float64) float64 {
		return float64(l.all[min(len(l.all)-1, int(p*float64(len(l.all))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(l.all))/elapsed.Seconds(), unit)
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// parallel runs op from b.RunParallel's goroutines, once with one client
// per GOMAXPROCS (latency with little queueing) and once with benchClients
// per GOMAXPROCS (throughput), and reports the rate and latency
// percentiles of each. op gets a per-goroutine random source and a
// sequence number unique across goroutines and runs.
func parallel(b *testing.B, unit string, op func(r *rand.Rand, seq int64) error) {
	var seq atomic.Int64
	for _, p := range []int{1, benchClients} {
		b.Run(fmt.Sprintf("clients=%d", p*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			var lat latencies
			var failed atomic.Value
			b.SetParallelism(p)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, sys0 := cpuTime(), rwSyscalls()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(uint64(seq.Add(1<<40)), 7))
				local := make([]time.Duration, 0, 1024)
				for pb.Next() {
					t0 := time.Now()
					if err := op(r, seq.Add(1)); err != nil {
						failed.CompareAndSwap(nil, err)
						break
					}
					local = append(local, time.Since(t0))
				}
				lat.add(local)
			})
			elapsed := time.Since(start)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
			lat.report(b, unit, elapsed)
			// The machine is shared: CPU time per operation (client and
			// server together, user and system) says what the rate would
			// be on idle cores.
			b.ReportMetric(float64(cpu.Microseconds())/float64(max(len(lat.all), 1)), "cpu-us/op")
			b.ReportMetric((rwSyscalls()-sys0)/float64(max(len(lat.all), 1)), "rw-syscalls/op")
		})
	}
}

// rwSyscalls is the number of read and write system calls this process
// has made (syscr + syscw of /proc/self/io; 0 where there is none). Unlike
// rates and CPU time it does not move with the machine's load, and on
// this VM a system call is expensive: the WAL frames of SQLite, the
// socket reads and writes and the event store's writes show up here.
func rwSyscalls() float64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	var n float64
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok && (k == "syscr" || k == "syscw") {
			f, _ := strconv.ParseFloat(v, 64)
			n += f
		}
	}
	return n
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func expect(res reply, err error, want int, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if res.status != want {
		return fmt.Errorf("%s = %d %s, want %d", what, res.status, res.body, want)
	}
	return nil
}

// BenchmarkTwinRead measures GET /digitaltwins/{id} of random twins.
func BenchmarkTwinRead(b *testing.B) {
	s, c := startBench(b)
	ctx := b.Context()
	if err := importFile(ctx, c, s.URL(), "pool", "pool", benchPool, false); err != nil {
		b.Fatal(err)
	}
	base := s.URL() + "/digitaltwins/pool-"
	parallel(b, "reads/s", func(r *rand.Rand, _ int64) error {
		res, err := send(ctx, c, http.MethodGet, base+strconv.Itoa(r.IntN(benchPool)), nil)
		return expect(res, err, http.StatusOK, "GET twin")
	})
}

// BenchmarkTwinPatch measures validated JSON Patches (replace a numeric
// property with a unit) of random twins; each is checked against the model,
// stored with its history and published as an event.
func BenchmarkTwinPatch(b *testing.B) {
	s, c := startBench(b)
	ctx := b.Context()
	if err := importFile(ctx, c, s.URL(), "pool", "pool", benchPool, false); err != nil {
		b.Fatal(err)
	}
	base := s.URL() + "/digitaltwins/pool-"
	parallel(b, "patches/s", func(r *rand.Rand, seq int64) error {
		body := []byte(`[{"op":"replace","path":"/inventoryTonnes","value":` + strconv.FormatInt(seq%100000, 10) + `.5}]`)
		res, err := send(ctx, c, http.MethodPatch, base+strconv.Itoa(r.IntN(benchPool)), body)
		return expect(res, err, http.StatusNoContent, "PATCH twin")
	})
}

// BenchmarkTwinCreate measures PUT /digitaltwins/{id} with If-None-Match: *
// of new twins.
func BenchmarkTwinCreate(b *testing.B) {
	s, c := startBench(b)
	ctx := b.Context()
	base := s.URL() + "/digitaltwins/new-"
	parallel(b, "creates/s", func(_ *rand.Rand, seq int64) error {
		body := []byte(`{"$metadata":{"$model":"` + benchModel + `"},"name":"new warehouse","capacityTonnesPerYear":2500,"inventoryTonnes":` + strconv.FormatInt(seq%1000, 10) + `}`)
		res, err := send(ctx, c, http.MethodPut, base+strconv.FormatInt(seq, 10), body, "If-None-Match", "*")
		return expect(res, err, http.StatusOK, "PUT twin")
	})
}

// BenchmarkTelemetry measures POST /digitaltwins/{id}/telemetry of one
// value validated against the model's Telemetry, stored as a time series
// and published as an event.
func BenchmarkTelemetry(b *testing.B) {
	s, c := startBench(b)
	ctx := b.Context()
	if err := importFile(ctx, c, s.URL(), "pool", "pool", benchPool, false); err != nil {
		b.Fatal(err)
	}
	base := s.URL() + "/digitaltwins/pool-"
	parallel(b, "points/s", func(r *rand.Rand, seq int64) error {
		body := []byte(`{"outputRate":` + strconv.FormatInt(seq%5000, 10) + `.25}`)
		res, err := send(ctx, c, http.MethodPost, base+strconv.Itoa(r.IntN(benchPool))+"/telemetry", body, "Message-Id", "m"+strconv.FormatInt(seq, 10))
		return expect(res, err, http.StatusNoContent, "POST telemetry")
	})
}

// peakMemory samples the Go heap while an import runs.
type peakMemory struct {
	stop chan struct{}
	done chan struct{}
	heap uint64 // peak HeapAlloc
	sys  uint64 // peak Sys
}

func watchMemory() *peakMemory {
	p := &peakMemory{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			p.heap = max(p.heap, ms.HeapAlloc)
			p.sys = max(p.sys, ms.Sys)
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *peakMemory) end() { close(p.stop); <-p.done }

// peakRSS reads the process's peak resident set (VmHWM) in bytes; 0 when
// /proc is not there.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkImport measures a bulk import job of N twins and 2N
// relationships streamed through PUT /jobs/imports/{id}, with the peak Go
// heap of the whole process (server and generator) during the job. The
// 1,000,000-twin size runs only with LODESTONE_BENCH_LARGE=1.
func BenchmarkImport(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if os.Getenv(benchLargeEnv) != "" {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		b.Run("twins="+strconv.Itoa(n), func(b *testing.B) {
			s, c := startBench(b)
			ctx := b.Context()
			runtime.GC()
			mem := watchMemory()
			cpu0 := cpuTime()
			b.ReportAllocs()
			iter := 0
			var elapsed time.Duration
			for b.Loop() {
				iter++
				t0 := time.Now()
				if err := importFile(ctx, c, s.URL(), "bench-"+strconv.Itoa(iter), "i"+strconv.Itoa(iter), n, true); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(t0)
			}
			mem.end()
			b.ReportMetric(float64((cpuTime() - cpu0).Seconds()), "cpu-s")
			b.ReportMetric(float64(n*iter)/elapsed.Seconds(), "twins/s")
			b.ReportMetric(float64(3*n*iter)/elapsed.Seconds(), "items/s")
			b.ReportMetric(float64(mem.heap)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(mem.sys)/(1<<20), "peak-sys-MB")
			b.ReportMetric(peakRSS()/(1<<20), "peak-rss-MB")
		})
	}
}
