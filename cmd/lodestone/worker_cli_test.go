package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"lodestone/supply"
	"lodestone/worker"
)

// TestWorkerCLIErrors: `lodestone worker` names what is wrong with its
// flags, and a NATS server that is not there.
func TestWorkerCLIErrors(t *testing.T) {
	t.Setenv("LODESTONE_NATS_URL", "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"worker"}, 2, "worker: --nats URL is required"},
		{[]string{"worker", "--store", "sqlite:x.db"}, 2, "--nats URL is required"},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1", "--replicas", "0"}, 2, "--replicas must be 1 to 5"},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1", "--replicas", "7"}, 2, "--replicas must be 1 to 5"},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1", "--concurrency", "0"}, 2, "--concurrency must be >= 1"},
		{[]string{"worker", "--concurrency", "two"}, 2, "invalid value \"two\" for flag -concurrency"},
		{[]string{"worker", "--ack-wait", "soon"}, 2, "invalid value \"soon\" for flag -ack-wait"},
		{[]string{"worker", "--bogus"}, 2, "worker: unknown flag --bogus"},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1"}, 1, "worker: connect to NATS at nats://127.0.0.1:1"},
	} {
		code, _, stderr := runLodestone(t, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("lodestone %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
	}
	// LODESTONE_NATS_URL stands for --nats.
	t.Setenv("LODESTONE_NATS_URL", "nats://127.0.0.1:1")
	if code, _, stderr := runLodestone(t, "", "worker"); code != 1 || !strings.Contains(stderr, "nats://127.0.0.1:1") {
		t.Errorf("worker with LODESTONE_NATS_URL: exit %d %q", code, stderr)
	}
}

// TestWorkerCLIRuns: `lodestone worker --nats URL --store DSN
// --concurrency 2` takes the shards of a study (the same bits as the
// local study), says that --store is ignored, and exits 0 when stopped.
func TestWorkerCLIRuns(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	defer ns.Shutdown()
	url := ns.ClientURL()

	ctx, stop := context.WithCancel(context.Background())
	var stderr, stdout syncBuffer
	code := -1
	var wg sync.WaitGroup
	wg.Go(func() {
		code = run(ctx, &cliEnv{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader("")},
			[]string{"worker", "--nats", url, "--store", "postgres://unused", "--concurrency", "2", "--ack-wait", "5s"})
	})
	defer func() { stop(); wg.Wait() }()

	nc, err := worker.Connect(url, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	d, err := worker.NewDispatcher(context.Background(), nc, worker.Config{AckWait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !d.Available(context.Background()); {
		if time.Now().After(deadline) {
			t.Fatalf("the worker command does not answer: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	doc, err := os.ReadFile("../../examples/supply/scenario-montecarlo.json")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := supply.DecodeScenario(doc)
	if err != nil {
		t.Fatal(err)
	}
	sc.Days = 90
	const runs, seed = 600, 21
	got, err := d.Run(context.Background(), "cli-study", sc, runs, seed, nil)
	if err != nil {
		t.Fatal(err)
	}
	local, err := supply.MonteCarlo(context.Background(), sc, supply.MCOptions{Runs: runs, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(local)
	if !bytes.Equal(a, b) {
		t.Error("the study on the worker command differs from the local study")
	}
	stop()
	wg.Wait()
	if code != 0 {
		t.Errorf("the stopped worker exited %d: %s", code, stderr.String())
	}
	for _, want := range []string{"--store is ignored", "taking study shards from nats://127.0.0.1:", "with 2 at once"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("worker stderr lacks %q: %s", want, stderr.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
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
