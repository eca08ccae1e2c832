package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lodestone/org"
	"lodestone/supply"
	"lodestone/worker"
)

// embedded starts a JetStream server on a random loopback port (never
// 4222) and returns its URL.
func embedded(t testing.TB) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(ns.Shutdown)
	return ns.ClientURL()
}

func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := worker.Connect(url, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func study(t testing.TB, days int) *supply.SimScenario {
	t.Helper()
	b, err := os.ReadFile("../examples/supply/scenario-montecarlo.json")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := supply.DecodeScenario(b)
	if err != nil {
		t.Fatal(err)
	}
	sc.Days = days
	return sc
}

// startWorker runs a worker on its own connection until the returned
// cancel (a kill: its shard under way is not acked).
func startWorker(t testing.TB, url string, cfg worker.Config, wg *sync.WaitGroup) context.CancelFunc {
	t.Helper()
	w, err := worker.New(connect(t, url), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wg.Go(func() {
		if err := w.Run(ctx); err != nil {
			t.Error(err)
		}
	})
	return cancel
}

var testConfig = worker.Config{AckWait: time.Second, MaxBlocks: 2}

func bitsOf(t testing.TB, r *supply.MCResult) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStudyOverWorkers: a study of 2,000 runs over two workers, one killed
// halfway, equals the local result bit for bit; a third worker joining
// midway changes nothing either.
func TestStudyOverWorkers(t *testing.T) {
	url := embedded(t)
	sc := study(t, 60)
	const runs, seed = 2000, 42
	local, err := supply.MonteCarlo(context.Background(), sc, supply.MCOptions{Runs: runs, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	d, err := worker.NewDispatcher(context.Background(), connect(t, url), testConfig)
	if err != nil {
		t.Fatal(err)
	}
	if d.Available(context.Background()) {
		t.Fatal("a worker answers before any started")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	killA := startWorker(t, url, testConfig, &wg)
	stopB := startWorker(t, url, testConfig, &wg)
	defer stopB()
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	var once sync.Once
	var stopC context.CancelFunc
	progress := func(done, total int) {
		if done >= total/2 {
			once.Do(func() {
				killA()
				stopC = startWorker(t, url, testConfig, &wg)
			})
		}
	}
	got, err := d.Run(context.Background(), "study-a", sc, runs, seed, progress)
	if err != nil {
		t.Fatal(err)
	}
	if stopC != nil {
		defer stopC()
	}
	if bitsOf(t, got) != bitsOf(t, local) {
		t.Error("the study over workers differs from the local study")
	}
}

// TestBadShard: a shard no worker can decode is terminated and the queue
// keeps moving; a study whose shard ends so fails with the reason.
func TestBadShard(t *testing.T) {
	url := embedded(t)
	nc := connect(t, url)
	d, err := worker.NewDispatcher(context.Background(), nc, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("lodestone_work.shard.junk", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := startWorker(t, url, testConfig, &wg)
	defer stop()
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	sc := study(t, 30)
	got, err := d.Run(context.Background(), "after-junk", sc, 100, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	local, _ := supply.MonteCarlo(context.Background(), sc, supply.MCOptions{Runs: 100, Seed: 1})
	if bitsOf(t, got) != bitsOf(t, local) {
		t.Error("study after a junk shard differs")
	}
	bad := *sc
	bad.Days = 0 // the worker cannot run it
	if _, err := d.Run(context.Background(), "bad-study", &bad, 100, 1, nil); err == nil {
		t.Error("a study no worker can run succeeded")
	} else {
		t.Log(err)
	}
}

// TestCancel: cancelling the study's context ends Run, withdraws its
// shards and stops the shard under way on the worker: the worker acks it,
// no goroutine runs its replications any more, and the worker goes on
// answering. The waits are liveness bounds, not measured latencies.
func TestCancel(t *testing.T) {
	url := embedded(t)
	nc := connect(t, url)
	d, err := worker.NewDispatcher(context.Background(), nc, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := startWorker(t, url, testConfig, &wg)
	defer stop()
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	js, _ := jetstream.New(nc)
	cons, err := js.Consumer(context.Background(), "LODESTONE_WORK", "lodestone-workers")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the worker runs a shard.
		defer cancel()
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if i, err := cons.Info(context.Background()); err == nil && i.NumAckPending > 0 && replicationGoroutines() > 0 {
				return
			}
		}
		t.Error("the worker ran no shard of the study within a minute")
	}()
	if _, err := d.Run(ctx, "cancelled", study(t, 3650), 100000, 1, nil); err == nil {
		t.Fatal("a cancelled study succeeded")
	}
	deadline := time.Now().Add(time.Minute)
	for {
		i, err := cons.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n := replicationGoroutines()
		if i.NumAckPending == 0 && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the cancel: %d shards unacked, %d goroutines run replications", i.NumAckPending, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p, r, err := d.Depth(context.Background()); err != nil || p != 0 || r != 0 {
		t.Errorf("queue after the cancel: pending %d, running %d, %v", p, r, err)
	}
	// The shard was stopped, not finished: its result never came (the
	// cleanup purged the results before; a finished shard's would be
	// published after).
	rs, err := js.Stream(context.Background(), "LODESTONE_RESULTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := rs.Info(context.Background(), jetstream.WithSubjectFilter("lodestone_work.result.cancelled"))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Errorf("%d results of the cancelled study came after the cancel: its shard was not stopped", info.State.Msgs)
	}
	if !d.Available(context.Background()) {
		t.Error("the worker stopped answering after a cancel")
	}
}

// replicationGoroutines counts the goroutines running Monte Carlo
// replications in this process.
func replicationGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Count(string(buf), "lodestone/supply.monteCarloRange.func")
}

func TestNoNATS(t *testing.T) {
	if _, err := worker.Connect("nats://127.0.0.1:1", "x"); err == nil {
		t.Fatal("connected to nothing")
	} else {
		t.Log(err)
	}
	if _, err := worker.Connect("", "x"); err == nil {
		t.Fatal("no URL accepted")
	}
}

func FuzzDecodeShard(f *testing.F) {
	f.Add([]byte(`{"study":"s","runs":10,"seed":1,"from":0,"to":10,"scenario":{"days":3}}`))
	f.Add([]byte(`{"study":"s","runs":10,"from":5,"to":3,"scenario":{}}`))
	f.Add([]byte(`[]`))
	f.Add(investShard(f, nil))
	f.Add(investShard(f, func(m map[string]any) { m["org"] = map[string]any{"rules": []any{map[string]any{"id": "r"}}} }))
	f.Add([]byte(`{"kind":"invest","study":"s","runs":10,"from":0,"to":10,"objective":"cvar95","scenario":{"days":3}}`))
	f.Add([]byte(`{"kind":"run","study":"s","runs":1,"seed":1,"from":0,"to":1,"scenario":{"days":3}}`))
	f.Add([]byte(`{"kind":"run","study":"s","runs":3,"from":0,"to":3,"scenario":{"days":3}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sh, sc, err := worker.DecodeShard(data)
		if err == nil && (sh == nil || sc == nil || sh.To <= sh.From || sh.To > sh.Runs) {
			t.Fatalf("accepted %+v", sh)
		}
		if err == nil && sh.Kind == worker.KindRun && (sh.Runs != 1 || sh.From != 0 || sh.To != 1) {
			t.Fatalf("accepted a split run %+v", sh)
		}
		if err == nil && sh.Kind == worker.KindInvest {
			// An accepted invest shard is one a worker can run.
			if !slices.Contains(org.Objectives(), sh.Objective) {
				t.Fatalf("accepted the objective %q", sh.Objective)
			}
			if _, err := org.DecodeScenarioParts(sh.Scenario, sh.Org); err != nil {
				t.Fatalf("accepted a scenario that does not decode: %v", err)
			}
		}
	})
}

func FuzzDecodeResult(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x03\xff\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := worker.DecodeResult(data)
		if err == nil && r.Err == "" && r.Shard == nil && r.Samples == nil && r.Run == nil {
			t.Fatal("a result without a shard, samples or run")
		}
	})
}

// TestExternalNATS runs the two-worker study against the NATS server of
// LODESTONE_TEST_NATS (nats-server 2.9 there: single-subject filters
// only), on streams and subjects of its own.
func TestExternalNATS(t *testing.T) {
	url := os.Getenv("LODESTONE_TEST_NATS")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LODESTONE_TEST_NATS is not set under CI")
		}
		t.Skip("LODESTONE_TEST_NATS is not set (e.g. nats://127.0.0.1:4222)")
	}
	tag := fmt.Sprintf("t%d", time.Now().UnixNano())
	cfg := worker.Config{Prefix: "lodestone_test_" + tag, WorkStream: "LSWORK_" + tag, ResultStream: "LSRES_" + tag, AckWait: time.Second, MaxBlocks: 2}
	nc := connect(t, url)
	d, err := worker.NewDispatcher(context.Background(), nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	t.Cleanup(func() {
		js.DeleteStream(context.Background(), cfg.WorkStream)
		js.DeleteStream(context.Background(), cfg.ResultStream)
	})
	var wg sync.WaitGroup
	defer wg.Wait()
	killA := startWorker(t, url, cfg, &wg)
	stopB := startWorker(t, url, cfg, &wg)
	defer stopB()
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	sc := study(t, 30)
	var once sync.Once
	got, err := d.Run(context.Background(), "ext", sc, 600, 3, func(done, total int) {
		if done >= total/2 {
			once.Do(killA)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	local, _ := supply.MonteCarlo(context.Background(), sc, supply.MCOptions{Runs: 600, Seed: 3})
	if bitsOf(t, got) != bitsOf(t, local) {
		t.Error("the study over external NATS differs from the local study")
	}
}

// TestHeartbeats: a shard that runs longer than AckWait is not
// redelivered while its worker sends InProgress.
func TestHeartbeats(t *testing.T) {
	url := embedded(t)
	nc := connect(t, url)
	d, err := worker.NewDispatcher(context.Background(), nc, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := startWorker(t, url, testConfig, &wg)
	defer stop()
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	if _, err := d.Run(context.Background(), "slow", study(t, 3650), 64, 1, nil); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	js, _ := jetstream.New(nc)
	cons, err := js.Consumer(context.Background(), "LODESTONE_WORK", "lodestone-workers")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one shard in %v (AckWait %v), %d redelivered", el, testConfig.AckWait, info.NumRedelivered)
	if el > 2*testConfig.AckWait && info.NumRedelivered != 0 {
		t.Errorf("a shard under way with heartbeats was redelivered %d times", info.NumRedelivered)
	}
}

// TestWorkersVanish: when the only worker dies mid-study, the dispatcher
// runs the missing shards itself, with the same bits.
func TestWorkersVanish(t *testing.T) {
	url := embedded(t)
	d, err := worker.NewDispatcher(context.Background(), connect(t, url), testConfig)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	kill := startWorker(t, url, testConfig, &wg)
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	sc := study(t, 60)
	var once sync.Once
	got, err := d.Run(context.Background(), "orphan", sc, 1000, 5, func(done, total int) {
		if done >= total/4 {
			once.Do(kill)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	local, _ := supply.MonteCarlo(context.Background(), sc, supply.MCOptions{Runs: 1000, Seed: 5})
	if bitsOf(t, got) != bitsOf(t, local) {
		t.Error("the study finished here after its worker died differs from the local study")
	}
}

// TestStopHandsBack: a worker stopped (its context cancelled, as on
// SIGTERM) with a shard under way hands it back with a Nak: a second
// worker takes it at once, not after AckWait (five minutes here; the
// study is given one minute, a liveness bound, not a measured latency),
// the shard is delivered twice, and the study ends with the local bits.
func TestStopHandsBack(t *testing.T) {
	url := embedded(t)
	nc := connect(t, url)
	cfg := worker.Config{AckWait: 5 * time.Minute, MaxBlocks: 8}
	d, err := worker.NewDispatcher(context.Background(), nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	cons, err := js.Consumer(context.Background(), "LODESTONE_WORK", "lodestone-workers")
	if err != nil {
		t.Fatal(err)
	}
	info := func() *jetstream.ConsumerInfo {
		t.Helper()
		i, err := cons.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	// One shard (four blocks fit in MaxShardBytes at this length) of 128
	// runs over 20 years: about a second of work for worker A.
	sc := study(t, 7300)
	const runs, seed = 128, 11
	var wg sync.WaitGroup
	defer wg.Wait()
	a, err := worker.New(connect(t, url), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	actx, stopA := context.WithCancel(context.Background())
	aDone := make(chan struct{})
	go func() { defer close(aDone); a.Run(actx) }()
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	type outcome struct {
		r   *supply.MCResult
		err error
	}
	out := make(chan outcome, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		r, err := d.Run(ctx, "handed-back", sc, runs, seed, nil)
		out <- outcome{r, err}
	}()
	for i := info(); i.NumAckPending == 0; i = info() {
		time.Sleep(5 * time.Millisecond)
	}
	stopA() // the shard is under way on A
	<-aDone
	if i := info(); i.Delivered.Consumer != 1 || i.AckFloor.Consumer != 0 {
		t.Fatalf("after A stopped: delivered %d, ack floor %d; want the shard delivered once, not acked (A finished it before it was stopped?)", i.Delivered.Consumer, i.AckFloor.Consumer)
	}
	stopB := startWorker(t, url, cfg, &wg)
	defer stopB()
	o := <-out
	if o.err != nil {
		t.Fatalf("the study after A stopped: %v (not handed back: waiting for AckWait %v)", o.err, cfg.AckWait)
	}
	if i := info(); i.Delivered.Consumer != 2 || i.Delivered.Stream != 1 || i.NumAckPending != 0 {
		t.Errorf("after B ran it: delivered %d times for %d shards, %d unacked; want one shard delivered twice (A, then B)", i.Delivered.Consumer, i.Delivered.Stream, i.NumAckPending)
	}
	local, err := supply.MonteCarlo(context.Background(), sc, supply.MCOptions{Runs: runs, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if bitsOf(t, o.r) != bitsOf(t, local) {
		t.Error("the study handed back differs from the local study")
	}
}

// TestDepth: the queue depth counts the shards not yet done and, of them,
// those delivered and not acked; a cancelled study leaves nothing.
func TestDepth(t *testing.T) {
	url := embedded(t)
	nc := connect(t, url)
	cfg := worker.Config{AckWait: 5 * time.Minute, MaxBlocks: 2} // 64 runs a shard
	d, err := worker.NewDispatcher(context.Background(), nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	depth := func() (int, int) {
		t.Helper()
		p, r, err := d.Depth(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return p, r
	}
	if p, r := depth(); p != 0 || r != 0 {
		t.Fatalf("empty queue: pending %d, running %d", p, r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := d.Run(ctx, "deep", study(t, 365), 192, 1, nil)
		done <- err
	}()
	deadline := time.Now().Add(time.Minute)
	for p, _ := depth(); p < 3; p, _ = depth() {
		if time.Now().After(deadline) {
			t.Fatalf("the study's three shards did not reach the queue: pending %d", p)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Take one shard as a worker would, without acking it yet.
	js, _ := jetstream.New(nc)
	cons, err := js.Consumer(context.Background(), "LODESTONE_WORK", "lodestone-workers")
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var msg jetstream.Msg
	for m := range batch.Messages() {
		msg = m
	}
	if msg == nil {
		t.Fatal("no shard fetched")
	}
	if p, r := depth(); p != 3 || r != 1 {
		t.Errorf("one shard taken: pending %d, running %d; want 3, 1", p, r)
	}
	if err := msg.DoubleAck(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p, r := depth(); p != 2 || r != 0 {
		t.Errorf("one shard acked: pending %d, running %d; want 2, 0", p, r)
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("the cancelled study succeeded")
	}
	if p, r := depth(); p != 0 || r != 0 {
		t.Errorf("after the cancel: pending %d, running %d; want none", p, r)
	}
}
