package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"lodestone/event"
	"lodestone/store"
	"lodestone/twin"
)

// Hook sees every write of the pipeline. It is where the trust layer plugs
// in: Check may refuse a write (authorisation, a missing signature) before
// anything is stored; Committed sees the records of every committed change
// before their events are published (a transparency log appends them
// there). Committed may see a record more than once (the relay publishes
// the records of a request that died), so it deduplicates by Record.Seq.
type Hook interface {
	Check(ctx context.Context, w *Write) error
	Committed(ctx context.Context, recs []store.Record) error
}

// Write describes a requested change for the hooks' Check.
type Write struct {
	Kind store.Kind
	Op   store.ChangeOp
	// Subject names the entity as the change's record will (see
	// store.Record).
	Subject string
	// The payload; only the fields of the kind are set.
	Twin         *twin.Twin
	Relationship *twin.Relationship
	Patch        twin.Patch
	Models       []twin.Model
	Telemetry    []store.Telemetry
}

// Options configure a Pipeline.
type Options struct {
	// Store is required.
	Store store.Store
	// Bus receives the events; nil publishes none (records are then
	// removed as soon as they are committed).
	Bus event.Bus
	// Source is the CloudEvents source of the events. Servers sharing a
	// database must use the same one, so that a record relayed by another
	// server has the same event id. Default "lodestone://localhost".
	Source string
	// Hooks run on every write, in order.
	Hooks []Hook
	// RetryDeadline bounds how long a write without If-Match retries
	// after concurrent writes, and how long a write waits for the model
	// lock (default 10 s; the request's own deadline also applies).
	RetryDeadline time.Duration
	// RelayInterval is how often the relay scans the outbox (default 1 s).
	RelayInterval time.Duration
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Now is the clock of patch validation; nil means time.Now.
	Now func() time.Time
	// Signatures, when set, makes the pipeline refuse unsigned writes to
	// twins of the models it marks as requiring signatures, on every path
	// (see signatures.go); nil checks none.
	Signatures *SignatureMarks
}

// Pipeline is the one write path of the twin graph. It is safe for
// concurrent use.
type Pipeline struct {
	opts   Options
	st     store.Store
	log    *slog.Logger
	models *modelCache
	relay  *Relay
	now    func() time.Time
	locks  keyedLocks
	twins  twinCache // versions this pipeline has just written (see PatchTwin)

	syncCancel context.CancelFunc
	syncDone   chan struct{}
}

// New builds a pipeline and loads the model set. Call Start to run the
// relay and the model sync, and Shutdown to stop them.
func New(ctx context.Context, opts Options) (*Pipeline, error) {
	if opts.Store == nil {
		return nil, errors.New("pipeline: Options.Store is required")
	}
	if opts.Source == "" {
		opts.Source = "lodestone://localhost"
	}
	if opts.RetryDeadline <= 0 {
		opts.RetryDeadline = 10 * time.Second
	}
	if opts.RelayInterval <= 0 {
		opts.RelayInterval = time.Second
	}
	p := &Pipeline{opts: opts, st: opts.Store, log: opts.Logger, now: opts.Now}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("component", "pipeline")
	if p.now == nil {
		p.now = time.Now
	}
	p.models = newModelCache(opts.Store)
	p.locks.init()
	if _, err := p.models.reload(ctx, -1); err != nil {
		return nil, err
	}
	p.relay = newRelay(opts.Store, opts.Bus, opts.Source, p.log, opts.RelayInterval, opts.Hooks)
	return p, nil
}

// Store returns the store the pipeline writes to (for reads).
func (p *Pipeline) Store() store.Store { return p.st }

// Signatures returns the reader of the signature marks the pipeline
// enforces (Options.Signatures), or nil.
func (p *Pipeline) Signatures() *SignatureMarks { return p.opts.Signatures }

// Source returns the CloudEvents source of the pipeline's events.
func (p *Pipeline) Source() string { return p.opts.Source }

// Models returns the cached model set. It may lag a model change made by
// another server by the time its event takes to arrive; writes never use a
// stale set (see the package documentation), and Fresh reads the store.
func (p *Pipeline) Models() *Models { return p.models.current() }

// Fresh returns the model set as the store holds it now, reading it again
// only when its version has changed.
func (p *Pipeline) Fresh(ctx context.Context) (*Models, error) {
	return p.models.reload(ctx, -1)
}

// Start runs the relay (which first publishes what a previous run left in
// the outbox) and, with a bus, applies the model events of other servers.
func (p *Pipeline) Start(ctx context.Context) error {
	p.relay.start()
	if p.opts.Bus == nil {
		return nil
	}
	sctx, cancel := context.WithCancel(context.Background())
	// One subscription per type family, so that a bus that filters by
	// subject (natsbus) sends only these events, not every change.
	var subs []event.Subscription
	for _, f := range []event.Filter{{Types: []string{"lodestone.model.*"}}, {Types: []string{event.TypeImportCompleted}}} {
		sub, err := p.opts.Bus.Subscribe(ctx, f, event.Start{New: true})
		if err != nil {
			cancel()
			for _, s := range subs {
				s.Close()
			}
			return fmt.Errorf("pipeline: subscribe to model events: %w", err)
		}
		subs = append(subs, sub)
	}
	p.syncCancel = cancel
	p.syncDone = make(chan struct{})
	var wg sync.WaitGroup
	for _, sub := range subs {
		wg.Go(func() {
			defer sub.Close()
			for {
				if _, err := sub.Next(sctx); err != nil {
					return
				}
				if _, err := p.models.reload(sctx, -1); err != nil && sctx.Err() == nil {
					p.log.Warn("model sync", "err", err)
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(p.syncDone)
	}()
	return nil
}

// Shutdown stops the model sync and the relay, removing the records that
// requests published, waiting at most until ctx ends.
func (p *Pipeline) Shutdown(ctx context.Context) error {
	if p.syncCancel != nil {
		p.syncCancel()
		select {
		case <-p.syncDone:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return p.relay.shutdown(ctx)
}

// check runs the hooks' Check.
func (p *Pipeline) check(ctx context.Context, w *Write) error {
	for _, h := range p.opts.Hooks {
		if err := h.Check(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// attempt is one try of a write: validate against ms and store with a
// context that records the committed records.
type attempt func(ctx context.Context, ms *Models) error

// errRetry makes commit try again at once (after a concurrent write that
// the caller may retry on).
var errRetry = errors.New("pipeline: retry")

// commit runs try until it succeeds, fails for good, or the retry deadline
// passes, then publishes the events of what it committed. try returns
// errRetry (or store.ErrModelsChanged) to be run again: after
// ErrModelsChanged, or a refusal that a newer model set might lift, with
// the model set read again.
func (p *Pipeline) commit(ctx context.Context, try attempt) error {
	deadline := time.Now().Add(p.opts.RetryDeadline)
	rec := &store.Recorder{}
	wctx := store.WithRecorder(ctx, rec)
	// A caller's own recorder gets the committed records too.
	outer := store.RecorderFrom(ctx)
	ms := p.models.current()
	for n := 0; ; n++ {
		err := try(wctx, ms)
		switch {
		case err == nil:
			recs := rec.Records()
			if outer != nil {
				outer.Add(recs...)
			}
			return p.emit(ctx, recs)
		case errors.Is(err, store.ErrModelsChanged) || modelRefusal(err):
			fresh, rerr := p.models.reload(ctx, ms.Version+1)
			if rerr != nil {
				return rerr
			}
			if fresh.Version == ms.Version {
				// A refusal by a set that is current: final.
				if errors.Is(err, store.ErrModelsChanged) {
					return refuse(ErrBusy, "ServiceUnavailable", "the model set keeps changing; retry later")
				}
				return err
			}
			ms = fresh
			continue
		case errors.Is(err, errRetry):
		default:
			return err
		}
		if !time.Now().Before(deadline) {
			return refuse(ErrBusy, "ServiceUnavailable", "the entity kept changing under concurrent writes for %s; retry later", p.opts.RetryDeadline)
		}
		// Back off a little, with jitter, so that writers contending for
		// one entity do not retry in lockstep.
		d := time.Duration(min(n+1, 20)) * time.Duration(50+rand.IntN(200)) * time.Microsecond
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// modelRefusal reports whether err is a refusal that a model change made by
// another server might lift (a model not found or decommissioned here).
func modelRefusal(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == "ModelNotFound" || e.Code == "ModelDecommissioned")
}

// emit runs the hooks on committed records, publishes their events and
// hands them to the relay for removal. A failed publish leaves the
// records for the relay and reports ErrPublish.
func (p *Pipeline) emit(ctx context.Context, recs []store.Record) error {
	if len(recs) == 0 {
		return nil
	}
	for _, h := range p.opts.Hooks {
		if err := h.Committed(ctx, recs); err != nil {
			return &Error{Code: "EventPublishFailed", Message: "the change is stored but was not logged yet; it will be", Err: errors.Join(ErrPublish, err)}
		}
	}
	if bus := p.opts.Bus; bus != nil {
		evs := make([]event.Event, len(recs))
		for i, r := range recs {
			evs[i] = EventOf(p.opts.Source, r)
		}
		if err := event.PublishAll(ctx, bus, evs); err != nil {
			return &Error{Code: "EventPublishFailed", Message: "the change is stored but its event could not be published yet; it will be, and a retry of the request is harmless", Err: errors.Join(ErrPublish, err)}
		}
	}
	seqs := make([]int64, len(recs))
	for i, r := range recs {
		seqs[i] = r.Seq
	}
	p.relay.ack(seqs...)
	return nil
}
