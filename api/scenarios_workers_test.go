package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lodestone/server"
	"lodestone/worker"
)

// TestSingleRunOverWorkers: POST /scenarios with one run answers, and
// stores, the same bytes (but for the run's id and times) when the server
// runs it alone and when a worker on its work queue runs it (which the
// queue's delivered count shows).
func TestSingleRunOverWorkers(t *testing.T) {
	s := startStudies(t, t.TempDir(), func(o *server.Options) {
		o.StudiesWorkers = true
		o.Logger = slog.New(slog.DiscardHandler)
	})
	body, err := json.Marshal(studyDoc(t, 1, 3650))
	if err != nil {
		t.Fatal(err)
	}
	// fields reads a run document, without the fields that differ from
	// one run to the next.
	fields := func(b []byte) map[string]string {
		t.Helper()
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		out := map[string]string{}
		for k, v := range m {
			if k != "id" && k != "createdAt" && k != "completedAt" {
				out[k] = string(v)
			}
		}
		if len(out) == len(m) || out["result"] == "" {
			t.Fatalf("not a run: %.300s", b)
		}
		return out
	}
	post := func() (created, stored map[string]string) {
		t.Helper()
		r, err := http.Post(s.URL()+"/scenarios", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("POST /scenarios: %d %s", r.StatusCode, b)
		}
		g, err := http.Get(s.URL() + r.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		gb, _ := io.ReadAll(g.Body)
		g.Body.Close()
		if g.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", r.Header.Get("Location"), g.StatusCode, gb)
		}
		return fields(b), fields(gb)
	}
	aloneC, aloneS := post()

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
	js, _ := jetstream.New(nc)
	cons, err := js.Consumer(context.Background(), "LODESTONE_WORK", "lodestone-workers")
	if err != nil {
		t.Fatal(err)
	}
	before, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	overC, overS := post()
	after, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := after.Delivered.Stream - before.Delivered.Stream; n != 1 {
		t.Errorf("%d shards went through the work queue for one run, want 1", n)
	}
	for _, c := range []struct {
		name         string
		alone, other map[string]string
	}{{"created", aloneC, overC}, {"stored", aloneS, overS}} {
		if len(c.alone) != len(c.other) {
			t.Errorf("%s: fields %d alone, %d over a worker", c.name, len(c.alone), len(c.other))
		}
		for k, v := range c.alone {
			if c.other[k] != v {
				t.Errorf("%s %s over a worker:\n%.300s\nalone:\n%.300s", c.name, k, c.other[k], v)
			}
		}
	}
}
