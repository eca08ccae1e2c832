package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lodestone/server"
	"lodestone/worker"
)

// TestOrgInvestOverWorkers: POST /org/invest answers the same bytes when
// the server searches alone and when a worker on its work queue computes
// the portfolios' runs (which the queue's delivered count shows).
func TestOrgInvestOverWorkers(t *testing.T) {
	s := startStudies(t, t.TempDir(), func(o *server.Options) {
		o.StudiesWorkers = true
		o.Logger = slog.New(slog.DiscardHandler)
	})
	spec, err := os.ReadFile("../org/testdata/invest_small.json")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(spec), `"runs": 200`, `"runs": 150`, 1)
	post := func() string {
		t.Helper()
		r, err := http.Post(s.URL()+"/org/invest", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != 200 {
			t.Fatalf("POST /org/invest: %d %s", r.StatusCode, b)
		}
		return string(b)
	}
	alone := post()

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
	over := post()
	js, _ := jetstream.New(nc)
	cons, err := js.Consumer(context.Background(), "LODESTONE_WORK", "lodestone-workers")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Delivered.Stream == 0 {
		t.Error("no shard went through the work queue")
	}
	if over != alone {
		t.Errorf("over a worker:\n%s\nalone:\n%s", over, alone)
	}
}
