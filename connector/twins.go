package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"lodestone/event"
	"lodestone/store"
	"lodestone/twin"
)

// WatchTwins runs the connectors configured as twins of Model: those that
// list returns now, then, until Stop, each one whose twin is created,
// changed (restarted) or deleted (stopped), from the twin events of bus.
// A twin whose properties do not make a valid connector, or whose mappings
// do not fit their targets, does not stop the others: its status document
// (GET /plant/connectors) has state "invalid" and the reason, and the
// connector is not run. A twin with enabled false is stopped ("disabled").
// A twin whose id is a connector of the file is refused the same way.
// WatchTwins returns once the subscription is made and the listed twins
// are started.
func (m *Manager) WatchTwins(ctx context.Context, bus event.Bus, list func(ctx context.Context) ([]twin.ID, error)) error {
	m.mu.Lock()
	fixed := map[string]bool{}
	for id := range m.running {
		fixed[id] = true
	}
	m.mu.Unlock()
	// Subscribe first: a change made while the twins are listed is seen.
	w := &twinWatch{m: m, fixed: fixed, mine: map[string]bool{}}
	// Only twins of Model and those that were (moved to another model or
	// deleted) matter: the bus may skip the others without decoding
	// their data. Where runs in Next, on the goroutine below.
	f := event.Filter{Types: []string{event.TypeTwinCreated, event.TypeTwinUpdated, event.TypeTwinDeleted},
		Where: func(ev *event.Event) bool { return ev.DataSchema == Model || w.mine[ev.Subject] }}
	sub, err := bus.Subscribe(m.ctx, f, event.Start{New: true})
	if err != nil {
		return fmt.Errorf("connectors: twins: subscribe: %w", err)
	}
	ids, err := list(ctx)
	if err != nil {
		sub.Close()
		return fmt.Errorf("connectors: twins: list: %w", err)
	}
	for _, id := range ids {
		w.reload(ctx, string(id))
	}
	m.watch.Go(func() {
		defer sub.Close()
		for {
			msg, err := sub.Next(m.ctx)
			if err != nil {
				return // Stop, or the bus closed
			}
			w.reload(m.ctx, msg.Event.Subject)
		}
	})
	return nil
}

// twinWatch is the state of WatchTwins, used by one goroutine at a time.
type twinWatch struct {
	m     *Manager
	fixed map[string]bool // connectors of the file
	mine  map[string]bool // connectors started from twins
}

// reload makes connector id match its twin.
func (w *twinWatch) reload(ctx context.Context, id string) {
	m := w.m
	t, err := m.pipe.Store().GetTwin(ctx, twin.ID(id))
	gone := errors.Is(err, store.ErrNotFound) || (err == nil && t.Metadata.Model != Model)
	if err != nil && !gone {
		m.opts.logger().Warn("connector twin not read", "twin", id, "err", err)
		return
	}
	if gone {
		if w.mine[id] {
			delete(w.mine, id)
			m.Remove(ctx, id)
		}
		return
	}
	if w.fixed[id] {
		w.invalid(ctx, t, fmt.Errorf("twin %s: the connectors file has a connector of this id", id))
		return
	}
	spec, ok, err := SpecFromTwin(t)
	if err == nil && ok {
		if err = m.Put(ctx, "twin "+id, spec); err == nil {
			w.mine[id] = true
			return
		}
	}
	if w.mine[id] {
		delete(w.mine, id)
		m.Remove(ctx, id)
	}
	if err != nil {
		w.invalid(ctx, t, err)
		return
	}
	w.status(ctx, Status{ID: id, Kind: kindOfTwin(t), State: "disabled"})
}

// invalid records why a connector twin is not run.
func (w *twinWatch) invalid(ctx context.Context, t twin.Twin, err error) {
	w.m.opts.logger().Warn("connector twin not run", "twin", t.ID, "err", err)
	w.status(ctx, Status{ID: string(t.ID), Kind: kindOfTwin(t), State: "invalid", LastError: err.Error()})
}

func (w *twinWatch) status(ctx context.Context, st Status) {
	st.Updated = w.m.now().UTC()
	body, _ := json.Marshal(st)
	if _, err := w.m.pipe.Store().PutDoc(context.WithoutCancel(ctx), store.Doc{Kind: KindStatus, ID: st.ID, Body: body}, store.Condition{}); err != nil {
		w.m.opts.logger().Warn("status not stored", "err", err)
	}
}

func kindOfTwin(t twin.Twin) string {
	k, _ := t.Properties["kind"].(string)
	return k
}
