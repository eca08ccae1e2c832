package event

import (
	"context"
	"errors"
)

// ErrClosed is returned by a [Bus] or a [Subscription] used after Close. It
// is checked with errors.Is.
var ErrClosed = errors.New("event: closed")

// Bus is a durable, ordered log of events with at-least-once delivery.
//
// Every event published gets a sequence number, increasing in publish order
// across the whole bus. A publish of an id the bus has already stored
// (within its deduplication window, two minutes by default for natsbus) is
// acknowledged and dropped, so producers retry with the same [StableID].
//
// Implementations are safe for concurrent use. They must pass
// eventtest.Run.
type Bus interface {
	// Publish stores e and returns once the bus has persisted it (for
	// JetStream: after the stream acknowledged the message). An invalid
	// event is an error wrapping ErrInvalid.
	Publish(ctx context.Context, e Event) error

	// Subscribe returns the events that match f, in sequence order, starting
	// at from. ctx bounds both the setup and the life of the subscription: it
	// ends when ctx is done or Close is called.
	Subscribe(ctx context.Context, f Filter, from Start) (Subscription, error)

	// Close releases the bus. Publish and Subscribe then return ErrClosed,
	// and so does Next on open subscriptions.
	Close() error
}

// Subscription is a stream of events from a [Bus]. It is used by one
// goroutine at a time; Close may be called from any goroutine.
type Subscription interface {
	// Next blocks until the next matching event arrives and returns it. It
	// returns ctx.Err() when ctx is done (the subscription stays usable),
	// and ErrClosed once the subscription or its bus is closed.
	Next(ctx context.Context) (Message, error)

	// Close ends the subscription. It is safe to call more than once.
	Close() error
}

// Message is an event as stored on the bus, with its sequence number.
type Message struct {
	// Seq is the position of the event on the bus, from 1. A consumer that
	// remembers the Seq of the last event it handled resumes with
	// Start{After: Seq} and misses nothing.
	Seq   uint64
	Event Event
}

// Start says where a subscription begins.
type Start struct {
	// After, when non-zero, starts right after that sequence number: pass
	// the Seq of the last message handled to resume.
	After uint64
	// New, when After is zero, starts with the events published after
	// Subscribe returns instead of the first event on the bus.
	New bool
}

// BatchPublisher is a [Bus] that can publish many events with one wait for
// their acknowledgements, for bulk imports; natsbus implements it.
type BatchPublisher interface {
	// PublishBatch publishes es in order and returns once all are
	// persisted. On error a prefix of es may be stored; publishing the
	// whole batch again is safe, as the ids deduplicate.
	PublishBatch(ctx context.Context, es []Event) error
}

// PublishAll publishes es in order on bus: in one batch when bus is a
// [BatchPublisher], else one event at a time.
func PublishAll(ctx context.Context, bus Bus, es []Event) error {
	if bp, ok := bus.(BatchPublisher); ok {
		return bp.PublishBatch(ctx, es)
	}
	for i := range es {
		if err := bus.Publish(ctx, es[i]); err != nil {
			return err
		}
	}
	return nil
}
