package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lodestone/org"
	"lodestone/worker"
)

// investSpec is org's small investment case (5 candidates, 12 portfolios
// within the budget) with runs runs.
func investSpec(t testing.TB, runs int) *org.InvestSpec {
	t.Helper()
	b, err := os.ReadFile("../org/testdata/invest_small.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := org.DecodeInvestSpec(b)
	if err != nil {
		t.Fatal(err)
	}
	s.Runs, s.Workers = runs, 2
	return s
}

func investBits(t testing.TB, r *org.InvestResult) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func workConsumer(t testing.TB, nc *nats.Conn) jetstream.Consumer {
	t.Helper()
	js, _ := jetstream.New(nc)
	cons, err := js.Consumer(context.Background(), "LODESTONE_WORK", "lodestone-workers")
	if err != nil {
		t.Fatal(err)
	}
	return cons
}

func consumerInfo(t testing.TB, cons jetstream.Consumer) *jetstream.ConsumerInfo {
	t.Helper()
	i, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// TestInvestOverWorkers: the same investment search gives the same JSON
// bits locally and over 1, 2 and 3 workers, and every portfolio
// evaluation went through the work queue (300 runs in shards of 64: five
// shards per evaluation).
func TestInvestOverWorkers(t *testing.T) {
	url := embedded(t)
	nc := connect(t, url)
	d, err := worker.NewDispatcher(context.Background(), nc, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	cons := workConsumer(t, nc)
	spec := investSpec(t, 300)
	local, err := org.Invest(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	want := investBits(t, local)
	for n := 1; n <= 3; n++ {
		t.Run(fmt.Sprintf("%d workers", n), func(t *testing.T) {
			var wg sync.WaitGroup
			var stops []context.CancelFunc
			for range n {
				stops = append(stops, startWorker(t, url, testConfig, &wg))
			}
			defer func() {
				for _, stop := range stops {
					stop()
				}
				wg.Wait()
			}()
			for !d.Available(context.Background()) {
				time.Sleep(10 * time.Millisecond)
			}
			before := consumerInfo(t, cons).Delivered.Stream
			got, err := org.Invest(context.Background(), spec, org.WithSampler(d.InvestSampler(fmt.Sprintf("search-%d", n))))
			if err != nil {
				t.Fatal(err)
			}
			if s := consumerInfo(t, cons).Delivered.Stream - before; s != uint64(5*local.Evaluated) {
				t.Errorf("%d shards went through the queue for %d evaluations, want %d", s, local.Evaluated, 5*local.Evaluated)
			}
			if b := investBits(t, got); b != want {
				t.Errorf("over %d workers:\n%s\nlocal:\n%s", n, b, want)
			}
		})
	}
}

// TestInvestStopped: worker A is stopped (as on SIGTERM) with a shard of
// the first evaluation under way. It hands the shard back: worker B,
// started then, takes it and the search ends with the local bits, the
// shard delivered twice. Without B the dispatcher finds no worker and
// computes the missing runs itself: the local bits again.
func TestInvestStopped(t *testing.T) {
	for _, withB := range []bool{true, false} {
		t.Run(fmt.Sprintf("worker B %v", withB), func(t *testing.T) {
			url := embedded(t)
			nc := connect(t, url)
			cfg := worker.Config{AckWait: time.Second, MaxBlocks: 8} // 256 runs a shard
			if withB {
				cfg.AckWait = 5 * time.Minute // a hand-back, not a redelivery after AckWait
			}
			d, err := worker.NewDispatcher(context.Background(), nc, cfg)
			if err != nil {
				t.Fatal(err)
			}
			cons := workConsumer(t, nc)
			// One candidate (two portfolios), 300 runs of 20 years: the first
			// shard of each (256 runs) takes A a while.
			spec := investSpec(t, 300)
			spec.Candidates = spec.Candidates[:1]
			var doc map[string]any
			if err := json.Unmarshal(spec.Scenario, &doc); err != nil {
				t.Fatal(err)
			}
			doc["days"] = 7300
			spec.Scenario, _ = json.Marshal(doc)
			local, err := org.Invest(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
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
			var wg sync.WaitGroup
			defer wg.Wait()
			stopB := make(chan context.CancelFunc, 1)
			watch, stopWatch := context.WithCancel(context.Background())
			go func() {
				defer close(stopB)
				for consumerInfo(t, cons).NumAckPending == 0 {
					if watch.Err() != nil {
						return // the search ended first: the checks below fail
					}
					time.Sleep(5 * time.Millisecond)
				}
				stopA() // a shard is under way on A
				<-aDone
				if withB {
					stopB <- startWorker(t, url, cfg, &wg)
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			got, err := org.Invest(ctx, spec, org.WithSampler(d.InvestSampler("stopped")))
			stopWatch()
			stopA()
			<-aDone
			if stop, ok := <-stopB; ok {
				stop()
			}
			if err != nil {
				t.Fatal(err)
			}
			if i := consumerInfo(t, cons); withB && i.Delivered.Consumer <= i.Delivered.Stream {
				t.Errorf("delivered %d times for %d shards: A's shard was not handed back to B", i.Delivered.Consumer, i.Delivered.Stream)
			}
			if investBits(t, got) != investBits(t, local) {
				t.Errorf("after A stopped:\n%s\nlocal:\n%s", investBits(t, got), investBits(t, local))
			}
		})
	}
}

// TestInvestFieldError: an objective the scenario cannot give
// (expected_lost_cost without money) fails over workers with the field
// error of the local search; an empty objective is expected_lost.
func TestInvestFieldError(t *testing.T) {
	url := embedded(t)
	d, err := worker.NewDispatcher(context.Background(), connect(t, url), testConfig)
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
	spec := investSpec(t, 100)
	spec.Objective = org.ObjectiveExpectedLostCost
	_, lerr := org.Invest(context.Background(), spec)
	_, rerr := org.Invest(context.Background(), spec, org.WithSampler(d.InvestSampler("no-money")))
	var a, b *org.FieldError
	if !errors.As(lerr, &a) || !errors.As(rerr, &b) || *a != *b {
		t.Fatalf("local %v, over workers %v: want the same field error", lerr, rerr)
	}
	// An empty objective is expected_lost, as org.Samples reads it.
	sc, err := org.DecodeScenario(mustRead(t, "../org/testdata/second_source.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Samples(context.Background(), "empty-objective", sc, "", 3, 100)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := org.Samples(context.Background(), sc, org.ObjectiveExpectedLost, 3, 0, 100, 1); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Error("the samples of an empty objective over a worker differ from expected_lost's")
	}
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// investShard is a valid invest shard's JSON, with edit applied.
func investShard(t testing.TB, edit func(map[string]any)) []byte {
	t.Helper()
	m := map[string]any{
		"kind": "invest", "study": "s", "runs": 10, "seed": 1, "from": 0, "to": 10, "objective": "expected_lost",
		"scenario": map[string]any{"start": "2026-01-01", "days": 30, "network": map[string]any{
			"nodes": []any{map[string]any{"id": "A", "stage": "magnet", "capacity_per_period": 5}, map[string]any{"id": "B", "stage": "oem", "capacity_per_period": 5, "demand_per_period": 4}},
			"arcs":  []any{map[string]any{"from": "A", "to": "B", "ratio": 1}},
		}},
		"org": map[string]any{"actors": []any{}, "rules": []any{}},
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBadInvestShard: an invest shard with a missing or invalid field is
// refused by DecodeShard naming the field, and a worker terminates it with
// that reason (the consumer advisory carries it) and goes on.
func TestBadInvestShard(t *testing.T) {
	cases := []struct {
		name, field string
		edit        func(map[string]any)
	}{
		{"valid", "", nil},
		{"no kind is a study shard", "", func(m map[string]any) { delete(m, "kind"); delete(m, "objective"); delete(m, "org") }},
		{"unknown kind", "kind", func(m map[string]any) { m["kind"] = "nope" }},
		{"no objective", "objective", func(m map[string]any) { delete(m, "objective") }},
		{"unknown objective", "objective", func(m map[string]any) { m["objective"] = "luck" }},
		{"no scenario", "scenario", func(m map[string]any) { delete(m, "scenario") }},
		{"invalid scenario", "scenario", func(m map[string]any) { m["scenario"].(map[string]any)["days"] = 0 }},
		{"unknown org field", "org", func(m map[string]any) { m["org"] = map[string]any{"bogus": 1} }},
		{"invalid org rule", "org", func(m map[string]any) {
			m["org"] = map[string]any{"actors": []any{}, "rules": []any{map[string]any{"id": "r", "actor": "nobody"}}}
		}},
		{"no study", "study", func(m map[string]any) { delete(m, "study") }},
		{"to past runs", "from, to", func(m map[string]any) { m["to"] = 11 }},
	}
	for _, c := range cases {
		_, _, err := worker.DecodeShard(investShard(t, c.edit))
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.field != "" && (err == nil || !strings.Contains(err.Error(), ": "+c.field)):
			t.Errorf("%s: %v, want an error naming %s", c.name, err, c.field)
		}
	}
	// Over the queue: a worker terminates the shard with the reason.
	url := embedded(t)
	nc := connect(t, url)
	d, err := worker.NewDispatcher(context.Background(), nc, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	reasons := make(chan string, 10)
	sub, err := nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.LODESTONE_WORK.lodestone-workers", func(m *nats.Msg) {
		var a struct {
			Reason string `json:"reason"`
		}
		json.Unmarshal(m.Data, &a)
		reasons <- a.Reason
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := startWorker(t, url, testConfig, &wg)
	defer stop()
	js, _ := jetstream.New(nc)
	if _, err := js.Publish(context.Background(), "lodestone_work.shard.bad", investShard(t, func(m map[string]any) { m["objective"] = "luck" })); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-reasons:
		if !strings.Contains(r, "objective") {
			t.Errorf("terminated with %q, want the objective named", r)
		}
	case <-time.After(time.Minute): // a liveness bound
		t.Fatal("the bad shard was not terminated within a minute")
	}
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	spec := investSpec(t, 64)
	spec.Candidates = spec.Candidates[:2]
	local, _ := org.Invest(context.Background(), spec)
	got, err := org.Invest(context.Background(), spec, org.WithSampler(d.InvestSampler("after-bad")))
	if err != nil || investBits(t, got) != investBits(t, local) {
		t.Errorf("the search after a bad shard: %v", err)
	}
}

// TestInvestSamplesNoWorker: with no worker, Samples computes the runs
// here, with org.Samples' bits, at once (no shard waits for AckWait).
func TestInvestSamplesNoWorker(t *testing.T) {
	d, err := worker.NewDispatcher(context.Background(), connect(t, embedded(t)), worker.Config{AckWait: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../org/testdata/second_source.json")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := org.DecodeScenario(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Samples(context.Background(), "alone", sc, org.ObjectiveCVaR95, 4, 100)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := org.Samples(context.Background(), sc, org.ObjectiveCVaR95, 4, 0, 100, 1)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Error("the samples computed here differ from org.Samples")
	}
	if _, err := d.Samples(context.Background(), "a.b", sc, "", 4, 100); err == nil {
		t.Error("a study id with a dot accepted")
	}
}

// BenchmarkInvest measures the small investment search (12 portfolios of
// 1,000 runs of 180 days) here (two goroutines) and over 1 and 2 workers of one shard
// at a time each,
// through an embedded nats-server: portfolio runs per second.
func BenchmarkInvest(b *testing.B) {
	spec := investSpec(b, 1000)
	for _, n := range []int{0, 1, 2} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			var opts []org.InvestOption
			if n > 0 {
				url := embedded(b)
				d, err := worker.NewDispatcher(context.Background(), connect(b, url), worker.Config{})
				if err != nil {
					b.Fatal(err)
				}
				var wg sync.WaitGroup
				defer wg.Wait()
				for range n {
					stop := startWorker(b, url, worker.Config{}, &wg)
					defer stop()
				}
				for !d.Available(context.Background()) {
					time.Sleep(10 * time.Millisecond)
				}
				opts = append(opts, org.WithSampler(d.InvestSampler(fmt.Sprintf("bench-%d", n))))
			}
			defer b.StopTimer() // before the workers stop
			b.ResetTimer()
			evaluated := 0
			for range b.N {
				r, err := org.Invest(context.Background(), spec, opts...)
				if err != nil {
					b.Fatal(err)
				}
				evaluated += r.Evaluated
			}
			b.ReportMetric(float64(evaluated*spec.Runs)/b.Elapsed().Seconds(), "runs/s")
		})
	}
}
