package event_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"lodestone/event"
	"lodestone/event/membus"
)

// A producer derives the id from the committed change, so a retry
// publishes the same id and the bus keeps one copy.
func ExampleChangeID() {
	id := event.ChangeID("lodestone://localhost", 42, event.TypeTwinUpdated, "mine-bayan-obo")
	again := event.ChangeID("lodestone://localhost", 42, event.TypeTwinUpdated, "mine-bayan-obo")
	fmt.Println(id, id == again)
	// Output: abf9cdb4-7ab8-58f8-b9c2-b72778384d91 true
}

func ExampleEvent_MarshalJSON() {
	e := event.Event{
		ID:              "abf9cdb4-7ab8-58f8-b9c2-b72778384d91",
		Source:          "lodestone://localhost",
		Type:            event.TypeTwinUpdated,
		Subject:         "mine-bayan-obo",
		Time:            time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC),
		DataContentType: "application/json-patch+json",
		Data:            json.RawMessage(`[{"op": "replace", "path": "/outputTonnes", "value": 1200}]`),
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output: {"specversion":"1.0","id":"abf9cdb4-7ab8-58f8-b9c2-b72778384d91","source":"lodestone://localhost","type":"lodestone.twin.updated","subject":"mine-bayan-obo","time":"2026-11-27T01:02:03Z","datacontenttype":"application/json-patch+json","data":[{"op":"replace","path":"/outputTonnes","value":1200}]}
}

func ExampleParseFilter() {
	f, err := event.ParseFilter("type=lodestone.twin.*&subject=mine-*")
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Match(&event.Event{Type: event.TypeTwinUpdated, Subject: "mine-7"}))
	fmt.Println(f.Match(&event.Event{Type: event.TypeTwinUpdated, Subject: "plant-1"}))
	fmt.Println(f.Match(&event.Event{Type: event.TypeTelemetry, Subject: "mine-7"}))
	// Output:
	// true
	// false
	// false
}

func ExampleADTType() {
	adt, _ := event.ADTType(event.TypeRelationshipCreated)
	fmt.Println(adt)
	_, ok := event.ADTType(event.TypeModelCreated)
	fmt.Println(ok)
	// Output:
	// Microsoft.DigitalTwins.Relationship.Create
	// false
}

// A consumer remembers the sequence of the last event it handled and
// resumes right after it.
func ExampleBus_resume() {
	ctx := context.Background()
	bus := membus.New(nil)
	defer bus.Close()
	for i, subject := range []string{"mine-1", "mine-2", "mine-3"} {
		bus.Publish(ctx, event.Event{
			ID:      event.ChangeID("lodestone://localhost", uint64(i+1), event.TypeTwinCreated, subject),
			Source:  "lodestone://localhost",
			Type:    event.TypeTwinCreated,
			Subject: subject,
		})
	}
	lastSeen := uint64(1)
	sub, err := bus.Subscribe(ctx, event.Filter{}, event.Start{After: lastSeen})
	if err != nil {
		panic(err)
	}
	defer sub.Close()
	for range 2 {
		m, err := sub.Next(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Println(m.Seq, m.Event.Subject)
	}
	// Output:
	// 2 mine-2
	// 3 mine-3
}

// Routes send filtered events to endpoints; a webhook that keeps failing
// sends its events to the dead-letter endpoint.
func ExampleRouter() {
	ctx := context.Background()
	bus := membus.New(nil)
	defer bus.Close()
	dead := make(chan event.Message, 1)
	r, err := event.NewRouter(bus, []event.Route{{
		Name:     "mine-alerts",
		Filter:   event.Filter{Types: []string{"lodestone.twin.*"}, Subjects: []string{"mine-*"}},
		Endpoint: &event.Webhook{URL: "http://127.0.0.1:1/unreachable"},
		DeadLetter: event.EndpointFunc(func(ctx context.Context, m event.Message) error {
			dead <- m
			return nil
		}),
		Retry: event.Retry{MaxAttempts: 2, MinBackoff: time.Millisecond},
	}}, nil)
	if err != nil {
		panic(err)
	}
	if err := r.Start(ctx); err != nil {
		panic(err)
	}
	defer r.Shutdown(ctx)
	bus.Publish(ctx, event.Event{ID: "1", Source: "lodestone://localhost", Type: event.TypeTwinDeleted, Subject: "mine-9"})
	m := <-dead
	fmt.Println(m.Event.Subject, m.Event.Extensions["deadletterroute"], m.Event.Extensions["deadletterattempts"])
	// Output: mine-9 mine-alerts 2
}

func ExampleSSEHandler() {
	bus := membus.New(nil)
	defer bus.Close()
	mux := http.NewServeMux()
	// GET /events?filter=type%3Dlodestone.twin.* streams matching events;
	// EventSource resumes with Last-Event-ID after a reconnect.
	mux.Handle("GET /events", event.SSEHandler(bus))
	fmt.Println("ok")
	// Output: ok
}
