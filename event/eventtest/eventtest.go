package eventtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/event"
)

// waitTimeout bounds every wait of the suite; a bus that needs longer is
// broken, not slow.
const waitTimeout = 20 * time.Second

// Run runs the conformance suite. open is called once per subtest and must
// return a new, empty bus; Run closes it at the end of the subtest (closing
// twice is allowed by the Bus contract), and open may register further
// cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) event.Bus) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b event.Bus)
	}{
		{"PublishSubscribe", testPublishSubscribe},
		{"Invalid", testInvalid},
		{"Filter", testFilter},
		{"OrderPerSubject", testOrderPerSubject},
		{"Resume", testResume},
		{"StartNew", testStartNew},
		{"Dedup", testDedup},
		{"ConcurrentPublishers", testConcurrentPublishers},
		{"PublishAll", testPublishAll},
		{"NextContext", testNextContext},
		{"SubscriptionContext", testSubscriptionContext},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := open(t)
			t.Cleanup(func() { b.Close() })
			tt.fn(t, b)
		})
	}
}

// cmpEvents compares events, treating nil and empty maps alike and times
// by instant.
var cmpEvents = cmp.Options{cmpopts.EquateEmpty()}

// ev builds a valid event; its id is derived from typ, subject and n.
func ev(typ, subject string, n int) event.Event {
	return event.Event{
		ID:              event.StableID("eventtest", typ, subject, fmt.Sprint(n)),
		Source:          "lodestone://eventtest",
		Type:            typ,
		Subject:         subject,
		Time:            time.Date(2026, 1, 2, 3, 4, 5, n, time.UTC),
		DataContentType: "application/json",
		Data:            json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
		Extensions:      map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
	}
}

func publish(t *testing.T, b event.Bus, es ...event.Event) {
	t.Helper()
	for _, e := range es {
		if err := b.Publish(t.Context(), e); err != nil {
			t.Fatalf("Publish(%s) = %v", e.ID, err)
		}
	}
}

func subscribe(t *testing.T, b event.Bus, f event.Filter, from event.Start) event.Subscription {
	t.Helper()
	s, err := b.Subscribe(t.Context(), f, from)
	if err != nil {
		t.Fatalf("Subscribe(%v, %+v) = %v", f, from, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// collect reads n messages from s.
func collect(t *testing.T, s event.Subscription, n int) []event.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	out := make([]event.Message, 0, n)
	for len(out) < n {
		m, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("Next after %d of %d messages: %v", len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

// expectNone checks that s yields nothing within a short wait. It cannot
// prove absence, only catch extras that are already on their way.
func expectNone(t *testing.T, s event.Subscription) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if m, err := s.Next(ctx); err == nil {
		t.Fatalf("Next = seq %d %s %s, want nothing more", m.Seq, m.Event.Type, m.Event.Subject)
	}
}

func eventsOf(ms []event.Message) []event.Event {
	out := make([]event.Event, len(ms))
	for i, m := range ms {
		out[i] = m.Event
	}
	return out
}

// checkIncreasing checks that sequence numbers strictly increase.
func checkIncreasing(t *testing.T, ms []event.Message) {
	t.Helper()
	for i := 1; i < len(ms); i++ {
		if ms[i].Seq <= ms[i-1].Seq {
			t.Fatalf("seq %d after %d: sequence numbers must increase", ms[i].Seq, ms[i-1].Seq)
		}
	}
	if len(ms) > 0 && ms[0].Seq == 0 {
		t.Fatalf("seq 0: sequence numbers start at 1")
	}
}

func testPublishSubscribe(t *testing.T, b event.Bus) {
	want := []event.Event{
		ev(event.TypeTwinCreated, "mine-1", 1),
		ev(event.TypeTwinUpdated, "mine-1", 2),
		ev(event.TypeRelationshipCreated, event.RelationshipSubject("mine-1", "r1"), 3),
	}
	noData := ev(event.TypeTwinDeleted, "mine-1", 4)
	noData.Data, noData.DataContentType, noData.Extensions, noData.Time = nil, "", nil, time.Time{}
	want = append(want, noData)
	publish(t, b, want...)
	s := subscribe(t, b, event.Filter{}, event.Start{})
	got := collect(t, s, len(want))
	checkIncreasing(t, got)
	for i := range want {
		want[i].SpecVersion = event.SpecVersion
	}
	if diff := cmp.Diff(want, eventsOf(got), cmpEvents); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	expectNone(t, s)
}

func testInvalid(t *testing.T, b event.Bus) {
	bad := ev(event.TypeTwinCreated, "x", 1)
	bad.Source = ""
	if err := b.Publish(t.Context(), bad); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("Publish(no source) = %v, want ErrInvalid", err)
	}
	bad = ev(event.TypeTwinCreated, "x", 2)
	bad.Data = json.RawMessage(`{`)
	if err := b.Publish(t.Context(), bad); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("Publish(bad data) = %v, want ErrInvalid", err)
	}
}

func testFilter(t *testing.T, b event.Bus) {
	all := []event.Event{
		ev(event.TypeTwinCreated, "mine-1", 1),
		ev(event.TypeTwinCreated, "plant-1", 2),
		ev(event.TypeRelationshipCreated, "mine-1/relationships/r", 3),
		ev(event.TypeTwinUpdated, "mine-2", 4),
		ev(event.TypeTelemetry, "mine-1", 5),
		ev(event.TypeTwinDeleted, "mine-1", 6),
	}
	publish(t, b, all...)
	tests := []struct {
		filter string
		want   []int // indexes into all
	}{
		{"", []int{0, 1, 2, 3, 4, 5}},
		{"type=lodestone.twin.*&subject=mine-*", []int{0, 3, 5}},
		{"type=lodestone.twin.created", []int{0, 1}},
		{"type=lodestone.telemetry&type=lodestone.twin.deleted", []int{4, 5}},
		{"subject=mine-?", []int{0, 3, 4, 5}},
		{"source=lodestone://eventtest&subject=plant-*", []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := event.ParseFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			s := subscribe(t, b, f, event.Start{})
			got := collect(t, s, len(tt.want))
			want := make([]string, len(tt.want))
			for i, j := range tt.want {
				want[i] = all[j].ID
			}
			ids := make([]string, len(got))
			for i, m := range got {
				ids[i] = m.Event.ID
			}
			if diff := cmp.Diff(want, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			expectNone(t, s)
		})
	}
	// A filter that matches nothing yields nothing.
	s := subscribe(t, b, event.Filter{Types: []string{"nope.*"}}, event.Start{})
	expectNone(t, s)
	// Where holds too, with the state of the goroutine that calls Next:
	// here it keeps the twin events of subjects not seen yet.
	seen := map[string]bool{}
	s = subscribe(t, b, event.Filter{Types: []string{"lodestone.twin.*"}, Where: func(e *event.Event) bool { return !seen[e.Subject] }}, event.Start{})
	var ids []string
	for _, m := range collect(t, s, 3) {
		seen[m.Event.Subject] = true
		ids = append(ids, m.Event.ID)
		if len(m.Event.Data) == 0 {
			t.Errorf("event %s delivered without its data", m.Event.ID)
		}
	}
	if want := []string{all[0].ID, all[1].ID, all[3].ID}; !slices.Equal(ids, want) {
		t.Errorf("Where: ids %v, want %v (mine-1's delete refused)", ids, want)
	}
	expectNone(t, s)
}

func testOrderPerSubject(t *testing.T, b event.Bus) {
	const subjects, per = 5, 20
	var all []event.Event
	for i := range per {
		for j := range subjects {
			all = append(all, ev(event.TypeTwinUpdated, fmt.Sprintf("twin-%d", j), i))
		}
	}
	publish(t, b, all...)
	s := subscribe(t, b, event.Filter{}, event.Start{})
	got := collect(t, s, len(all))
	checkIncreasing(t, got)
	// With one publisher, the global order is the publish order, and so is
	// the order within each subject.
	if diff := cmp.Diff(all, eventsOf(got), cmpEvents, cmpopts.IgnoreFields(event.Event{}, "SpecVersion")); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	// A filtered subscription keeps the order within its subject.
	s = subscribe(t, b, event.Filter{Subjects: []string{"twin-3"}}, event.Start{})
	got = collect(t, s, per)
	for i, m := range got {
		if want := fmt.Sprintf(`{"n":%d}`, i); string(m.Event.Data) != want {
			t.Errorf("twin-3 message %d: data %s, want %s", i, m.Event.Data, want)
		}
	}
}

func testResume(t *testing.T, b event.Bus) {
	var first, second []event.Event
	for i := range 10 {
		first = append(first, ev(event.TypeTwinUpdated, "mine-1", i))
		second = append(second, ev(event.TypeTwinUpdated, "mine-1", 100+i))
	}
	publish(t, b, first...)
	s := subscribe(t, b, event.Filter{}, event.Start{})
	got := collect(t, s, 6)
	last := got[len(got)-1].Seq
	s.Close()

	// Events published while the consumer is away are not missed.
	publish(t, b, second...)
	s = subscribe(t, b, event.Filter{}, event.Start{After: last})
	rest := collect(t, s, 4+len(second))
	if rest[0].Seq <= last {
		t.Fatalf("resumed at seq %d, want > %d", rest[0].Seq, last)
	}
	checkIncreasing(t, rest)
	want := append(first[6:], second...)
	if diff := cmp.Diff(want, eventsOf(rest), cmpEvents, cmpopts.IgnoreFields(event.Event{}, "SpecVersion")); diff != "" {
		t.Errorf("resumed events (-want +got):\n%s", diff)
	}
	expectNone(t, s)

	// Resuming with a filter after the last sequence seen also misses
	// nothing that matches.
	s = subscribe(t, b, event.Filter{Types: []string{event.TypeTwinUpdated}}, event.Start{After: last})
	if n := len(collect(t, s, 4+len(second))); n != 4+len(second) {
		t.Errorf("filtered resume: %d events", n)
	}
}

func testStartNew(t *testing.T, b event.Bus) {
	publish(t, b, ev(event.TypeTwinCreated, "old", 1), ev(event.TypeTwinCreated, "old", 2))
	s := subscribe(t, b, event.Filter{}, event.Start{New: true})
	e := ev(event.TypeTwinCreated, "new", 3)
	publish(t, b, e)
	got := collect(t, s, 1)
	if got[0].Event.ID != e.ID {
		t.Errorf("first event of a new-only subscription: %s %s, want the one published after it", got[0].Event.Subject, got[0].Event.ID)
	}
}

func testDedup(t *testing.T, b event.Bus) {
	e := ev(event.TypeTwinCreated, "mine-1", 1)
	publish(t, b, e)
	// A retry of the same change: same id, even with another time.
	again := e
	again.Time = e.Time.Add(time.Second)
	publish(t, b, again, e)
	end := ev(event.TypeTwinDeleted, "mine-1", 2)
	publish(t, b, end)
	s := subscribe(t, b, event.Filter{}, event.Start{})
	got := collect(t, s, 2)
	if got[0].Event.ID != e.ID || got[1].Event.ID != end.ID {
		t.Errorf("got %s, %s; want %s once, then %s", got[0].Event.ID, got[1].Event.ID, e.ID, end.ID)
	}
	expectNone(t, s)
	// The same id from another source is another event.
	other := e
	other.Source = "lodestone://other"
	publish(t, b, other)
	if m := collect(t, s, 1)[0]; m.Event.Source != other.Source {
		t.Errorf("event from another source with the same id: got source %s", m.Event.Source)
	}
}

func testConcurrentPublishers(t *testing.T, b event.Bus) {
	const publishers, per = 4, 25
	s := subscribe(t, b, event.Filter{}, event.Start{})
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		wg.Go(func() {
			for i := range per {
				if err := b.Publish(t.Context(), ev(event.TypeTelemetry, fmt.Sprintf("pub-%d", p), i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Publish: %v", err)
	}
	got := collect(t, s, publishers*per)
	checkIncreasing(t, got)
	seen := map[string]bool{}
	next := map[string]int{}
	for _, m := range got {
		if seen[m.Event.ID] {
			t.Fatalf("event %s delivered twice", m.Event.ID)
		}
		seen[m.Event.ID] = true
		// Each publisher's events arrive in the order it published them.
		var d struct{ N int }
		if err := json.Unmarshal(m.Event.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.N != next[m.Event.Subject] {
			t.Errorf("%s: event %d arrived when %d was expected", m.Event.Subject, d.N, next[m.Event.Subject])
		}
		next[m.Event.Subject] = d.N + 1
	}
	expectNone(t, s)
}

func testNextContext(t *testing.T, b event.Bus) {
	s := subscribe(t, b, event.Filter{}, event.Start{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next(canceled) = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next(timeout) = %v, want context.DeadlineExceeded", err)
	}
	// The subscription is still usable.
	e := ev(event.TypeTwinCreated, "after-timeout", 1)
	publish(t, b, e)
	if got := collect(t, s, 1)[0]; got.Event.ID != e.ID {
		t.Errorf("Next after a timeout = %s, want %s", got.Event.ID, e.ID)
	}
}

func testSubscriptionContext(t *testing.T, b event.Bus) {
	ctx, cancel := context.WithCancel(t.Context())
	s, err := b.Subscribe(ctx, event.Filter{}, event.Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cancel()
	wait, stop := context.WithTimeout(t.Context(), waitTimeout)
	defer stop()
	// Once its context is done the subscription ends: Next fails (with
	// ErrClosed), even with a live context of its own.
	for {
		_, err := s.Next(wait)
		if errors.Is(err, event.ErrClosed) {
			return
		}
		if wait.Err() != nil {
			t.Fatalf("Next after the subscription's context was canceled = %v, want ErrClosed", err)
		}
	}
}

func testClose(t *testing.T, b event.Bus) {
	publish(t, b, ev(event.TypeTwinCreated, "x", 1))
	s := subscribe(t, b, event.Filter{}, event.Start{})
	collect(t, s, 1)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_, err := s.Next(ctx)
		done <- err
	}()
	if err := b.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := <-done; !errors.Is(err, event.ErrClosed) {
		t.Errorf("Next blocked across Close = %v, want ErrClosed", err)
	}
	if err := b.Publish(t.Context(), ev(event.TypeTwinCreated, "x", 2)); !errors.Is(err, event.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
	if _, err := b.Subscribe(t.Context(), event.Filter{}, event.Start{}); !errors.Is(err, event.ErrClosed) {
		t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
}

func testPublishAll(t *testing.T, b event.Bus) {
	var es []event.Event
	for i := range 600 {
		es = append(es, ev(event.TypeTwinCreated, fmt.Sprintf("bulk-%d", i), i))
	}
	// A repeated id inside the batch is stored once.
	batch := append(append([]event.Event{}, es[:300]...), es[299])
	batch = append(batch, es[300:]...)
	if err := event.PublishAll(t.Context(), b, batch); err != nil {
		t.Fatalf("PublishAll = %v", err)
	}
	s := subscribe(t, b, event.Filter{}, event.Start{})
	got := collect(t, s, len(es))
	checkIncreasing(t, got)
	if diff := cmp.Diff(es, eventsOf(got), cmpEvents, cmpopts.IgnoreFields(event.Event{}, "SpecVersion")); diff != "" {
		t.Errorf("batch (-want +got):\n%s", diff)
	}
	expectNone(t, s)
	// An invalid event fails the call.
	bad := ev(event.TypeTwinCreated, "bad", 1)
	bad.ID = ""
	if err := event.PublishAll(t.Context(), b, []event.Event{bad}); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("PublishAll(invalid) = %v, want ErrInvalid", err)
	}
}
