package membus

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"lodestone/event"
)

// Options holds the knobs of [New]. The zero value is usable.
type Options struct {
	// Duplicates is the deduplication window: a publish of a source and id
	// already stored within it is dropped. Default 2 minutes, JetStream's
	// default.
	Duplicates time.Duration
	// Now is the clock used for the window; nil means time.Now.
	Now func() time.Time
}

// Bus is an in-memory event bus. It is safe for concurrent use.
type Bus struct {
	opts Options

	mu      sync.Mutex
	log     []event.Message      // log[i].Seq == i+1
	ids     map[string]time.Time // dedup key -> time stored
	changed chan struct{}        // closed and replaced on every publish and on Close
	closed  bool
}

var _ event.Bus = (*Bus)(nil)

// New returns an empty bus.
func New(opts *Options) *Bus {
	b := &Bus{ids: map[string]time.Time{}, changed: make(chan struct{})}
	if opts != nil {
		b.opts = *opts
	}
	if b.opts.Duplicates <= 0 {
		b.opts.Duplicates = 2 * time.Minute
	}
	if b.opts.Now == nil {
		b.opts.Now = time.Now
	}
	return b
}

// clone copies the parts of e that a caller could mutate.
func clone(e event.Event) event.Event {
	e.Data = json.RawMessage(slices.Clone([]byte(e.Data)))
	e.Extensions = maps.Clone(e.Extensions)
	return e
}

// Publish appends e to the log unless its source and id were stored within
// the deduplication window.
func (b *Bus) Publish(ctx context.Context, e event.Event) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("membus: publish: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.SpecVersion == "" {
		e.SpecVersion = event.SpecVersion
	}
	key := e.Source + "\x00" + e.ID
	now := b.opts.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return event.ErrClosed
	}
	if t, ok := b.ids[key]; ok && now.Sub(t) < b.opts.Duplicates {
		return nil
	}
	b.ids[key] = now
	b.log = append(b.log, event.Message{Seq: uint64(len(b.log) + 1), Event: clone(e)})
	close(b.changed)
	b.changed = make(chan struct{})
	return nil
}

// Subscribe returns a subscription positioned at from.
func (b *Bus) Subscribe(ctx context.Context, f event.Filter, from event.Start) (event.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, event.ErrClosed
	}
	s := &sub{bus: b, filter: f, done: make(chan struct{})}
	switch {
	case from.After > 0:
		s.next = from.After
	case from.New:
		s.next = uint64(len(b.log))
	}
	s.stop = context.AfterFunc(ctx, s.end)
	return s, nil
}

// Close closes the bus and wakes every subscription.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.changed)
	}
	return nil
}

type sub struct {
	bus    *Bus
	filter event.Filter
	next   uint64 // index into bus.log of the next message to look at
	done   chan struct{}
	once   sync.Once
	stop   func() bool
}

func (s *sub) Next(ctx context.Context) (event.Message, error) {
	for {
		b := s.bus
		b.mu.Lock()
		select {
		case <-s.done:
			b.mu.Unlock()
			return event.Message{}, event.ErrClosed
		default:
		}
		if b.closed {
			b.mu.Unlock()
			return event.Message{}, event.ErrClosed
		}
		for s.next < uint64(len(b.log)) {
			m := b.log[s.next]
			s.next++
			if s.filter.Match(&m.Event) {
				b.mu.Unlock()
				m.Event = clone(m.Event)
				return m, nil
			}
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-s.done:
			return event.Message{}, event.ErrClosed
		case <-ctx.Done():
			return event.Message{}, ctx.Err()
		}
	}
}

// end marks the subscription closed; the context's AfterFunc calls it.
func (s *sub) end() { s.once.Do(func() { close(s.done) }) }

func (s *sub) Close() error {
	s.end()
	s.stop()
	return nil
}
