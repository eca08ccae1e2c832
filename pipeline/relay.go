package pipeline

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"lodestone/event"
	"lodestone/store"
	"lodestone/twin"
)

// Relay publishes the events of outbox records and removes the records
// once the bus has them. Requests publish their own records at once and
// hand them to the relay to acknowledge in batches; the relay's scan
// publishes the records that no request did: those of a server that
// crashed between commit and publish (found at start) and those still
// pending one scan later (a request that died, or whose publish failed).
// Several relays may scan one outbox (servers sharing a database): they
// publish the same records with the same ids, which the bus deduplicates.
type Relay struct {
	outbox   store.Outbox
	bus      event.Bus
	source   string
	log      *slog.Logger
	interval time.Duration
	hooks    []Hook

	mu    sync.Mutex
	acks  []int64        // published by requests, to be removed
	seen  map[int64]bool // pending at the last scan
	first bool           // no scan yet: publish all pending at once
	kick  chan struct{}

	stop chan struct{}
	done chan struct{}
}

// relayPage is how many records one scan reads at a time.
const relayPage = 512

func newRelay(outbox store.Outbox, bus event.Bus, source string, log *slog.Logger, interval time.Duration, hooks []Hook) *Relay {
	return &Relay{outbox: outbox, bus: bus, source: source, log: log, interval: interval, hooks: hooks,
		seen: map[int64]bool{}, first: true, kick: make(chan struct{}, 1)}
}

// ack queues seqs whose events are published, for removal.
func (r *Relay) ack(seqs ...int64) {
	if len(seqs) == 0 {
		return
	}
	r.mu.Lock()
	r.acks = append(r.acks, seqs...)
	n := len(r.acks)
	r.mu.Unlock()
	if n >= relayPage {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// start runs the relay until shutdown.
func (r *Relay) start() {
	r.stop = make(chan struct{})
	r.done = make(chan struct{})
	go r.run()
}

func (r *Relay) run() {
	defer close(r.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-r.stop
		cancel()
	}()
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	flushEvery := time.NewTicker(r.interval / 8)
	defer flushEvery.Stop()
	r.scan(ctx)
	for {
		select {
		case <-r.stop:
			r.flush(context.Background())
			return
		case <-r.kick:
			r.flush(ctx)
		case <-flushEvery.C:
			r.flush(ctx)
		case <-tick.C:
			r.flush(ctx)
			r.scan(ctx)
		}
	}
}

// shutdown stops the relay after removing the records already published,
// waiting at most until ctx ends.
func (r *Relay) shutdown(ctx context.Context) error {
	if r.stop == nil {
		return nil
	}
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush removes the records that requests published.
func (r *Relay) flush(ctx context.Context) {
	r.mu.Lock()
	seqs := r.acks
	r.acks = nil
	r.mu.Unlock()
	if len(seqs) == 0 {
		return
	}
	if err := r.outbox.AckRecords(ctx, seqs); err != nil {
		if ctx.Err() == nil {
			r.log.Warn("outbox ack", "err", err, "records", len(seqs))
		}
		// The records stay. Queue them again, so that the next flush (the
		// last one, at shutdown, when ctx ended because of it) removes
		// them: left to the scan, they would be published again at the
		// next start, after the bus's deduplication window perhaps. Past
		// maxAckQueue the scan is left to it.
		r.requeue(seqs)
	}
}

// requeue queues seqs, whose removal failed, to be removed by the next
// flush.
func (r *Relay) requeue(seqs []int64) {
	r.mu.Lock()
	if len(r.acks)+len(seqs) <= maxAckQueue {
		r.acks = append(seqs, r.acks...)
	}
	r.mu.Unlock()
}

// maxAckQueue bounds the published records a relay keeps to remove while
// the outbox refuses (its database is down): 8 MiB of seqs.
const maxAckQueue = 1 << 20

// scan publishes the records that are still pending and were pending at
// the previous scan too (all of them at the first scan).
func (r *Relay) scan(ctx context.Context) {
	var after int64
	next := map[int64]bool{}
	for {
		recs, err := r.outbox.PendingRecords(ctx, after, relayPage)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("outbox scan", "err", err)
			}
			return
		}
		var due []store.Record
		for _, rec := range recs {
			if r.first || r.seen[rec.Seq] {
				due = append(due, rec)
			} else {
				next[rec.Seq] = true
			}
		}
		if len(due) > 0 {
			if err := r.publish(ctx, due); err != nil {
				if ctx.Err() == nil {
					r.log.Warn("outbox publish", "err", err, "records", len(due))
				}
				for _, rec := range due {
					next[rec.Seq] = true
				}
			}
		}
		if len(recs) < relayPage {
			break
		}
		after = recs[len(recs)-1].Seq
	}
	r.seen = next
	r.first = false
}

// versionReader reads the versions patch records made (a store.Store).
type versionReader interface {
	TwinAsOf(ctx context.Context, id twin.ID, at time.Time) (twin.Twin, error)
	RelationshipAsOf(ctx context.Context, source twin.ID, id string, at time.Time) (twin.Relationship, error)
}

// stampFromStore sets the Writer and Signer of the patch records among
// recs, which the outbox does not keep, from the versions they made (the
// request that wrote a record sets them itself; see stampPatchRecords).
// A version that is gone leaves them "".
func (r *Relay) stampFromStore(ctx context.Context, recs []store.Record) {
	vr, ok := r.outbox.(versionReader)
	if !ok || len(r.hooks) == 0 {
		return
	}
	for i := range recs {
		rec := &recs[i]
		if rec.Op != store.OpPatch || rec.Writer != "" || rec.Signer != "" {
			continue
		}
		switch rec.Kind {
		case store.KindTwin:
			if t, err := vr.TwinAsOf(ctx, twin.ID(rec.Subject), rec.Time); err == nil && string(t.ETag) == rec.Key {
				rec.Writer, rec.Signer = t.Metadata.Writer, t.Metadata.Signer
			}
		case store.KindRelationship:
			src, id, ok := strings.Cut(rec.Subject, "/relationships/")
			if !ok {
				continue
			}
			if rel, err := vr.RelationshipAsOf(ctx, twin.ID(src), id, rec.Time); err == nil && string(rel.ETag) == rec.Key {
				rec.Writer, rec.Signer = rel.Writer, rel.Signer
			}
		}
	}
}

// publish runs the hooks, publishes the events of recs and removes them.
func (r *Relay) publish(ctx context.Context, recs []store.Record) error {
	r.stampFromStore(ctx, recs)
	for _, h := range r.hooks {
		if err := h.Committed(ctx, recs); err != nil {
			return err
		}
	}
	if r.bus != nil {
		evs := make([]event.Event, len(recs))
		for i, rec := range recs {
			evs[i] = EventOf(r.source, rec)
		}
		if err := event.PublishAll(ctx, r.bus, evs); err != nil {
			return err
		}
	}
	seqs := make([]int64, len(recs))
	for i, rec := range recs {
		seqs[i] = rec.Seq
	}
	r.log.Info("outbox relayed", "records", len(recs))
	if err := r.outbox.AckRecords(ctx, seqs); err != nil {
		// Published: the next flush removes them (see flush).
		r.requeue(seqs)
	}
	return nil
}
