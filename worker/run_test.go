package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"lodestone/supply"
	"lodestone/worker"
)

// localRun is the JSON of supply.Run as the server runs it itself.
func localRun(t testing.TB, sc *supply.SimScenario, seed uint64) string {
	t.Helper()
	r, err := supply.Run(context.Background(), sc, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunOverWorkers: a single run handed to a worker gives the JSON bits
// of the run computed here, as one shard through the queue; a run the
// worker cannot run fails with the local error word for word; without a
// worker the run is computed here (no shard published).
func TestRunOverWorkers(t *testing.T) {
	url := embedded(t)
	nc := connect(t, url)
	d, err := worker.NewDispatcher(context.Background(), nc, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	cons := workConsumer(t, nc)
	sc := study(t, 3650)
	want := localRun(t, sc, 42)

	got, err := d.RunOne(context.Background(), "run-alone", sc, 42)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(got); string(b) != want || consumerInfo(t, cons).Delivered.Stream != 0 {
		t.Errorf("without a worker: %d shards published, bits equal %v", consumerInfo(t, cons).Delivered.Stream, string(b) == want)
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	stop := startWorker(t, url, testConfig, &wg)
	defer stop()
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	for i, seed := range []uint64{42, 7} {
		want := localRun(t, sc, seed)
		got, err := d.RunOne(context.Background(), fmt.Sprintf("run-%d", i), sc, seed)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(got); string(b) != want {
			t.Errorf("seed %d over a worker:\n%.300s\nlocal:\n%.300s", seed, b, want)
		}
		if n := consumerInfo(t, cons).Delivered.Stream; n != uint64(i+1) {
			t.Errorf("%d shards through the queue after %d runs", n, i+1)
		}
	}

	bad := *sc
	bad.Days = 0 // supply.Run refuses it, here and on the worker
	_, lerr := supply.Run(context.Background(), &bad, rand.New(rand.NewPCG(1, 0)))
	_, rerr := d.RunOne(context.Background(), "run-bad", &bad, 1)
	if lerr == nil || rerr == nil || lerr.Error() != rerr.Error() {
		t.Errorf("a bad run: local %v, over a worker %v: want the same error", lerr, rerr)
	}
	if n := consumerInfo(t, cons).Delivered.Stream; n != 3 {
		t.Errorf("the bad run did not go through the queue (%d shards)", n)
	}
}

// wide is the example network copied copies times (disjoint copies with
// suffixed node ids) over days: a run long enough to stop a worker in.
func wide(t testing.TB, copies, days int) *supply.SimScenario {
	t.Helper()
	sc := study(t, days)
	nodes, arcs := sc.Network.Nodes, sc.Network.Arcs
	for k := 1; k < copies; k++ {
		suffix := supply.NodeID(fmt.Sprintf("-%d", k))
		for _, n := range nodes {
			n.ID += suffix
			sc.Network.Nodes = append(sc.Network.Nodes, n)
		}
		for _, a := range arcs {
			a.From, a.To = a.From+suffix, a.To+suffix
			if a.ID != "" {
				a.ID += string(suffix)
			}
			sc.Network.Arcs = append(sc.Network.Arcs, a)
		}
	}
	return sc
}

// syncBuffer is a log sink the worker's goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunStopped: the worker is stopped (as on SIGTERM) while it runs the
// shard of a run. It hands the shard back; no worker is left, so the
// dispatcher runs it here: the local bits. (The run is not published by
// the worker, so its result may exceed a message: MaxShardBytes is raised
// to let the dispatcher hand it out.)
func TestRunStopped(t *testing.T) {
	url := embedded(t)
	nc := connect(t, url)
	cfg := worker.Config{AckWait: time.Second, MaxShardBytes: 1 << 30}
	d, err := worker.NewDispatcher(context.Background(), nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cons := workConsumer(t, nc)
	sc := wide(t, 10, 36500)
	var logs syncBuffer
	a, err := worker.New(connect(t, url), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	actx, stopA := context.WithCancel(context.Background())
	aDone := make(chan struct{})
	go func() { defer close(aDone); a.Run(actx) }()
	defer func() { stopA(); <-aDone }()
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	watch, stopWatch := context.WithCancel(context.Background())
	go func() {
		for consumerInfo(t, cons).NumAckPending == 0 {
			if watch.Err() != nil {
				return // the run ended first: the checks below fail
			}
			time.Sleep(5 * time.Millisecond)
		}
		stopA() // the shard is under way on A
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	got, err := d.RunOne(ctx, "run-stopped", sc, 3)
	stopWatch()
	if err != nil {
		t.Fatal(err)
	}
	stopA()
	<-aDone
	if !strings.Contains(logs.String(), "handed a shard back") {
		t.Errorf("the worker did not hand the run back; its log:\n%s", logs.String())
	}
	if b, _ := json.Marshal(got); string(b) != localRun(t, sc, 3) {
		t.Error("the run finished by the server differs from the local run")
	}
}

// TestBadRunShard: a run shard no worker may take (runs other than 1) is
// terminated with the field named in the reason, and the queue goes on.
func TestBadRunShard(t *testing.T) {
	url := embedded(t)
	nc := connect(t, url)
	d, err := worker.NewDispatcher(context.Background(), nc, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	reasons := make(chan string, 4)
	sub, err := nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>", func(m *nats.Msg) {
		var a struct {
			Reason string `json:"reason"`
		}
		if json.Unmarshal(m.Data, &a) == nil {
			reasons <- a.Reason
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	scJSON, _ := json.Marshal(study(t, 30))
	bad, _ := json.Marshal(worker.Shard{Kind: worker.KindRun, Study: "bad-run", Runs: 2, From: 0, To: 2, Scenario: scJSON})
	if err := nc.Publish("lodestone_work.shard.bad-run", bad); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := startWorker(t, url, testConfig, &wg)
	defer stop()
	select {
	case r := <-reasons:
		if !strings.Contains(r, "runs: 2") {
			t.Errorf("terminated with %q, want the field runs named", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the bad run shard was not terminated")
	}
	sc := study(t, 365)
	got, err := d.RunOne(context.Background(), "after-bad", sc, 5)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(got); string(b) != localRun(t, sc, 5) {
		t.Error("a run after the bad shard differs")
	}
}

// TestDecodeRunShard: the fields of a run shard, each fault named.
func TestDecodeRunShard(t *testing.T) {
	sc := `{"start":"2025-01-01","days":3,"network":{"nodes":[]}}`
	for _, c := range []struct{ shard, want string }{
		{`{"kind":"run","study":"s","runs":1,"seed":1,"from":0,"to":1,"scenario":` + sc + `}`, ""},
		{`{"kind":"run","study":"s","runs":2,"from":0,"to":2,"scenario":` + sc + `}`, "runs: 2, want 1"},
		{`{"kind":"run","study":"s","runs":1,"from":1,"to":1,"scenario":` + sc + `}`, "from, to:"},
		{`{"kind":"run","study":"s","runs":1,"from":0,"to":1}`, "scenario: missing"},
		{`{"kind":"runs","study":"s","runs":1,"from":0,"to":1,"scenario":` + sc + `}`, `kind: "runs"`},
	} {
		_, _, err := worker.DecodeShard([]byte(c.shard))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.shard, err, c.want)
		}
	}
}
