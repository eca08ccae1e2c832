package natsbus_test

import (
	"context"
	"fmt"
	"os"

	"lodestone/event"
	"lodestone/event/natsbus"
)

// Open with no URL runs an embedded JetStream server in the process, with
// no network listener, storing events under StoreDir.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "natsbus-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	bus, err := natsbus.Open(ctx, natsbus.Options{StoreDir: dir})
	if err != nil {
		panic(err)
	}
	defer bus.Close()

	e := event.Event{
		ID:      event.ChangeID("lodestone://localhost", 1, event.TypeTwinCreated, "mine-bayan-obo"),
		Source:  "lodestone://localhost",
		Type:    event.TypeTwinCreated,
		Subject: "mine-bayan-obo",
	}
	for range 2 { // a retry of the same change is stored once
		if err := bus.Publish(ctx, e); err != nil {
			panic(err)
		}
	}
	sub, err := bus.Subscribe(ctx, event.Filter{Types: []string{"lodestone.twin.*"}}, event.Start{})
	if err != nil {
		panic(err)
	}
	defer sub.Close()
	m, err := sub.Next(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Seq, m.Event.Type, m.Event.Subject, bus.Subject(m.Event.Type))
	// Output: 1 lodestone.twin.created mine-bayan-obo lodestone.events.lodestone.twin.created
}
