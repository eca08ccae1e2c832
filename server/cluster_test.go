package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"lodestone/api"
	"lodestone/event"
	"lodestone/event/natsbus"
	"lodestone/event/natsbus/natstest"
	"lodestone/server"
	"lodestone/supply"
	"lodestone/worker"
)

// startCluster starts three nodes and waits until the cluster has its
// meta leader and every node is current with it.
func startCluster(t *testing.T) *natstest.Cluster {
	t.Helper()
	c := natstest.Start(t, 3)
	c.WaitReady(t, 30*time.Second)
	return c
}

// workStream is the study work queue's stream (worker.Config's default).
const workStream = "LODESTONE_WORK"

// leaderOfBoth returns the node leading stream a after moving the
// leadership of stream b onto it when it can (leader stepdowns of b until
// that node is elected: one cannot kill two nodes of three, which would
// lose the quorum), and whether that node now leads b too.
func leaderOfBoth(t *testing.T, c *natstest.Cluster, a, b string) (*natsserver.Server, bool) {
	t.Helper()
	node := c.StreamLeader(a)
	if node == nil {
		t.Fatalf("stream %s has no leader", a)
	}
	nc, err := nats.Connect(c.URLs)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for try := 0; try < 20 && c.StreamLeader(b) != node; try++ {
		if _, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+b, nil, 5*time.Second); err != nil {
			t.Logf("stepdown of %s: %v", b, err)
		}
		for deadline := time.Now().Add(10 * time.Second); c.StreamLeader(b) == nil && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if l := c.StreamLeader(a); l != node {
		node = l // a's leadership moved meanwhile: kill its leader anyway
		if node == nil {
			t.Fatalf("stream %s has no leader", a)
		}
	}
	return node, c.StreamLeader(b) == node
}

// TestNATSCluster runs a server and two workers on a three-node JetStream
// cluster with R3 streams, a Monte Carlo study over the workers and a
// stream of twin writes through the bus at once, and kills the node that
// leads the study work queue's stream, made to lead the event stream too,
// midway: the study equals the local result bit for bit, and a consumer of
// the bus gets every write's event exactly once.
func TestNATSCluster(t *testing.T) {
	c := startCluster(t)
	const ackWait = 3 * time.Second
	s := startServer(t, func(o *server.Options) {
		o.NATSURL = c.URLs
		o.NATSReplicas = 3
		o.StudiesWorkers = true
		o.StudiesAckWait = server.Duration(ackWait)
		o.Logger = slog.New(slog.DiscardHandler)
	})
	base := s.URL()
	call(t, "POST", base+"/models", "["+counterModel+"]", 201)

	// Two workers, each on its own connection to the cluster.
	cfg := worker.Config{Replicas: 3, AckWait: ackWait}
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range 2 {
		nc, err := worker.Connect(c.URLs, fmt.Sprintf("worker-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		w, err := worker.New(nc, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		wg.Go(func() { w.Run(ctx) })
		defer nc.Close()
		defer cancel()
	}

	// A consumer of the bus, on a connection of its own.
	consumer, err := natsbus.Open(context.Background(), natsbus.Options{URL: c.URLs, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	sub, err := consumer.Subscribe(context.Background(), event.Filter{Types: []string{"lodestone.twin.created"}}, event.Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var mu sync.Mutex
	seen := map[string]int{}
	readCtx, stopReading := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			m, err := sub.Next(readCtx)
			if err != nil {
				return
			}
			if strings.HasPrefix(m.Event.Subject, "w-") { // not the study's run twin
				mu.Lock()
				seen[m.Event.Subject]++
				mu.Unlock()
			}
		}
	})

	// The study, through the API and its workers.
	doc, err := os.ReadFile("../examples/supply/scenario-montecarlo.json")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(doc, &body); err != nil {
		t.Fatal(err)
	}
	body["days"] = 30
	scDoc := mustJSON(body)
	sc, err := supply.DecodeScenario(scDoc)
	if err != nil {
		t.Fatal(err)
	}

	// The writes, until told to stop; each must succeed.
	var written, delayed atomic.Int64
	stopWriting := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stopWriting:
				return
			default:
			}
			r, err := send(context.Background(), http.DefaultClient, "PUT", fmt.Sprintf("%s/digitaltwins/w-%d", base, i), []byte(`{"$metadata":{"$model":"dtmi:test:Counter;1"},"n":1}`))
			switch {
			case err == nil && r.status == 200:
			case err == nil && r.status == 503 && strings.Contains(string(r.body), "EventPublishFailed"):
				// Stored, its event not yet published (the stream
				// had no leader): the relay publishes it later, and
				// it must still arrive once.
				delayed.Add(1)
			default:
				t.Errorf("write %d: %v %d %s", i, err, r.status, r.body)
				return
			}
			written.Add(1)
		}
	})
	stop := sync.OnceFunc(func() { close(stopWriting) })
	defer func() { stop(); writer.Wait() }() // before the server's cleanup

	for written.Load() < 10 && !t.Failed() {
		time.Sleep(10 * time.Millisecond)
	}
	const runs, seed = 2000, 11
	body["runs"], body["seed"] = runs, seed
	var run api.ScenarioRun
	if err := json.Unmarshal(call(t, "POST", base+"/scenarios", string(mustJSON(body)), 202), &run); err != nil {
		t.Fatal(err)
	}

	// Midway (writes under way, the first shards in), kill the node that leads
	// the event stream.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var p api.ScenarioProgress
		json.Unmarshal(call(t, "GET", base+"/scenarios/"+run.ID+"/progress", "", 200), &p)
		if p.Status != api.RunRunning {
			t.Fatalf("the study ended (%s) before the kill: make it longer", p.Status)
		}
		if p.Done > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress in 60 s: %d of %d runs, %d writes", p.Done, p.Total, written.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	victim, leadsEvents := leaderOfBoth(t, c, workStream, natsbus.DefaultStream)
	killedAt := written.Load()
	victim.Shutdown()
	t.Logf("killed %s (leader of %s; of %s too: %v) after %d writes", victim.Name(), workStream, natsbus.DefaultStream, leadsEvents, killedAt)

	// The study ends, with the local bits.
	start := time.Now()
	for run.Status == api.RunRunning {
		if time.Since(start) > 120*time.Second {
			t.Fatal("the study did not end within 120 s of the kill")
		}
		time.Sleep(100 * time.Millisecond)
		json.Unmarshal(call(t, "GET", base+"/scenarios/"+run.ID, "", 200), &run)
	}
	for written.Load() < killedAt+20 && !t.Failed() {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	writer.Wait()
	if run.Status != api.RunDone {
		t.Fatalf("the study is %s: %s", run.Status, run.Error)
	}
	var got supply.MCResult
	if err := json.Unmarshal(run.Result, &got); err != nil {
		t.Fatal(err)
	}
	local, err := supply.MonteCarlo(context.Background(), sc, supply.MCOptions{Runs: runs, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if string(mustJSON(&got)) != string(mustJSON(local)) {
		t.Error("the study over the cluster differs from the local study")
	}

	// Every write's event arrives, once.
	n := int(written.Load())
	deadline = time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		have := len(seen)
		mu.Unlock()
		if have >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d write events arrived within 60 s", have, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show
	stopReading()
	readers.Wait()
	mu.Lock()
	defer mu.Unlock()
	for i := range n {
		if id := fmt.Sprintf("w-%d", i); seen[id] != 1 {
			t.Errorf("the event of write %s arrived %d times", id, seen[id])
		}
	}
	if len(seen) != n {
		t.Errorf("%d events for %d writes", len(seen), n)
	}
	t.Logf("%d writes (%d answered 503 EventPublishFailed while the stream had no leader), each event once; study of %d runs equal to the local one; %v from the kill to the study's end", n, delayed.Load(), runs, time.Since(start).Round(time.Millisecond))
}

// TestNATSClusterHandBack: a server whose study runs on two workers shuts
// down gracefully midway; the study's shards stay on the work queue and
// its results on the results stream, and the server started again on the
// same data folder resumes the study, which ends with the local bits.
// (Without the hand-back the shards were purged and the resumed study's
// republished shards dropped as duplicates: it never ended.)
func TestNATSClusterHandBack(t *testing.T) {
	c := startCluster(t)
	const ackWait = 3 * time.Second
	data := t.TempDir()
	start := func() *server.Server {
		o := server.DefaultOptions()
		o.DataDir, o.HTTPAddr = data, "127.0.0.1:0"
		o.NATSURL, o.NATSReplicas = c.URLs, 3
		o.StudiesWorkers, o.StudiesAckWait = true, server.Duration(ackWait)
		s, err := server.New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := start() // sets the streams up, before the workers
	cfg := worker.Config{Replicas: 3, AckWait: ackWait}
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range 2 {
		nc, err := worker.Connect(c.URLs, fmt.Sprintf("worker-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		w, err := worker.New(nc, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		wg.Go(func() { w.Run(ctx) })
		defer nc.Close()
		defer cancel()
	}
	const runs, seed = 2000, 13
	body, sc := studyBody(t, 30, runs, seed)
	var run api.ScenarioRun
	if err := json.Unmarshal(call(t, "POST", a.URL()+"/scenarios", string(body), 202), &run); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var p api.ScenarioProgress
		json.Unmarshal(call(t, "GET", a.URL()+"/scenarios/"+run.ID+"/progress", "", 200), &p)
		if p.Status != api.RunRunning {
			t.Fatalf("the study ended (%s) before the shutdown: make it longer", p.Status)
		}
		if p.Done > 0 {
			t.Logf("shut down at %d of %d runs", p.Done, p.Total)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no progress in 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	sctx, cancel := contextWithTimeout(30 * time.Second)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	b := start()
	defer func() {
		ctx, cancel := contextWithTimeout(30 * time.Second)
		defer cancel()
		b.Shutdown(ctx)
	}()
	t0 := time.Now()
	for {
		json.Unmarshal(call(t, "GET", b.URL()+"/scenarios/"+run.ID, "", 200), &run)
		if run.Status != api.RunRunning {
			break
		}
		if time.Since(t0) > 120*time.Second {
			t.Fatal("the handed-back study did not end within 120 s of the restart")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if run.Status != api.RunDone {
		t.Fatalf("after the restart the study is %s: %s", run.Status, run.Error)
	}
	var got supply.MCResult
	if err := json.Unmarshal(run.Result, &got); err != nil {
		t.Fatal(err)
	}
	local, err := supply.MonteCarlo(context.Background(), sc, supply.MCOptions{Runs: runs, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if string(mustJSON(&got)) != string(mustJSON(local)) {
		t.Error("the handed-back study over the workers differs from the local study")
	}
	t.Logf("resumed and ended %v after the restart", time.Since(t0).Round(time.Millisecond))
}
