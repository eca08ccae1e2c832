package event_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/event"
	"lodestone/event/membus"
)

// fastRetry keeps retry tests quick; timings are not asserted.
var fastRetry = event.Retry{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

func testEvent(n int, typ, subject string) event.Event {
	return event.Event{
		ID:      event.ChangeID("lodestone://test", uint64(n), typ, subject),
		Source:  "lodestone://test",
		Type:    typ,
		Subject: subject,
		Data:    json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
	}
}

// sink is an endpoint that records what it receives on a channel.
type sink chan event.Message

func (s sink) Deliver(ctx context.Context, m event.Message) error {
	select {
	case s <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s sink) next(t *testing.T) event.Message {
	t.Helper()
	select {
	case m := <-s:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery within 20 s")
		return event.Message{}
	}
}

func (s sink) none(t *testing.T) {
	t.Helper()
	select {
	case m := <-s:
		t.Fatalf("unexpected delivery of seq %d (%s)", m.Seq, m.Event.Subject)
	case <-time.After(100 * time.Millisecond):
	}
}

func startRouter(t *testing.T, bus event.Bus, routes []event.Route, opts *event.RouterOptions) *event.Router {
	t.Helper()
	r, err := event.NewRouter(bus, routes, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown = %v", err)
		}
	})
	return r
}

func publish(t *testing.T, bus event.Bus, es ...event.Event) {
	t.Helper()
	for _, e := range es {
		if err := bus.Publish(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// webhookServer answers with fail for the first failures requests, then 204.
type webhookServer struct {
	failures int
	fail     int // status of a failing answer
	calls    atomic.Int32
	mu       sync.Mutex
	bodies   []event.Event
	keys     []string
}

func (w *webhookServer) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	n := int(w.calls.Add(1))
	b, _ := io.ReadAll(r.Body)
	if ct := r.Header.Get("Content-Type"); ct != "application/cloudevents+json; charset=utf-8" {
		http.Error(rw, "bad content type "+ct, http.StatusUnsupportedMediaType)
		return
	}
	if n <= w.failures {
		rw.WriteHeader(w.fail)
		return
	}
	e, err := event.Decode(b)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.bodies = append(w.bodies, e)
	w.keys = append(w.keys, r.Header.Get("Idempotency-Key"))
	w.mu.Unlock()
	rw.WriteHeader(http.StatusNoContent)
}

func TestWebhookRoute(t *testing.T) {
	tests := []struct {
		name          string
		failures      int
		status        int
		wantDelivered bool
		wantCalls     int32
		wantReason    string
	}{
		{name: "ok at once", failures: 0, status: 500, wantDelivered: true, wantCalls: 1},
		{name: "fails twice then ok", failures: 2, status: http.StatusServiceUnavailable, wantDelivered: true, wantCalls: 3},
		{name: "429 is retried", failures: 3, status: http.StatusTooManyRequests, wantDelivered: true, wantCalls: 4},
		{name: "always 500: dead letter", failures: 1000, status: http.StatusInternalServerError, wantCalls: 4, wantReason: "event: webhook: 500 Internal Server Error"},
		{name: "400 is permanent", failures: 1000, status: http.StatusBadRequest, wantCalls: 1, wantReason: "permanent: event: webhook: 400 Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := &webhookServer{failures: tt.failures, fail: tt.status}
			srv := httptest.NewServer(hook)
			defer srv.Close()
			bus := membus.New(nil)
			defer bus.Close()
			dlq := make(sink, 10)
			r := startRouter(t, bus, []event.Route{{
				Name:       "hook",
				Filter:     event.Filter{Types: []string{"lodestone.twin.*"}},
				Endpoint:   &event.Webhook{URL: srv.URL, Client: srv.Client()},
				DeadLetter: dlq,
				Retry:      fastRetry,
			}}, nil)

			skipped := testEvent(1, event.TypeTelemetry, "mine-1")
			e := testEvent(2, event.TypeTwinUpdated, "mine-1")
			marker := testEvent(3, event.TypeModelCreated, "dtmi:x;1") // not routed
			publish(t, bus, skipped, e, marker)

			if !tt.wantDelivered {
				m := dlq.next(t)
				want := map[string]string{"deadletterroute": "hook", "deadletterattempts": fmt.Sprint(tt.wantCalls), "deadletterreason": tt.wantReason}
				if diff := cmp.Diff(want, m.Event.Extensions); diff != "" {
					t.Errorf("dead letter extensions (-want +got):\n%s", diff)
				}
				if m.Event.ID != e.ID {
					t.Errorf("dead letter id %s, want %s", m.Event.ID, e.ID)
				}
			}
			waitFor(t, func() bool { return r.Stats()["hook"].LastSeq == 2 })
			if got := hook.calls.Load(); got != tt.wantCalls {
				t.Errorf("webhook calls = %d, want %d", got, tt.wantCalls)
			}
			st := r.Stats()["hook"]
			if tt.wantDelivered {
				hook.mu.Lock()
				defer hook.mu.Unlock()
				if len(hook.bodies) != 1 || hook.bodies[0].ID != e.ID || hook.keys[0] != e.ID {
					t.Fatalf("webhook received %v (keys %v), want event %s once", hook.bodies, hook.keys, e.ID)
				}
				if st.Delivered != 1 || st.DeadLettered != 0 {
					t.Errorf("stats %+v, want 1 delivered", st)
				}
			} else if st.DeadLettered != 1 || st.Delivered != 0 {
				t.Errorf("stats %+v, want 1 dead-lettered", st)
			}
			dlq.none(t)
		})
	}
}

// waitFor polls cond with a deadline (no fixed sleeps).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestWebhookRetryAfter(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	hook := &event.Webhook{URL: srv.URL, Client: srv.Client(), Header: http.Header{"Authorization": {"Bearer x"}}}
	err := hook.Deliver(t.Context(), event.Message{Seq: 1, Event: testEvent(1, event.TypeTwinCreated, "a")})
	var de *event.DeliveryError
	if !errors.As(err, &de) || de.Permanent || de.RetryAfter != time.Second {
		t.Fatalf("Deliver = %#v, want a retryable DeliveryError with RetryAfter 1s", err)
	}
	if err := hook.Deliver(t.Context(), event.Message{Seq: 1, Event: testEvent(1, event.TypeTwinCreated, "a")}); err != nil {
		t.Fatalf("second Deliver = %v", err)
	}
	// An unreachable webhook is a retryable error.
	srv.Close()
	err = hook.Deliver(t.Context(), event.Message{Seq: 1, Event: testEvent(1, event.TypeTwinCreated, "a")})
	if err == nil || errors.As(err, &de) && de.Permanent {
		t.Fatalf("Deliver to a closed server = %v, want a retryable error", err)
	}
}

// TestRouterResume checks that a router restarted with the same
// checkpoints continues after the last event it finished, missing nothing
// and repeating nothing.
func TestRouterResume(t *testing.T) {
	bus := membus.New(nil)
	defer bus.Close()
	cp := &event.FileCheckpoints{Dir: t.TempDir()}
	out := make(sink, 100)
	routes := []event.Route{{Name: "twins/all", Endpoint: out, Retry: fastRetry}}
	opts := &event.RouterOptions{Checkpoints: cp, FromBeginning: true}

	r, err := event.NewRouter(bus, routes, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		publish(t, bus, testEvent(i, event.TypeTwinUpdated, "a"))
	}
	for range 3 {
		out.next(t)
	}
	waitFor(t, func() bool { return r.Stats()["twins/all"].LastSeq == 3 })
	if err := r.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if seq, ok, err := cp.Load(t.Context(), "twins/all"); seq != 3 || !ok || err != nil {
		t.Fatalf("checkpoint = %d, %v, %v; want 3", seq, ok, err)
	}

	// Published while the router is down.
	for i := 4; i <= 6; i++ {
		publish(t, bus, testEvent(i, event.TypeTwinUpdated, "a"))
	}
	startRouter(t, bus, routes, opts)
	var got []uint64
	for range 3 {
		got = append(got, out.next(t).Seq)
	}
	if diff := cmp.Diff([]uint64{4, 5, 6}, got); diff != "" {
		t.Errorf("sequences after restart (-want +got):\n%s", diff)
	}
	out.none(t)
}

// TestRouterIdempotent checks that an event id seen twice by a route (an
// old duplicate republished after the bus's window) is delivered once.
func TestRouterIdempotent(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	bus := membus.New(&membus.Options{Duplicates: time.Minute, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	defer bus.Close()
	out := make(sink, 10)
	r := startRouter(t, bus, []event.Route{{Name: "r", Endpoint: out}}, nil)
	e := testEvent(1, event.TypeTwinCreated, "a")
	publish(t, bus, e)
	mu.Lock()
	now = now.Add(time.Hour) // past the bus's window: the bus stores it again
	mu.Unlock()
	publish(t, bus, e, testEvent(2, event.TypeTwinCreated, "b"))
	if m := out.next(t); m.Event.ID != e.ID {
		t.Fatalf("first delivery %s, want %s", m.Event.ID, e.ID)
	}
	if m := out.next(t); m.Event.Subject != "b" {
		t.Fatalf("second delivery %s, want the event on b", m.Event.Subject)
	}
	waitFor(t, func() bool { return r.Stats()["r"].LastSeq == 3 })
	if d := r.Stats()["r"].Duplicates; d != 1 {
		t.Errorf("duplicates = %d, want 1", d)
	}
}

func TestNewRouterErrors(t *testing.T) {
	bus := membus.New(nil)
	defer bus.Close()
	ep := make(sink)
	tests := []struct {
		name   string
		routes []event.Route
	}{
		{"empty name", []event.Route{{Endpoint: ep}}},
		{"duplicate", []event.Route{{Name: "a", Endpoint: ep}, {Name: "a", Endpoint: ep}}},
		{"no endpoint", []event.Route{{Name: "a"}}},
	}
	for _, tt := range tests {
		if _, err := event.NewRouter(bus, tt.routes, nil); err == nil {
			t.Errorf("%s: NewRouter succeeded, want an error", tt.name)
		}
	}
}

// TestRouterShutdownDuringRetry checks that Shutdown stops a route that is
// waiting to retry, and that the event is not marked done.
func TestRouterShutdownDuringRetry(t *testing.T) {
	bus := membus.New(nil)
	defer bus.Close()
	var calls atomic.Int32
	failing := event.EndpointFunc(func(ctx context.Context, m event.Message) error {
		calls.Add(1)
		return errors.New("down")
	})
	cp := event.NewMemoryCheckpoints()
	r, err := event.NewRouter(bus, []event.Route{{Name: "r", Endpoint: failing,
		Retry: event.Retry{MaxAttempts: 100, MinBackoff: time.Hour}}}, &event.RouterOptions{Checkpoints: cp})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	publish(t, bus, testEvent(1, event.TypeTwinCreated, "a"))
	waitFor(t, func() bool { return calls.Load() == 1 })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if _, ok, _ := cp.Load(t.Context(), "r"); ok {
		t.Error("checkpoint saved for an event that was never delivered")
	}
}

// TestRouterCheckpointWhenIdle checks that progress is saved after an idle
// interval, not only at shutdown.
func TestRouterCheckpointWhenIdle(t *testing.T) {
	bus := membus.New(nil)
	defer bus.Close()
	cp := event.NewMemoryCheckpoints()
	out := make(sink, 10)
	startRouter(t, bus, []event.Route{{Name: "r", Endpoint: out}},
		&event.RouterOptions{Checkpoints: cp, CheckpointInterval: 20 * time.Millisecond})
	publish(t, bus, testEvent(1, event.TypeTwinCreated, "a"), testEvent(2, event.TypeTwinCreated, "b"))
	out.next(t)
	out.next(t)
	waitFor(t, func() bool {
		seq, ok, _ := cp.Load(t.Context(), "r")
		return ok && seq == 2
	})
}
