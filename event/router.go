package event

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Endpoint receives the events of a route: a webhook, a subject on the
// bus, a dead-letter queue. Deliver returns nil once the endpoint has taken
// the event; the router retries any other error unless it is marked with
// [Permanent]. Deliver may be called again with the same event (at-least-once),
// so endpoints and their receivers deduplicate by source and id.
type Endpoint interface {
	Deliver(ctx context.Context, m Message) error
}

// EndpointFunc adapts a function to [Endpoint].
type EndpointFunc func(ctx context.Context, m Message) error

// Deliver calls f(ctx, m).
func (f EndpointFunc) Deliver(ctx context.Context, m Message) error { return f(ctx, m) }

// DeliveryError is a failed delivery with advice for the retry loop.
type DeliveryError struct {
	Err error
	// Permanent says a retry cannot succeed (a 4xx answer, an event the
	// endpoint cannot encode); the event goes to the dead-letter endpoint
	// at once.
	Permanent bool
	// RetryAfter, when positive, is the wait the endpoint asked for (an
	// HTTP Retry-After header); it is capped by the route's MaxBackoff.
	RetryAfter time.Duration
}

// Error returns the message of the underlying error.
func (e *DeliveryError) Error() string {
	if e.Permanent {
		return "permanent: " + e.Err.Error()
	}
	return e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *DeliveryError) Unwrap() error { return e.Err }

// Permanent wraps err so that the router does not retry it.
func Permanent(err error) error {
	return &DeliveryError{Err: err, Permanent: true}
}

// Retry is the retry policy of a route. Zero fields take the defaults.
type Retry struct {
	// MaxAttempts is the number of deliveries tried before the event is
	// dead-lettered (default 5).
	MaxAttempts int
	// MinBackoff is the wait after the first failure (default 100 ms); it
	// doubles with every attempt, with jitter, up to MaxBackoff (default 30 s).
	MinBackoff time.Duration
	MaxBackoff time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 5
	}
	if r.MinBackoff <= 0 {
		r.MinBackoff = 100 * time.Millisecond
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = 30 * time.Second
	}
	if r.MaxBackoff < r.MinBackoff {
		r.MaxBackoff = r.MinBackoff
	}
	return r
}

// backoff returns the wait before attempt+1, after attempt failures:
// MinBackoff·2^(attempt-1), capped, with "equal jitter" (half fixed, half
// random) so that many failing routes do not retry in lockstep.
func (r Retry) backoff(attempt int) time.Duration {
	d := r.MinBackoff
	for i := 1; i < attempt && d < r.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// Route sends the events that match Filter to Endpoint.
type Route struct {
	// Name identifies the route (in checkpoints, logs and dead letters).
	Name   string
	Filter Filter
	// Endpoint receives the events.
	Endpoint Endpoint
	// DeadLetter receives, once, each event the endpoint refused
	// Retry.MaxAttempts times or permanently, with the extensions
	// deadletterroute, deadletterreason and deadletterattempts added. When
	// nil, such events are logged and dropped.
	DeadLetter Endpoint
	Retry      Retry
}

// RouteStats counts what a route has done since its router started.
type RouteStats struct {
	Delivered    uint64 // events the endpoint accepted
	Retries      uint64 // failed attempts that were retried
	DeadLettered uint64 // events handed to the dead-letter endpoint (or dropped)
	Duplicates   uint64 // events skipped because their id was delivered already
	LastSeq      uint64 // sequence of the last event done with
}

// Checkpoints stores, per route, the sequence of the last event the route
// has finished with, so that a restarted router resumes there. A lost or
// stale checkpoint only causes redelivery, never loss.
type Checkpoints interface {
	Load(ctx context.Context, route string) (seq uint64, ok bool, err error)
	Save(ctx context.Context, route string, seq uint64) error
}

// RouterOptions holds the knobs of [NewRouter]. The zero value is usable.
type RouterOptions struct {
	Logger *slog.Logger
	// Checkpoints remembers each route's position; nil keeps them in
	// memory only.
	Checkpoints Checkpoints
	// FromBeginning makes a route with no checkpoint start at the first
	// event on the bus; by default it starts with new events, as ADT's
	// routes do.
	FromBeginning bool
	// CheckpointInterval is the least time between two saves of a route's
	// checkpoint (default 1 s; negative saves after every event). The last
	// position is saved when the route stops or has been idle for an
	// interval; after a crash, a route redelivers at most the events it
	// handled in the last interval.
	CheckpointInterval time.Duration
}

// Router runs routes: for each, one goroutine reads the bus and delivers
// to the endpoint, retrying with backoff and dead-lettering events that
// cannot be delivered. Start starts the goroutines; Shutdown stops them and
// waits. A Router is safe for concurrent use.
type Router struct {
	bus    Bus
	routes []*routeState
	opts   RouterOptions
	log    *slog.Logger

	mu      sync.Mutex // guards started and cancel
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the route goroutines
}

type routeState struct {
	Route
	delivered, retries, dead, dups, last atomic.Uint64
	seen                                 recentIDs
}

// NewRouter returns a router for routes over bus. Route names must be
// unique and non-empty and every route needs an Endpoint.
func NewRouter(bus Bus, routes []Route, opts *RouterOptions) (*Router, error) {
	r := &Router{bus: bus}
	if opts != nil {
		r.opts = *opts
	}
	if r.opts.Checkpoints == nil {
		r.opts.Checkpoints = NewMemoryCheckpoints()
	}
	if r.opts.CheckpointInterval == 0 {
		r.opts.CheckpointInterval = time.Second
	}
	r.log = r.opts.Logger
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("component", "event.router")
	names := map[string]bool{}
	for _, rt := range routes {
		switch {
		case rt.Name == "":
			return nil, errors.New("event: route with an empty name")
		case names[rt.Name]:
			return nil, fmt.Errorf("event: duplicate route %q", rt.Name)
		case rt.Endpoint == nil:
			return nil, fmt.Errorf("event: route %q has no endpoint", rt.Name)
		}
		names[rt.Name] = true
		rt.Retry = rt.Retry.withDefaults()
		r.routes = append(r.routes, &routeState{Route: rt, seen: newRecentIDs(4096)})
	}
	return r, nil
}

// Start subscribes every route at its checkpoint and starts delivering. ctx
// bounds the setup only; the routes run until Shutdown. On error no route is
// left running.
func (r *Router) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("event: router already started")
	}
	runCtx, cancel := context.WithCancel(context.Background())
	subs := make([]Subscription, 0, len(r.routes))
	fail := func(err error) error {
		cancel()
		for _, s := range subs {
			s.Close()
		}
		return err
	}
	for _, rt := range r.routes {
		from := Start{New: !r.opts.FromBeginning}
		seq, ok, err := r.opts.Checkpoints.Load(ctx, rt.Name)
		if err != nil {
			return fail(fmt.Errorf("event: route %q: load checkpoint: %w", rt.Name, err))
		}
		if ok {
			from = Start{After: seq}
			rt.last.Store(seq)
		}
		sub, err := r.bus.Subscribe(runCtx, rt.Filter, from)
		if err != nil {
			return fail(fmt.Errorf("event: route %q: subscribe: %w", rt.Name, err))
		}
		subs = append(subs, sub)
	}
	r.started, r.cancel = true, cancel
	for i, rt := range r.routes {
		r.wg.Add(1)
		go r.run(runCtx, rt, subs[i])
	}
	return nil
}

// Shutdown stops the routes and waits for their goroutines, or for ctx. An
// event being delivered when Shutdown is called is delivered again by the
// next Start (at-least-once).
func (r *Router) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	cancel := r.cancel
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("event: router shutdown: %w", ctx.Err())
	}
}

// Stats returns the counters of every route by name.
func (r *Router) Stats() map[string]RouteStats {
	out := make(map[string]RouteStats, len(r.routes))
	for _, rt := range r.routes {
		out[rt.Name] = RouteStats{
			Delivered:    rt.delivered.Load(),
			Retries:      rt.retries.Load(),
			DeadLettered: rt.dead.Load(),
			Duplicates:   rt.dups.Load(),
			LastSeq:      rt.last.Load(),
		}
	}
	return out
}

// run is the goroutine of one route; Router.wg owns it.
func (r *Router) run(ctx context.Context, rt *routeState, sub Subscription) {
	defer r.wg.Done()
	defer sub.Close()
	log := r.log.With("route", rt.Name)
	saved := rt.last.Load()
	var savedAt time.Time
	save := func(ctx context.Context) {
		seq := rt.last.Load()
		if seq == saved {
			return
		}
		if err := r.opts.Checkpoints.Save(ctx, rt.Name, seq); err != nil {
			log.Warn("save checkpoint", "seq", seq, "err", err)
			return
		}
		saved, savedAt = seq, time.Now()
	}
	defer func() {
		// The route's context is canceled by now; the final save gets a
		// short one of its own.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		save(ctx)
	}()
	failures := 0
	for {
		next, cancel := ctx, context.CancelFunc(func() {})
		timed := rt.last.Load() != saved && r.opts.CheckpointInterval > 0
		if timed {
			// Unsaved progress: if the bus stays idle, save it after
			// one interval instead of waiting for the next event.
			next, cancel = context.WithTimeout(ctx, r.opts.CheckpointInterval)
		}
		m, err := sub.Next(next)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if timed && errors.Is(err, context.DeadlineExceeded) {
				save(ctx)
				continue
			}
			if errors.Is(err, ErrClosed) {
				log.Warn("bus closed, route stopped")
				return
			}
			failures++
			log.Warn("read from bus", "err", err)
			if !sleep(ctx, rt.Retry.backoff(failures)) {
				return
			}
			continue
		}
		failures = 0
		key := m.Event.Source + "\x00" + m.Event.ID
		if rt.seen.contains(key) {
			rt.dups.Add(1)
		} else {
			if err := r.deliver(ctx, rt, m, log); err != nil {
				return // shutting down; the event is redelivered next time
			}
			rt.seen.add(key)
		}
		rt.last.Store(m.Seq)
		if r.opts.CheckpointInterval < 0 || time.Since(savedAt) >= r.opts.CheckpointInterval {
			save(ctx)
		}
	}
}

// deliver delivers m to the route's endpoint, retrying, and dead-letters it
// when that fails. It returns an error only when ctx is done.
func (r *Router) deliver(ctx context.Context, rt *routeState, m Message, log *slog.Logger) error {
	var err error
	attempt := 0
	for attempt = 1; ; attempt++ {
		err = rt.Endpoint.Deliver(ctx, m)
		if err == nil {
			rt.delivered.Add(1)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var de *DeliveryError
		permanent := errors.As(err, &de) && de.Permanent
		if permanent || attempt >= rt.Retry.MaxAttempts {
			break
		}
		rt.retries.Add(1)
		wait := rt.Retry.backoff(attempt)
		if de != nil && de.RetryAfter > 0 {
			wait = min(de.RetryAfter, rt.Retry.MaxBackoff)
		}
		log.Debug("delivery failed, retrying", "seq", m.Seq, "id", m.Event.ID, "attempt", attempt, "err", err)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
	rt.dead.Add(1)
	if rt.DeadLetter == nil {
		log.Warn("event dropped after failed delivery", "seq", m.Seq, "id", m.Event.ID, "attempts", attempt, "err", err)
		return nil
	}
	dl := m
	dl.Event.Extensions = maps.Clone(m.Event.Extensions)
	if dl.Event.Extensions == nil {
		dl.Event.Extensions = make(map[string]string, 3)
	}
	dl.Event.Extensions["deadletterroute"] = rt.Name
	dl.Event.Extensions["deadletterreason"] = err.Error()
	dl.Event.Extensions["deadletterattempts"] = strconv.Itoa(attempt)
	// The dead-letter endpoint must not lose the event either: retry it
	// until it takes it or the router stops.
	for i := 1; ; i++ {
		derr := rt.DeadLetter.Deliver(ctx, dl)
		if derr == nil {
			log.Info("event dead-lettered", "seq", m.Seq, "id", m.Event.ID, "attempts", attempt, "err", err)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn("dead-letter delivery failed", "seq", m.Seq, "id", m.Event.ID, "err", derr)
		if !sleep(ctx, rt.Retry.backoff(i)) {
			return ctx.Err()
		}
	}
}

// sleep waits for d or ctx and reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// recentIDs is a bounded set of the most recently added keys (FIFO
// eviction), used to deliver an event id to a route only once even when the
// bus hands it over twice.
type recentIDs struct {
	mu   sync.Mutex
	set  map[string]struct{}
	ring []string
	next int
}

func newRecentIDs(n int) recentIDs {
	return recentIDs{set: make(map[string]struct{}, n), ring: make([]string, n)}
}

func (r *recentIDs) contains(k string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.set[k]
	return ok
}

func (r *recentIDs) add(k string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.set[k]; ok {
		return
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = k
	r.set[k] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}
