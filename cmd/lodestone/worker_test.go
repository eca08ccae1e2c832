package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lodestone/api"
	"lodestone/client"
	"lodestone/server"
	"lodestone/worker"
)

// TestSupplyRunServer: `supply run SCENARIO --runs N --seed S --server URL
// --json` prints the bytes of the local command, with the study run by a
// worker on the server's work queue, by the server itself without one,
// and for a single run.
func TestSupplyRunServer(t *testing.T) {
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.StudiesWorkers = true
	o.Logger = slog.New(slog.DiscardHandler)
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	const file = "../../examples/supply/scenario-montecarlo.json"
	check := func(what string, args ...string) {
		t.Helper()
		code, want, errOut := runLodestone(t, "", append([]string{"supply", "run", file, "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("local: %d %s", code, errOut)
		}
		code, got, errOut := runLodestone(t, "", append([]string{"supply", "run", file, "--json", "--server", s.URL()}, args...)...)
		if code != 0 {
			t.Fatalf("%s: %d %s", what, code, errOut)
		}
		if got != want {
			t.Errorf("%s: output differs from the local command's (%d vs %d bytes)", what, len(got), len(want))
		}
	}
	check("a study the server runs itself", "--runs", "150", "--seed", "9")
	check("a single run", "--seed", "4")

	nc := s.Bus.(interface{ Conn() *nats.Conn }).Conn()
	w, err := worker.New(nc, worker.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	d, err := worker.NewDispatcher(context.Background(), nc, worker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for !d.Available(context.Background()) {
		time.Sleep(10 * time.Millisecond)
	}
	check("a study on a worker", "--runs", "300", "--seed", "9")
	check("a single run on a worker", "--seed", "4")
	// A long study on the worker, cancelled: the server stores it as
	// cancelled and its shards leave the queue.
	doc, _ := os.ReadFile(file)
	var body map[string]any
	json.Unmarshal(doc, &body)
	body["runs"], body["days"] = 50000, 3650
	c := client.New(s.URL(), nil)
	var run api.ScenarioRun
	if err := c.Do(context.Background(), "POST", "/scenarios", body, &run); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := c.Do(context.Background(), "DELETE", "/scenarios/"+run.ID, nil, &run); err != nil {
		t.Fatal(err)
	}
	if run.Status != api.RunCancelled {
		t.Errorf("after DELETE the study on the worker is %s", run.Status)
	}
	js, _ := jetstream.New(nc)
	st, err := js.Stream(context.Background(), "LODESTONE_WORK")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := st.Info(context.Background(), jetstream.WithSubjectFilter("lodestone_work.shard."+run.ID)); err != nil || info.State.Msgs != 0 {
		t.Errorf("shards of the cancelled study left in the queue: %v %+v", err, info.State)
	}
	// The work queue's gauges: read from the stream at the scrape, empty
	// now that the cancelled study's shards are withdrawn.
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"lodestone_work_queue_up 1\n", "lodestone_work_queue_pending_shards 0\n", "lodestone_work_queue_running_shards 0\n"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, _, errOut := runLodestone(t, "", "supply", "run", file, "--runs", "1", "--server", s.URL()); code != 2 || !strings.Contains(errOut, "--server") {
		t.Errorf("--runs 1 --server: %d %s", code, errOut)
	}
}
