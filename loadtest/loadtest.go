package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Model is the DTDL interface of the twins a bench creates; it is
// uploaded once per server and left there (other benches reuse it).
const Model = "dtmi:lodestone:bench:Item;1"

const modelDTDL = `{"@context":"dtmi:dtdl:context;3","@id":"` + Model + `","@type":"Interface","displayName":"Bench item",
"description":"Twins written by lodestone bench (see docs/formats/bench.md).","contents":[
{"@type":"Property","name":"value","schema":"double","writable":true},
{"@type":"Property","name":"bucket","schema":"string","writable":true},
{"@type":"Telemetry","name":"reading","schema":"double"}]}`

// groups is how many query groups the seed twins are spread over; a
// query reads one group (Twins/groups twins).
const groups = 10

// Options configure a run.
type Options struct {
	// Server is the base URL ("http://127.0.0.1:8080").
	Server string
	// Clients is the number of concurrent clients (each one request at a
	// time); Duration is how long they run.
	Clients  int
	Duration time.Duration
	Mix      Mix
	// Prefix names the run's twins; "" makes a random one ("bench-…").
	Prefix string
	// Twins is the number of twins created before the clients start,
	// which reads, patches, queries and telemetry address (default 100).
	Twins int
	// Cleanup deletes the twins of the run at the end.
	Cleanup bool
	// Token, when set, is sent as "Authorization: Bearer TOKEN".
	Token string
	// Seed makes the clients' choices repeatable (not the timings).
	Seed uint64
	// HTTP is the client; nil uses one with keep-alive for every client.
	HTTP *http.Client
}

// Result is the report of a run (its JSON is the --json output; see
// docs/formats/bench.md).
type Result struct {
	Server          string         `json:"server"`
	Prefix          string         `json:"prefix"`
	Clients         int            `json:"clients"`
	Mix             string         `json:"mix"`
	SeedTwins       int            `json:"seedTwins"`
	DurationSeconds float64        `json:"durationSeconds"`
	Operations      []OpStats      `json:"operations"`
	Overall         OpStats        `json:"overall"`
	ErrorsByStatus  map[string]int `json:"errorsByStatus"`
	CleanedUp       int            `json:"cleanedUp"`
}

// OpStats are the counts, rate and latency percentiles of one operation.
// Latencies include every request (failed ones too); errors are answers
// other than the operation's success status, and transport failures.
type OpStats struct {
	Op            string  `json:"op"`
	Requests      int     `json:"requests"`
	Errors        int     `json:"errors"`
	RatePerSecond float64 `json:"ratePerSecond"`
	P50Ms         float64 `json:"p50Ms"`
	P90Ms         float64 `json:"p90Ms"`
	P99Ms         float64 `json:"p99Ms"`
	MaxMs         float64 `json:"maxMs"`
}

// ErrUnreachable is the error of a run against no server.
var ErrUnreachable = errors.New("is the server running? start one with `lodestone serve` or `lodestone demo`, or give --server URL")

// Run sets up the run's twins, drives the server for opts.Duration and
// reports. Errors of the setup end the run; errors during it are counted.
func Run(ctx context.Context, opts Options) (*Result, error) {
	b, err := newBench(opts)
	if err != nil {
		return nil, err
	}
	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	res := b.drive(ctx)
	if opts.Cleanup {
		n, err := b.cleanup(ctx)
		res.CleanedUp = n
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

type bench struct {
	opts Options
	base string
	hc   *http.Client
	seed []string // ids of the seed twins

	mu      sync.Mutex
	created []string
}

func newBench(opts Options) (*bench, error) {
	u, err := url.Parse(opts.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bench: --server %q: want an http:// or https:// URL", opts.Server)
	}
	if opts.Clients < 1 {
		return nil, fmt.Errorf("bench: --clients %d: want at least 1", opts.Clients)
	}
	if opts.Duration <= 0 {
		return nil, fmt.Errorf("bench: --duration %s: want a positive duration", opts.Duration)
	}
	if opts.Mix == nil {
		opts.Mix = DefaultMix()
	}
	if opts.Mix.total() == 0 {
		return nil, errors.New("bench: --mix: every weight is 0")
	}
	if opts.Twins <= 0 {
		opts.Twins = 100
	}
	if opts.Prefix == "" {
		var r [4]byte
		rand.Read(r[:])
		opts.Prefix = "bench-" + hex.EncodeToString(r[:]) + "-"
	}
	hc := opts.HTTP
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = opts.Clients
		tr.MaxConnsPerHost = 0
		hc = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	}
	return &bench{opts: opts, base: strings.TrimRight(opts.Server, "/"), hc: hc}, nil
}

// do sends one request and drains the answer; a transport error is
// returned with status 0.
func (b *bench) do(ctx context.Context, method, path, ctype string, body []byte, hdr ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if b.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+b.opts.Token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// setup checks the server, uploads the model when missing and creates
// the seed twins.
func (b *bench) setup(ctx context.Context) error {
	st, _, err := b.do(ctx, "GET", "/healthz", "", nil)
	if err != nil {
		return fmt.Errorf("bench: cannot reach %s (%v): %w", b.opts.Server, err, ErrUnreachable)
	}
	if st == http.StatusUnauthorized || st == http.StatusForbidden {
		return fmt.Errorf("bench: %s answered %d to GET /healthz: give --token", b.opts.Server, st)
	}
	st, body, err := b.do(ctx, "POST", "/models", "application/json", []byte("["+modelDTDL+"]"))
	if err != nil {
		return fmt.Errorf("bench: upload model: %w", err)
	}
	if st != http.StatusCreated && st != http.StatusConflict {
		return fmt.Errorf("bench: upload model %s: %d %s", Model, st, snippet(body))
	}
	// Seed twins are created by Clients workers at once.
	ids := make(chan int)
	errs := make(chan error, b.opts.Clients)
	var wg sync.WaitGroup
	for range min(b.opts.Clients, b.opts.Twins) {
		wg.Go(func() {
			for i := range ids {
				id := fmt.Sprintf("%sseed-%d", b.opts.Prefix, i)
				doc := fmt.Sprintf(`{"$metadata":{"$model":%q},"value":%d,"bucket":"%sg%d"}`, Model, i, b.opts.Prefix, i%groups)
				st, body, err := b.do(ctx, "PUT", "/digitaltwins/"+url.PathEscape(id), "application/json", []byte(doc))
				if err == nil && st != http.StatusOK && st != http.StatusCreated {
					err = fmt.Errorf("%d %s", st, snippet(body))
				}
				if err != nil {
					errs <- fmt.Errorf("bench: create seed twin %s: %w", id, err)
					return
				}
			}
		})
	}
	var firstErr error
	for i := 0; i < b.opts.Twins && firstErr == nil; i++ {
		select {
		case ids <- i:
		case firstErr = <-errs:
		case <-ctx.Done():
			firstErr = ctx.Err()
		}
	}
	close(ids)
	wg.Wait()
	close(errs)
	if firstErr == nil {
		firstErr = <-errs
	}
	for i := range b.opts.Twins {
		b.seed = append(b.seed, fmt.Sprintf("%sseed-%d", b.opts.Prefix, i))
	}
	return firstErr
}

// sample is one request's outcome.
type sample struct {
	op     int // index in Ops
	status int // 0: transport error
	ok     bool
	d      time.Duration
}

// drive runs the clients for the duration and gathers their samples.
func (b *bench) drive(ctx context.Context) *Result {
	runCtx, cancel := context.WithTimeout(ctx, b.opts.Duration)
	defer cancel()
	per := make([][]sample, b.opts.Clients)
	var wg sync.WaitGroup
	t0 := time.Now()
	for c := range b.opts.Clients {
		wg.Go(func() { per[c] = b.client(runCtx, c) })
	}
	wg.Wait()
	elapsed := time.Since(t0)
	return b.report(per, elapsed)
}

// client issues requests one at a time until ctx ends. A request cut by
// the end of the run is not counted.
func (b *bench) client(ctx context.Context, c int) []sample {
	rng := mathrand.New(mathrand.NewPCG(b.opts.Seed, uint64(c)+1))
	total := b.opts.Mix.total()
	var out []sample
	for n := 0; ctx.Err() == nil; n++ {
		op := b.opts.Mix.pick(rng.IntN(total))
		t0 := time.Now()
		st, ok, err := b.one(ctx, op, c, n, rng)
		d := time.Since(t0)
		if err != nil && ctx.Err() != nil {
			break
		}
		out = append(out, sample{op: opIndex(op), status: st, ok: ok && err == nil, d: d})
	}
	return out
}

func opIndex(op string) int {
	for i, o := range Ops {
		if o == op {
			return i
		}
	}
	return 0
}

// one issues one operation and says whether it got its success status.
func (b *bench) one(ctx context.Context, op string, c, n int, rng *mathrand.Rand) (int, bool, error) {
	id := b.seed[rng.IntN(len(b.seed))]
	path := "/digitaltwins/" + url.PathEscape(id)
	switch op {
	case "reads":
		st, _, err := b.do(ctx, "GET", path, "", nil)
		return st, st == http.StatusOK, err
	case "patches":
		body := fmt.Sprintf(`[{"op":"replace","path":"/value","value":%g}]`, rng.Float64()*1000)
		st, _, err := b.do(ctx, "PATCH", path, "application/json-patch+json", []byte(body))
		return st, st == http.StatusNoContent || st == http.StatusOK, err
	case "creates":
		nid := fmt.Sprintf("%sc%d-%d", b.opts.Prefix, c, n)
		doc := fmt.Sprintf(`{"$metadata":{"$model":%q},"value":%d,"bucket":"%snew"}`, Model, n, b.opts.Prefix)
		st, _, err := b.do(ctx, "PUT", "/digitaltwins/"+url.PathEscape(nid), "application/json", []byte(doc), "If-None-Match", "*")
		if st == http.StatusOK || st == http.StatusCreated {
			b.mu.Lock()
			b.created = append(b.created, nid)
			b.mu.Unlock()
			return st, true, err
		}
		return st, false, err
	case "queries":
		q := fmt.Sprintf("SELECT TOP(20) T FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '%s') AND T.bucket = '%sg%d'", Model, b.opts.Prefix, rng.IntN(groups))
		body, _ := json.Marshal(map[string]string{"query": q})
		st, _, err := b.do(ctx, "POST", "/query", "application/json", body)
		return st, st == http.StatusOK, err
	default: // telemetry
		body := fmt.Sprintf(`{"reading":%g}`, rng.Float64())
		st, _, err := b.do(ctx, "POST", path+"/telemetry", "application/json", []byte(body), "Message-Id", fmt.Sprintf("%sm%d-%d", b.opts.Prefix, c, n))
		return st, st == http.StatusNoContent || st == http.StatusOK || st == http.StatusAccepted, err
	}
}

// cleanup deletes the run's twins, Clients at a time; it returns how
// many it deleted.
func (b *bench) cleanup(ctx context.Context) (int, error) {
	b.mu.Lock()
	ids := append(append([]string(nil), b.created...), b.seed...)
	b.mu.Unlock()
	work := make(chan string)
	var mu sync.Mutex
	deleted := 0
	var firstErr error
	var wg sync.WaitGroup
	for range max(min(b.opts.Clients, len(ids)), 1) {
		wg.Go(func() {
			for id := range work {
				st, body, err := b.do(ctx, "DELETE", "/digitaltwins/"+url.PathEscape(id), "", nil)
				mu.Lock()
				switch {
				case err == nil && (st == http.StatusNoContent || st == http.StatusOK || st == http.StatusNotFound):
					deleted++
				case firstErr == nil && err != nil:
					firstErr = fmt.Errorf("bench: cleanup: delete %s: %w", id, err)
				case firstErr == nil:
					firstErr = fmt.Errorf("bench: cleanup: delete %s: %d %s", id, st, snippet(body))
				}
				mu.Unlock()
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	return deleted, firstErr
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
