package membus_test

import (
	"testing"

	"lodestone/event"
	"lodestone/event/eventtest"
	"lodestone/event/membus"
)

func TestConformance(t *testing.T) {
	eventtest.Run(t, func(t *testing.T) event.Bus { return membus.New(nil) })
}
