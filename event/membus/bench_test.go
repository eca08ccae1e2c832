package membus_test

import (
	"context"
	"strconv"
	"testing"

	"lodestone/event"
	"lodestone/event/membus"
)

func BenchmarkPublish(b *testing.B) {
	bus := membus.New(nil)
	defer bus.Close()
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		e := event.Event{ID: strconv.Itoa(i), Source: "lodestone://bench", Type: event.TypeTwinUpdated, Subject: "twin-1"}
		if err := bus.Publish(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}
